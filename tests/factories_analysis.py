"""Incidents written straight to the models for the behaviour analysis tests.

Each incident copies its date, polarity and trust category to its pupil
links, as the logging service does, so the figures read what logging writes.
"""

import datetime
from collections.abc import Sequence

from academies.models import Academy
from behaviour.models import (
    BehaviourCategory,
    Incident,
    IncidentPupil,
    PupilRole,
    Suspension,
    SuspensionSession,
)
from pupils.models import Enrolment, Pupil, active_on
from staff.models import StaffMember
from trust.clock import LONDON


def log_incident(
    *,
    academy: Academy,
    category: BehaviourCategory,
    pupils: Sequence[Pupil],
    reported_by: StaffMember,
    at: datetime.datetime,
    points: int | None = None,
    location: str = "",
    sensitive: bool = False,
    roles: dict[int, str] | None = None,
) -> Incident:
    """Create an incident at `at` (London time) with one link per pupil.

    Each link takes the pupil's enrolment at `academy` on the day; a pupil
    with none there takes their latest enrolment at `academy`.
    """
    when = at.replace(tzinfo=LONDON) if at.tzinfo is None else at
    day = when.date()
    trust_category = category.parent or category
    enrolments = {
        e.pupil_id: e
        for e in Enrolment.objects.filter(academy=academy, pupil__in=pupils).order_by("start_date")
    }
    current = {
        e.pupil_id: e
        for e in Enrolment.objects.filter(active_on(day), academy=academy, pupil__in=pupils)
    }
    enrolments.update(current)
    any_enrolment = next(iter(enrolments.values()))
    incident = Incident.objects.create(
        academy=academy,
        academic_year=any_enrolment.academic_year,
        occurred_at=when,
        date=day,
        category=category,
        trust_category=trust_category,
        polarity=category.polarity,
        location=location,
        reported_by=reported_by,
        sensitive=sensitive or category.sensitive,
    )
    for pupil in pupils:
        enrolment = enrolments[pupil.pk]
        role = (roles or {}).get(pupil.pk, PupilRole.INVOLVED)
        link_points = points if points is not None else category.default_points
        if role in (PupilRole.TARGET, PupilRole.WITNESS):
            link_points = 0
        IncidentPupil.objects.create(
            incident=incident,
            pupil=pupil,
            role=role,
            points=link_points,
            date=day,
            polarity=category.polarity,
            trust_category=trust_category,
            academy=academy,
            academic_year=enrolment.academic_year,
            year_group=enrolment.year_group,
            tutor_group=enrolment.tutor_group,
        )
    return incident


def suspend(
    *,
    pupil: Pupil,
    academy: Academy,
    decided_by: StaffMember,
    sessions: Sequence[tuple[datetime.date, str]],
    kind: str = Suspension.Kind.SUSPENSION,
    status: str = Suspension.Status.ACTIVE,
) -> Suspension:
    """Create a suspension of `pupil` covering `sessions` (date, "AM"/"PM"/"LN")."""
    enrolment = Enrolment.objects.filter(pupil=pupil, academy=academy).latest("start_date")
    first = min(day for day, _ in sessions)
    suspension = Suspension.objects.create(
        pupil=pupil,
        academy=academy,
        academic_year=enrolment.academic_year,
        year_group=enrolment.year_group,
        kind=kind,
        status=status,
        start_date=first,
        sessions=len(sessions),
        end_date=max(day for day, _ in sessions),
        reason_1="PA",
        decided_by=decided_by,
        decided_on=first,
    )
    for day, session in sessions:
        SuspensionSession.objects.create(
            suspension=suspension, pupil=pupil, academy=academy, date=day, session=session
        )
    return suspension
