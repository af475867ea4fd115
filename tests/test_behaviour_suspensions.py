"""Suspension service: sessions, register marks, the legal limits, who may
decide, reasons, flags, permanent exclusion, scope and the daily task."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from academies.services import closure_add
from attendance.models import AttendanceMark
from behaviour import tasks
from behaviour.access import visible_suspensions
from behaviour.models import GUIDANCE_EDITION, Suspension, SuspensionSession
from behaviour.suspensions import (
    pupil_suspension_summary,
    suspension_days,
    suspension_marks_write,
    suspension_update,
    suspension_withdraw,
)
from pupils.models import Enrolment
from staff.models import Role, RoleAssignment, ScopeKind
from trust.clock import LONDON
from trust.models import AuditEvent

from .factories import StaffFactory, UserFactory, grant
from .factories_suspensions import record, suspension_world
from .personas import TODAY

pytestmark = pytest.mark.django_db

D = datetime.date
MONDAY = D(2026, 11, 30)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world():
    return suspension_world()


def sessions_of(suspension):
    return [(row.date, row.session) for row in suspension.days.order_by("date", "session")]


def marks_of(pupil):
    return {(m.date, m.session): m.code for m in AttendanceMark.objects.filter(pupil=pupil)}


def messages(error, field):
    return " ".join(error.value.message_dict[field])


# Sessions and marks ------------------------------------------------------------


def test_sessions_and_end_date_from_count(world):
    suspension = record(world, "oak9a_obrien", start_date=D(2026, 12, 3), sessions=4)

    assert sessions_of(suspension) == [
        (D(2026, 12, 3), "AM"),
        (D(2026, 12, 3), "PM"),
        (D(2026, 12, 4), "AM"),
        (D(2026, 12, 4), "PM"),
    ]
    assert suspension.sessions == 4
    assert suspension.end_date == D(2026, 12, 4)
    assert suspension.school_days == Decimal(2)
    assert suspension.guidance_edition == GUIDANCE_EDITION


def test_pm_start_skips_weekend(world):
    suspension = record(
        world, "oak9a_obrien", start_date=D(2026, 12, 4), start_session="PM", sessions=3
    )

    assert sessions_of(suspension) == [
        (D(2026, 12, 4), "PM"),
        (D(2026, 12, 7), "AM"),
        (D(2026, 12, 7), "PM"),
    ]
    assert suspension.start_session == "PM"
    assert suspension.end_date == D(2026, 12, 7)


def test_end_date_gives_sessions(world):
    suspension = record(
        world, "oak9a_obrien", start_date=D(2026, 12, 10), sessions=None, end_date=D(2026, 12, 14)
    )

    assert suspension.sessions == 6
    assert suspension.end_date == D(2026, 12, 14)


def test_closures_and_holidays_skipped(world):
    oak = world.academies["oak"]
    head = world.users["headteacher"]
    closure_add(academy=oak, date=D(2026, 12, 15), kind="inset", actor=head)
    closure_add(academy=oak, date=D(2026, 12, 16), kind="planned", actor=head, sessions="am")

    suspension = record(world, "oak9a_obrien", start_date=D(2026, 12, 14), sessions=8)

    assert sessions_of(suspension) == [
        (D(2026, 12, 14), "AM"),
        (D(2026, 12, 14), "PM"),
        (D(2026, 12, 16), "PM"),
        (D(2026, 12, 17), "AM"),
        (D(2026, 12, 17), "PM"),
        (D(2026, 12, 18), "AM"),
        (D(2026, 12, 18), "PM"),
        (D(2027, 1, 4), "AM"),
    ]


def test_start_on_holiday_rejected(world):
    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", start_date=D(2026, 12, 21))

    assert "21/12/2026" in messages(error, "start_date")
    assert "not a school session" in messages(error, "start_date")


def test_e_marks_written_up_to_today(world):
    obrien = world.pupils["oak9a_obrien"]

    suspension = record(world, "oak9a_obrien", start_date=D(2026, 12, 3), sessions=6)

    assert marks_of(obrien) == {
        (D(2026, 12, 3), "AM"): "E",
        (D(2026, 12, 3), "PM"): "E",
        (D(2026, 12, 4), "AM"): "E",
        (D(2026, 12, 4), "PM"): "E",
    }
    written = dict(((row.date, row.session), row.mark_written) for row in suspension.days.all())
    assert written[(D(2026, 12, 4), "PM")] is True
    assert written[(D(2026, 12, 7), "AM")] is False


def test_e_mark_overwrites_present_mark(world):
    from attendance.services import MarkInput, marks_save

    obrien = world.pupils["oak9a_obrien"]
    marks_save(
        actor=world.users["tutor"],
        day=D(2026, 12, 4),
        session="AM",
        marks=[MarkInput(pupil_id=obrien.pk, code="/")],
    )

    record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=2)

    assert marks_of(obrien)[(D(2026, 12, 4), "AM")] == "E"


def test_no_marks_with_alternative_provision(world):
    obrien = world.pupils["oak9a_obrien"]

    suspension = record(
        world,
        "oak9a_obrien",
        start_date=D(2026, 12, 3),
        sessions=2,
        alternative_provision=True,
        alternative_provision_details="Elm Academy inclusion unit",
    )

    assert marks_of(obrien) == {}
    assert not suspension.days.filter(mark_written=True).exists()


def test_lunchtime_has_ln_sessions_and_no_marks(world):
    obrien = world.pupils["oak9a_obrien"]

    suspension = record(
        world, "oak9a_obrien", kind="lunchtime", start_date=D(2026, 12, 3), sessions=3
    )

    assert sessions_of(suspension) == [
        (D(2026, 12, 3), "LN"),
        (D(2026, 12, 4), "LN"),
        (D(2026, 12, 7), "LN"),
    ]
    assert suspension.school_days == Decimal("1.5")
    assert marks_of(obrien) == {}


def test_daily_task_writes_later_marks(world, frozen_clock):
    obrien = world.pupils["oak9a_obrien"]
    record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=4)
    assert len(marks_of(obrien)) == 2

    frozen_clock.move_to(datetime.datetime(2026, 12, 7, 6, 0, tzinfo=LONDON))
    result = tasks.write_suspension_marks.delay("2026-12-07")

    assert result.get() == 2
    assert marks_of(obrien) == {
        (D(2026, 12, 4), "AM"): "E",
        (D(2026, 12, 4), "PM"): "E",
        (D(2026, 12, 7), "AM"): "E",
        (D(2026, 12, 7), "PM"): "E",
    }
    assert not SuspensionSession.objects.filter(mark_written=False).exists()


def test_daily_task_skips_days_after_as_of(world, frozen_clock):
    obrien = world.pupils["oak9a_obrien"]
    record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=6)
    frozen_clock.move_to(datetime.datetime(2026, 12, 9, 6, 0, tzinfo=LONDON))

    assert tasks.write_suspension_marks("2026-12-07") == 2

    assert (D(2026, 12, 8), "AM") not in marks_of(obrien)


def test_daily_task_rejects_bad_date():
    with pytest.raises(ValueError):
        tasks.write_suspension_marks("07/12/2026")


def test_register_day_writes_only_that_day(world, frozen_clock):
    obrien = world.pupils["oak9a_obrien"]
    record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=6)
    frozen_clock.move_to(datetime.datetime(2026, 12, 9, 8, 0, tzinfo=LONDON))

    written = suspension_marks_write(
        start=D(2026, 12, 8), up_to=D(2026, 12, 8), academy_id=world.academies["oak"].pk
    )

    assert written == 2
    assert (D(2026, 12, 8), "PM") in marks_of(obrien)
    assert (D(2026, 12, 7), "AM") not in marks_of(obrien)


# Rules ------------------------------------------------------------------------------


def test_end_before_start_rejected(world):
    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", sessions=None, end_date=D(2026, 11, 30))

    assert "30/11/2026 is before the start date 01/12/2026" in messages(error, "end_date")


def test_overlap_rejected(world):
    record(world, "oak9a_obrien", start_date=D(2026, 12, 1), sessions=4)

    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", start_date=D(2026, 12, 2), start_session="PM", sessions=1)

    assert "02/12/2026 PM" in messages(error, "start_date")
    assert Suspension.objects.count() == 1


def test_lunchtime_overlapping_day_rejected(world):
    record(world, "oak9a_obrien", start_date=D(2026, 12, 1), sessions=1)

    with pytest.raises(ValidationError):
        record(world, "oak9a_obrien", kind="lunchtime", start_date=D(2026, 12, 1), sessions=1)


def test_withdrawn_suspension_does_not_overlap(world):
    first = record(world, "oak9a_obrien", start_date=D(2026, 12, 1), sessions=2)
    suspension_withdraw(actor=world.users["headteacher"], suspension=first, reason="Overturned")

    second = record(world, "oak9a_obrien", start_date=D(2026, 12, 1), sessions=2)

    assert second.status == Suspension.Status.ACTIVE


def test_forty_five_day_cap(world):
    record(world, "oak9a_obrien", start_date=D(2026, 9, 1), sessions=80)

    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", start_date=D(2026, 11, 9), sessions=12)

    text = messages(error, "sessions")
    assert "already has 40 school days" in text
    assert "46" in text
    assert "maximum of 45" in text
    record(world, "oak9a_obrien", start_date=D(2026, 11, 9), sessions=10)
    assert suspension_days(
        world.pupils["oak9a_obrien"].pk, D(2026, 9, 1), D(2027, 8, 31)
    ) == Decimal(45)


def test_both_sessions_and_end_rejected(world):
    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", sessions=2, end_date=D(2026, 12, 2))

    assert "give one of them" in messages(error, "sessions")


def test_only_headteacher_may_decide(world):
    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", decided_by="academy_leader")

    text = messages(error, "decided_by")
    assert "AcademyLeader Persona" in text
    assert "only the headteacher or acting headteacher may suspend or exclude" in text


def test_elm_headteacher_may_not_decide_for_oak(world):
    with pytest.raises(ValidationError):
        record(world, "oak9a_obrien", decided_by="elm_headteacher")


def test_acting_headteacher_may_decide(world):
    acting = StaffFactory(academy=world.academies["oak"], first_name="Acting")
    RoleAssignment.objects.create(
        staff=acting,
        role=Role.HEADTEACHER,
        scope=ScopeKind.ACADEMY,
        academy=world.academies["oak"],
        acting=True,
        starts_on=D(2026, 11, 1),
        ends_on=D(2026, 12, 31),
    )
    world.staff["acting"] = acting

    suspension = record(world, "oak9a_obrien", decided_by="acting")

    assert suspension.decided_by == acting


def test_headteacher_role_ended_before_decision(world):
    former = StaffFactory(academy=world.academies["oak"], first_name="Former")
    RoleAssignment.objects.create(
        staff=former,
        role=Role.HEADTEACHER,
        scope=ScopeKind.ACADEMY,
        academy=world.academies["oak"],
        ends_on=D(2026, 10, 31),
    )
    world.staff["former"] = former

    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", decided_by="former")

    assert "Former Member" in messages(error, "decided_by")


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        (["DB", "PA", "VA", "BU"], "4 reasons given"),
        ([], "At least one reason"),
        (["XX"], "'XX' is not a DfE reason code"),
        (["OT"], "withdrawn on 01/09/2020"),
        (["DB", "DB"], "given twice"),
    ],
)
def test_reasons_checked(world, reasons, expected):
    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", reasons=reasons)

    assert expected in messages(error, "reasons")
    assert not Suspension.objects.exists()


def test_three_reasons_stored(world):
    suspension = record(world, "oak9a_obrien", reasons=["pa", "VA", "DM"])

    assert suspension.reasons == ["PA", "VA", "DM"]


def test_decision_after_start_rejected(world):
    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", decided_on=D(2026, 12, 2))

    assert "after the start date 01/12/2026" in messages(error, "decided_on")


def test_pupil_not_on_roll_rejected(world):
    enrolment = Enrolment.objects.get(pupil=world.pupils["oak9a_obrien"])
    enrolment.end_date = D(2026, 11, 20)
    enrolment.save()

    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien")

    assert "not on roll" in messages(error, "start_date")


def test_audit_names_actor(world):
    suspension = record(world, "oak9a_obrien")

    event = AuditEvent.objects.get(model="behaviour.Suspension", object_id=str(suspension.pk))
    assert event.actor == world.users["headteacher"]
    assert "Suspension recorded" in event.reason


# Access ------------------------------------------------------------------------------


def test_elm_staff_cannot_record_for_oak(world):
    with pytest.raises(Http404):
        record(world, "oak9a_obrien", actor="elm_headteacher")


def test_teacher_may_not_record(world):
    grant(world.staff["teacher"], Role.TUTOR, world.tutor_groups["9A"])

    with pytest.raises(PermissionDenied):
        record(world, "oak9a_obrien", actor="teacher")


def test_head_of_year_cannot_record(world):
    with pytest.raises(PermissionDenied):
        record(world, "oak9a_obrien", actor="head_of_year")

    with pytest.raises(Http404):
        record(world, "oak10a_taylor", actor="head_of_year")
    assert not Suspension.objects.exists()


def test_visibility_by_role(world):
    oak9 = record(world, "oak9a_obrien")
    oak10 = record(world, "oak10a_taylor")
    elm = record(world, "elm9e_ashdown", actor="elm_headteacher")

    def seen(persona):
        return set(visible_suspensions(world.users[persona]).values_list("pk", flat=True))

    assert seen("head_of_year") == {oak9.pk}
    assert seen("headteacher") == {oak9.pk, oak10.pk}
    assert seen("elm_headteacher") == {elm.pk}
    assert seen("trust_leader") == {oak9.pk, oak10.pk, elm.pk}
    assert seen("trustee") == set()


# Totals and flags --------------------------------------------------------------------


def test_days_across_term_boundary(world):
    record(world, "oak9a_obrien", start_date=D(2026, 12, 17), sessions=6)
    obrien = world.pupils["oak9a_obrien"].pk

    assert suspension_days(obrien, D(2026, 9, 1), D(2026, 12, 31)) == Decimal(2)
    assert suspension_days(obrien, D(2027, 1, 1), D(2027, 4, 4)) == Decimal(1)
    assert suspension_days(obrien, D(2026, 9, 1), D(2027, 8, 31)) == Decimal(3)
    assert suspension_days(obrien, D(2026, 9, 1), D(2027, 8, 31), world.academies["elm"].pk) == 0


def test_days_across_academic_year_boundary(frozen_clock):
    world = suspension_world(next_year=True)
    frozen_clock.move_to(datetime.datetime(2027, 7, 21, 9, 0, tzinfo=LONDON))
    suspension = record(world, "oak9a_obrien", start_date=D(2027, 7, 21), sessions=8)
    obrien = world.pupils["oak9a_obrien"].pk

    assert suspension.end_date == D(2027, 9, 2)
    assert suspension_days(obrien, D(2026, 9, 1), D(2027, 8, 31)) == Decimal(2)
    assert suspension_days(obrien, D(2027, 9, 1), D(2028, 8, 31)) == Decimal(2)
    assert len(marks_of(world.pupils["oak9a_obrien"])) == 2


def test_summary_totals_and_year_remaining(world):
    record(world, "oak9a_obrien", start_date=D(2027, 1, 11), sessions=4)
    record(world, "oak9a_obrien", start_date=D(2026, 12, 1), sessions=3)
    record(world, "oak9a_obrien", kind="lunchtime", start_date=D(2026, 12, 3), sessions=2)

    summary = pupil_suspension_summary(
        world.users["headteacher"], world.pupils["oak9a_obrien"], D(2026, 12, 4)
    )

    assert summary.term_days == Decimal("2.5")
    assert summary.year_days == Decimal("4.5")
    assert summary.term_lunchtimes == 2
    assert len(summary.suspensions) == 3
    year_flag = next(f for f in summary.flags if f.kind == "year_total")
    assert "4.5 of the maximum 45" in year_flag.message
    assert "40.5 remain" in year_flag.message
    assert not any(f.kind == "notify" for f in summary.flags)
    assert summary.guidance_edition == GUIDANCE_EDITION


def flag_kinds(world, persona="headteacher", pupil="oak9a_obrien"):
    summary = pupil_suspension_summary(world.users[persona], world.pupils[pupil], D(2026, 12, 4))
    return [f.kind for f in summary.flags], summary


def test_five_days_not_flagged(world):
    record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=10)

    kinds, _ = flag_kinds(world)

    assert "notify" not in kinds
    assert "provision" not in kinds


def test_five_and_a_half_days_flagged(world):
    suspension = record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=11)

    kinds, summary = flag_kinds(world)

    assert "notify" in kinds
    assert "provision" in kinds
    notify = next(f for f in summary.flags if f.kind == "notify")
    assert "tell the governing board and the local authority without delay" in notify.message
    assert "Governing board: not recorded" in notify.notified

    suspension_update(
        actor=world.users["headteacher"],
        suspension=suspension,
        governors_notified_on=D(2026, 11, 3),
        local_authority_notified_on=D(2026, 11, 4),
    )
    _, summary = flag_kinds(world)
    notify = next(f for f in summary.flags if f.kind == "notify")
    assert "Governing board told on 03/11/2026" in notify.notified
    assert "Local authority told on 04/11/2026" in notify.notified


def test_lunchtimes_combined_flagged(world):
    record(world, "oak9a_obrien", kind="lunchtime", start_date=D(2026, 11, 2), sessions=10)
    kinds, _ = flag_kinds(world)
    assert "notify" not in kinds

    record(world, "oak9a_obrien", kind="lunchtime", start_date=D(2026, 11, 16), sessions=1)
    kinds, summary = flag_kinds(world)

    assert "notify" in kinds
    assert summary.term_days == Decimal("5.5")
    assert summary.term_lunchtimes == 11


def test_sixteen_days_need_reinstatement_review(world):
    record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=30)
    kinds, _ = flag_kinds(world)
    assert "reinstatement" not in kinds

    record(world, "oak9a_obrien", start_date=D(2026, 12, 14), sessions=2)
    kinds, summary = flag_kinds(world)

    assert "reinstatement" in kinds
    assert summary.term_days == Decimal(16)


def test_missed_exam_flagged(world):
    record(world, "oak9a_obrien", sessions=1, misses_public_exam=True)

    kinds, _ = flag_kinds(world)

    assert kinds.count("exam") == 1
    assert "notify" not in kinds


def test_provision_flag_cleared_by_provision(world):
    record(
        world,
        "oak9a_obrien",
        start_date=D(2026, 11, 2),
        sessions=12,
        alternative_provision=True,
        alternative_provision_details="Trust inclusion centre",
    )

    _, summary = flag_kinds(world)

    provision = next(f for f in summary.flags if f.kind == "provision")
    assert not provision.urgent
    assert "Trust inclusion centre" in provision.message


def test_summary_scoped_to_user(world):
    record(world, "oak9a_obrien")

    _, summary = flag_kinds(world, persona="elm_teacher")

    assert summary.suspensions == []
    assert summary.flags == []


# Permanent exclusion -------------------------------------------------------------------


def test_permanent_exclusion_ends_enrolment(world, frozen_clock):
    obrien = world.pupils["oak9a_obrien"]

    exclusion = record(
        world,
        "oak9a_obrien",
        kind="permanent",
        start_date=D(2026, 12, 3),
        sessions=None,
        end_date=D(2026, 12, 9),
    )

    enrolment = Enrolment.objects.get(pupil=obrien)
    assert enrolment.end_date == D(2026, 12, 9)
    assert enrolment.leaving_reason == "Permanently excluded"
    assert exclusion.sessions is None
    assert len(marks_of(obrien)) == 4
    kinds, _ = flag_kinds(world)
    assert "permanent" in kinds
    assert suspension_days(obrien.pk, D(2026, 9, 1), D(2027, 8, 31)) == 0

    frozen_clock.move_to(datetime.datetime(2026, 12, 10, 6, 0, tzinfo=LONDON))
    assert tasks.write_suspension_marks("2026-12-10") == 6
    assert max(marks_of(obrien)) == (D(2026, 12, 9), "PM")


def test_permanent_exclusion_end_set_later(world):
    obrien = world.pupils["oak9a_obrien"]
    exclusion = record(
        world, "oak9a_obrien", kind="permanent", start_date=D(2026, 12, 3), sessions=None
    )
    assert Enrolment.objects.get(pupil=obrien).end_date is None
    assert set(marks_of(obrien).values()) == {"E"}
    assert len(marks_of(obrien)) == 4

    suspension_update(
        actor=world.users["headteacher"], suspension=exclusion, end_date=D(2026, 12, 4)
    )

    assert Enrolment.objects.get(pupil=obrien).end_date == D(2026, 12, 4)
    assert len(marks_of(obrien)) == 4
    assert len(sessions_of(exclusion)) == 4


def test_open_exclusion_marks_continue(world, frozen_clock):
    obrien = world.pupils["oak9a_obrien"]
    exclusion = record(
        world, "oak9a_obrien", kind="permanent", start_date=D(2026, 12, 3), sessions=None
    )

    frozen_clock.move_to(datetime.datetime(2026, 12, 8, 6, 0, tzinfo=LONDON))
    assert tasks.write_suspension_marks("2026-12-08") == 4

    assert max(marks_of(obrien)) == (D(2026, 12, 8), "PM")
    assert len(sessions_of(exclusion)) == 8
    assert Enrolment.objects.get(pupil=obrien).end_date is None


def test_permanent_exclusion_with_sessions_rejected(world):
    with pytest.raises(ValidationError) as error:
        record(world, "oak9a_obrien", kind="permanent", sessions=4)

    assert "no number of sessions" in messages(error, "sessions")


def test_withdrawn_exclusion_restores_roll(world):
    obrien = world.pupils["oak9a_obrien"]
    exclusion = record(
        world,
        "oak9a_obrien",
        kind="permanent",
        start_date=D(2026, 12, 3),
        sessions=None,
        end_date=D(2026, 12, 11),
    )

    suspension_withdraw(
        actor=world.users["headteacher"], suspension=exclusion, reason="Governors reinstated"
    )

    enrolment = Enrolment.objects.get(pupil=obrien)
    assert enrolment.end_date is None
    assert enrolment.leaving_reason == ""
    assert exclusion.days.filter(date__gt=D(2026, 12, 4)).count() == 0


# Withdrawal and changes -----------------------------------------------------------------


def test_withdraw_removes_future_sessions(world):
    suspension = record(world, "oak9a_obrien", start_date=D(2026, 12, 3), sessions=6)

    suspension_withdraw(
        actor=world.users["academy_leader"], suspension=suspension, reason="Error in dates"
    )

    suspension.refresh_from_db()
    assert suspension.status == Suspension.Status.WITHDRAWN
    assert suspension.withdrawn_reason == "Error in dates"
    assert [d for d, _ in sessions_of(suspension)] == [D(2026, 12, 3)] * 2 + [D(2026, 12, 4)] * 2
    assert suspension_days(world.pupils["oak9a_obrien"].pk, D(2026, 9, 1), D(2027, 8, 31)) == 0


def test_withdraw_needs_leader_and_reason(world):
    suspension = record(world, "oak9a_obrien")

    with pytest.raises(PermissionDenied):
        suspension_withdraw(actor=world.users["head_of_year"], suspension=suspension, reason="x")
    with pytest.raises(ValidationError) as error:
        suspension_withdraw(actor=world.users["headteacher"], suspension=suspension, reason=" ")
    assert "reason is required" in messages(error, "withdrawn_reason")


def test_notification_in_future_rejected(world):
    suspension = record(world, "oak9a_obrien")

    with pytest.raises(ValidationError) as error:
        suspension_update(
            actor=world.users["headteacher"],
            suspension=suspension,
            governors_notified_on=D(2026, 12, 5),
        )

    assert "05/12/2026 is in the future" in messages(error, "governors_notified_on")


def test_update_unknown_field_rejected(world):
    suspension = record(world, "oak9a_obrien")

    with pytest.raises(ValidationError) as error:
        suspension_update(actor=world.users["headteacher"], suspension=suspension, sessions=9)

    assert "cannot be changed" in messages(error, "sessions")


def test_extra_headteacher_user_needs_scope(world):
    outsider = StaffFactory(user=UserFactory(username="outsider"))
    grant(outsider, Role.HEADTEACHER, outsider.academy)
    world.users["outsider"] = outsider.user

    with pytest.raises(Http404):
        record(world, "oak9a_obrien", actor="outsider")


def test_beat_queues_todays_marks(world, frozen_clock):
    from django.conf import settings

    from trust.celery import app

    obrien = world.pupils["oak9a_obrien"]
    record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=4)
    entry = settings.CELERY_BEAT_SCHEDULE["write-suspension-marks"]
    assert entry["task"] in app.tasks
    frozen_clock.move_to(datetime.datetime(2026, 12, 7, 6, 0, tzinfo=LONDON))

    assert app.tasks[entry["task"]].delay().get() == "2026-12-07"

    assert marks_of(obrien)[(D(2026, 12, 7), "PM")] == "E"


def test_days_and_lunchtimes_combined_flagged(world):
    record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=8)
    record(world, "oak9a_obrien", kind="lunchtime", start_date=D(2026, 11, 9), sessions=2)
    kinds, _ = flag_kinds(world)
    assert "notify" not in kinds

    record(world, "oak9a_obrien", kind="lunchtime", start_date=D(2026, 11, 16), sessions=1)
    kinds, summary = flag_kinds(world)

    assert "notify" in kinds
    assert summary.term_days == Decimal("5.5")
    assert summary.term_lunchtimes == 3
