"""Helpers that fill the personas' groups with extra pupils for page tests."""

import datetime

from academies.models import TutorGroup
from pupils.models import Enrolment, FsmPeriod, Pupil

from .factories import PupilFactory


def enrol_pupils(group: TutorGroup, count: int, *, fsm: bool = False) -> list[Pupil]:
    """Create `count` pupils on roll in `group` from the start of its academic year.

    With `fsm`, each pupil gets an open free school meals period from
    01/01/2024, so they count as disadvantaged (FSM Ever 6).
    """
    pupils = []
    for _ in range(count):
        pupil = PupilFactory()
        if fsm:
            FsmPeriod.objects.create(pupil=pupil, start_date=datetime.date(2024, 1, 1))
        Enrolment.objects.create(
            pupil=pupil,
            academy=group.academy,
            academic_year=group.academic_year,
            year_group=group.year_group,
            tutor_group=group,
            start_date=group.academic_year.start_date,
        )
        pupils.append(pupil)
    return pupils
