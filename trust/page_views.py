"""Role landing pages, and the helpers every HTML page uses for its query
parameters and for the figures of academies.

Each landing page shows what exists now; later domain apps add their
panels. Every read goes through the visible_* selectors, and each page
runs a fixed number of queries however many pupils there are.
"""

import datetime
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from academies.models import Academy, OfstedInspection, TutorGroup, YearGroup, year_group_name
from academies.selectors import visible_academies, visible_tutor_groups, visible_year_groups
from pupils.models import Enrolment, FsmPeriod, Pupil, SenStatus, active_on
from pupils.selectors import six_years_before, visible_pupils
from staff.models import Role, StaffMember

from . import clock
from .access import scope_for
from .charts import Chart, bar_chart
from .models import AuditEvent

ID_PATTERN = re.compile(r"[0-9]{1,12}")


class InvalidParameter(Exception):
    """A query parameter whose value the page cannot use, so the page returns 400."""

    def __init__(self, name: str, value: str, allowed: str) -> None:
        super().__init__(f"The filter “{name}” has the value “{value}”, but {allowed}.")
        self.name = name
        self.value = value


def handles_invalid_parameters(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Turn an InvalidParameter raised by `view` into a 400 page naming the value."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except InvalidParameter as error:
            return render(
                request,
                "trust/bad_request.html",
                {"message": str(error), "page_title": "Invalid filter"},
                status=400,
            )

    return wrapper


def id_parameter(request: HttpRequest, name: str) -> int | None:
    """Read the optional id query parameter `name`: a positive whole number."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    # str.isdigit() also accepts digits such as "²" that int() rejects.
    if not ID_PATTERN.fullmatch(raw) or int(raw) == 0:
        shown = text_parameter_preview(raw)
        raise InvalidParameter(name, shown, "it must be the number of a record, such as 12")
    return int(raw)


def text_parameter_preview(raw: str) -> str:
    """Return `raw` shortened and with control characters shown as "?", for messages."""
    cleaned = "".join("?" if unicodedata.category(c) == "Cc" else c for c in raw)
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"


def text_parameter(request: HttpRequest, name: str, *, max_length: int = 100) -> str:
    """Read the optional free-text query parameter `name`, stripped.

    Control characters are rejected because PostgreSQL text cannot hold a
    NUL and no name or UPN contains one.
    """
    raw = request.GET.get(name, "").strip()
    if len(raw) > max_length:
        raise InvalidParameter(
            name, text_parameter_preview(raw), f"it must be at most {max_length} characters"
        )
    if any(unicodedata.category(c) == "Cc" for c in raw):
        raise InvalidParameter(
            name, text_parameter_preview(raw), "it must not contain control characters"
        )
    return raw


# The pupil figures of one academy on one day, from current enrolments.
@dataclass
class AcademyFigures:
    academy: Academy
    on_roll: int = 0
    sen_support: int = 0
    ehc_plan: int = 0
    disadvantaged: int = 0
    eal: int = 0
    staff: int = 0
    tutor_groups: int = 0
    by_year: list[tuple[YearGroup, int]] = field(default_factory=list)

    def percent(self, count: int) -> float | None:
        return round(100 * count / self.on_roll, 1) if self.on_roll else None

    @property
    def sen_percent(self) -> float | None:
        return self.percent(self.sen_support + self.ehc_plan)

    @property
    def sen_support_percent(self) -> float | None:
        return self.percent(self.sen_support)

    @property
    def ehc_plan_percent(self) -> float | None:
        return self.percent(self.ehc_plan)

    @property
    def disadvantaged_percent(self) -> float | None:
        return self.percent(self.disadvantaged)

    @property
    def eal_percent(self) -> float | None:
        return self.percent(self.eal)

    @property
    def latest_inspection(self) -> OfstedInspection | None:
        inspections = list(self.academy.inspections.all())
        return inspections[0] if inspections else None


def _fsm_ever6_for_enrolment(day: datetime.date) -> Exists:
    return Exists(
        FsmPeriod.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=six_years_before(day)),
            pupil_id=OuterRef("pupil_id"),
            start_date__lte=day,
        )
    )


def academy_figures(academies: Iterable[Academy], day: datetime.date) -> list[AcademyFigures]:
    """Return the figures of each academy in `academies` on `day`.

    Five queries in all, whatever the number of academies and pupils: the
    academies with their inspections, the enrolment counts, the counts by
    year group, the staff counts and the tutor group counts.
    """
    academy_list = list(
        Academy.objects.filter(pk__in=[a.pk for a in academies])
        .order_by("name")
        .prefetch_related(
            Prefetch("inspections", queryset=OfstedInspection.objects.order_by("-inspected_on"))
        )
    )
    figures = {a.pk: AcademyFigures(academy=a) for a in academy_list}
    current = Enrolment.objects.filter(active_on(day), academy_id__in=figures)
    disadvantaged = (
        _fsm_ever6_for_enrolment(day)
        | Q(pupil__looked_after=True)
        | Q(pupil__previously_looked_after=True)
    )
    counts = current.values("academy_id").annotate(
        on_roll=Count("pupil_id", distinct=True),
        sen_support=Count(
            "pupil_id", distinct=True, filter=Q(pupil__sen_status=SenStatus.SEN_SUPPORT)
        ),
        ehc_plan=Count("pupil_id", distinct=True, filter=Q(pupil__sen_status=SenStatus.EHC_PLAN)),
        disadvantaged=Count("pupil_id", distinct=True, filter=disadvantaged),
        eal=Count("pupil_id", distinct=True, filter=Q(pupil__eal=True)),
    )
    for row in counts:
        item = figures[row["academy_id"]]
        for name in ("on_roll", "sen_support", "ehc_plan", "disadvantaged", "eal"):
            setattr(item, name, row[name])

    by_year = dict(
        current.values_list("year_group_id").annotate(count=Count("pupil_id", distinct=True))
    )
    for group in YearGroup.objects.filter(academy_id__in=figures).order_by("nc_year"):
        figures[group.academy_id].by_year.append((group, by_year.get(group.pk, 0)))

    staff_counts = (
        StaffMember.objects.filter(academy_id__in=figures)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=day))
        .values_list("academy_id")
        .annotate(count=Count("pk"))
    )
    for academy_id, count in staff_counts:
        figures[academy_id].staff = count

    group_counts = (
        TutorGroup.objects.filter(
            academy_id__in=figures,
            academic_year__start_date__lte=day,
            academic_year__end_date__gte=day,
        )
        .values_list("academy_id")
        .annotate(count=Count("pk"))
    )
    for academy_id, count in group_counts:
        figures[academy_id].tutor_groups = count
    return list(figures.values())


def year_group_chart(figures: AcademyFigures) -> Chart:
    return bar_chart(
        title=f"Pupils on roll by year group, {figures.academy.name}",
        labels=[group.name for group, _ in figures.by_year],
        series={"Pupils": [count for _, count in figures.by_year]},
        y_title="Pupils",
        x_title="Year group",
    )


def pupils_with_list_fields(pupils: Any, day: datetime.date) -> Any:
    """Annotate `pupils` with their current enrolment and the pupil premium flag.

    Adds current_academy_id and _name, current_year_group_id, current_nc_year,
    current_tutor_group_id and _name, and is_disadvantaged (FSM Ever 6, looked
    after or previously looked after), all in the one list query.
    """
    current = Enrolment.objects.filter(active_on(day), pupil_id=OuterRef("pk")).order_by(
        "-start_date", "-pk"
    )

    def latest(field_name: str) -> Subquery:
        return Subquery(current.values(field_name)[:1])

    fsm = Exists(
        FsmPeriod.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=six_years_before(day)),
            pupil_id=OuterRef("pk"),
            start_date__lte=day,
        )
    )
    return pupils.annotate(
        current_academy_id=latest("academy_id"),
        current_academy_name=latest("academy__name"),
        current_year_group_id=latest("year_group_id"),
        current_nc_year=latest("year_group__nc_year"),
        current_tutor_group_id=latest("tutor_group_id"),
        current_tutor_group_name=latest("tutor_group__name"),
        is_disadvantaged=ExpressionWrapper(
            fsm | Q(looked_after=True) | Q(previously_looked_after=True),
            output_field=BooleanField(),
        ),
    )


def prepare_rows(user: Any, pupils: Iterable[Pupil]) -> list[Pupil]:
    """Evaluate `pupils` and mark, per row, whether the user may see the LAC chip."""
    scope = scope_for(user)
    rows = list(pupils)
    for pupil in rows:
        academy_id = getattr(pupil, "current_academy_id", None)
        pupil.show_lac = scope.can_see_sensitive(academy_id)  # type: ignore[attr-defined]
        nc_year = getattr(pupil, "current_nc_year", None)
        pupil.current_year_name = (  # type: ignore[attr-defined]
            year_group_name(nc_year) if nc_year is not None else ""
        )
    return rows


def _group_register(rows: list[Pupil]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int | None], list[Pupil]] = defaultdict(list)
    for pupil in rows:
        key = (
            getattr(pupil, "current_tutor_group_name", None) or "No tutor group",
            getattr(pupil, "current_tutor_group_id", None),
        )
        groups[key].append(pupil)
    return [
        {"name": name, "id": group_id, "pupils": pupils, "count": len(pupils)}
        for (name, group_id), pupils in sorted(groups.items(), key=lambda item: item[0][0])
    ]


def register_order(pupils: Any) -> Any:
    """Order `pupils` as a register lists them: surname, then forename, as shown."""
    return pupils.annotate(
        sort_surname=Lower(Coalesce(NullIf("preferred_surname", Value("")), "legal_surname")),
        sort_forename=Lower(Coalesce(NullIf("preferred_forename", Value("")), "legal_forename")),
    ).order_by("sort_surname", "sort_forename", "pk")


def _on_roll_in(field_name: str, ids: Iterable[int], day: datetime.date) -> Exists:
    return Exists(
        Enrolment.objects.filter(
            active_on(day), pupil_id=OuterRef("pk"), **{f"{field_name}__in": list(ids)}
        )
    )


@login_required
def my_year(request: HttpRequest) -> HttpResponse:
    """Show the head of year's year groups today: pupils by tutor group, with chips."""
    day = clock.today()
    scope = scope_for(request.user)
    year_groups = list(
        visible_year_groups(request.user).filter(pk__in=scope.year_group_ids).order_by("nc_year")
    )
    sections = []
    if year_groups:
        pupils = visible_pupils(request.user, day).filter(
            _on_roll_in("year_group_id", [g.pk for g in year_groups], day)
        )
        rows = prepare_rows(request.user, register_order(pupils_with_list_fields(pupils, day)))
        for group in year_groups:
            in_group = [p for p in rows if p.current_year_group_id == group.pk]  # type: ignore[attr-defined]
            sections.append(
                {"year_group": group, "count": len(in_group), "groups": _group_register(in_group)}
            )
    return render(
        request,
        "trust/my_year.html",
        {
            "page_title": "My year today",
            "sections": sections,
            "today": day,
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
        },
    )


@login_required
def my_classes(request: HttpRequest) -> HttpResponse:
    """Show the user's tutor groups this academic year, with their pupils."""
    day = clock.today()
    scope = scope_for(request.user)
    tutor_groups = list(
        visible_tutor_groups(request.user)
        .filter(
            pk__in=scope.tutor_group_ids,
            academic_year__start_date__lte=day,
            academic_year__end_date__gte=day,
        )
        .order_by("academy__name", "year_group__nc_year", "name")
    )
    sections = []
    if tutor_groups:
        pupils = visible_pupils(request.user, day).filter(
            _on_roll_in("tutor_group_id", [g.pk for g in tutor_groups], day)
        )
        rows = prepare_rows(request.user, register_order(pupils_with_list_fields(pupils, day)))
        for group in tutor_groups:
            in_group = [p for p in rows if p.current_tutor_group_id == group.pk]  # type: ignore[attr-defined]
            sections.append({"tutor_group": group, "pupils": in_group})
    return render(
        request,
        "trust/my_classes.html",
        {
            "page_title": "My classes",
            "sections": sections,
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
        },
    )


@login_required
@handles_invalid_parameters
def academy_dashboard(request: HttpRequest) -> HttpResponse:
    """Show one academy's figures. The ?academy=id parameter picks one in scope."""
    day = clock.today()
    scope = scope_for(request.user)
    academies = visible_academies(request.user)
    if not scope.all_academies:
        academies = academies.filter(pk__in=scope.pupil_academy_ids or scope.academy_ids)
    choices = list(academies.order_by("name"))
    chosen_id = id_parameter(request, "academy")
    if chosen_id is not None:
        chosen: Academy | None = next((a for a in choices if a.pk == chosen_id), None)
        if chosen is None:
            raise Http404("No academy with that id is in your scope.")
    else:
        preferred = [a for a in choices if a.pk in scope.pupil_academy_ids]
        candidates = preferred or choices
        chosen = candidates[0] if candidates else None
    figures = chart = None
    if chosen is not None:
        figures = academy_figures([chosen], day)[0]
        chart = year_group_chart(figures)
    return render(
        request,
        "trust/academy_dashboard.html",
        {
            "page_title": f"Academy dashboard: {chosen.name}" if chosen else "Academy dashboard",
            "choices": choices,
            "chosen": chosen,
            "figures": figures,
            "chart": chart,
            "today": day,
            "sees_pupils": chosen is not None
            and (scope.all_pupils or chosen.pk in scope.pupil_academy_ids),
        },
    )


def _trust_totals(rows: list[AcademyFigures]) -> dict[str, Any]:
    total = sum(r.on_roll for r in rows)
    sen = sum(r.sen_support + r.ehc_plan for r in rows)
    disadvantaged = sum(r.disadvantaged for r in rows)
    return {
        "on_roll": total,
        "sen_percent": round(100 * sen / total, 1) if total else None,
        "disadvantaged_percent": round(100 * disadvantaged / total, 1) if total else None,
        "staff": sum(r.staff for r in rows),
    }


@login_required
def trust_dashboard(request: HttpRequest) -> HttpResponse:
    """Show one row per academy of the trust, the trust total and a chart of pupils."""
    scope = scope_for(request.user)
    if not scope.all_academies:
        raise Http404("The trust dashboard needs a trust-wide role.")
    day = clock.today()
    rows = academy_figures(visible_academies(request.user), day)
    chart = bar_chart(
        title="Pupils on roll by academy",
        labels=[r.academy.short_name or r.academy.name for r in rows],
        series={"Pupils": [r.on_roll for r in rows]},
        y_title="Pupils",
        x_title="Academy",
    )
    return render(
        request,
        "trust/trust_dashboard.html",
        {
            "page_title": "Trust dashboard",
            "rows": rows,
            "totals": _trust_totals(rows),
            "chart": chart,
            "today": day,
        },
    )


@login_required
def reports_home(request: HttpRequest) -> HttpResponse:
    """Show the trustees' page: trust figures as aggregates only, never a pupil."""
    day = clock.today()
    rows = academy_figures(visible_academies(request.user), day)
    phases: dict[str, int] = defaultdict(int)
    for row in rows:
        phases[row.academy.get_phase_display()] += 1
    chart = bar_chart(
        title="Pupils on roll by academy",
        labels=[r.academy.short_name or r.academy.name for r in rows],
        series={"Pupils": [r.on_roll for r in rows]},
        y_title="Pupils",
        x_title="Academy",
    )
    return render(
        request,
        "trust/reports_home.html",
        {
            "page_title": "Reports",
            "rows": rows,
            "totals": _trust_totals(rows),
            "phases": sorted(phases.items()),
            "chart": chart,
            "today": day,
        },
    )


@login_required
def my_appraisal(request: HttpRequest) -> HttpResponse:
    """Show the user's own staff record. Objectives join it once appraisal exists."""
    staff_id = scope_for(request.user).staff_id
    staff = (
        StaffMember.objects.select_related("academy", "line_manager").filter(pk=staff_id).first()
        if staff_id
        else None
    )
    return render(
        request, "trust/my_appraisal.html", {"page_title": "My appraisal", "staff": staff}
    )


def audit_trail(**refs: int) -> Any:
    """Return the audit events of one pupil or staff member, newest first.

    `refs` is pupil_ref=id or staff_ref=id. Only trust administrators and
    superusers reach the pages that call this.
    """
    return AuditEvent.objects.filter(**refs).select_related("actor").order_by("-at", "-pk")


def can_read_audit(user: Any) -> bool:
    return bool(user.is_superuser) or scope_for(user).has_role(Role.TRUST_ADMIN)


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    field: str
    before: Any
    after: Any


def audit_rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """Flatten audit events into one row per changed field, as the trail pages list them."""
    rows = []
    for event in events:
        if event.action == AuditEvent.Action.VIEW_SENSITIVE:
            fields = ", ".join(str(f) for f in event.changes.get("fields", []))
            rows.append(AuditRow(event, fields, None, None))
            continue
        changes = event.changes or {}
        if not changes:
            rows.append(AuditRow(event, "", None, None))
        for name, values in sorted(changes.items()):
            pair = values if isinstance(values, list) and len(values) == 2 else [None, values]
            rows.append(AuditRow(event, name, pair[0], pair[1]))
    return rows
