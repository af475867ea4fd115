"""Access rules for seeing, logging, correcting and deleting behaviour records.

Every page, export, API endpoint and report reaches incidents through
visible_incidents and suspensions through visible_suspensions. A pupil's
history follows them: staff who see a pupil now see the pupil's incidents
at any academy of the trust, while an academy's own staff also see its past
pupils' incidents there.
"""

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from progress.models import ClassMembership
from pupils.models import Enrolment, active_on
from pupils.selectors import visible_pupils
from staff.models import Role
from trust import clock
from trust.access import scope_for

from .models import Incident, IncidentPupil, Suspension

# Roles that may delete an incident of their academy (or any, at trust scope).
DELETING_ROLES = {Role.HEADTEACHER, Role.ACADEMY_LEADER, Role.TRUST_LEADER}
# Roles that may correct any incident they can see, not only their own.
CORRECTING_ROLES = DELETING_ROLES | {Role.HEAD_OF_YEAR, Role.SAFEGUARDING_LEAD}


def _current_pupils_q(user: Any, field: str, day: datetime.date) -> Q:
    """Return a filter on `field` (a pupil id) for pupils on roll in the user's scope on `day`."""
    scope = scope_for(user)
    in_scope = Q(academy_id__in=scope.pupil_academy_ids)
    if scope.year_group_ids:
        in_scope |= Q(year_group_id__in=scope.year_group_ids)
    if scope.tutor_group_ids:
        in_scope |= Q(tutor_group_id__in=scope.tutor_group_ids)
    current = Enrolment.objects.filter(in_scope & active_on(day)).values("pupil_id")
    result = Q(**{f"{field}__in": current})
    if scope.teaching_group_ids:
        taught = ClassMembership.objects.filter(
            active_on(day), group_id__in=scope.teaching_group_ids
        ).values("pupil_id")
        result |= Q(**{f"{field}__in": taught})
    return result


def visible_links(user: Any, on: datetime.date | None = None) -> QuerySet[IncidentPupil]:
    """Return the incident-pupil links `user` may see.

    A link is visible when its pupil is visible and either the incident
    happened at an academy of the user's scope or the pupil is on roll in
    the user's scope today.
    """
    scope = scope_for(user)
    if scope.all_pupils:
        return IncidentPupil.objects.all()
    if not scope.sees_any_pupil():
        return IncidentPupil.objects.none()
    day = on or clock.today()
    academies = scope.pupil_academy_ids | scope.academy_ids
    return IncidentPupil.objects.filter(pupil__in=visible_pupils(user, day)).filter(
        Q(academy_id__in=academies) | _current_pupils_q(user, "pupil_id", day)
    )


def visible_incidents(user: Any, on: datetime.date | None = None) -> QuerySet[Incident]:
    """Return the incidents with at least one pupil link `user` may see."""
    scope = scope_for(user)
    if scope.all_pupils:
        return Incident.objects.all()
    links = visible_links(user, on).filter(incident_id=OuterRef("pk"))
    return Incident.objects.filter(Exists(links))


def visible_suspensions(user: Any, on: datetime.date | None = None) -> QuerySet[Suspension]:
    """Return the suspensions and exclusions `user` may see, by the same rule as incidents."""
    scope = scope_for(user)
    if scope.all_pupils:
        return Suspension.objects.all()
    if not scope.sees_any_pupil():
        return Suspension.objects.none()
    day = on or clock.today()
    academies = scope.pupil_academy_ids | scope.academy_ids
    return Suspension.objects.filter(pupil__in=visible_pupils(user, day)).filter(
        Q(academy_id__in=academies) | _current_pupils_q(user, "pupil_id", day)
    )


def hidden_content_q(user: Any, prefix: str = "") -> Q:
    """Return a filter matching incidents whose content `user` may not read.

    `prefix` reaches the incident through a relation, for example "incident__".
    """
    scope = scope_for(user)
    if scope.safeguarding_all:
        return Q(pk__in=[])
    return Q(**{f"{prefix}sensitive": True}) & ~Q(
        **{f"{prefix}academy_id__in": scope.safeguarding_academy_ids}
    )


def can_read_content(user: Any, incident: Incident) -> bool:
    """Return whether `user` may read what happened (sensitive incidents need the permission)."""
    return not incident.sensitive or scope_for(user).can_see_sensitive(incident.academy_id)


def loggable_pupils(user: Any, on: datetime.date) -> QuerySet:
    """Return the pupils `user` may log behaviour for on `on`: those in their
    scope on that day. Trustees see no pupil, so they log nothing."""
    return visible_pupils(user, on)


def can_correct(user: Any, incident: Incident) -> bool:
    """Return whether `user` may change an incident they can see.

    The reporter and the user who logged it may correct it, and so may heads of
    year, safeguarding leads and leaders.
    """
    if user.is_superuser:
        return True
    scope = scope_for(user)
    if incident.created_by_id == user.pk or incident.reported_by_id == scope.staff_id:
        return True
    return scope.has_role(*CORRECTING_ROLES) and can_read_content(user, incident)


def can_delete(user: Any, incident: Incident) -> bool:
    """Return whether `user` may delete the incident: leaders of its academy only."""
    if user.is_superuser:
        return True
    scope = scope_for(user)
    if scope.has_role(Role.TRUST_LEADER) and scope.all_pupils:
        return True
    return (
        scope.has_role(Role.HEADTEACHER, Role.ACADEMY_LEADER)
        and incident.academy_id in scope.pupil_academy_ids
    )
