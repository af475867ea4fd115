"""TMG pages: estimate tables (list, upload with preview and confirm, detail),
generation for a year group, and one pupil's TMGs with their history."""

import logging
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from academies.models import AcademicYear, Trust
from academies.selectors import visible_academies, visible_year_groups
from pupils.models import Enrolment
from pupils.selectors import visible_pupils
from trust import clock
from trust.access import scope_for
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter
from trust.tabular import forget_upload, pending_upload, remember_upload, store_upload

from .models import EstimateTable, Qualification, TargetGrade
from .target_forms import EstimateUploadForm, GenerateForm, TmgSetForm
from .targets import (
    TmgConflict,
    can_read_estimates,
    can_set_tmg,
    can_upload_estimates,
    current_tmgs,
    estimate_plan,
    estimate_table_import,
    gcse_qualifications,
    generatable_year_groups,
    taught_qualifications,
    tmg_generate,
    tmg_generate_plan,
    tmg_history,
    tmg_set,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "estimate_uploads"


def trust_of(user: Any) -> Trust | None:
    """Return the trust of the first academy visible to `user`, or the first trust for trust
    roles."""
    academy = visible_academies(user).order_by("pk").first()
    if academy is not None:
        return academy.trust
    if scope_for(user).all_academies:
        return Trust.objects.order_by("pk").first()
    return None


def academic_year_today(trust: Trust) -> AcademicYear | None:
    today = clock.today()
    return AcademicYear.objects.filter(
        trust=trust, start_date__lte=today, end_date__gte=today
    ).first()


# Estimate tables -------------------------------------------------------------------------------


def _estimate_trust(request: HttpRequest) -> Trust:
    trust = trust_of(request.user)
    if trust is None or not can_read_estimates(request.user):
        raise Http404
    return trust


@login_required
def estimate_tables(request: HttpRequest) -> HttpResponse:
    trust = _estimate_trust(request)
    may_upload = can_upload_estimates(request.user)
    form = EstimateUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied
        if form.is_valid():
            file = form.cleaned_data["file"]
            entry = {
                "trust": trust.pk,
                "name": form.cleaned_data["name"],
                "year": form.cleaned_data["year"],
                "source": form.cleaned_data["source"],
                "filename": file.name,
                "stored": store_upload(file.read(), file.name, "estimates"),
            }
            token = remember_upload(request.session, SESSION_KEY, entry)
            return redirect("progress:estimate-table-preview", token=token)
        status = 400
    tables = (
        EstimateTable.objects.filter(trust=trust)
        .annotate(row_count=Count("rows"))
        .select_related("uploaded_by")
    )
    context = {
        "page_title": "Attainment 8 estimate tables",
        "tables": tables,
        "form": form,
        "may_upload": may_upload,
    }
    return render(request, "progress/estimate_tables.html", context, status=status)


@login_required
def estimate_table_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trust = _estimate_trust(request)
    table = get_object_or_404(
        EstimateTable.objects.filter(trust=trust).select_related("uploaded_by"), pk=pk
    )
    context = {
        "page_title": f"{table.name} ({table.year})",
        "table": table,
        "rows": list(table.rows.all()),
    }
    return render(request, "progress/estimate_detail.html", context)


def _pending(request: HttpRequest, token: str) -> tuple[dict[str, Any], Trust, bytes]:
    trust = _estimate_trust(request)
    if not can_upload_estimates(request.user):
        raise Http404
    pending = pending_upload(request.session, SESSION_KEY, token)
    if pending is None or pending[0].get("trust") != trust.pk:
        raise Http404
    entry, content = pending
    return entry, trust, content


def _render_preview(
    request: HttpRequest,
    token: str,
    entry: dict[str, Any],
    content: bytes,
    status: int,
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    plan = estimate_plan(content, entry["filename"])
    context = {
        "page_title": "Check the estimate table",
        "token": token,
        "entry": entry,
        "plan": plan,
        "rows": sorted(plan.rows, key=lambda r: r.group),
        "field_errors": errors or {},
    }
    return render(request, "progress/estimate_preview.html", context, status=status)


@login_required
def estimate_preview(request: HttpRequest, token: str) -> HttpResponse:
    entry, _, content = _pending(request, token)
    return _render_preview(request, token, entry, content, status=200)


@login_required
@require_POST
def estimate_confirm(request: HttpRequest, token: str) -> HttpResponse:
    entry, trust, content = _pending(request, token)
    try:
        table = estimate_table_import(
            actor=request.user,
            trust=trust,
            name=entry["name"],
            year=entry["year"],
            source=entry["source"],
            rows_file=content,
        )
    except ValidationError as error:
        messages.error(
            request, "Nothing was imported: correct the problems listed and upload again."
        )
        return _render_preview(
            request, token, entry, content, status=400, errors=error.message_dict
        )
    forget_upload(request.session, SESSION_KEY, token)
    logger.info("Estimate table %s imported by user %s", table.pk, request.user.pk)
    messages.success(
        request,
        f"Estimate table {table.name} ({table.year}) saved with {table.rows.count()} groups.",
    )
    return redirect("progress:estimate-table", pk=table.pk)


# Generation ----------------------------------------------------------------------------------


def _generate_url(year_group_id: int, data: dict[str, Any] | None = None) -> str:
    query: list[tuple[str, Any]] = [("year_group", year_group_id)]
    if data:
        query.append(("table", data["table"].pk))
        query += [("qualifications", q.pk) for q in data["qualifications"]]
    return f"{reverse('progress:tmg-generate')}?{urlencode(query)}"


@login_required
@handles_invalid_parameters
def tmg_generate_page(request: HttpRequest) -> HttpResponse:
    groups = generatable_year_groups(request.user).filter(
        pk__in=visible_year_groups(request.user).values("pk")
    )
    if not groups.exists():
        raise Http404
    year_group_id = id_parameter(request, "year_group")
    if year_group_id is None:
        context: dict[str, Any] = {
            "page_title": "Generate TMGs",
            "groups": groups.order_by("academy__name", "nc_year"),
        }
        return render(request, "progress/targets_generate_choose.html", context)

    year_group = get_object_or_404(groups, pk=year_group_id)
    trust = year_group.academy.trust
    academic_year = academic_year_today(trust)
    if academic_year is None:
        context = {
            "page_title": "Generate TMGs",
            "groups": groups.order_by("academy__name", "nc_year"),
            "no_year": True,
        }
        return render(request, "progress/targets_generate_choose.html", context)
    tables = EstimateTable.objects.filter(trust=trust)
    qualifications = gcse_qualifications(trust)
    taught = list(taught_qualifications(year_group, academic_year))

    if request.method == "POST":
        form = GenerateForm(request.POST, tables=tables, qualifications=qualifications)
    elif "table" in request.GET:
        form = GenerateForm(request.GET, tables=tables, qualifications=qualifications)
    else:
        form = GenerateForm(
            initial={"table": tables.first(), "qualifications": taught or list(qualifications)},
            tables=tables,
            qualifications=qualifications,
        )

    result = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            arguments = {
                "year_group": year_group,
                "academic_year": academic_year,
                "table": data["table"],
                "qualifications": list(data["qualifications"]),
            }
            try:
                if request.method == "POST":
                    done = tmg_generate(actor=request.user, **arguments)
                    messages.success(request, _generated_message(done))
                    return redirect(_generate_url(year_group.pk, data))
                result = tmg_generate_plan(**arguments)
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
                status = 400
        else:
            status = 400

    context = {
        "page_title": f"Generate TMGs for {year_group.name}, {year_group.academy.name}",
        "year_group": year_group,
        "academic_year": academic_year,
        "form": form,
        "result": result,
        "taught_ids": {q.pk for q in taught},
        "has_tables": tables.exists(),
        "may_upload": can_upload_estimates(request.user),
    }
    return render(request, "progress/targets_generate.html", context, status=status)


def _generated_message(result: Any) -> str:
    parts = [
        f"{len(result.created)} TMG{'s' if len(result.created) != 1 else ''} created",
        f"{len(result.updated)} updated",
        f"{len(result.unchanged)} unchanged",
        f"{len(result.kept_manual)} set by hand kept",
    ]
    text = ", ".join(parts) + "."
    if result.missing_ks2:
        count = len(result.missing_ks2)
        text += f" {count} pupil{'s' if count != 1 else ''} without both KS2 scores got none."
    return text


# One pupil's TMGs --------------------------------------------------------------------------


@login_required
@handles_invalid_parameters
def tmg_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
    enrolments_all = list(
        Enrolment.objects.filter(pupil=pupil)
        .select_related("academy", "academic_year", "year_group")
        .order_by("-start_date")
    )
    years = sorted({e.academic_year for e in enrolments_all}, key=lambda y: -y.start_year)
    if not years:
        raise Http404
    year_id = id_parameter(request, "academic_year")
    if year_id is None:
        today = clock.today()
        year = next((y for y in years if y.contains(today)), years[0])
    else:
        chosen_year = next((y for y in years if y.pk == year_id), None)
        if chosen_year is None:
            raise InvalidParameter(
                "academic_year", str(year_id), "the pupil was not on roll in that academic year"
            )
        year = chosen_year
    enrolments = [e for e in enrolments_all if e.academic_year_id == year.pk]
    may_set = can_set_tmg(request.user, enrolments)
    qualifications = Qualification.objects.filter(
        subject__trust_id=year.trust_id, retired=False
    ).select_related("subject", "scale")
    targets = current_tmgs([pupil.pk], year.pk)
    names = {q.pk: q for q in Qualification.objects.filter(pk__in=[k[1] for k in targets])}
    rows = sorted(
        ((names[key[1]], target) for key, target in targets.items()), key=lambda r: r[0].name
    )

    chosen_id = id_parameter(request, "qualification")
    initial: dict[str, Any] = {}
    if chosen_id is not None:
        chosen = qualifications.filter(pk=chosen_id).first()
        if chosen is None:
            raise InvalidParameter("qualification", str(chosen_id), "it is not a qualification")
        current = targets.get((pupil.pk, chosen.pk))
        initial = {
            "qualification": chosen,
            "seen_version": current.version if current else 0,
            "grade": str(current.grade or current.value) if current else "",
        }
    form = TmgSetForm(request.POST or None, initial=initial, qualifications=qualifications)

    status = 200
    if request.method == "POST":
        if not may_set:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = _set_from_form(request, pupil.pk, year.pk, data)
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
                status = 400
            except TmgConflict as conflict:
                form.add_error(None, str(conflict))
                status = 409
            except PermissionDenied as denied:
                form.add_error(None, str(denied) or "You may not set this TMG.")
                status = 403
            else:
                messages.success(
                    request,
                    f"TMG in {data['qualification'].name} set to {target.grade or target.value}.",
                )
                return redirect(
                    f"{reverse('progress:tmg-edit', args=[pupil.pk])}?academic_year={year.pk}"
                )
        else:
            status = 400

    context = {
        "page_title": f"TMGs of {pupil.display_name}",
        "pupil": pupil,
        "year": year,
        "years": years,
        "enrolments": enrolments,
        "rows": rows,
        "history": tmg_history(pupil.pk, year.pk),
        "form": form,
        "may_set": may_set,
    }
    return render(request, "progress/targets_edit.html", context, status=status)


def _set_from_form(
    request: HttpRequest, pupil_id: int, year_id: int, data: dict[str, Any]
) -> TargetGrade:
    return tmg_set(
        actor=request.user,
        pupil_id=pupil_id,
        qualification_id=data["qualification"].pk,
        academic_year_id=year_id,
        grade_text=data["grade"],
        reason=data["reason"],
        seen_version=data.get("seen_version"),
    )
