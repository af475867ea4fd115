"""The register pages: taking, saving, conflicts, corrections, closures,
cover, the morning view and London's "today"."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academies.models import Closure
from attendance.models import AttendanceMark, FirstDayCall, Register, RegisterCover
from attendance.services import MarkInput, marks_save
from pupils.models import Contact
from staff.models import Role
from trust.models import AuditEvent

from .factories import PupilFactory, StaffFactory, UserFactory, grant
from .factories_attendance import enrol, group_with_pupils
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 4)
# Queries of one register save, measured at 29 for 35 pupils: the count does not
# depend on the number of pupils (see test_register_save_queries_constant).
QUERY_BOUND_SAVE = 30


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(frozen):
    return build_personas()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(group, day=DAY, session="AM"):
    return reverse("attendance:register", args=[group.pk, day.isoformat(), session])


def post_marks(client, group, marks, *, day=DAY, session="AM", **extra):
    """POST a register: `marks` maps pupil to (code, seen) or a dict of fields."""
    data = {"save": "1", **extra}
    for pupil, value in marks.items():
        fields = value if isinstance(value, dict) else {"code": value[0], "seen": value[1]}
        for name, content in fields.items():
            data[f"{name}_{pupil.pk}"] = "" if content is None else str(content)
    return client.post(url(group, day, session), data)


# Reading a register ---------------------------------------------------------


def test_register_lists_roll_in_register_order(world):
    group = world.tutor_groups["9A"]
    response = client_for(world.users["tutor"]).get(url(group))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("O&#x27;Brien, Aoife") < body.index("Smith-Jones, Noah")
    assert 'list="codes"' in body
    assert '<datalist id="codes">' in body
    assert "Patel" not in body


def test_register_uses_roll_on_date(world):
    group = world.tutor_groups["9A"]
    joiner = PupilFactory(legal_forename="Jade", legal_surname="Joiner")
    leaver = PupilFactory(legal_forename="Liam", legal_surname="Leaver")
    joined = enrol(joiner, group, datetime.date(2026, 10, 12))
    enrol(leaver, group, group.academic_year.start_date, datetime.date(2026, 10, 9))
    client = client_for(world.users["head_of_year"])

    before = client.get(url(group, datetime.date(2026, 10, 5))).content.decode()
    after = client.get(url(group, datetime.date(2026, 10, 12))).content.decode()
    joined.start_date = datetime.date(2026, 10, 7)
    joined.save()
    moved = client.get(url(group, datetime.date(2026, 10, 7))).content.decode()

    assert "Leaver, Liam" in before
    assert "Joiner, Jade" not in before
    assert "Joiner, Jade" in after
    assert "Leaver, Liam" not in after
    assert "Joiner, Jade" in moved


def test_partly_marked_register_never_full(world, frozen):
    group, pupils = group_with_pupils(4)
    officer = StaffFactory(academy=group.academy)
    grant(officer, Role.ATTENDANCE_OFFICER, group.academy)
    marks_save(
        actor=officer.user,
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=p.pk, code="/") for p in pupils[:3]],
        tutor_group=group,
    )

    body = client_for(officer.user).get(url(group)).content.decode()

    assert "4 on roll: 3 present, 3 marked, 1 not yet marked." in body
    assert "100%" not in body


@pytest.mark.parametrize("persona", ["elm_teacher", "trustee", "staff", "teacher"])
def test_register_out_of_scope_is_404(world, persona):
    response = client_for(world.users[persona]).get(url(world.tutor_groups["9A"]))

    assert response.status_code == 404
    assert "O&#x27;Brien" not in response.content.decode()


def test_tutor_cannot_open_other_group(world):
    response = client_for(world.users["tutor"]).get(url(world.tutor_groups["9B"]))

    assert response.status_code == 404


def test_trust_leader_reads_without_inputs(world):
    client = client_for(world.users["trust_leader"])
    response = client.get(url(world.tutor_groups["9A"]))
    posted = post_marks(client, world.tutor_groups["9A"], {world.pupils["oak9a_obrien"]: ("/", "")})

    assert response.status_code == 200
    assert "code-input" not in response.content.decode()
    assert posted.status_code == 403
    assert not AttendanceMark.objects.exists()


@pytest.mark.parametrize(
    ("day", "session", "message"),
    [
        ("2026-02-30", "AM", "2026-02-30"),
        ("yesterday", "AM", "yesterday"),
        ("2026-12-04", "XX", "AM or PM"),
    ],
)
def test_register_bad_date_or_session_is_400(world, day, session, message):
    path = reverse("attendance:register", args=[world.tutor_groups["9A"].pk, day, session])

    response = client_for(world.users["tutor"]).get(path)

    assert response.status_code == 400
    assert message in response.content.decode()


# Saving ---------------------------------------------------------------------


def test_save_register_reports_counts(world):
    group = world.tutor_groups["9A"]
    obrien, smith = world.pupils["oak9a_obrien"], world.pupils["oak9a_smithjones"]
    client = client_for(world.users["tutor"])

    response = post_marks(
        client,
        group,
        {obrien: {"code": "/", "comment": "Fine"}, smith: {"code": "", "minutes": "40"}},
    )

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "2 marks saved, 0 unchanged." in page
    assert AttendanceMark.objects.get(pupil=obrien).comment == "Fine"
    late = AttendanceMark.objects.get(pupil=smith)
    assert late.code == "U"
    assert late.minutes_late == 40
    assert (
        Register.objects.get(tutor_group=group, date=DAY, session="AM").taken_by
        == (world.users["tutor"])
    )

    again = post_marks(
        client,
        group,
        {
            obrien: {"code": "/", "comment": "Fine", "seen": "1"},
            smith: {"code": "U", "minutes": "40", "seen": "1"},
        },
    )
    assert "0 marks saved, 2 unchanged." in client.get(again["Location"]).content.decode()


def test_save_leaves_blank_pupils_unmarked(world):
    group = world.tutor_groups["9A"]
    client = client_for(world.users["tutor"])

    response = post_marks(
        client,
        group,
        {world.pupils["oak9a_obrien"]: ("N", ""), world.pupils["oak9a_smithjones"]: ("", "")},
    )

    page = client.get(response["Location"]).content.decode()
    assert "1 mark saved, 0 unchanged, 1 not yet marked." in page
    assert AttendanceMark.objects.count() == 1


def test_fill_present_without_javascript(world):
    group = world.tutor_groups["9A"]
    obrien = world.pupils["oak9a_obrien"]
    response = client_for(world.users["tutor"]).post(
        url(group, session="PM"), {"fill_present": "1", f"code_{obrien.pk}": "N"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert f'name="code_{obrien.pk}" value="N"' in body
    smith = world.pupils["oak9a_smithjones"]
    assert f'name="code_{smith.pk}" value="\\"' in body
    assert not AttendanceMark.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "QQ"}, "&#x27;QQ&#x27; is not an attendance code"),
        ({"code": "H"}, "retired on 18/08/2024"),
        ({"code": "L", "minutes": "ten"}, "Minutes late for Aoife O&#x27;Brien is “ten”"),
        ({"code": "N", "minutes": "5"}, "Minutes late (5) go with code L or U only"),
    ],
)
def test_save_bad_mark_is_400_naming_it(world, fields, message):
    group = world.tutor_groups["9A"]
    obrien = world.pupils["oak9a_obrien"]

    response = post_marks(client_for(world.users["tutor"]), group, {obrien: fields})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AttendanceMark.objects.exists()


def test_save_pupil_not_on_roll_rejected(world):
    group = world.tutor_groups["9A"]
    response = post_marks(
        client_for(world.users["head_of_year"]), group, {world.pupils["oak9b_patel"]: ("/", "")}
    )

    assert response.status_code == 400
    assert "is not on this register" in response.content.decode()
    assert not AttendanceMark.objects.exists()


def _view_save_queries(size, *, frozen_day=DAY):
    group, pupils = group_with_pupils(size)
    officer = StaffFactory(academy=group.academy)
    grant(officer, Role.ATTENDANCE_OFFICER, group.academy)
    client = client_for(officer.user)
    data = {"save": "1"}
    for pupil in pupils:
        data[f"code_{pupil.pk}"] = "/"
        data[f"seen_{pupil.pk}"] = ""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(group), data)
    assert response.status_code == 302
    assert AttendanceMark.objects.filter(tutor_group=group).count() == size
    return len(queries)


def test_register_save_queries_constant(frozen):
    assert _view_save_queries(5) == _view_save_queries(35)


# Two people on one register -------------------------------------------------


def test_interleaved_saves_report_conflict(world):
    group = world.tutor_groups["9A"]
    obrien, smith = world.pupils["oak9a_obrien"], world.pupils["oak9a_smithjones"]
    teacher_a = client_for(world.users["tutor"])
    teacher_b = client_for(world.users["head_of_year"])
    assert teacher_a.get(url(group)).status_code == 200
    assert teacher_b.get(url(group)).status_code == 200

    saved_a = post_marks(teacher_a, group, {obrien: {"code": "L", "minutes": "7", "seen": ""}})
    saved_b = post_marks(teacher_b, group, {obrien: ("/", ""), smith: ("N", "")})

    assert saved_a.status_code == 302
    assert saved_b.status_code == 409
    body = saved_b.content.decode()
    assert "Aoife O&#x27;Brien: L saved by" in body
    assert "at 10:00; you entered /." in body
    assert "Keep theirs (L)" in body
    assert "Use yours (/)" in body
    assert "1 mark saved, 0 unchanged, 1 changed by someone else" in body
    assert AttendanceMark.objects.get(pupil=obrien).code == "L"
    assert AttendanceMark.objects.get(pupil=smith).code == "N"

    kept = teacher_b.post(
        url(group),
        {
            "resolve": "1",
            f"code_{obrien.pk}": "/",
            f"seen_{obrien.pk}": "1",
            f"choice_{obrien.pk}": "theirs",
        },
    )
    assert kept.status_code == 302
    assert AttendanceMark.objects.get(pupil=obrien).code == "L"

    mine = teacher_b.post(
        url(group),
        {
            "resolve": "1",
            f"code_{obrien.pk}": "/",
            f"seen_{obrien.pk}": "1",
            f"choice_{obrien.pk}": "mine",
        },
    )
    assert mine.status_code == 302
    mark = AttendanceMark.objects.get(pupil=obrien)
    assert mark.code == "/"
    assert mark.changed_by == world.users["head_of_year"]
    event = AuditEvent.objects.get(model="attendance.AttendanceMark", object_id=str(mark.pk))
    assert event.changes["code"] == ["L", "/"]
    assert "while the register was open" in event.reason


# Corrections ----------------------------------------------------------------


def _saved_by(world, persona, code="N"):
    pupil = world.pupils["oak9a_obrien"]
    marks_save(
        actor=world.users[persona],
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=pupil.pk, code=code)],
        tutor_group=world.tutor_groups["9A"],
    )
    return pupil


def test_tutor_cannot_correct_others_mark(world):
    pupil = _saved_by(world, "head_of_year")

    response = post_marks(
        client_for(world.users["tutor"]),
        world.tutor_groups["9A"],
        {pupil: ("I", "1")},
        reason="Parent rang",
    )

    assert response.status_code == 400
    assert "only heads of year, attendance officers and leaders may correct it" in (
        response.content.decode()
    )
    assert AttendanceMark.objects.get(pupil=pupil).code == "N"


@pytest.mark.parametrize("persona", ["head_of_year", "attendance_officer", "headteacher"])
def test_authorised_staff_correct_with_reason(world, persona):
    pupil = _saved_by(world, "tutor")
    client = client_for(world.users[persona])
    group = world.tutor_groups["9A"]

    missing = post_marks(client, group, {pupil: ("I", "1")})
    corrected = post_marks(client, group, {pupil: ("I", "1")}, reason="Parent rang: illness")

    assert missing.status_code == 400
    assert "A correction needs a reason" in missing.content.decode()
    assert corrected.status_code == 302
    mark = AttendanceMark.objects.get(pupil=pupil)
    assert mark.code == "I"
    event = AuditEvent.objects.get(model="attendance.AttendanceMark")
    assert event.actor == world.users[persona]
    assert event.reason == "Parent rang: illness"
    assert event.changes["code"] == ["N", "I"]


def test_head_of_other_year_cannot_open(world):
    other = StaffFactory(academy=world.academies["oak"])
    grant(other, Role.HEAD_OF_YEAR, world.year_groups["oak10"])

    response = client_for(other.user).get(url(world.tutor_groups["9A"]))

    assert response.status_code == 404


# Closures -------------------------------------------------------------------


def test_closure_register_takes_no_marks(world):
    group = world.tutor_groups["9A"]
    closure = Closure.objects.create(
        academy=world.academies["oak"],
        date=DAY,
        kind=Closure.Kind.UNEXPECTED,
        reason="Boiler failure",
    )
    from attendance.services import closure_marks_write

    closure_marks_write(closure=closure)
    client = client_for(world.users["tutor"])

    page = client.get(url(group)).content.decode()
    posted = post_marks(client, group, {world.pupils["oak9a_obrien"]: ("/", "1")})

    assert "Closed: Unexpected whole-site closure" in page
    assert "Boiler failure" in page
    assert "code-input" not in page
    assert posted.status_code == 400
    assert "Oak Academy is closed on 04/12/2026" in posted.content.decode()
    assert set(AttendanceMark.objects.filter(tutor_group=group).values_list("code", flat=True)) == {
        "Y4"
    }


# Cover ----------------------------------------------------------------------


def test_cover_teacher_takes_but_cannot_correct(world):
    group = world.tutor_groups["9B"]
    teacher = world.users["teacher"]
    client = client_for(teacher)
    patel = world.pupils["oak9b_patel"]
    newcomer = PupilFactory(legal_forename="Nia", legal_surname="Newcomer")
    enrol(newcomer, group, group.academic_year.start_date)
    marks_save(
        actor=world.users["head_of_year"],
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=patel.pk, code="N")],
    )
    assert client.get(url(group)).status_code == 404

    assign = client_for(world.users["head_of_year"]).post(
        reverse("attendance:register-cover", args=[group.pk, DAY.isoformat()]),
        {"staff": world.staff["teacher"].pk, "sessions": "AM"},
    )
    assert assign.status_code == 302
    assert RegisterCover.objects.get().assigned_by == world.users["head_of_year"]

    page = client.get(url(group))
    other_session = client.get(url(group, session="PM"))
    saved = post_marks(client, group, {newcomer: ("/", ""), patel: ("N", "1")})
    corrected = post_marks(client, group, {patel: ("/", "1")}, reason="Back")

    assert page.status_code == 200
    assert "Patel, Isla" in page.content.decode()
    assert f"/pupils/{patel.pk}/" not in page.content.decode()
    assert other_session.status_code == 404
    assert saved.status_code == 302
    assert AttendanceMark.objects.get(pupil=newcomer).entered_by == teacher
    assert corrected.status_code == 400
    assert "only heads of year, attendance officers and leaders" in corrected.content.decode()
    assert AttendanceMark.objects.get(pupil=patel).code == "N"


def test_tutor_cannot_assign_cover(world):
    response = client_for(world.users["tutor"]).post(
        reverse("attendance:register-cover", args=[world.tutor_groups["9A"].pk, DAY.isoformat()]),
        {"staff": world.staff["teacher"].pk, "sessions": "both"},
    )

    assert response.status_code == 403
    assert not RegisterCover.objects.exists()


# The list of registers ------------------------------------------------------


def test_register_list_shows_taken_and_not_taken(world):
    _saved_by(world, "tutor", "/")
    body = (
        client_for(world.users["head_of_year"])
        .get(reverse("attendance:register-list"))
        .content.decode()
    )

    assert "Registers on Friday 04/12/2026" in body
    assert body.count("Taken at 10:00") == 1
    assert body.count("Not taken") == 3
    assert "9A" in body
    assert "9B" in body
    assert "10A" not in body


def test_register_list_bad_date_is_400(world):
    response = client_for(world.users["tutor"]).get(
        reverse("attendance:register-list"), {"date": "31/02/2026"}
    )

    assert response.status_code == 400
    assert "31/02/2026" in response.content.decode()


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime.datetime(2024, 9, 2, 23, 30, tzinfo=datetime.UTC), "Tuesday 03/09/2024"),
        (datetime.datetime(2024, 10, 26, 23, 30, tzinfo=datetime.UTC), "Sunday 27/10/2024"),
        (datetime.datetime(2024, 10, 27, 23, 30, tzinfo=datetime.UTC), "Sunday 27/10/2024"),
    ],
)
def test_today_is_london_date(moment, expected):
    with time_machine.travel(moment, tick=False):
        client = client_for(UserFactory())
        default = client.get(reverse("attendance:register-list")).content.decode()
        typed = client.get(reverse("attendance:register-list"), {"date": expected[-10:]})

    assert f"Registers on {expected}" in default
    assert f"Registers on {expected}" in typed.content.decode()


# The morning view -----------------------------------------------------------


def _absent_with_contact(world, pupil_key):
    pupil = world.pupils[pupil_key]
    Contact.objects.create(
        pupil=pupil, name="Second Carer", relationship="Aunt", priority=2, phone="07700 900002"
    )
    Contact.objects.create(
        pupil=pupil, name="First Carer", relationship="Mother", priority=1, phone="07700 900001"
    )
    marks_save(
        actor=world.users["tutor"],
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=pupil.pk, code="N")],
    )
    return pupil


def test_morning_lists_untaken_registers_and_n(world):
    _absent_with_contact(world, "oak9a_obrien")
    Register.objects.create(
        tutor_group=world.tutor_groups["9A"],
        date=DAY,
        session="AM",
        taken_by=None,
        taken_at=TODAY.replace(tzinfo=datetime.UTC),
        last_saved_by=None,
        last_saved_at=TODAY.replace(tzinfo=datetime.UTC),
    )

    body = (
        client_for(world.users["head_of_year"]).get(reverse("attendance:morning")).content.decode()
    )

    assert "9B AM</a>" in body
    assert "9A AM</a>" not in body
    assert "PM</a>" not in body
    assert "O&#x27;Brien, Aoife" in body
    assert body.index("First Carer") < body.index("Second Carer")
    assert "07700 900001" in body
    assert "Patel" not in body.split("Absent with no reason given")[1]


def test_morning_logs_first_day_call(world):
    pupil = _absent_with_contact(world, "oak9a_obrien")
    client = client_for(world.users["head_of_year"])

    response = client.post(
        reverse("attendance:call-log", args=[pupil.pk]),
        {
            "outcome": "no_answer",
            "contact_name": "First Carer",
            "notes": "Voicemail",
            "next": reverse("my-year"),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("my-year")
    call = FirstDayCall.objects.get()
    assert call.pupil == pupil
    assert call.date == DAY
    assert call.called_by == world.users["head_of_year"]
    page = client.get(reverse("my-year")).content.decode()
    assert "No answer, message left, First Carer" in page
    assert "Voicemail" in page


def test_call_log_bad_outcome_is_400(world):
    pupil = _absent_with_contact(world, "oak9a_obrien")

    response = client_for(world.users["head_of_year"]).post(
        reverse("attendance:call-log", args=[pupil.pk]), {"outcome": "shouted"}
    )

    assert response.status_code == 400
    assert "shouted" in response.content.decode()
    assert not FirstDayCall.objects.exists()


def test_call_log_out_of_scope_is_404(world):
    pupil = world.pupils["elm9e_ashdown"]

    response = client_for(world.users["head_of_year"]).post(
        reverse("attendance:call-log", args=[pupil.pk]), {"outcome": "no_answer"}
    )

    assert response.status_code == 404


def _morning_queries(world, extra):
    group = world.tutor_groups["9A"]
    for _ in range(extra):
        pupil = PupilFactory()
        enrol(pupil, group, group.academic_year.start_date)
        Contact.objects.create(pupil=pupil, name="Carer", relationship="Father", phone="1")
        marks_save(
            actor=None, day=DAY, session="AM", marks=[MarkInput(pupil_id=pupil.pk, code="N")]
        )
    client = client_for(world.users["head_of_year"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("attendance:morning")).status_code == 200
    return len(queries)


def test_morning_queries_do_not_grow(world):
    assert _morning_queries(world, 1) == _morning_queries(world, 6)


def _view_read_queries(size):
    group, pupils = group_with_pupils(size)
    officer = StaffFactory(academy=group.academy)
    grant(officer, Role.ATTENDANCE_OFFICER, group.academy)
    marks_save(
        actor=officer.user,
        day=DAY,
        session="AM",
        marks=[MarkInput(pupil_id=p.pk, code="/") for p in pupils[:-1]],
        tutor_group=group,
    )
    client = client_for(officer.user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(group))
    assert response.status_code == 200
    assert f"{size} on roll: {size - 1} present" in response.content.decode()
    return len(queries)


def test_register_page_queries_constant(frozen):
    assert _view_read_queries(5) == _view_read_queries(35)


def test_register_save_query_bound(frozen, django_assert_max_num_queries):
    group, pupils = group_with_pupils(35)
    officer = StaffFactory(academy=group.academy)
    grant(officer, Role.ATTENDANCE_OFFICER, group.academy)
    client = client_for(officer.user)
    data = {"save": "1", **{f"code_{p.pk}": "/" for p in pupils}}

    with django_assert_max_num_queries(QUERY_BOUND_SAVE):
        response = client.post(url(group), data)

    assert response.status_code == 302


def test_weekend_register_rejects_marks(world):
    saturday = datetime.date(2026, 12, 5)
    group = world.tutor_groups["9A"]
    client = client_for(world.users["tutor"])

    page = client.get(url(group, saturday)).content.decode()
    posted = post_marks(client, group, {world.pupils["oak9a_obrien"]: ("/", "")}, day=saturday)

    assert "05/12/2026 is a Saturday" in page
    assert "code-input" not in page
    assert posted.status_code == 400
    assert "05/12/2026 is a Saturday; registers are taken on school days." in (
        posted.content.decode()
    )
    assert not AttendanceMark.objects.exists()


def test_register_list_shows_closure(world):
    Closure.objects.create(
        academy=world.academies["oak"],
        date=DAY,
        kind=Closure.Kind.INSET,
        sessions=Closure.Sessions.PM,
    )

    body = (
        client_for(world.users["tutor"]).get(reverse("attendance:register-list")).content.decode()
    )

    assert body.count("Closed (INSET day)") == 1
    assert body.count("Not taken") == 1


def test_my_year_without_year_has_no_panel(world):
    body = client_for(world.users["tutor"]).get(reverse("my-year")).content.decode()

    assert "Attendance this morning" not in body


def test_my_year_shows_morning_panel(world):
    body = client_for(world.users["head_of_year"]).get(reverse("my-year")).content.decode()

    assert "Attendance this morning, 04/12/2026" in body
    assert "9A AM</a>" in body
    assert "No pupil in your year is marked N today." in body


def test_other_teacher_cannot_post_marks(world):
    group = world.tutor_groups["9A"]

    response = post_marks(
        client_for(world.users["elm_teacher"]), group, {world.pupils["oak9a_obrien"]: ("/", "")}
    )

    assert response.status_code == 404
    assert "O&#x27;Brien" not in response.content.decode()
    assert not AttendanceMark.objects.exists()


def test_reason_given_call_needs_person_and_notes():
    from attendance.forms import FirstDayCallForm

    empty = FirstDayCallForm(data={"outcome": "reason_given", "contact_name": "", "notes": ""})
    assert not empty.is_valid()
    assert "needs the person spoken to and the reason" in empty.errors["notes"][0]

    filled = FirstDayCallForm(
        data={"outcome": "reason_given", "contact_name": "Mother", "notes": "Illness"}
    )
    assert filled.is_valid()

    no_answer = FirstDayCallForm(data={"outcome": "no_answer", "contact_name": "", "notes": ""})
    assert no_answer.is_valid()


def test_invalid_save_says_nothing_saved(frozen, client):
    world = build_personas()
    group = world.tutor_groups["9A"]
    client.force_login(world.users["tutor"])
    pupil = world.pupils["oak9a_obrien"]
    url = reverse("attendance:register", args=[group.pk, "2026-12-03", "AM"])

    response = client.post(url, {f"code_{pupil.pk}": "QQ"})

    assert response.status_code == 400
    body = response.content.decode()
    assert "The register was not saved: 1 pupil has a mark to fix" in body
    assert not AttendanceMark.objects.filter(pupil=pupil).exists()
