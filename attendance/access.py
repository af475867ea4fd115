"""Who may take, correct and see registers.

Tutors take their own group's registers. A teacher assigned to cover
takes that register but does not correct it. Heads of year take and
correct registers in their year. Attendance officers, headteachers and
academy leaders take and correct any register of their academy. Trust
leaders read every register, and trustees read none.
"""

import datetime
from typing import Any

from django.db.models import Q, QuerySet

from academies.models import TutorGroup
from academies.selectors import visible_tutor_groups
from staff.models import Role, RoleAssignment, ScopeKind
from trust import clock
from trust.access import scope_for

from .models import RegisterCover

# Academy-wide roles that take and correct every register of their academy.
ACADEMY_REGISTER_ROLES = {Role.HEADTEACHER, Role.ACADEMY_LEADER, Role.ATTENDANCE_OFFICER}
# Roles that may assign a teacher to cover a register.
COVER_ASSIGNING_ROLES = ACADEMY_REGISTER_ROLES | {Role.HEAD_OF_YEAR}


def register_academy_ids(user: Any) -> frozenset[int]:
    """Return the academies where `user` has an academy-wide register role.

    Scope.pupil_academy_ids mixes every academy-wide pupil role, so the
    assignments are read again here. The result is cached on the user.
    """
    cached = getattr(user, "_register_academy_ids", None)
    if cached is not None:
        return cached
    if not user or not user.is_authenticated:
        return frozenset()
    today = clock.today()
    ids = frozenset(
        RoleAssignment.objects.filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=today),
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
            staff__user=user,
            scope=ScopeKind.ACADEMY,
            role__in=ACADEMY_REGISTER_ROLES,
            academy__isnull=False,
        ).values_list("academy_id", flat=True)
    )
    user._register_academy_ids = ids
    return ids


def _head_of_year_ids(user: Any) -> frozenset[int]:
    scope = scope_for(user)
    if not scope.has_role(Role.HEAD_OF_YEAR):
        return frozenset()
    return scope.year_group_ids


def cover_for(user: Any, tutor_group: TutorGroup, day: datetime.date, session: str) -> bool:
    """Return whether `user` is assigned to cover this register."""
    staff_id = scope_for(user).staff_id
    if staff_id is None:
        return False
    return (
        RegisterCover.objects.filter(tutor_group=tutor_group, date=day, staff_id=staff_id)
        .filter(Q(sessions=RegisterCover.Sessions.BOTH) | Q(sessions=session))
        .exists()
    )


def can_correct_marks(user: Any, academy_id: int, year_group_id: int | None = None) -> bool:
    """Return whether `user` may change marks that someone else saved."""
    if user.is_superuser:
        return True
    if academy_id in register_academy_ids(user):
        return True
    return year_group_id is not None and year_group_id in _head_of_year_ids(user)


def can_take_register(user: Any, tutor_group: TutorGroup, day: datetime.date, session: str) -> bool:
    """Return whether `user` may enter marks on this register."""
    if can_correct_marks(user, tutor_group.academy_id, tutor_group.year_group_id):
        return True
    if tutor_group.pk in scope_for(user).tutor_group_ids:
        return True
    return cover_for(user, tutor_group, day, session)


def can_assign_cover(user: Any, tutor_group: TutorGroup) -> bool:
    """Return whether `user` may assign a teacher to cover this group's registers."""
    return can_correct_marks(user, tutor_group.academy_id, tutor_group.year_group_id)


def registers_visible(user: Any, day: datetime.date) -> QuerySet[TutorGroup]:
    """Return the tutor groups of the academic year containing `day` whose
    registers `user` may open: the groups in their scope and those they cover."""
    in_year = Q(academic_year__start_date__lte=day, academic_year__end_date__gte=day)
    visible = visible_tutor_groups(user).filter(in_year)
    staff_id = scope_for(user).staff_id
    if staff_id is None:
        return visible
    covered = RegisterCover.objects.filter(staff_id=staff_id, date=day).values("tutor_group_id")
    return (
        TutorGroup.objects.select_related("academy", "year_group", "academic_year", "tutor")
        .filter(in_year)
        .filter(Q(pk__in=visible.values("pk")) | Q(pk__in=covered))
    )
