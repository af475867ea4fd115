"""Pages of the CPD portfolio: one's own, another person's for those
allowed, the entry form, evidence upload and download, and dismissing a
suggested entry."""

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from staff.models import StaffMember
from trust import clock
from trust.access import scope_for
from trust.params import handles_invalid_parameters, id_parameter

from . import portfolio
from .access import can_edit_portfolio, visible_portfolio_entries, visible_portfolio_staff
from .evidence import ALLOWED_DESCRIPTION, ALLOWED_TYPES, download_name, megabytes
from .models import CpdKind, DevelopmentNeed, EvidenceFile, PortfolioEntry
from .portfolio_forms import EntryForm, EvidenceForm

logger = logging.getLogger(__name__)

KIND_LABELS = dict(CpdKind.choices)


def _portfolio_url(user: Any, staff_id: int) -> str:
    if scope_for(user).staff_id == staff_id:
        return reverse("appraisal:portfolio")
    return reverse("appraisal:portfolio-staff", args=[staff_id])


def _portfolio_page(request: HttpRequest, staff: StaffMember) -> HttpResponse:
    today = clock.today()
    is_own = scope_for(request.user).staff_id == staff.pk
    totals = portfolio.year_totals(staff, today)
    context = {
        "page_title": "My CPD portfolio" if is_own else f"CPD portfolio of {staff.full_name}",
        "member": staff,
        "is_own": is_own,
        "can_edit": can_edit_portfolio(request.user, staff.pk),
        "entries": list(portfolio.portfolio_entries(staff)),
        "totals": totals,
        "chart": portfolio.totals_chart(totals) if totals.rows else None,
        "suggestions": [
            (need, KIND_LABELS.get(need.suggested_kind, need.suggested_kind))
            for need in portfolio.suggested_entries(staff)
        ],
        "today": today,
    }
    return render(request, "appraisal/portfolio_page.html", context)


@login_required
def portfolio_page(request: HttpRequest) -> HttpResponse:
    """Show the user's own portfolio, or a page explaining that they have none."""
    staff_id = scope_for(request.user).staff_id
    if staff_id is None:
        return render(
            request,
            "appraisal/portfolio_no_staff.html",
            {"page_title": "My CPD portfolio"},
        )
    staff = get_object_or_404(StaffMember.objects.select_related("academy"), pk=staff_id)
    return _portfolio_page(request, staff)


@login_required
def portfolio_staff(request: HttpRequest, staff_pk: int) -> HttpResponse:
    """Show another person's portfolio to their appraiser, headteacher or trust HR."""
    staff = get_object_or_404(
        visible_portfolio_staff(request.user).select_related("academy"), pk=staff_pk
    )
    return _portfolio_page(request, staff)


# Entries -----------------------------------------------------------------------------------


def _entry_form(
    staff: StaffMember, data: Any = None, initial: dict[str, Any] | None = None
) -> EntryForm:
    return EntryForm(
        data,
        initial=initial,
        objectives=portfolio.objective_choices(staff),
        standards=portfolio.standard_choices(),
        needs=portfolio.need_choices(staff),
    )


def _entry_form_page(
    request: HttpRequest,
    staff: StaffMember,
    form: EntryForm,
    entry: PortfolioEntry | None,
    status: int = 200,
) -> HttpResponse:
    form.link_descriptions()
    title = "Change a portfolio entry" if entry else "Add a portfolio entry"
    return render(
        request,
        "appraisal/portfolio_entry_form.html",
        {
            "page_title": title,
            "member": staff,
            "form": form,
            "entry": entry,
            "back_url": _portfolio_url(request.user, staff.pk),
        },
        status=status,
    )


def _editable_staff(request: HttpRequest) -> StaffMember:
    """Return whose portfolio the add form writes to: ?staff= for trust HR, else the user."""
    chosen = id_parameter(request, "staff")
    staff_id = chosen if chosen is not None else scope_for(request.user).staff_id
    if staff_id is None:
        raise Http404("Your login is not linked to a staff record, so you have no portfolio.")
    staff = get_object_or_404(visible_portfolio_staff(request.user), pk=staff_id)
    if not can_edit_portfolio(request.user, staff.pk):
        raise PermissionDenied("Only the owner of a portfolio or trust HR may add to it.")
    return staff


def _initial_from_need(request: HttpRequest, staff: StaffMember) -> dict[str, Any]:
    need_id = id_parameter(request, "need")
    initial: dict[str, Any] = {"started_on": clock.today()}
    if need_id is None:
        return initial
    need = get_object_or_404(portfolio.need_choices(staff), pk=need_id)
    initial["development_need"] = need.pk
    initial["title"] = need.description[:200]
    if need.suggested_kind in CpdKind.values:
        initial["kind"] = need.suggested_kind
    return initial


@login_required
@handles_invalid_parameters
@require_http_methods(["GET", "POST"])
def entry_add(request: HttpRequest) -> HttpResponse:
    """Add an entry; ?need=<id> starts from a suggested development need."""
    staff = _editable_staff(request)
    if request.method == "GET":
        form = _entry_form(staff, initial=_initial_from_need(request, staff))
        return _entry_form_page(request, staff, form, None)
    form = _entry_form(staff, request.POST)
    if form.is_valid():
        try:
            entry = portfolio.entry_save(request.user, staff=staff, **form.entry_fields())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Added “{entry.title}” to the portfolio.")
            return redirect(_portfolio_url(request.user, staff.pk))
    return _entry_form_page(request, staff, form, None, status=400)


def _editable_entry(request: HttpRequest, pk: int) -> PortfolioEntry:
    entry = get_object_or_404(
        visible_portfolio_entries(request.user).select_related("staff"), pk=pk
    )
    if not can_edit_portfolio(request.user, entry.staff_id):
        raise PermissionDenied("Only the owner of a portfolio or trust HR may change it.")
    return entry


def _initial_from_entry(entry: PortfolioEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "title": entry.title,
        "provider": entry.provider,
        "started_on": entry.started_on,
        "ended_on": entry.ended_on,
        "hours": entry.hours,
        "cost": entry.cost,
        "reflection": entry.reflection,
        "objectives": [o.pk for o in entry.objectives.all()],
        "standards": [s.pk for s in entry.standards.all()],
        "development_need": entry.development_need_id,
    }


@login_required
@require_http_methods(["GET", "POST"])
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _editable_entry(request, pk)
    if request.method == "GET":
        form = _entry_form(entry.staff, initial=_initial_from_entry(entry))
        return _entry_form_page(request, entry.staff, form, entry)
    form = _entry_form(entry.staff, request.POST)
    if form.is_valid():
        try:
            portfolio.entry_save(
                request.user, staff=entry.staff, entry=entry, **form.entry_fields()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Saved “{entry.title}”.")
            return redirect(_portfolio_url(request.user, entry.staff_id))
    return _entry_form_page(request, entry.staff, form, entry, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm, then delete an entry and its evidence files."""
    entry = _editable_entry(request, pk)
    if request.method == "POST":
        title, staff_id = entry.title, entry.staff_id
        portfolio.entry_delete(request.user, entry)
        messages.success(request, f"Deleted “{title}” and its evidence files.")
        return redirect(_portfolio_url(request.user, staff_id))
    return render(
        request,
        "appraisal/portfolio_entry_delete.html",
        {
            "page_title": "Delete a portfolio entry",
            "entry": entry,
            "evidence_count": entry.evidence.count(),
            "back_url": _portfolio_url(request.user, entry.staff_id),
        },
    )


# Evidence ----------------------------------------------------------------------------------


def _evidence_page(
    request: HttpRequest, entry: PortfolioEntry, form: EvidenceForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "appraisal/portfolio_evidence.html",
        {
            "page_title": f"Evidence for “{entry.title}”",
            "entry": entry,
            "files": list(entry.evidence.all()),
            "form": form,
            "allowed": ALLOWED_DESCRIPTION,
            "limit_mb": megabytes(int(settings.EVIDENCE_MAX_BYTES)),
            "back_url": _portfolio_url(request.user, entry.staff_id),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    """List an entry's evidence files and upload another."""
    # NOTE: Django writes the whole request body to a temporary file before
    # the service checks the size, so only a limit in the front-end web
    # server (such as nginx's client_max_body_size) bounds what is read.
    entry = _editable_entry(request, pk)
    if request.method == "GET":
        return _evidence_page(request, entry, EvidenceForm())
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence = portfolio.evidence_add(request.user, entry, form.cleaned_data["file"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                f"Uploaded “{evidence.original_name}” as a {_type_label(evidence)} "
                f"({megabytes(evidence.size)} MB).",
            )
            return redirect("appraisal:evidence-add", pk=entry.pk)
    return _evidence_page(request, entry, form, status=400)


def _type_label(evidence: EvidenceFile) -> str:
    for file_type in ALLOWED_TYPES:
        if file_type.content_type == evidence.content_type:
            return file_type.label
    return evidence.content_type


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Send an evidence file as an attachment to those who may read its portfolio."""
    evidence = get_object_or_404(portfolio.visible_evidence(request.user), pk=pk)
    try:
        handle = portfolio.evidence_open(request.user, evidence)
    except FileNotFoundError as error:
        logger.error("Evidence file %s (record %s) is missing from storage", evidence.file, pk)
        raise Http404("The file of this evidence is missing from storage.") from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(evidence.original_name, evidence.extension),
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A file opened in the browser anyway runs no script and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_object_or_404(portfolio.visible_evidence(request.user), pk=pk)
    entry = evidence.entry
    if not can_edit_portfolio(request.user, entry.staff_id):
        raise PermissionDenied("Only the owner of a portfolio or trust HR may change it.")
    if request.method == "POST":
        name = evidence.original_name
        portfolio.evidence_delete(request.user, evidence)
        messages.success(request, f"Deleted the evidence file “{name}”.")
        return redirect("appraisal:evidence-add", pk=entry.pk)
    return render(
        request,
        "appraisal/portfolio_evidence_delete.html",
        {"page_title": "Delete an evidence file", "evidence": evidence, "entry": entry},
    )


# Suggested entries -------------------------------------------------------------------------


@login_required
@require_POST
def need_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss a suggested entry: the development need stays on the appraisal."""
    visible = visible_portfolio_staff(request.user).values("pk")
    need = get_object_or_404(
        DevelopmentNeed.objects.select_related("appraisal").filter(
            appraisal__appraisee__in=visible
        ),
        pk=pk,
    )
    portfolio.need_dismiss(request.user, need)
    messages.success(request, f"Dismissed the suggestion “{need.description}”.")
    return redirect(_portfolio_url(request.user, need.appraisal.appraisee_id))
