"""Who may see what: the scope each user's role assignments give.

scope_for(user) reads a user's role assignments once per request and turns
them into sets of ids. Each resource then has one selector that turns the
scope into a queryset (visible_pupils in pupils.selectors, and so on), and
every page, export and API endpoint goes through that selector.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, Value

from staff.models import Role, RoleAssignment, ScopeKind, StaffMember

from . import clock

# Roles whose trust-wide scope covers every pupil of the trust.
TRUST_PUPIL_ROLES = {Role.TRUST_LEADER, Role.TRUST_ADMIN}
# Roles whose academy scope covers every pupil of that academy.
ACADEMY_PUPIL_ROLES = {Role.HEADTEACHER, Role.ACADEMY_LEADER, Role.ATTENDANCE_OFFICER}
# Roles that see every staff record in their scope.
STAFF_RECORD_ROLES = {Role.TRUST_LEADER, Role.TRUST_ADMIN, Role.TRUST_HR}
ACADEMY_STAFF_ROLES = {Role.HEADTEACHER, Role.ACADEMY_LEADER}


@dataclass(frozen=True)
class Scope:
    roles: frozenset[str] = frozenset()
    staff_id: int | None = None
    # Every pupil, academy and year group of the trust.
    all_pupils: bool = False
    all_academies: bool = False
    all_staff: bool = False
    # Academies where the user sees every pupil (headteacher and so on).
    pupil_academy_ids: frozenset[int] = frozenset()
    # Academies whose pages the user may open (aggregates).
    academy_ids: frozenset[int] = frozenset()
    year_group_ids: frozenset[int] = frozenset()
    tutor_group_ids: frozenset[int] = frozenset()
    # Classes the user teaches this academic year.
    teaching_group_ids: frozenset[int] = frozenset()
    staff_academy_ids: frozenset[int] = frozenset()
    safeguarding_all: bool = False
    safeguarding_academy_ids: frozenset[int] = field(default_factory=frozenset)
    # Appraisals: trust HR reads every one, a headteacher their academy's.
    all_appraisals: bool = False
    headteacher_academy_ids: frozenset[int] = frozenset()

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_trustee_only(self) -> bool:
        return self.roles == {Role.TRUSTEE}

    def sees_any_pupil(self) -> bool:
        return bool(
            self.all_pupils
            or self.pupil_academy_ids
            or self.year_group_ids
            or self.tutor_group_ids
            or self.teaching_group_ids
        )

    def can_see_sensitive(self, academy_id: int | None) -> bool:
        return self.safeguarding_all or (
            academy_id is not None and academy_id in self.safeguarding_academy_ids
        )


EMPTY_SCOPE = Scope()


def _build_scope(user: Any) -> Scope:
    if not user or not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    staff = StaffMember.objects.filter(user=user).only("id", "academy_id").first()
    today = clock.today()
    assignments: list[RoleAssignment] = []
    if staff:
        assignments = [
            a
            for a in RoleAssignment.objects.filter(staff=staff)
            if (a.starts_on is None or a.starts_on <= today)
            and (a.ends_on is None or today <= a.ends_on)
        ]
    roles = {a.role for a in assignments}
    values: dict[str, Any] = {
        "all_pupils": bool(user.is_superuser),
        "all_academies": bool(user.is_superuser),
        "all_staff": bool(user.is_superuser),
    }
    pupil_academies: set[int] = set()
    academies: set[int] = set()
    year_groups: set[int] = set()
    tutor_groups: set[int] = set()
    staff_academies: set[int] = set()
    safeguarding_academies: set[int] = set()
    safeguarding_all = bool(user.is_superuser)
    all_appraisals = bool(user.is_superuser)
    headteacher_academies: set[int] = set()

    for a in assignments:
        if a.scope == ScopeKind.TRUST:
            values["all_academies"] = True
            if a.role in TRUST_PUPIL_ROLES:
                values["all_pupils"] = True
            if a.role in STAFF_RECORD_ROLES:
                values["all_staff"] = True
            if a.role == Role.SAFEGUARDING_LEAD:
                safeguarding_all = True
            if a.role == Role.TRUST_HR:
                all_appraisals = True
            continue
        if a.role == Role.HEADTEACHER and a.academy_id:
            headteacher_academies.add(a.academy_id)
        if a.academy_id:
            academies.add(a.academy_id)
            staff_academies.add(a.academy_id)
        if a.role == Role.SAFEGUARDING_LEAD and a.academy_id:
            safeguarding_academies.add(a.academy_id)
        elif a.scope == ScopeKind.ACADEMY and a.role in ACADEMY_PUPIL_ROLES and a.academy_id:
            pupil_academies.add(a.academy_id)
        elif a.scope == ScopeKind.YEAR_GROUP and a.year_group_id:
            year_groups.add(a.year_group_id)
        elif a.scope == ScopeKind.TUTOR_GROUP and a.tutor_group_id:
            tutor_groups.add(a.tutor_group_id)

    teaching_groups: set[int] = set()
    if staff:
        # The tutor named on a tutor group may open it without a tutor role
        # row, and a teacher may open the classes they teach. One query reads both.
        from academies.models import TutorGroup
        from progress.models import TeachingGroup

        this_year = Q(academic_year__start_date__lte=today, academic_year__end_date__gte=today)
        tutored = (
            TutorGroup.objects.filter(this_year, tutor=staff)
            .annotate(kind=Value("tutor"))
            .order_by()
            .values_list("id", "kind")
        )
        taught = (
            TeachingGroup.objects.filter(this_year, teachers=staff)
            .annotate(kind=Value("class"))
            .order_by()
            .values_list("id", "kind")
        )
        for group_id, kind in tutored.union(taught, all=True):
            (tutor_groups if kind == "tutor" else teaching_groups).add(group_id)
        if staff.academy_id:
            staff_academies.add(staff.academy_id)
            if roles - {Role.TRUSTEE}:
                academies.add(staff.academy_id)

    return Scope(
        roles=frozenset(roles),
        staff_id=staff.pk if staff else None,
        pupil_academy_ids=frozenset(pupil_academies),
        academy_ids=frozenset(academies),
        year_group_ids=frozenset(year_groups),
        tutor_group_ids=frozenset(tutor_groups),
        teaching_group_ids=frozenset(teaching_groups),
        staff_academy_ids=frozenset(staff_academies),
        safeguarding_all=safeguarding_all,
        safeguarding_academy_ids=frozenset(safeguarding_academies),
        all_appraisals=all_appraisals,
        headteacher_academy_ids=frozenset(headteacher_academies),
        **values,
    )


def scope_for(user: Any) -> Scope:
    """Return the user's scope, computed once and cached on the user object."""
    cached = getattr(user, "_trust_scope", None)
    if cached is not None:
        return cached
    scope = _build_scope(user)
    if user is not None and user.is_authenticated:
        user._trust_scope = scope
    return scope
