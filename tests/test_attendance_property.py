"""Attendance summaries stay equal to a recount of the marks after any
sequence of register saves, corrections, closures and imports."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from academies.models import Closure
from attendance.imports import ImportRejected, marks_import_apply
from attendance.models import AttendanceMark, PupilWeekSummary, PupilYearSummary
from attendance.services import MarkInput, closure_marks_write, marks_save
from attendance.summaries import COUNT_EXPRESSIONS, COUNT_FIELDS
from staff.models import Role
from tests.factories import (
    AcademicYearFactory,
    AcademyFactory,
    EnrolmentFactory,
    StaffFactory,
    TutorGroupFactory,
    grant,
)

# Two weeks of autumn 2026, and a day of 2024/25.
DATES = (
    datetime.date(2025, 7, 16),
    datetime.date(2026, 11, 23),
    datetime.date(2026, 11, 25),
    datetime.date(2026, 11, 30),
    datetime.date(2026, 12, 2),
)
VALID_CODES = ("/", "L", "U", "I", "M", "O", "G", "N", "V", "B", "X", "D", "C", "#", "Q")
# Q is new in 2024 and H retired then, so each is invalid on some dates.
INVALID_CODES = ("H", "ZZ")
NOW = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.UTC)

mark_strategy = st.tuples(
    st.integers(min_value=0, max_value=3),
    st.sampled_from(VALID_CODES * 5 + INVALID_CODES),
    st.one_of(st.none(), st.integers(min_value=1, max_value=60)),
)
operation = st.one_of(
    st.tuples(
        st.sampled_from(["save", "correct", "import"]),
        st.sampled_from(DATES),
        st.sampled_from(["AM", "PM"]),
        st.lists(mark_strategy, min_size=1, max_size=3, unique_by=lambda m: m[0]),
    ),
    st.tuples(
        st.just("closure"),
        st.sampled_from(DATES),
        st.sampled_from([Closure.Kind.INSET, Closure.Kind.UNEXPECTED]),
        st.sampled_from([Closure.Sessions.BOTH, Closure.Sessions.AM, Closure.Sessions.PM]),
    ),
)


@pytest.fixture
def group():
    """Return a 2026/27 tutor group with four pupils: two on roll throughout,
    one who joined on 24/11/2026 and one who left on 27/11/2026. The first
    pupil was also on roll in 2024/25 at another academy of the trust. The
    tutor saves and corrects; an attendance officer imports."""
    academy = AcademyFactory()
    year = AcademicYearFactory(trust=academy.trust, start_year=2026)
    tutor_group = TutorGroupFactory(academy=academy, academic_year=year)
    pupils = []
    for start, end in (
        (None, None),
        (None, None),
        (datetime.date(2026, 11, 24), None),
        (None, datetime.date(2026, 11, 27)),
    ):
        enrolment = EnrolmentFactory(tutor_group=tutor_group, end_date=end)
        if start is not None:
            enrolment.start_date = start
            enrolment.save()
        pupils.append(enrolment.pupil)

    other = AcademyFactory(trust=academy.trust)
    last_year = AcademicYearFactory(trust=academy.trust, start_year=2024)
    old_group = TutorGroupFactory(academy=other, academic_year=last_year)
    EnrolmentFactory(pupil=pupils[0], tutor_group=old_group)
    tutor = StaffFactory(academy=academy)
    grant(tutor, Role.TUTOR, tutor_group)
    officer = StaffFactory(academy=academy)
    grant(officer, Role.ATTENDANCE_OFFICER, academy)
    return {
        "tutor_group": tutor_group,
        "pupils": pupils,
        "user": tutor.user,
        "officer": officer.user,
    }


def seen_versions(pupil_ids: list[int], day: datetime.date, session: str) -> dict[int, int]:
    return dict(
        AttendanceMark.objects.filter(
            pupil_id__in=pupil_ids, date=day, session=session
        ).values_list("pupil_id", "version")
    )


def apply(step: tuple, context: dict) -> None:
    kind = step[0]
    if kind == "closure":
        _, day, closure_kind, sessions = step
        academy = context["tutor_group"].academy
        if day.year == 2025 or Closure.objects.filter(academy=academy, date=day).exists():
            return
        closure = Closure.objects.create(
            academy=academy, date=day, kind=closure_kind, sessions=sessions, reason="Storm"
        )
        closure_marks_write(closure=closure, actor=context["user"])
        event("closure written")
        return

    _, day, session, picks = step
    pupil_ids = [context["pupils"][index].pk for index, _, _ in picks]
    versions = seen_versions(pupil_ids, day, session)
    marks = [
        MarkInput(
            pupil_id=context["pupils"][index].pk,
            code=code,
            minutes_late=minutes if code in {"L", "U"} else None,
            seen_version=versions.get(context["pupils"][index].pk),
        )
        for index, code, minutes in picks
    ]
    if kind == "import":
        import_marks(context, day, session, picks)
        return
    options: dict = {"tutor_group": context["tutor_group"]}
    if kind == "correct":
        options.update(can_correct=True, reason="Parent rang: illness")
    try:
        result = marks_save(actor=context["user"], day=day, session=session, marks=marks, **options)
    except ValidationError:
        # Invalid steps (closed sessions, pupils off roll, unknown or retired
        # codes, corrections without the right) write nothing.
        event(f"{kind} rejected")
    else:
        event(f"{kind} wrote {'some' if result.saved else 'none'}")


def import_marks(context: dict, day: datetime.date, session: str, picks: list) -> None:
    lines = ["UPN,Date,Session,Code,Minutes late"]
    for index, code, minutes in picks:
        late = minutes if code in {"L", "U"} and minutes is not None else ""
        lines.append(f"{context['pupils'][index].upn},{day:%d/%m/%Y},{session},{code},{late}")
    try:
        result = marks_import_apply(
            academy=context["tutor_group"].academy,
            content="\n".join(lines).encode(),
            filename="history.csv",
            user=context["officer"],
        )
    except (ImportRejected, ValidationError):
        event("import rejected")
    else:
        event(f"import wrote {'some' if result.created + result.changed else 'none'}")


def recount(fields: tuple[str, ...]) -> dict[tuple, dict[str, int]]:
    rows = AttendanceMark.objects.values(*fields).annotate(**COUNT_EXPRESSIONS).order_by()
    return {tuple(row[f] for f in fields): {n: row[n] for n in COUNT_FIELDS} for row in rows}


def stored(model: type, fields: tuple[str, ...]) -> dict[tuple, dict[str, int]]:
    rows = model.objects.values(*fields, *COUNT_FIELDS)
    return {tuple(row[f] for f in fields): {n: row[n] for n in COUNT_FIELDS} for row in rows}


@pytest.mark.django_db
@settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(operation, min_size=1, max_size=8))
def test_summaries_equal_recount(group, steps):
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        for step in steps:
            apply(step, group)

        year_fields = ("pupil_id", "academy_id", "academic_year_id")
        week_fields = ("pupil_id", "academy_id", "academic_year_id", "year_group_id", "week_start")
        year_counts = stored(PupilYearSummary, year_fields)
        week_counts = stored(PupilWeekSummary, week_fields)

        assert year_counts == recount(year_fields)
        assert week_counts == recount(week_fields)
        for counts in [*year_counts.values(), *week_counts.values()]:
            assert all(value >= 0 for value in counts.values())
            assert sum(counts[n] for n in COUNT_FIELDS[:5]) > 0
        # Each example starts from the fixture's data alone.
        transaction.set_rollback(True)
