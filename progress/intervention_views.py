"""Pages of interventions: the underperformance list of a year group, the
intervention list, opening, editing and reviewing an intervention, and what
works by kind."""

import datetime
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify

from academies.selectors import visible_academies
from pupils.models import Pupil
from pupils.selectors import visible_pupils
from trust import clock
from trust.access import scope_for
from trust.charts import bar_chart
from trust.exports import export_response
from trust.params import ID_PATTERN, InvalidParameter, handles_invalid_parameters, id_parameter

from .intervention_forms import (
    InterventionForm,
    ReviewForm,
    editing_statuses,
    opening_statuses,
    read_typed_grades,
)
from .interventions import (
    SMALL_GROUP,
    UNDERPERFORMANCE_HEADERS,
    InterventionConflict,
    KindImpact,
    can_manage,
    intervention_create,
    intervention_history,
    intervention_review,
    intervention_update,
    is_overdue,
    listed_interventions,
    ordered_for_list,
    owner_choices,
    pupil_impacts,
    pupils_academy,
    pupils_in_scope,
    qualification_choices,
    readable_interventions,
    reviewed_links,
    typed_review_points,
    underperformance,
    underperformance_export_rows,
    underperformance_year_groups,
    what_works,
)
from .models import Intervention

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# Six weeks: the review date the new intervention form suggests.
DEFAULT_REVIEW_AFTER = datetime.timedelta(weeks=6)


def _apply_errors(form: Any, error: ValidationError) -> None:
    """Put a service's errors on the form's fields, or above the form for others."""
    for name, problems in error.message_dict.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


# The underperformance list ----------------------------------------------------------------


@login_required
@handles_invalid_parameters
def underperformance_page(request: HttpRequest, pk: int) -> HttpResponse:
    """List the year group's pupils below TMG in English or maths, or in two or
    more subjects, with what is in place for them; ?format=csv exports it."""
    year_group = get_object_or_404(underperformance_year_groups(request.user), pk=pk)
    fmt = request.GET.get("format", "").strip()
    if fmt and fmt not in ("csv", "xlsx"):
        raise InvalidParameter("format", fmt[:40], "it must be csv or xlsx")
    view = underperformance(request.user, year_group)
    if fmt:
        academy = slugify(year_group.academy.short_name or year_group.academy.name)
        return export_response(  # type: ignore[return-value]
            filename=f"underperformance-{academy}-{slugify(year_group.name)}-{clock.today():%Y%m%d}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=UNDERPERFORMANCE_HEADERS,
            rows=underperformance_export_rows(view),
        )
    scope = scope_for(request.user)
    return render(
        request,
        "progress/underperformance.html",
        {
            "page_title": f"Underperformance in {year_group.name}, {year_group.academy.name}",
            "year_group": year_group,
            "view": view,
            "today": clock.today(),
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
        },
    )


# The intervention list ---------------------------------------------------------------------


@login_required
def intervention_list(request: HttpRequest) -> HttpResponse:
    """List the user's interventions and, for leaders and heads of year, those
    of their scope: overdue reviews first."""
    today = clock.today()
    interventions = ordered_for_list(listed_interventions(request.user)).prefetch_related(
        "pupil_links__pupil"
    )
    page = Paginator(interventions, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "intervention": item,
            "overdue": is_overdue(item, today),
            "pupil_count": len(item.pupil_links.all()),
        }
        for item in page.object_list
    ]
    scope = scope_for(request.user)
    return render(
        request,
        "progress/intervention_list.html",
        {
            "page_title": "Interventions",
            "page": page,
            "rows": rows,
            "today": today,
            "year_groups": list(
                underperformance_year_groups(request.user).order_by("academy__name", "nc_year")
            )
            if scope.sees_any_pupil()
            else [],
            "sees_what_works": _what_works_allowed(request.user),
        },
    )


# Opening an intervention -------------------------------------------------------------------


def _pupil_ids(values: list[str]) -> list[int]:
    ids = []
    for raw in values:
        text = raw.strip()
        if not ID_PATTERN.fullmatch(text) or int(text) == 0:
            raise InvalidParameter(
                "pupil", text[:40], "it must be the number of a pupil, such as 12"
            )
        ids.append(int(text))
    return list(dict.fromkeys(ids))


def _staff_id(request: HttpRequest) -> int | None:
    return scope_for(request.user).staff_id


@login_required
@handles_invalid_parameters
def intervention_new(request: HttpRequest) -> HttpResponse:
    """Open an intervention for the pupils ticked on the underperformance list
    or named on a pupil's progress page (?pupil=ID, repeatable)."""
    source = request.POST if request.method == "POST" else request.GET
    ids = _pupil_ids(source.getlist("pupil"))
    pupils = pupils_in_scope(request.user, ids)
    context: dict[str, Any] = {"page_title": "Open an intervention", "pupils": pupils}
    if not pupils:
        context["problem"] = (
            "No pupil was chosen. Tick pupils on a year group's underperformance list, "
            "or open an intervention from a pupil's progress page."
        )
        context["year_groups"] = list(
            underperformance_year_groups(request.user).order_by("academy__name", "nc_year")
        )
        return render(
            request,
            "progress/intervention_form.html",
            context,
            status=400 if request.method == "POST" else 200,
        )
    today = clock.today()
    academy, problem = pupils_academy([p.pk for p in pupils], today)
    if academy is None:
        context["problem"] = problem
        return render(request, "progress/intervention_form.html", context, status=400)

    owners = owner_choices(academy)
    qualifications = qualification_choices(academy)
    staff_id = _staff_id(request)
    initial: dict[str, Any] = {
        "start_date": today,
        "review_date": today + DEFAULT_REVIEW_AFTER,
        "status": Intervention.Status.ACTIVE,
        "owner": staff_id if staff_id and owners.filter(pk=staff_id).exists() else None,
    }
    qualification_id = id_parameter(request, "qualification") if request.method != "POST" else None
    if qualification_id is not None:
        initial["qualification"] = qualification_id
    form = InterventionForm(
        request.POST if request.method == "POST" else None,
        owners=owners,
        qualifications=qualifications,
        statuses=opening_statuses(),
        initial=initial,
    )
    context.update({"form": form, "academy": academy})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            intervention = intervention_create(
                actor=request.user,
                pupil_ids=[p.pk for p in pupils],
                kind=data["kind"],
                title=data["title"],
                qualification_id=data["qualification"].pk if data.get("qualification") else None,
                owner_id=data["owner"].pk,
                start_date=data["start_date"],
                review_date=data["review_date"],
                status=data["status"],
                notes=data["notes"],
            )
        except ValidationError as error:
            logger.info(
                "intervention not opened user=%s pupils=%s: %s",
                request.user.pk,
                [p.pk for p in pupils],
                error.messages,
            )
            _apply_errors(form, error)
        else:
            count = len(pupils)
            messages.success(
                request,
                f"Intervention '{intervention.title}' opened for {count} "
                f"pupil{'' if count == 1 else 's'}, review on "
                f"{intervention.review_date:%d/%m/%Y}.",
            )
            return redirect(reverse("progress:intervention-detail", args=[intervention.pk]))
    return render(
        request,
        "progress/intervention_form.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


# One intervention --------------------------------------------------------------------------


def _readable(request: HttpRequest, pk: int) -> Intervention:
    return get_object_or_404(readable_interventions(request.user), pk=pk)


def _shown_pupil_ids(request: HttpRequest, intervention: Intervention) -> list[int] | None:
    """Return the ids of the pupils the user may see in `intervention`, or None for all.

    The owner, the user who opened it and the academy's leaders see every pupil
    in it. A head of year over some of its pupils sees only those pupils,
    as on every other page.
    """
    scope = scope_for(request.user)
    if (
        scope.all_pupils
        or intervention.academy_id in scope.pupil_academy_ids
        or (scope.staff_id is not None and intervention.owner_id == scope.staff_id)
        or (
            intervention.created_by_id is not None and intervention.created_by_id == request.user.pk
        )
    ):
        return None
    return list(
        visible_pupils(request.user)
        .filter(interventions__intervention=intervention)
        .values_list("pk", flat=True)
    )


@login_required
def intervention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an intervention, its pupils with their grades at the start and at
    review, the impact once reviewed, and the history of changes."""
    intervention = _readable(request, pk)
    shown = _shown_pupil_ids(request, intervention)
    impacts = pupil_impacts(intervention, shown)
    return render(
        request,
        "progress/intervention_detail.html",
        {
            "page_title": f"Intervention: {intervention.title}",
            "intervention": intervention,
            "impacts": impacts,
            "hidden_pupils": intervention.pupil_links.count() - len(impacts),
            "overdue": is_overdue(intervention, clock.today()),
            "can_manage": can_manage(request.user, intervention),
            "history": intervention_history(intervention),
        },
    )


def _managed(request: HttpRequest, pk: int) -> Intervention:
    intervention = _readable(request, pk)
    if not can_manage(request.user, intervention):
        raise PermissionDenied(
            "Only the intervention's owner, the person who opened it, and leaders and "
            "heads of year over its pupils change it."
        )
    return intervention


def _seen_version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@login_required
def intervention_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an intervention's details; the history keeps the earlier values."""
    intervention = _managed(request, pk)
    owners = owner_choices(intervention.academy)
    form = InterventionForm(
        request.POST if request.method == "POST" else None,
        owners=owners,
        statuses=editing_statuses(intervention),
        initial={
            "kind": intervention.kind,
            "title": intervention.title,
            "owner": intervention.owner_id,
            "start_date": intervention.start_date,
            "review_date": intervention.review_date,
            "status": intervention.status,
            "notes": intervention.notes,
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                intervention_update(
                    actor=request.user,
                    intervention_id=intervention.pk,
                    seen_version=_seen_version(request),
                    kind=data["kind"],
                    title=data["title"],
                    owner_id=data["owner"].pk,
                    start_date=data["start_date"],
                    review_date=data["review_date"],
                    status=data["status"],
                    notes=data["notes"],
                )
            except InterventionConflict as conflict:
                form.add_error(None, str(conflict))
                status = 409
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, f"Intervention '{data['title']}' saved.")
                return redirect(reverse("progress:intervention-detail", args=[intervention.pk]))
    return render(
        request,
        "progress/intervention_form.html",
        {
            "page_title": f"Change intervention: {intervention.title}",
            "intervention": intervention,
            "form": form,
            "academy": intervention.academy,
        },
        status=status,
    )


@login_required
def intervention_review_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an intervention's review: each pupil's grade at review and the outcome."""
    intervention = _managed(request, pk)
    impacts = pupil_impacts(intervention, _shown_pupil_ids(request, intervention))
    pupils: list[Pupil] = [impact.link.pupil for impact in impacts]
    today = clock.today()
    form = ReviewForm(
        request.POST if request.method == "POST" else None,
        initial={
            "reviewed_on": min(intervention.review_date, today),
            "outcome": intervention.outcome,
        },
    )

    typed: dict[int, str] = {}
    grade_errors: dict[int, list[str]] = {}
    status = 200
    if request.method == "POST":
        status = 400
        typed, strangers = read_typed_grades(request.POST, pupils)
        if strangers:
            raise Http404("No pupil with that id is in this intervention.")
        if not form.is_valid():
            # Check the typed grades too, so every error shows at once.
            _, typed_problems = typed_review_points(intervention, [i.link for i in impacts], typed)
            grade_errors = {int(k.removeprefix("grade_")): v for k, v in typed_problems.items()}
        else:
            try:
                intervention_review(
                    actor=request.user,
                    intervention_id=intervention.pk,
                    seen_version=_seen_version(request),
                    reviewed_on=form.cleaned_data["reviewed_on"],
                    outcome=form.cleaned_data["outcome"],
                    typed_grades=typed,
                )
            except InterventionConflict as conflict:
                form.add_error(None, str(conflict))
                status = 409
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    if name.startswith("grade_"):
                        grade_errors[int(name.removeprefix("grade_"))] = problems
                    else:
                        for problem in problems:
                            form.add_error(name if name in form.fields else None, problem)
            else:
                messages.success(request, f"Review of '{intervention.title}' recorded.")
                return redirect(reverse("progress:intervention-detail", args=[intervention.pk]))

    rows = [
        {
            "impact": impact,
            "typed": typed.get(impact.link.pupil_id, ""),
            "errors": grade_errors.get(impact.link.pupil_id, []),
        }
        for impact in impacts
    ]
    return render(
        request,
        "progress/intervention_review.html",
        {
            "page_title": f"Review: {intervention.title}",
            "intervention": intervention,
            "form": form,
            "rows": rows,
            "grade_error_count": len(grade_errors),
        },
        status=status,
    )


# What works --------------------------------------------------------------------------------


def _what_works_allowed(user: Any) -> bool:
    scope = scope_for(user)
    return bool(
        user.is_superuser or scope.all_academies or scope.academy_ids or scope.pupil_academy_ids
    )


def _chart(impacts: list[KindImpact], where: str) -> Any:
    # A kind with no pupil below TMG at the start has no percentage to draw.
    shown = [i for i in impacts if not i.suppressed and i.back_on_percent is not None]
    return bar_chart(
        title=f"Pupils back on or above TMG by the review, by kind: {where}",
        labels=[i.label for i in shown],
        series={"Back on or above TMG (%)": [float(i.back_on_percent or 0) for i in shown]},
        y_title="Percentage of pupils who started below TMG",
        x_title="Intervention kind",
    )


@login_required
@handles_invalid_parameters
def what_works_page(request: HttpRequest) -> HttpResponse:
    """Show the impact of reviewed interventions by kind across the trust and,
    for those who see an academy's pupils, per academy (?academy=ID)."""
    if not _what_works_allowed(request.user):
        raise PermissionDenied("What works is for staff with a role at an academy or the trust.")
    scope = scope_for(request.user)
    trust_ids = set(visible_academies(request.user).values_list("trust_id", flat=True))
    if scope.all_pupils:
        academies = list(visible_academies(request.user).order_by("name"))
    else:
        academies = list(
            visible_academies(request.user).filter(pk__in=scope.pupil_academy_ids).order_by("name")
        )

    chosen_id = id_parameter(request, "academy")
    chosen = None
    if chosen_id is not None:
        chosen = next((a for a in academies if a.pk == chosen_id), None)
        if chosen is None:
            raise Http404("No academy with that id is in your scope.")
    elif len(academies) == 1:
        chosen = academies[0]

    links = reviewed_links().filter(intervention__academy__trust_id__in=trust_ids)
    tables = what_works(links, suppress_small=not scope.all_pupils)
    trust_table = tables.get(None, [])
    academy_table = tables.get(chosen.pk, []) if chosen else []
    chart = _chart(academy_table, chosen.name) if chosen else _chart(trust_table, "the trust")
    return render(
        request,
        "progress/what_works.html",
        {
            "page_title": "What works: interventions by kind",
            "academies": academies,
            "chosen": chosen,
            "trust_table": trust_table,
            "academy_table": academy_table,
            "chart": chart,
            "small_group": SMALL_GROUP,
            "suppressing": not scope.all_pupils,
        },
    )
