"""Helpers for the attendance figures tests: terms, pupils with marks.

Marks are written as the demo seed's bulk loader writes them: rows copied
from the enrolment, then summaries.rebuild. That lets a test place marks on
any date without the register rules. The API and service tests exercise
marks_save itself.
"""

import datetime

from django.utils import timezone

from academies.models import AcademicYear, Term
from attendance import summaries
from attendance.codes import code_on
from attendance.models import AttendanceMark, week_start
from pupils.models import Enrolment, Pupil, active_on


def whole_year_term(year: AcademicYear) -> Term:
    """Record the whole academic year as term time, so every weekday is a school day."""
    return Term.objects.create(
        academic_year=year,
        season=Term.Season.AUTUMN,
        start_date=year.start_date,
        end_date=year.end_date,
    )


def mark(pupil: Pupil, day: datetime.date, session: str, code: str) -> AttendanceMark:
    """Record one mark for `pupil` and rebuild their summaries."""
    enrolment = Enrolment.objects.filter(active_on(day), pupil=pupil).get()
    definition = code_on(code, day)
    assert definition is not None, code
    row = AttendanceMark.objects.create(
        pupil=pupil,
        date=day,
        session=session,
        code=code,
        category=definition.category,
        academy_id=enrolment.academy_id,
        academic_year_id=enrolment.academic_year_id,
        year_group_id=enrolment.year_group_id,
        tutor_group_id=enrolment.tutor_group_id,
        week_start=week_start(day),
        entered_at=timezone.now(),
    )
    summaries.rebuild(
        pupil_ids=[pupil.pk],
        weeks=[week_start(day)],
        academic_year_ids=[enrolment.academic_year_id],
    )
    return row


def mark_days(pupil: Pupil, start: datetime.date, codes: list[str]) -> None:
    """Mark `codes` on consecutive sessions from the AM of `start`, skipping weekends."""
    day = start
    session = "AM"
    for code in codes:
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        mark(pupil, day, session, code)
        if session == "AM":
            session = "PM"
        else:
            session = "AM"
            day += datetime.timedelta(days=1)
