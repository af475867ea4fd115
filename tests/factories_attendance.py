"""Builders for the register tests: tutor groups of a chosen size."""

import datetime

from academies.models import TutorGroup
from pupils.models import Enrolment, Pupil

from .factories import EnrolmentFactory, PupilFactory, TutorGroupFactory


def group_with_pupils(size: int, **group_fields: object) -> tuple[TutorGroup, list[Pupil]]:
    """Create a tutor group with `size` pupils on roll from the start of its year."""
    group = TutorGroupFactory(**group_fields)
    pupils = [PupilFactory() for _ in range(size)]
    for pupil in pupils:
        EnrolmentFactory(pupil=pupil, tutor_group=group)
    return group, pupils


def enrol(
    pupil: Pupil, group: TutorGroup, start: datetime.date, end: datetime.date | None = None
) -> Enrolment:
    return Enrolment.objects.create(
        pupil=pupil,
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=start,
        end_date=end,
    )
