"""Access rules for classes and grade entry.

Teachers see the classes they teach this academic year, heads of year the
classes of their year groups, academy-wide roles their academy's classes and
trust roles with pupil scope every class. Trustees see none. Pages return
404 for a class outside the user's scope, as for a pupil outside it.
"""

from typing import Any

from django.db.models import Q, QuerySet

from academies.models import YearGroup
from staff.models import Role, RoleAssignment, ScopeKind
from trust import clock
from trust.access import scope_for

from .models import TeachingGroup

# Roles that enter grades for every class of their academy and create its
# assessment points.
ACADEMY_GRADE_ROLES = (Role.HEADTEACHER, Role.ACADEMY_LEADER)


def visible_teaching_groups(user: Any) -> QuerySet[TeachingGroup]:
    """Return the classes whose pages `user` may open."""
    scope = scope_for(user)
    groups = TeachingGroup.objects.select_related(
        "academy",
        "academic_year",
        "year_group",
        "qualification__subject",
        "qualification__scale",
    )
    if scope.all_pupils:
        return groups.all()
    if not (scope.teaching_group_ids or scope.pupil_academy_ids or scope.year_group_ids):
        return groups.none()
    return groups.filter(
        Q(pk__in=scope.teaching_group_ids)
        | Q(academy_id__in=scope.pupil_academy_ids)
        | Q(year_group_id__in=scope.year_group_ids)
    )


def _holds_role(
    user: Any,
    roles: tuple[str, ...],
    *,
    academy_id: int | None = None,
    year_group_id: int | None = None,
) -> bool:
    """Return whether `user` has one of `roles` today over the academy or year group given."""
    scope = scope_for(user)
    if scope.staff_id is None or not scope.has_role(*roles):
        return False
    today = clock.today()
    assignments = RoleAssignment.objects.filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        staff_id=scope.staff_id,
        role__in=roles,
    )
    if academy_id is not None:
        assignments = assignments.filter(scope=ScopeKind.ACADEMY, academy_id=academy_id)
    if year_group_id is not None:
        assignments = assignments.filter(scope=ScopeKind.YEAR_GROUP, year_group_id=year_group_id)
    return assignments.exists()


def can_enter_grades(user: Any, group: TeachingGroup) -> bool:
    """Return whether `user` may enter and correct grades for `group`.

    The class's teachers (this academic year), the heads of its year group,
    and the academy's headteacher and leaders may.
    """
    if getattr(user, "is_superuser", False):
        return True
    scope = scope_for(user)
    if group.pk in scope.teaching_group_ids:
        return True
    return can_manage_assessment_points(user, group.year_group)


def can_manage_assessment_points(user: Any, year_group: YearGroup) -> bool:
    """Return whether `user` may create assessment points for `year_group`:
    its heads of year and the academy's headteacher and leaders."""
    if getattr(user, "is_superuser", False):
        return True
    scope = scope_for(user)
    if year_group.pk in scope.year_group_ids and _holds_role(
        user, (Role.HEAD_OF_YEAR,), year_group_id=year_group.pk
    ):
        return True
    return year_group.academy_id in scope.pupil_academy_ids and _holds_role(
        user, ACADEMY_GRADE_ROLES, academy_id=year_group.academy_id
    )


def manageable_year_groups(user: Any) -> QuerySet[YearGroup]:
    """Return the year groups whose assessment points `user` may create."""
    scope = scope_for(user)
    groups = YearGroup.objects.select_related("academy").order_by("academy__name", "nc_year")
    if getattr(user, "is_superuser", False):
        return groups.all()
    if scope.staff_id is None:
        return groups.none()
    today = clock.today()
    held = RoleAssignment.objects.filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        staff_id=scope.staff_id,
    )
    year_ids = held.filter(
        role=Role.HEAD_OF_YEAR, scope=ScopeKind.YEAR_GROUP, year_group__isnull=False
    ).values("year_group_id")
    academy_ids = held.filter(
        role__in=ACADEMY_GRADE_ROLES, scope=ScopeKind.ACADEMY, academy__isnull=False
    ).values("academy_id")
    return groups.filter(Q(pk__in=year_ids) | Q(academy_id__in=academy_ids))
