"""marks_save, the one write path of attendance marks, and closure marks."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from academies.models import Closure
from academies.services import closure_add
from attendance.codes import Category
from attendance.models import AttendanceMark, PupilWeekSummary, PupilYearSummary, SessionTimes
from attendance.services import MarkInput, closure_marks_write, marks_save
from attendance.summaries import COUNT_FIELDS
from trust.models import AuditEvent

from .factories import AcademicYearFactory, UserFactory
from .factories_attendance import group_with_pupils
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 3)


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(frozen):
    return build_personas()


def save(actor, pupil_ids, code, *, day=DAY, session="AM", **kwargs):
    return marks_save(
        actor=actor,
        day=day,
        session=session,
        marks=[MarkInput(pupil_id=p, code=code) for p in pupil_ids],
        **kwargs,
    )


def messages_of(error: ValidationError) -> str:
    return " ".join(m for values in error.message_dict.values() for m in values)


def test_save_creates_marks(world):
    tutor = world.users["tutor"]
    ids = [world.pupils["oak9a_obrien"].pk, world.pupils["oak9a_smithjones"].pk]

    result = save(tutor, ids, "/", tutor_group=world.tutor_groups["9A"])

    assert result.created == 2
    assert result.unchanged == 0
    marks = AttendanceMark.objects.filter(pupil_id__in=ids, date=DAY, session="AM")
    assert {m.code for m in marks} == {"/"}
    assert {m.entered_by_id for m in marks} == {tutor.pk}
    assert {m.tutor_group_id for m in marks} == {world.tutor_groups["9A"].pk}
    assert {m.version for m in marks} == {1}


def test_same_marks_again_are_unchanged(world):
    tutor = world.users["tutor"]
    ids = [world.pupils["oak9a_obrien"].pk]
    save(tutor, ids, "/")

    result = save(tutor, ids, "/")

    assert result.unchanged == 1
    assert result.saved == 0
    assert AttendanceMark.objects.get(pupil_id=ids[0]).version == 1


@pytest.mark.parametrize(
    ("minutes", "open_minutes", "expected_code", "category"),
    [
        (10, 30, "L", Category.PRESENT),
        (30, 30, "L", Category.PRESENT),
        (31, 30, "U", Category.UNAUTHORISED),
        (20, 15, "U", Category.UNAUTHORISED),
    ],
)
def test_minutes_late_give_l_or_u(world, minutes, open_minutes, expected_code, category):
    SessionTimes.objects.create(academy=world.academies["oak"], open_minutes=open_minutes)
    pupil = world.pupils["oak9a_obrien"]

    marks_save(
        actor=world.users["tutor"],
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=pupil.pk, code="L", minutes_late=minutes)],
    )

    mark = AttendanceMark.objects.get(pupil=pupil)
    assert mark.code == expected_code
    assert mark.category == category
    assert mark.minutes_late == minutes


@pytest.mark.parametrize(
    ("session", "typed", "stored"),
    [("AM", "\\", "/"), ("PM", "/", "\\"), ("AM", "/", "/"), ("PM", "\\", "\\")],
)
def test_present_code_follows_session(world, session, typed, stored):
    pupil = world.pupils["oak9a_obrien"]

    save(world.users["tutor"], [pupil.pk], typed, session=session)

    assert AttendanceMark.objects.get(pupil=pupil).code == stored


def test_closure_rejects_typed_mark_naming_closure(world):
    oak = world.academies["oak"]
    Closure.objects.create(academy=oak, date=DAY, kind=Closure.Kind.INSET, reason="Staff training")
    pupil = world.pupils["oak9a_obrien"]

    with pytest.raises(ValidationError) as caught:
        save(world.users["tutor"], [pupil.pk], "/")

    message = messages_of(caught.value)
    assert "Oak Academy is closed on 03/12/2026" in message
    assert "INSET day" in message
    assert "Staff training" in message
    assert not AttendanceMark.objects.filter(pupil=pupil).exists()


def test_unknown_code_rejected_with_allowed_codes(world):
    pupil = world.pupils["oak9a_obrien"]

    with pytest.raises(ValidationError) as caught:
        save(world.users["tutor"], [pupil.pk], "QQ")

    message = messages_of(caught.value)
    assert "'QQ' is not an attendance code" in message
    assert "Allowed on 03/12/2026" in message
    assert not AttendanceMark.objects.exists()


def test_retired_code_rejected_after_august_2024(world):
    pupil = world.pupils["oak9a_obrien"]

    with pytest.raises(ValidationError) as caught:
        save(world.users["tutor"], [pupil.pk], "H")

    message = messages_of(caught.value)
    assert "retired on 18/08/2024" in message
    assert "use C" in message


def test_retired_code_kept_before_august_2024(frozen):
    group, pupils = group_with_pupils(1, academic_year=AcademicYearFactory(start_year=2023))
    group.academic_year.trust = group.academy.trust
    marks_save(
        actor=None,
        day=datetime.date(2024, 3, 4),
        session="AM",
        marks=[MarkInput(pupil_id=pupils[0].pk, code="J")],
    )

    mark = AttendanceMark.objects.get(pupil=pupils[0])
    assert mark.code == "J"
    assert mark.category == Category.APPROVED_ACTIVITY


def test_pupil_not_on_roll_rejected(world):
    pupil = world.pupils["oak9a_obrien"]
    enrolment = pupil.enrolments.get()
    enrolment.end_date = datetime.date(2026, 11, 30)
    enrolment.save()

    with pytest.raises(ValidationError) as caught:
        save(world.users["tutor"], [pupil.pk], "/")

    assert "is not on roll on 03/12/2026" in messages_of(caught.value)


def test_correction_needs_permission(world):
    pupil = world.pupils["oak9a_obrien"]
    save(world.users["head_of_year"], [pupil.pk], "N")
    mark = AttendanceMark.objects.get(pupil=pupil)

    with pytest.raises(ValidationError) as caught:
        marks_save(
            actor=world.users["tutor"],
            day=DAY,
            session="AM",
            marks=[MarkInput(pupil_id=pupil.pk, code="I", seen_version=mark.version)],
            reason="Parent rang",
        )

    assert "only heads of year, attendance officers and leaders" in messages_of(caught.value)
    assert AttendanceMark.objects.get(pupil=pupil).code == "N"


def test_correction_needs_reason(world):
    pupil = world.pupils["oak9a_obrien"]
    save(world.users["tutor"], [pupil.pk], "N")

    with pytest.raises(ValidationError) as caught:
        marks_save(
            actor=world.users["attendance_officer"],
            day=DAY,
            session="AM",
            marks=[MarkInput(pupil_id=pupil.pk, code="I", seen_version=1)],
            can_correct=True,
        )

    assert "reason" in caught.value.message_dict
    assert AttendanceMark.objects.get(pupil=pupil).code == "N"


def test_correction_audit_keeps_earlier_value(world):
    pupil = world.pupils["oak9a_obrien"]
    officer = world.users["attendance_officer"]
    save(world.users["tutor"], [pupil.pk], "N")

    result = marks_save(
        actor=officer,
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=pupil.pk, code="I", seen_version=1)],
        can_correct=True,
        reason="Parent rang: illness",
    )

    assert result.changed == 1
    mark = AttendanceMark.objects.get(pupil=pupil)
    assert mark.code == "I"
    assert mark.version == 2
    assert mark.changed_by == officer
    event = AuditEvent.objects.get(model="attendance.AttendanceMark", object_id=str(mark.pk))
    assert event.actor == officer
    assert event.reason == "Parent rang: illness"
    assert event.changes["code"] == ["N", "I"]
    assert event.changes["category"] == ["unauthorised", "authorised"]
    assert event.pupil_ref == pupil.pk


def test_conflict_reported_not_overwritten(world):
    first, second = world.pupils["oak9a_obrien"], world.pupils["oak9a_smithjones"]
    group = world.tutor_groups["9A"]
    # Both opened the empty register; A saves pupil 1 late first.
    marks_save(
        actor=world.users["tutor"],
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=first.pk, code="L", minutes_late=7)],
        tutor_group=group,
    )

    result = marks_save(
        actor=world.users["head_of_year"],
        day=DAY,
        session="AM",
        marks=[
            MarkInput(pupil_id=first.pk, code="/", seen_version=None),
            MarkInput(pupil_id=second.pk, code="N", seen_version=None),
        ],
        tutor_group=group,
        can_correct=True,
    )

    assert result.created == 1
    assert len(result.conflicts) == 1
    conflict = result.conflicts[0]
    assert conflict.pupil_id == first.pk
    assert conflict.current_code == "L"
    assert conflict.submitted_code == "/"
    assert AttendanceMark.objects.get(pupil=first).code == "L"
    assert AttendanceMark.objects.get(pupil=second).code == "N"


def _recount(pupil_id):
    marks = AttendanceMark.objects.filter(pupil_id=pupil_id)
    totals = dict.fromkeys(COUNT_FIELDS, 0)
    for mark in marks:
        key = {
            "present": "present",
            "aea": "approved_activity",
            "authorised": "authorised",
            "unauthorised": "unauthorised",
            "not_counted": "not_counted",
        }[mark.category]
        totals[key] += 1
        if mark.code == "L":
            totals["late_before_close"] += 1
        if mark.code == "U":
            totals["late_after_close"] += 1
    return totals


def test_summaries_equal_recount_after_saves(world):
    tutor, officer = world.users["tutor"], world.users["attendance_officer"]
    ids = [world.pupils["oak9a_obrien"].pk, world.pupils["oak9a_smithjones"].pk]
    monday = datetime.date(2026, 11, 30)
    codes = ["/", "N", "I", "L", "B", "#", "G"]
    for offset, code in enumerate(codes):
        day = monday + datetime.timedelta(days=offset % 5)
        session = "AM" if offset < 5 else "PM"
        save(tutor, ids, code, day=day, session=session)
    marks_save(
        actor=officer,
        day=monday,
        session="AM",
        marks=[MarkInput(pupil_id=ids[0], code="M", seen_version=1)],
        can_correct=True,
        reason="Letter from the dentist",
    )

    for pupil_id in ids:
        expected = _recount(pupil_id)
        year = PupilYearSummary.objects.get(pupil_id=pupil_id)
        assert {f: getattr(year, f) for f in COUNT_FIELDS} == expected
        weeks = PupilWeekSummary.objects.filter(pupil_id=pupil_id)
        summed = {f: sum(getattr(w, f) for w in weeks) for f in COUNT_FIELDS}
        assert summed == expected


def _save_queries(size):
    group, pupils = group_with_pupils(size)
    user = UserFactory()
    with CaptureQueriesContext(connection) as queries:
        marks_save(
            actor=user,
            day=DAY,
            session="AM",
            marks=[MarkInput(pupil_id=p.pk, code="/") for p in pupils],
            tutor_group=group,
        )
    return len(queries)


def test_save_query_count_constant(frozen):
    assert _save_queries(5) == _save_queries(35)


def test_closure_marks_written_for_every_pupil(world):
    oak = world.academies["oak"]
    closure = Closure.objects.create(
        academy=oak, date=DAY, kind=Closure.Kind.UNEXPECTED, sessions=Closure.Sessions.PM
    )

    written = closure_marks_write(closure=closure)

    oak_pupils = world.pupils_of("oak")
    assert written == len(oak_pupils)
    marks = AttendanceMark.objects.filter(date=DAY)
    assert {m.pupil_id for m in marks} == oak_pupils
    assert {(m.code, m.session, m.category) for m in marks} == {("Y4", "PM", "not_counted")}


def test_closure_add_writes_marks_in_transaction(world):
    from academies.models import Term

    year = world.academic_year
    Term.objects.create(
        academic_year=year,
        season="autumn",
        start_date=year.start_date,
        end_date=datetime.date(2026, 12, 18),
    )
    oak = world.academies["oak"]
    save(world.users["tutor"], [world.pupils["oak9a_obrien"].pk], "/")

    closure_add(academy=oak, date=DAY, kind=Closure.Kind.INSET, actor=world.users["headteacher"])

    marks = AttendanceMark.objects.filter(date=DAY, academy=oak)
    assert marks.count() == 2 * len(world.pupils_of("oak"))
    assert {m.code for m in marks} == {"#"}
    assert not AttendanceMark.objects.filter(date=DAY, academy=world.academies["elm"]).exists()
    replaced = AuditEvent.objects.get(model="attendance.AttendanceMark")
    assert replaced.changes["code"] == ["/", "#"]


def test_future_date_rejected(world):
    pupil = world.pupils["oak9a_obrien"]

    with pytest.raises(ValidationError) as raised:
        save(None, [pupil.pk], "/", day=datetime.date(2026, 12, 7))

    assert "07/12/2026 is in the future" in messages_of(raised.value)
    assert not AttendanceMark.objects.exists()


def test_weekend_rejected(world):
    pupil = world.pupils["oak9a_obrien"]

    with pytest.raises(ValidationError) as raised:
        save(None, [pupil.pk], "/", day=datetime.date(2026, 11, 28))

    assert "28/11/2026 is a Saturday" in messages_of(raised.value)


def test_holiday_outside_term_rejected(world):
    from academies.models import Term

    year = world.academic_year
    autumn = Term.objects.create(
        academic_year=year,
        season=Term.Season.AUTUMN,
        start_date=datetime.date(2026, 9, 2),
        end_date=datetime.date(2026, 12, 18),
    )
    Term.objects.create(
        academic_year=year,
        parent=autumn,
        season=Term.Season.AUTUMN,
        half=1,
        start_date=datetime.date(2026, 9, 2),
        end_date=datetime.date(2026, 10, 23),
    )
    Term.objects.create(
        academic_year=year,
        parent=autumn,
        season=Term.Season.AUTUMN,
        half=2,
        start_date=datetime.date(2026, 11, 2),
        end_date=datetime.date(2026, 12, 18),
    )
    pupil = world.pupils["oak9a_obrien"]

    with pytest.raises(ValidationError) as raised:
        save(None, [pupil.pk], "/", day=datetime.date(2026, 10, 28))
    assert "28/10/2026 is outside term" in messages_of(raised.value)

    result = save(None, [pupil.pk], "/", day=DAY)
    assert result.created == 1
