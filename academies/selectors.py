"""Reads of the trust structure, scoped to the requesting user."""

import datetime
from typing import Any

from django.db.models import Q, QuerySet

from trust import clock
from trust.access import scope_for

from .models import AcademicYear, Academy, TutorGroup, YearGroup


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
