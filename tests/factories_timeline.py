"""Behaviour records written straight through the models, for the timeline,
follow-up and API tests.

The rows copy the enrolment and category fields the way the logging
service does, so selectors read them as they would read logged incidents.
"""

import datetime

from academies.models import Term
from behaviour.models import Action, BehaviourCategory, FollowUp, Incident, IncidentPupil
from pupils.models import Enrolment, Pupil, active_on
from staff.models import StaffMember
from trust.clock import LONDON


def at(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """Return `day` at `hour`:`minute` Europe/London time, as an aware datetime."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def make_incident(
    *,
    pupils: list[Pupil],
    category: BehaviourCategory,
    occurred_at: datetime.datetime,
    reported_by: StaffMember,
    points: int | None = None,
    role: str = "involved",
    sensitive: bool = False,
    sensitive_kind: str = "",
    location: str = "classroom",
    description: str = "",
) -> Incident:
    """Create an incident at the first pupil's academy with one link per pupil."""
    day = occurred_at.astimezone(LONDON).date()
    first = Enrolment.objects.filter(active_on(day), pupil=pupils[0]).get()
    incident = Incident.objects.create(
        academy_id=first.academy_id,
        academic_year_id=first.academic_year_id,
        occurred_at=occurred_at,
        date=day,
        category=category,
        trust_category_id=category.trust_category_id,
        polarity=category.polarity,
        location=location,
        description=description,
        reported_by=reported_by,
        sensitive=sensitive or category.sensitive,
        sensitive_kind=sensitive_kind,
    )
    for pupil in pupils:
        enrolment = Enrolment.objects.filter(active_on(day), pupil=pupil).get()
        IncidentPupil.objects.create(
            incident=incident,
            pupil=pupil,
            role=role,
            points=category.default_points if points is None else points,
            date=day,
            polarity=category.polarity,
            trust_category_id=category.trust_category_id,
            academy_id=enrolment.academy_id,
            academic_year_id=enrolment.academic_year_id,
            year_group_id=enrolment.year_group_id,
            tutor_group_id=enrolment.tutor_group_id,
        )
    return incident


def make_detention(
    incident: Incident, pupil: Pupil, day: datetime.date, *, attended: bool | None = None
) -> Action:
    return Action.objects.create(
        incident=incident,
        pupil=pupil,
        kind=Action.Kind.DETENTION,
        date=day,
        duration_minutes=30,
        attended=attended,
    )


def make_follow_up(
    incident: Incident, owner: StaffMember, due_on: datetime.date, note: str = ""
) -> FollowUp:
    return FollowUp.objects.create(incident=incident, owner=owner, due_on=due_on, note=note)


def make_terms(year_start: int, academic_year_id: int) -> list[Term]:
    """Create the three terms of an academic year starting in September `year_start`."""
    seasons = [
        (Term.Season.AUTUMN, datetime.date(year_start, 9, 1), datetime.date(year_start, 12, 18)),
        (
            Term.Season.SPRING,
            datetime.date(year_start + 1, 1, 5),
            datetime.date(year_start + 1, 3, 26),
        ),
        (
            Term.Season.SUMMER,
            datetime.date(year_start + 1, 4, 12),
            datetime.date(year_start + 1, 7, 21),
        ),
    ]
    return [
        Term.objects.create(
            academic_year_id=academic_year_id, season=season, start_date=start, end_date=end
        )
        for season, start, end in seasons
    ]
