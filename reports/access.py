"""Access rules for dashboards, the pupils behind their figures, and report runs.

Every dashboard page, export, API endpoint and report task of this app calls
these functions, and none of them reads the scope directly.
"""

from typing import Any

from django.db.models import Q, QuerySet

from academies.models import Academy, YearGroup
from academies.selectors import visible_academies
from progress.access import manageable_year_groups
from progress.parents import can_print_year_group_letters
from staff.models import Role
from trust.access import scope_for

from .models import ReportRun


def sees_trust_dashboard(user: Any) -> bool:
    """Return whether `user` has a trust-wide role (trust leader, HR, administrator, trustee)."""
    return scope_for(user).all_academies


def dashboard_academies(user: Any) -> QuerySet[Academy]:
    """Return the academies whose dashboards `user` may open, as aggregates at least."""
    return visible_academies(user)


def dashboard_year_groups(user: Any) -> QuerySet[YearGroup]:
    """Return the year groups whose dashboards `user` may open.

    Trust-wide roles and academy leaders see each year group of their
    academies; a head of year sees their own.
    """
    scope = scope_for(user)
    groups = YearGroup.objects.select_related("academy")
    if scope.all_academies:
        return groups.all()
    return groups.filter(Q(academy_id__in=scope.pupil_academy_ids) | Q(pk__in=scope.year_group_ids))


def sees_pupils(user: Any, *, academy_id: int, year_group_id: int | None = None) -> bool:
    """Return whether `user` may read the names behind figures of an academy or a year group.

    Where they may not (a trustee, trust HR, an academy's staff without a
    pupil role) figures are aggregates with groups of fewer than 5 pupils
    suppressed, and no pupil is listed or linked.
    """
    scope = scope_for(user)
    if scope.all_pupils or academy_id in scope.pupil_academy_ids:
        return True
    return year_group_id is not None and year_group_id in scope.year_group_ids


def aggregates_only(user: Any) -> bool:
    """Return True for users who never see a pupil's name, such as trustees."""
    return not scope_for(user).sees_any_pupil()


def visible_runs(user: Any) -> QuerySet[ReportRun]:
    """Return the report runs `user` may see and download.

    Their own requests; every governance report for trust-wide roles, since
    it contains no pupil names and trustees share one set of papers; the
    scheduled intervention reports of the academies whose pupils they see.
    """
    scope = scope_for(user)
    runs = ReportRun.objects.select_related("academy", "requested_by")
    if not user or not user.is_authenticated:
        return runs.none()
    condition = Q(requested_by=user)
    if scope.all_academies:
        condition |= Q(kind=ReportRun.Kind.GOVERNANCE)
    if scope.all_pupils:
        condition |= Q(scheduled=True, kind=ReportRun.Kind.INTERVENTION)
    elif scope.pupil_academy_ids:
        condition |= Q(
            scheduled=True,
            kind=ReportRun.Kind.INTERVENTION,
            academy_id__in=scope.pupil_academy_ids,
        )
    return runs.filter(condition)


def can_request(
    user: Any,
    kind: str,
    academy: Academy | None = None,
    year_group: YearGroup | None = None,
) -> bool:
    """Return whether `user` may request a report of `kind` for `academy` or `year_group`.

    Intervention report: for one academy or one year group, to those who see
    its pupils, and to trust-wide roles, who get it without names. Governance
    report: the whole trust, to trust-wide roles only. Parents' letters: one
    year group, to those who may print that year group's letters.
    """
    if not user or not user.is_authenticated:
        return False
    scope = scope_for(user)
    if kind == ReportRun.Kind.GOVERNANCE:
        return scope.all_academies
    if kind == ReportRun.Kind.INTERVENTION:
        if year_group is not None:
            return scope.all_academies or sees_pupils(
                user, academy_id=year_group.academy_id, year_group_id=year_group.pk
            )
        if academy is not None:
            return scope.all_academies or sees_pupils(user, academy_id=academy.pk)
        return False
    if kind == ReportRun.Kind.PARENT_LETTERS:
        if year_group is None:
            return False
        return can_print_year_group_letters(user, year_group)
    return False


def requestable_kinds(user: Any) -> list[str]:
    """Return the kinds of report `user` may request for at least one academy or year group."""
    scope = scope_for(user)
    kinds: list[str] = []
    if scope.all_academies or scope.pupil_academy_ids or scope.year_group_ids:
        kinds.append(ReportRun.Kind.INTERVENTION)
    if scope.all_academies:
        kinds.append(ReportRun.Kind.GOVERNANCE)
    if letter_year_groups(user).exists():
        kinds.append(ReportRun.Kind.PARENT_LETTERS)
    return kinds


def intervention_academies(user: Any) -> QuerySet[Academy]:
    """Return the academies `user` may request a whole-academy intervention report for."""
    scope = scope_for(user)
    academies = Academy.objects.order_by("name")
    if scope.all_academies:
        return academies.all()
    return academies.filter(pk__in=scope.pupil_academy_ids)


def intervention_year_groups(user: Any) -> QuerySet[YearGroup]:
    """Return the year groups `user` may request a year group intervention report for."""
    return dashboard_year_groups(user).order_by("academy__name", "nc_year")


def letter_year_groups(user: Any) -> QuerySet[YearGroup]:
    """Return the year groups whose parents' letters `user` may request as a batch.

    The same rule as progress.parents.can_print_year_group_letters, which
    decides each request, written as one query for the request form.
    """
    scope = scope_for(user)
    if scope.all_pupils and scope.has_role(Role.TRUST_LEADER):
        return YearGroup.objects.select_related("academy").order_by("academy__name", "nc_year")
    return manageable_year_groups(user)


def can_download(user: Any, run: ReportRun) -> bool:
    """Return whether `user` may download the file of `run` now.

    The run must be visible to them, and a run they requested themselves
    only while they may still request it: a head of year who has moved to
    another year loses the reports of their old one.
    """
    if not visible_runs(user).filter(pk=run.pk).exists():
        return False
    if run.requested_by_id != user.pk:
        return True
    year_group = (
        YearGroup.objects.filter(pk=run.year_group_id).first() if run.year_group_id else None
    )
    return can_request(user, run.kind, run.academy, year_group)
