"""Who may read and change appraisals, portfolios and CPD figures.

An appraisal's content is seen by its appraisee, its appraiser, the
headteacher of its academy and trust HR; nobody else. Leaders and trustees
see completion counts only. Every page, API view, export and PDF reads
through these functions.
"""

from typing import Any

from django.db.models import Q, QuerySet

from academies.models import Academy
from staff.models import Role, StaffMember
from trust import clock
from trust.access import scope_for

from .models import Appraisal, CpdEvent, PortfolioEntry

# Roles that read completion counts: their own academy, or every academy.
ACADEMY_COMPLETION_ROLES = (Role.HEADTEACHER, Role.ACADEMY_LEADER)
TRUST_COMPLETION_ROLES = (Role.TRUST_LEADER, Role.TRUST_HR, Role.TRUSTEE)
# Roles that run the trust's CPD offer and read CPD summaries trust-wide.
TRUST_CPD_ROLES = (Role.TRUST_LEADER, Role.TRUST_HR, Role.TRUST_ADMIN)


def visible_appraisals(user: Any) -> QuerySet[Appraisal]:
    """Return the appraisals whose content `user` may read."""
    scope = scope_for(user)
    if scope.all_appraisals:
        return Appraisal.objects.all()
    allowed = Q(pk__in=[])
    if scope.staff_id:
        allowed |= Q(appraisee_id=scope.staff_id) | Q(appraiser_id=scope.staff_id)
    if scope.headteacher_academy_ids:
        allowed |= Q(academy_id__in=scope.headteacher_academy_ids)
    return Appraisal.objects.filter(allowed)


def can_manage(user: Any, appraisal: Appraisal) -> bool:
    """Return whether `user` may set objectives and review: the appraiser, the
    academy's headteacher or trust HR."""
    scope = scope_for(user)
    if scope.all_appraisals:
        return True
    if scope.staff_id is not None and appraisal.appraiser_id == scope.staff_id:
        return True
    return (
        appraisal.academy_id is not None
        and appraisal.academy_id in scope.headteacher_academy_ids
        and appraisal.appraisee_id != scope.staff_id
    )


def can_assign_appraiser(user: Any, appraisal: Appraisal) -> bool:
    """Return whether `user` may change the appraiser: the academy's headteacher
    or trust HR."""
    scope = scope_for(user)
    if scope.all_appraisals:
        return True
    return (
        appraisal.academy_id is not None
        and appraisal.academy_id in scope.headteacher_academy_ids
        and appraisal.appraisee_id != scope.staff_id
    )


def is_appraisee(user: Any, appraisal: Appraisal) -> bool:
    staff_id = scope_for(user).staff_id
    return staff_id is not None and appraisal.appraisee_id == staff_id


def is_appraiser(user: Any, appraisal: Appraisal) -> bool:
    staff_id = scope_for(user).staff_id
    return staff_id is not None and appraisal.appraiser_id == staff_id


def can_run_cycles(user: Any) -> bool:
    """Trust HR and trust leaders open cycles and set the trust's deadlines."""
    scope = scope_for(user)
    return bool(user.is_superuser) or scope.has_role(Role.TRUST_HR, Role.TRUST_LEADER)


def can_set_academy_deadlines(user: Any, academy_id: int) -> bool:
    scope = scope_for(user)
    return can_run_cycles(user) or academy_id in scope.headteacher_academy_ids


def completion_academies(user: Any) -> QuerySet[Academy]:
    """Return the academies whose appraisal completion counts `user` may read."""
    scope = scope_for(user)
    if user.is_superuser or scope.has_role(*TRUST_COMPLETION_ROLES):
        return Academy.objects.all()
    if scope.has_role(*ACADEMY_COMPLETION_ROLES):
        from staff.models import RoleAssignment

        ids = RoleAssignment.objects.filter(
            staff_id=scope.staff_id, role__in=ACADEMY_COMPLETION_ROLES, academy__isnull=False
        ).values("academy_id")
        return Academy.objects.filter(pk__in=ids)
    return Academy.objects.none()


def sees_trust_completion(user: Any) -> bool:
    scope = scope_for(user)
    return bool(user.is_superuser) or scope.has_role(*TRUST_COMPLETION_ROLES)


# Portfolios ------------------------------------------------------------------------


def visible_portfolio_staff(user: Any) -> QuerySet[StaffMember]:
    """Return the staff whose portfolios `user` may read: their own, their
    appraisees' in the current cycle, their academy's for a headteacher,
    everyone's for trust HR."""
    scope = scope_for(user)
    if scope.all_appraisals:
        return StaffMember.objects.all()
    allowed = Q(pk__in=[])
    if scope.staff_id:
        today = clock.today()
        appraisees = Appraisal.objects.filter(
            appraiser_id=scope.staff_id,
            cycle__academic_year__start_date__lte=today,
            cycle__academic_year__end_date__gte=today,
        ).values("appraisee_id")
        allowed |= Q(pk=scope.staff_id) | Q(pk__in=appraisees)
    if scope.headteacher_academy_ids:
        allowed |= Q(academy_id__in=scope.headteacher_academy_ids)
    return StaffMember.objects.filter(allowed)


def visible_portfolio_entries(user: Any) -> QuerySet[PortfolioEntry]:
    return PortfolioEntry.objects.filter(staff__in=visible_portfolio_staff(user))


def can_edit_portfolio(user: Any, staff_id: int) -> bool:
    """Return whether `user` may edit the portfolio of `staff_id`: its owner, or
    trust HR correcting it."""
    scope = scope_for(user)
    return scope.staff_id == staff_id or scope.all_appraisals


# The trust's CPD offer ---------------------------------------------------------------


def visible_cpd_events(user: Any) -> QuerySet[CpdEvent]:
    """Return the CPD events `user` may read: the whole offer for any member of
    staff, none for a trustee."""
    scope = scope_for(user)
    if user.is_superuser or (scope.staff_id and not scope.is_trustee_only):
        return CpdEvent.objects.all()
    return CpdEvent.objects.none()


def can_run_cpd_offer(user: Any, event: CpdEvent | None = None) -> bool:
    """Trust leaders, HR and administrators run the offer; a headteacher or
    academy leader runs the events their academy hosts."""
    scope = scope_for(user)
    if user.is_superuser or scope.has_role(*TRUST_CPD_ROLES):
        return True
    if not scope.has_role(*ACADEMY_COMPLETION_ROLES):
        return False
    if event is None:
        return True
    return event.host_academy_id is not None and event.host_academy_id in scope.academy_ids


def cpd_summary_includes_central_team(user: Any) -> bool:
    """Return whether the CPD summary shows `user` the central team (staff with
    no academy). Only trust-wide CPD roles see it, not academy leaders."""
    return bool(user.is_superuser or scope_for(user).has_role(*TRUST_CPD_ROLES))


def cpd_summary_academies(user: Any) -> QuerySet[Academy]:
    """Academies whose CPD hours and cost `user` may read (leaders only)."""
    scope = scope_for(user)
    if user.is_superuser or scope.has_role(*TRUST_CPD_ROLES):
        return Academy.objects.all()
    if scope.has_role(*ACADEMY_COMPLETION_ROLES):
        return Academy.objects.filter(pk__in=scope.staff_academy_ids & scope.academy_ids)
    return Academy.objects.none()
