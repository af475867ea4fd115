"""Who sees which dashboard, which pupils behind a figure, and which report runs.

Every dashboard page, export, API endpoint and report task of this app asks
these functions; none reads the scope on its own.
"""

from typing import Any

from django.db.models import Q, QuerySet

from academies.models import Academy, YearGroup
from academies.selectors import visible_academies
from trust.access import scope_for

from .models import ReportRun


def sees_trust_dashboard(user: Any) -> bool:
    """Trust-wide roles (trust leaders, HR, administrators, trustees) see every academy."""
    return scope_for(user).all_academies


def dashboard_academies(user: Any) -> QuerySet[Academy]:
    """The academies whose dashboards `user` may open, as aggregates at least."""
    return visible_academies(user)


def dashboard_year_groups(user: Any) -> QuerySet[YearGroup]:
    """The year groups whose dashboards `user` may open.

    Trust-wide roles and academy leaders see each year group of their
    academies; a head of year sees their own.
    """
    scope = scope_for(user)
    groups = YearGroup.objects.select_related("academy")
    if scope.all_academies:
        return groups.all()
    return groups.filter(Q(academy_id__in=scope.pupil_academy_ids) | Q(pk__in=scope.year_group_ids))


def sees_pupils(user: Any, *, academy_id: int, year_group_id: int | None = None) -> bool:
    """Whether `user` may read the names behind figures of an academy or a year group.

    Where they may not (a trustee, trust HR, an academy's staff without a
    pupil role) figures are aggregates with groups of fewer than 5 pupils
    suppressed, and no pupil is listed or linked.
    """
    scope = scope_for(user)
    if scope.all_pupils or academy_id in scope.pupil_academy_ids:
        return True
    return year_group_id is not None and year_group_id in scope.year_group_ids


def aggregates_only(user: Any) -> bool:
    """True for users who never see a pupil's name: trustees and the like."""
    return not scope_for(user).sees_any_pupil()


def visible_runs(user: Any) -> QuerySet[ReportRun]:
    """The report runs `user` may see and download.

    Their own requests; the scheduled governance reports for trust-wide
    roles (no pupil names are in them); the scheduled intervention reports
    of the academies whose pupils they see.
    """
    scope = scope_for(user)
    runs = ReportRun.objects.select_related("academy", "requested_by")
    if not user or not user.is_authenticated:
        return runs.none()
    condition = Q(requested_by=user)
    if scope.all_academies:
        condition |= Q(scheduled=True, kind=ReportRun.Kind.GOVERNANCE)
    if scope.all_pupils:
        condition |= Q(scheduled=True, kind=ReportRun.Kind.INTERVENTION)
    elif scope.pupil_academy_ids:
        condition |= Q(
            scheduled=True,
            kind=ReportRun.Kind.INTERVENTION,
            academy_id__in=scope.pupil_academy_ids,
        )
    return runs.filter(condition)
