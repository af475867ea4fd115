"""Reads of the trust structure, scoped to the requesting user."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from pupils.models import Enrolment, SenStatus, active_on
from pupils.selectors import disadvantaged_filter
from staff.models import StaffMember
from trust import clock
from trust.access import scope_for

from .models import AcademicYear, Academy, OfstedInspection, TutorGroup, YearGroup


def visible_academies(user: Any) -> QuerySet[Academy]:
    """Return the academies whose pages `user` may open."""
    scope = scope_for(user)
    academies = Academy.objects.select_related("trust")
    if scope.all_academies:
        return academies.all()
    return academies.filter(pk__in=scope.academy_ids | scope.pupil_academy_ids)


def visible_year_groups(user: Any) -> QuerySet[YearGroup]:
    """Return the year groups whose pupil lists `user` may open."""
    scope = scope_for(user)
    groups = YearGroup.objects.select_related("academy")
    if scope.all_pupils:
        return groups.all()
    return groups.filter(Q(academy_id__in=scope.pupil_academy_ids) | Q(pk__in=scope.year_group_ids))


def visible_tutor_groups(user: Any) -> QuerySet[TutorGroup]:
    """Return the tutor groups whose pupil lists `user` may open."""
    scope = scope_for(user)
    groups = TutorGroup.objects.select_related("academy", "year_group", "academic_year", "tutor")
    if scope.all_pupils:
        return groups.all()
    return groups.filter(
        Q(academy_id__in=scope.pupil_academy_ids)
        | Q(year_group_id__in=scope.year_group_ids)
        | Q(pk__in=scope.tutor_group_ids)
    )


def academic_year_on(day: datetime.date | None = None) -> AcademicYear | None:
    """Return the academic year containing `day` (today by default)."""
    day = day or clock.today()
    return AcademicYear.objects.filter(start_date__lte=day, end_date__gte=day).first()


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
    disadvantaged = disadvantaged_filter(day, prefix="pupil__")
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
