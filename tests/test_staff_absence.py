"""Staff absence: days lost, FTE-weighted rates, the Bradford factor, who
may see and record spells, validation messages, audit and query counts."""

import datetime
import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academies.demo.staff_absence import load_staff_absence
from academies.models import AcademicYear, Academy, Closure, Term
from attendance import staff_absence as service
from attendance.models import StaffAbsence
from staff.models import Role, StaffMember
from trust.models import AuditEvent

from .factories import (
    AcademicYearFactory,
    AcademyFactory,
    StaffFactory,
    TrustFactory,
    UserFactory,
    YearGroupFactory,
    grant,
)

# A Friday in the autumn term of 2026/27.
TODAY = datetime.datetime(2026, 12, 4, 10, 0)
Reason = StaffAbsence.Reason
Part = StaffAbsence.Part


def d(day: int, month: int, year: int = 2026) -> datetime.date:
    return datetime.date(year, month, day)


@dataclass
class World:
    year: AcademicYear
    oak: Academy
    elm: Academy
    staff: dict[str, StaffMember] = field(default_factory=dict)

    def user(self, key: str):
        return self.staff[key].user


def add_calendar(year: AcademicYear) -> None:
    """Autumn with a half-term break from 26/10 to 30/10, spring and summer whole."""
    autumn = Term.objects.create(
        academic_year=year, season="autumn", start_date=d(1, 9), end_date=d(18, 12)
    )
    Term.objects.create(
        academic_year=year,
        parent=autumn,
        season="autumn",
        half=1,
        start_date=d(1, 9),
        end_date=d(23, 10),
    )
    Term.objects.create(
        academic_year=year,
        parent=autumn,
        season="autumn",
        half=2,
        start_date=d(2, 11),
        end_date=d(18, 12),
    )
    Term.objects.create(
        academic_year=year, season="spring", start_date=d(4, 1, 2027), end_date=d(26, 3, 2027)
    )
    Term.objects.create(
        academic_year=year, season="summer", start_date=d(12, 4, 2027), end_date=d(21, 7, 2027)
    )


def person(key: str, academy: Academy | None, **fields) -> StaffMember:
    return StaffFactory(
        user=UserFactory(username=key),
        academy=academy,
        first_name=key.replace("_", " ").title().replace(" ", ""),
        last_name="Person",
        **fields,
    )


def build_world() -> World:
    trust = TrustFactory()
    year = AcademicYearFactory(trust=trust, start_year=2026)
    add_calendar(year)
    oak = AcademyFactory(trust=trust, name="Oak Academy")
    elm = AcademyFactory(trust=trust, name="Elm Academy")
    world = World(year=year, oak=oak, elm=elm)
    world.staff["manager"] = person("manager", oak)
    world.staff["subject"] = person("subject", oak, line_manager=world.staff["manager"])
    world.staff["colleague"] = person("colleague", oak)
    world.staff["head"] = person("head", oak)
    grant(world.staff["head"], Role.HEADTEACHER, oak)
    world.staff["hr"] = person("hr", None)
    grant(world.staff["hr"], Role.TRUST_HR)
    world.staff["leader"] = person("leader", None)
    grant(world.staff["leader"], Role.TRUST_LEADER)
    world.staff["trustee"] = person("trustee", None)
    grant(world.staff["trustee"], Role.TRUSTEE)
    world.staff["hoy"] = person("hoy", oak)
    grant(world.staff["hoy"], Role.HEAD_OF_YEAR, YearGroupFactory(academy=oak, nc_year=9))
    world.staff["elm_head"] = person("elm_head", elm)
    grant(world.staff["elm_head"], Role.HEADTEACHER, elm)
    return world


@pytest.fixture
def world(db):
    with time_machine.travel(TODAY, tick=False):
        yield build_world()


def spell(staff: StaffMember, start, end, reason=Reason.SICKNESS, **fields) -> StaffAbsence:
    if reason == Reason.SICKNESS:
        fields.setdefault("sickness_category", StaffAbsence.SicknessCategory.MINOR)
    return StaffAbsence.objects.create(
        staff=staff, start_date=start, end_date=end, reason=reason, **fields
    )


# Days lost ------------------------------------------------------------------


def test_days_lost_whole_week(world):
    absence = spell(world.staff["subject"], d(23, 11), d(27, 11))
    assert service.days_lost(absence) == 5


def test_days_lost_skips_weekend(world):
    # Friday to Tuesday: Friday, Monday and Tuesday.
    absence = spell(world.staff["subject"], d(20, 11), d(24, 11))
    assert service.days_lost(absence) == 3


def test_days_lost_half_days(world):
    # Wednesday afternoon, all Thursday, Friday morning.
    absence = spell(
        world.staff["subject"], d(25, 11), d(27, 11), start_part=Part.PM, end_part=Part.AM
    )
    assert service.days_lost(absence) == Decimal("2")
    morning = spell(
        world.staff["colleague"], d(23, 11), d(23, 11), start_part=Part.AM, end_part=Part.AM
    )
    assert service.days_lost(morning) == Decimal("0.5")
    afternoon = spell(
        world.staff["manager"], d(23, 11), d(23, 11), start_part=Part.PM, end_part=Part.FULL
    )
    assert service.days_lost(afternoon) == Decimal("0.5")


def test_days_lost_closures_and_inset(world):
    # Thursday is a planned closure, so no one works; Friday is an INSET day,
    # which staff work, so absence on it counts.
    Closure.objects.create(academy=world.oak, date=d(26, 11), kind=Closure.Kind.PLANNED)
    Closure.objects.create(academy=world.oak, date=d(27, 11), kind=Closure.Kind.INSET)
    absence = spell(world.staff["subject"], d(23, 11), d(27, 11))
    assert service.days_lost(absence) == 4


def test_days_lost_skips_half_term(world):
    # Thursday 22/10 and Friday 23/10, then half term, then 02/11 and 03/11.
    absence = spell(world.staff["subject"], d(22, 10), d(3, 11))
    assert service.days_lost(absence) == 4


def test_days_lost_central_team_weekdays(world):
    # The central team has no academy calendar, so half term is working time.
    absence = spell(world.staff["hr"], d(26, 10), d(30, 10))
    assert service.days_lost(absence) == 5


# Rates ----------------------------------------------------------------------


def test_rate_weights_by_fte(world):
    """Worked example to Friday 04/12/2026, the autumn term so far.

    Oak's working days: 01/09 to 23/10 is 39 weekdays and 02/11 to 04/12 is
    25, so 64. A (FTE 1.0) and B (FTE 0.5) are employed all term. C (FTE 1.0)
    left on 30/09 after 22 working days. The fixture's other Oak people left
    before term, so they do not count.
    Contracted: 1.0 x 64 + 0.5 x 64 + 1.0 x 22 = 118.
    A is off sick 5 days (5 x 1.0 = 5), B on training 4 days (4 x 0.5 = 2).
    Rate: 7 / 118 = 5.93%, shown 5.9; sickness 5 / 118 = 4.2; training
    2 / 118 = 1.7.
    """
    StaffMember.objects.filter(academy=world.oak).update(left_on=d(31, 8))
    a = person("a", world.oak, fte=Decimal("1.00"))
    b = person("b", world.oak, fte=Decimal("0.50"))
    person("c", world.oak, fte=Decimal("1.00"), left_on=d(30, 9))
    spell(a, d(16, 11), d(20, 11))
    spell(b, d(23, 11), d(26, 11), reason=Reason.TRAINING)

    with time_machine.travel(TODAY, tick=False):
        table = service.absence_rates(
            academies=[world.oak], year=world.year, include_central=False, to=TODAY.date()
        )

    assert table.term_labels == ["Autumn"]
    row = table.rows[0]
    assert row.label == "Oak Academy"
    assert row.year.contracted == Decimal("118")
    assert row.year.lost == Decimal("7")
    assert row.year.rate == 5.9
    assert row.terms[0].rate == 5.9
    assert row.year.reason_rate(Reason.SICKNESS) == 4.2
    assert row.year.reason_rate(Reason.TRAINING) == 1.7
    assert row.year.reason_rate(Reason.UNAUTHORISED) == 0.0


def test_rate_clips_spell_to_period(world):
    # Only the days up to today count: 03/12 and 04/12 of a spell to 08/12.
    StaffMember.objects.filter(academy=world.oak).exclude(pk=world.staff["subject"].pk).update(
        left_on=d(31, 8)
    )
    spell(world.staff["subject"], d(3, 12), d(8, 12))
    table = service.absence_rates(
        academies=[world.oak], year=world.year, include_central=False, to=TODAY.date()
    )
    assert table.rows[0].year.lost == Decimal("2")
    assert table.rows[0].year.contracted == Decimal("64")


# Bradford factor ------------------------------------------------------------


def test_bradford_one_long_spell(world):
    spell(world.staff["subject"], d(16, 11), d(27, 11))
    factor = service.bradford_factor(world.staff["subject"], TODAY.date())
    assert factor.spells == 1
    assert factor.days == 10
    assert factor.score == 10


def test_bradford_ten_short_spells(world):
    first_wednesday = d(9, 9)
    for week in range(10):
        day = first_wednesday + datetime.timedelta(weeks=week)
        if day >= d(26, 10):
            day += datetime.timedelta(weeks=1)
        spell(world.staff["subject"], day, day)
    factor = service.bradford_factor(world.staff["subject"], TODAY.date())
    assert factor.spells == 10
    assert factor.days == 10
    assert factor.score == 1000


def test_bradford_leaves_out_planned_absence(world):
    spell(world.staff["subject"], d(16, 11), d(17, 11))
    spell(world.staff["subject"], d(18, 11), d(18, 11), reason=Reason.TRAINING)
    spell(world.staff["subject"], d(19, 11), d(20, 11), reason=Reason.AUTHORISED)
    spell(world.staff["subject"], d(23, 11), d(23, 11), reason=Reason.UNAUTHORISED)
    factor = service.bradford_factor(world.staff["subject"], TODAY.date())
    assert factor.spells == 2
    assert factor.days == 3
    assert factor.score == 12


def test_bradford_window_is_52_weeks(world):
    # Central team: every weekday counts, so no calendar for last year is needed.
    hr = world.staff["hr"]
    spell(hr, d(1, 12, 2025), d(5, 12, 2025))
    spell(hr, d(8, 12, 2025), d(8, 12, 2025))
    factor = service.bradford_factor(hr, TODAY.date())
    assert factor.window_start == d(6, 12, 2025)
    assert factor.spells == 1
    assert factor.score == 1


# Visibility -----------------------------------------------------------------

ALLOWED = ["subject", "manager", "head", "hr"]
REFUSED = ["colleague", "hoy", "elm_head", "trustee", "leader"]


@pytest.mark.parametrize("viewer", ALLOWED + REFUSED)
def test_person_page_visibility(world, client, viewer):
    absence = spell(world.staff["subject"], d(23, 11), d(24, 11))
    client.force_login(world.user(viewer))
    with time_machine.travel(TODAY, tick=False):
        page = client.get(
            reverse("attendance:staff_absence_person", args=[world.staff["subject"].pk])
        )
    assert service.can_see_person(world.user(viewer), world.staff["subject"]) == (viewer in ALLOWED)
    if viewer in ALLOWED:
        assert page.status_code == 200
        assert "Bradford factor" in page.content.decode()
        assert "23/11/2026" in page.content.decode()
    else:
        assert page.status_code == 404
        assert "23/11/2026" not in page.content.decode()
    assert absence.pk


@pytest.mark.parametrize("viewer", ["manager", "head", "hr"])
def test_managers_may_edit(world, client, viewer):
    absence = spell(world.staff["subject"], d(23, 11), d(24, 11))
    client.force_login(world.user(viewer))
    with time_machine.travel(TODAY, tick=False):
        page = client.get(reverse("attendance:staff_absence_edit", args=[absence.pk]))
    assert page.status_code == 200


@pytest.mark.parametrize("viewer", [*REFUSED, "subject"])
def test_others_may_not_edit(world, client, viewer):
    # The subject did not record this spell, so only managers change it.
    absence = spell(world.staff["subject"], d(23, 11), d(24, 11))
    client.force_login(world.user(viewer))
    with time_machine.travel(TODAY, tick=False):
        edit = client.get(reverse("attendance:staff_absence_edit", args=[absence.pk]))
        delete = client.post(reverse("attendance:staff_absence_delete", args=[absence.pk]))
    assert edit.status_code == 404
    assert delete.status_code == 404
    assert StaffAbsence.objects.filter(pk=absence.pk).exists()


@pytest.mark.parametrize("viewer", REFUSED)
def test_others_may_not_record(world, client, viewer):
    client.force_login(world.user(viewer))
    with time_machine.travel(TODAY, tick=False):
        page = client.post(
            reverse("attendance:staff_absence_record", args=[world.staff["subject"].pk]),
            form_data(),
        )
    assert page.status_code == 404
    assert not StaffAbsence.objects.exists()


def test_overview_rates_by_role(world, client):
    spell(world.staff["subject"], d(23, 11), d(24, 11))
    url = reverse("attendance:staff_absence")
    seen = {}
    with time_machine.travel(TODAY, tick=False):
        for viewer in ("leader", "hr", "head", "elm_head", "trustee", "colleague"):
            client.force_login(world.user(viewer))
            page = client.get(url)
            assert page.status_code == 200
            seen[viewer] = page.content.decode()
    assert "Oak Academy" in seen["leader"]
    assert "Elm Academy" in seen["leader"]
    assert "Central team" in seen["leader"]
    assert "Oak Academy" in seen["head"]
    assert "Elm Academy" not in seen["head"]
    assert "Elm Academy" in seen["elm_head"]
    assert "Oak Academy" not in seen["elm_head"]
    for viewer in ("trustee", "colleague"):
        assert "Absence rates" not in seen[viewer]
    # Names with a Bradford factor: HR and the subject's head, not the leader.
    assert "Person, Subject" in seen["hr"]
    assert "Person, Subject" in seen["head"]
    assert "Person, Subject" not in seen["leader"]
    assert "Person, Subject" not in seen["elm_head"]


def test_overview_lists_line_reports(world, client):
    spell(world.staff["subject"], d(23, 11), d(24, 11))
    client.force_login(world.user("manager"))
    with time_machine.travel(TODAY, tick=False):
        page = client.get(reverse("attendance:staff_absence"))
    body = page.content.decode()
    assert "Your line reports" in body
    assert "Person, Subject" in body
    assert "Absence rates" not in body


def test_overview_bad_year_is_400(world, client):
    client.force_login(world.user("hr"))
    with time_machine.travel(TODAY, tick=False):
        page = client.get(reverse("attendance:staff_absence"), {"year": "1999"})
    assert page.status_code == 400
    assert "1999" in page.content.decode()
    assert "2026" in page.content.decode()


# Recording and validation ---------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "start_date": "23/11/2026",
        "start_part": "full",
        "end_date": "24/11/2026",
        "end_part": "full",
        "reason": "sickness",
        "sickness_category": "minor",
        "notes": "",
    }
    data.update(overrides)
    return data


def post_record(client, world, viewer: str, **overrides):
    client.force_login(world.user(viewer))
    with time_machine.travel(TODAY, tick=False):
        return client.post(
            reverse("attendance:staff_absence_record", args=[world.staff["subject"].pk]),
            form_data(**overrides),
        )


def test_manager_records_spell(world, client):
    page = post_record(client, world, "manager", reason="training", sickness_category="")
    assert page.status_code == 302
    absence = StaffAbsence.objects.get()
    assert absence.reason == Reason.TRAINING
    assert absence.recorded_by == world.user("manager")


def test_self_records_own_sickness(world, client):
    page = post_record(client, world, "subject")
    assert page.status_code == 302
    absence = StaffAbsence.objects.get()
    assert absence.recorded_by == world.user("subject")
    # The person may change a spell they recorded themselves.
    with time_machine.travel(TODAY, tick=False):
        edit = client.get(reverse("attendance:staff_absence_edit", args=[absence.pk]))
    assert edit.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        (
            {"start_date": "24/11/2026", "end_date": "23/11/2026"},
            "end_date",
            "The end date 23/11/2026 is before the start date 24/11/2026",
        ),
        ({"sickness_category": ""}, "sickness_category", "A sickness category is required"),
        (
            {"end_date": "23/11/2026", "start_part": "pm", "end_part": "am"},
            "end_part",
            "the start is “afternoon only” and the end “morning only”",
        ),
        ({"start_date": "31/02/2026"}, "start_date", "“31/02/2026” is not a date"),
        ({"reason": "holiday"}, "reason", "holiday"),
        (
            {"start_date": "21/11/2026", "end_date": "22/11/2026"},
            "start_date",
            "No day from 21/11/2026 to 22/11/2026 is a working day",
        ),
        (
            {"start_date": "07/12/2026", "end_date": "07/12/2026"},
            "start_date",
            "The start date 07/12/2026 is in the future",
        ),
        (
            {"reason": "training", "sickness_category": "minor"},
            "sickness_category",
            "A sickness category is only for sickness",
        ),
        ({"start_part": "am"}, "start_part", "cannot be “morning only”"),
    ],
)
def test_record_validation_messages(world, client, overrides, field, expected):
    page = post_record(client, world, "manager", **overrides)
    assert page.status_code == 400
    errors = page.context["form"].errors
    assert field in errors
    assert expected in " ".join(errors[field])
    assert expected in page.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert not StaffAbsence.objects.exists()


def test_record_rejects_overlap(world, client):
    spell(world.staff["subject"], d(24, 11), d(25, 11))
    page = post_record(client, world, "manager")
    assert page.status_code == 400
    message = " ".join(page.context["form"].errors["start_date"])
    assert "overlaps the spell already recorded from 24/11/2026 to 25/11/2026" in message
    assert StaffAbsence.objects.count() == 1


def test_self_may_not_record_training(world, client):
    # The form offers the person only sickness, so another reason is rejected.
    page = post_record(client, world, "subject", reason="training", sickness_category="")
    assert page.status_code == 400
    assert "training" in " ".join(page.context["form"].errors["reason"])
    assert not StaffAbsence.objects.exists()


def test_self_certification_limit(world, client):
    page = post_record(client, world, "subject", start_date="16/11/2026", end_date="27/11/2026")
    assert page.status_code == 400
    message = " ".join(page.context["form"].errors["end_date"])
    assert "12 calendar days" in message
    assert "at most 7" in message


def test_service_rejects_self_training(world):
    with time_machine.travel(TODAY, tick=False), pytest.raises(Exception) as error:
        service.absence_record(
            actor=world.user("subject"),
            staff=world.staff["subject"],
            spell=service.SpellInput(start_date=d(23, 11), end_date=d(23, 11), reason="training"),
        )
    assert "own sickness only" in str(error.value)


def test_service_rejects_outsider(world):
    with time_machine.travel(TODAY, tick=False), pytest.raises(PermissionError):
        service.absence_record(
            actor=world.user("colleague"),
            staff=world.staff["subject"],
            spell=service.SpellInput(
                start_date=d(23, 11),
                end_date=d(23, 11),
                reason="sickness",
                sickness_category="minor",
            ),
        )


# Audit ----------------------------------------------------------------------


def test_audit_of_record_change_delete(world):
    actor = world.user("manager")
    subject = world.staff["subject"]
    with time_machine.travel(TODAY, tick=False):
        absence = service.absence_record(
            actor=actor,
            staff=subject,
            spell=service.SpellInput(
                start_date=d(23, 11),
                end_date=d(24, 11),
                reason="sickness",
                sickness_category="minor",
            ),
        )
        service.absence_change(
            actor=actor,
            absence=absence,
            spell=service.SpellInput(
                start_date=d(23, 11),
                end_date=d(25, 11),
                reason="sickness",
                sickness_category="injury",
            ),
        )
        absence_id = absence.pk
        service.absence_delete(actor=actor, absence=absence)

    events = list(
        AuditEvent.objects.filter(
            model="attendance.StaffAbsence", object_id=str(absence_id)
        ).order_by("pk")
    )
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert all(e.actor == actor for e in events)
    assert all(e.staff_ref == subject.pk for e in events)
    assert events[1].changes["end_date"] == ["2026-11-24", "2026-11-25"]
    assert events[1].changes["sickness_category"] == ["minor", "injury"]


def test_delete_page_removes_spell(world, client):
    absence = spell(world.staff["subject"], d(23, 11), d(24, 11))
    client.force_login(world.user("hr"))
    with time_machine.travel(TODAY, tick=False):
        confirm = client.get(reverse("attendance:staff_absence_delete", args=[absence.pk]))
        done = client.post(reverse("attendance:staff_absence_delete", args=[absence.pk]))
    assert confirm.status_code == 200
    assert "23/11/2026" in confirm.content.decode()
    assert done.status_code == 302
    assert not StaffAbsence.objects.exists()


# Query counts ---------------------------------------------------------------


def add_staff_with_spells(world: World, count: int, start: int) -> None:
    for index in range(start, start + count):
        academy = world.oak if index % 2 else world.elm
        member = person(f"extra{index}", academy, line_manager=world.staff["manager"])
        spell(member, d(16, 11), d(16, 11))
        spell(member, d(18, 11), d(19, 11), reason=Reason.TRAINING)


def count_overview_queries(client, world: World, viewer: str) -> int:
    client.force_login(world.user(viewer))
    with time_machine.travel(TODAY, tick=False), CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("attendance:staff_absence"))
    assert page.status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["hr", "head", "manager"])
def test_overview_queries_do_not_grow_with_staff(world, client, viewer):
    add_staff_with_spells(world, 3, 0)
    few = count_overview_queries(client, world, viewer)
    add_staff_with_spells(world, 12, 3)
    many = count_overview_queries(client, world, viewer)
    assert many == few
    assert few <= 40


# Demo loader ----------------------------------------------------------------


def load_demo(world: World, seed: int) -> list[tuple]:
    with time_machine.travel(TODAY, tick=False):
        count = load_staff_absence(
            rng=random.Random(seed),
            today=TODAY.date(),
            staff=StaffMember.objects.all(),
            academies=[world.oak, world.elm],
        )
    assert count == StaffAbsence.objects.count()
    return sorted(
        StaffAbsence.objects.values_list(
            "staff__email", "start_date", "end_date", "reason", "start_part", "sickness_category"
        )
    )


def test_demo_loader_is_deterministic(world):
    for index in range(40):
        person(f"demo{index}", world.oak if index % 3 else None)
    first = load_demo(world, 7)
    StaffAbsence.objects.all().delete()
    second = load_demo(world, 7)
    assert first == second
    assert len(first) > 20


def test_demo_loader_spells_are_valid(world):
    for index in range(40):
        person(f"demo{index}", world.oak if index % 3 else None)
    load_demo(world, 11)
    spells = list(StaffAbsence.objects.select_related("staff", "staff__academy"))
    # Demo data is loaded, not changed by a person, so it has no audit trail.
    assert not AuditEvent.objects.filter(model="attendance.StaffAbsence").exists()
    by_staff: dict[int, list[StaffAbsence]] = {}
    for absence in spells:
        by_staff.setdefault(absence.staff_id, []).append(absence)
        assert absence.end_date <= TODAY.date()
        assert absence.start_date <= absence.end_date
        assert service.days_lost(absence) > 0
        if absence.reason == Reason.SICKNESS:
            assert absence.sickness_category
        else:
            assert not absence.sickness_category
        if absence.staff.academy_id:
            # Oak has no calendar for 2025/26 in this fixture, so its spells
            # all fall in the current year.
            assert absence.start_date >= d(1, 9)
    for own in by_staff.values():
        own.sort(key=lambda a: a.start_date)
        for earlier, later in itertools.pairwise(own):
            assert earlier.end_date < later.start_date
    reasons = {absence.reason for absence in spells}
    assert Reason.SICKNESS in reasons
    assert Reason.TRAINING in reasons


# Page details ---------------------------------------------------------------


def test_overview_chart_and_table(world, client):
    StaffMember.objects.filter(academy=world.oak).exclude(pk=world.staff["subject"].pk).update(
        left_on=d(31, 8)
    )
    # 2 of Oak's 64 working days: 3.1%, and the same for sickness.
    spell(world.staff["subject"], d(23, 11), d(24, 11))
    client.force_login(world.user("head"))
    with time_machine.travel(TODAY, tick=False):
        page = client.get(reverse("attendance:staff_absence"))
    body = page.content.decode()
    assert "<svg" in body
    assert "Data behind the chart" in body
    assert '<th scope="row">Oak Academy</th>' in body
    # Autumn, year to date and sickness in the rates table, and Autumn in
    # the table behind the chart.
    assert body.count('<td class="num">3.1</td>') == 4


def test_form_links_errors_to_fields(world, client):
    page = post_record(client, world, "manager", sickness_category="")
    body = page.content.decode()
    assert 'id="id_sickness_category-error"' in body
    assert 'aria-describedby="id_sickness_category-help id_sickness_category-error"' in body
    assert 'aria-invalid="true"' in body
    # What was typed stays in the form.
    assert 'value="23/11/2026"' in body


def test_highest_bradford_order_and_limit(world):
    subject, colleague, manager = (world.staff[k] for k in ("subject", "colleague", "manager"))
    # Subject: 2 spells, 3 days = 12. Colleague: 1 spell, 5 days = 5.
    spell(subject, d(16, 11), d(17, 11))
    spell(subject, d(23, 11), d(23, 11), reason=Reason.UNAUTHORISED)
    spell(colleague, d(16, 11), d(20, 11))
    # Training only: no Bradford factor, so not listed.
    spell(manager, d(16, 11), d(20, 11), reason=Reason.TRAINING)
    people = StaffMember.objects.all()

    listed = service.highest_bradford(people, TODAY.date(), 10)
    assert [p.staff.pk for p in listed] == [subject.pk, colleague.pk]
    assert listed[0].bradford.score == 12
    assert listed[1].bradford.score == 5

    top = service.highest_bradford(people, TODAY.date(), 1)
    assert [p.staff.pk for p in top] == [subject.pk]


def test_missing_fields_are_named(world, client):
    page = post_record(client, world, "manager", end_date="", reason="")
    errors = page.context["form"].errors
    assert page.status_code == 400
    assert errors["end_date"] == ["The end date is missing."]
    assert errors["reason"] == ["The reason is missing."]


def test_person_page_names_recorder(world, client):
    post_record(client, world, "manager")
    with time_machine.travel(TODAY, tick=False):
        page = client.get(
            reverse("attendance:staff_absence_person", args=[world.staff["subject"].pk])
        )
    assert "Manager Person, 04/12/2026" in page.content.decode()
