"""Trust targets: the book of a year, the services, the page and the admin."""

import datetime
import html
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from academies.models import AcademicYear
from reports.models import Measure, NationalFigure, Target
from reports.target_forms import input_name, was_name
from reports.targets import (
    can_edit_targets,
    clear_target,
    save_targets,
    set_target,
    target_book,
)
from trust.models import AuditEvent

from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

URL = "/dashboards/targets/"


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


@pytest.fixture
def leader(world):
    return world.users["trust_leader"]


def _set(world, leader, measure, value, academy_key=None):
    academy = world.academies[academy_key] if academy_key else None
    return set_target(
        actor=leader,
        measure=measure,
        academic_year=world.academic_year,
        academy=academy,
        value=value,
    )


# Reading ------------------------------------------------------------------------


def test_reverse_name():
    assert reverse("report-targets") == URL


def test_override_beats_trust_wide(world, leader):
    oak, elm = world.academies["oak"], world.academies["elm"]
    _set(world, leader, Measure.ATTENDANCE, "95.0")
    _set(world, leader, Measure.ATTENDANCE, "96.5", "oak")

    book = target_book(world.academic_year, [oak, elm])

    assert book.target(Measure.ATTENDANCE, oak.pk) == Decimal("96.5")
    assert book.target(Measure.ATTENDANCE, elm.pk) == Decimal("95.0")
    assert book.target(Measure.ATTENDANCE) == Decimal("95.0")
    assert book.target(Measure.TMG_ALL, oak.pk) is None


def test_book_one_query(world, leader, django_assert_num_queries):
    _set(world, leader, Measure.ATTENDANCE, "95")
    _set(world, leader, Measure.ATTENDANCE, "96", "oak")
    academies = list(world.academies.values())

    with django_assert_num_queries(1):
        book = target_book(world.academic_year, academies)

    assert len(book.values) == 2


def test_book_leaves_out_other_academies(world, leader):
    _set(world, leader, Measure.ATTENDANCE, "96", "oak")

    book = target_book(world.academic_year, [world.academies["elm"]])

    assert book.values == {}


def test_meets_higher_is_better(world, leader):
    _set(world, leader, Measure.ATTENDANCE, "95.0")
    book = target_book(world.academic_year, None)

    assert book.meets(Measure.ATTENDANCE, 95.0) is True
    assert book.meets(Measure.ATTENDANCE, 96.2) is True
    assert book.meets(Measure.ATTENDANCE, 94.9) is False
    assert book.meets(Measure.ATTENDANCE, None) is None
    assert book.meets(Measure.TMG_ENGLISH, 80.0) is None


def test_meets_lower_is_better(world, leader):
    oak = world.academies["oak"]
    _set(world, leader, Measure.PERSISTENT_ABSENCE, "15.0")
    _set(world, leader, Measure.PERSISTENT_ABSENCE, "12.0", "oak")
    book = target_book(world.academic_year, None)

    assert book.meets(Measure.PERSISTENT_ABSENCE, 15.0) is True
    assert book.meets(Measure.PERSISTENT_ABSENCE, 16.0) is False
    assert book.meets(Measure.PERSISTENT_ABSENCE, 13.0, oak.pk) is False
    assert book.meets(Measure.PERSISTENT_ABSENCE, Decimal("12.0"), oak.pk) is True


# Services -----------------------------------------------------------------------


def test_set_target_updates_in_place(world, leader):
    first = _set(world, leader, Measure.ATTENDANCE, "95")
    second = _set(world, leader, Measure.ATTENDANCE, 96)

    assert first.pk == second.pk
    assert Target.objects.get().value == Decimal("96.0")
    assert Target.objects.get().updated_by == leader


def test_set_target_writes_audit(world, leader):
    target = _set(world, leader, Measure.ATTENDANCE, "95")
    _set(world, leader, Measure.ATTENDANCE, "96")

    events = AuditEvent.objects.filter(model="reports.Target", object_id=str(target.pk))

    assert [e.action for e in events.order_by("pk")] == ["create", "update"]
    update = events.order_by("pk").last()
    assert update.actor == leader
    assert update.changes["value"] == ["95.0", "96.0"]


def test_clear_target_writes_audit(world, leader):
    target = _set(world, leader, Measure.ATTENDANCE, "95", "oak")

    removed = clear_target(
        actor=leader,
        measure=Measure.ATTENDANCE,
        academic_year=world.academic_year,
        academy=world.academies["oak"],
    )

    assert removed is True
    assert not Target.objects.exists()
    deleted = AuditEvent.objects.get(model="reports.Target", action="delete")
    assert deleted.object_id == str(target.pk)
    assert deleted.actor == leader


def test_clear_missing_target(world, leader):
    removed = clear_target(
        actor=leader,
        measure=Measure.ATTENDANCE,
        academic_year=world.academic_year,
        academy=None,
    )

    assert removed is False


@pytest.mark.parametrize(
    ("measure", "value", "words"),
    [
        (Measure.ATTENDANCE, "abc", "'abc' is not a number"),
        (Measure.ATTENDANCE, "150", "150 is out of range"),
        (Measure.ATTENDANCE, "-1", "-1 is out of range"),
        (Measure.NEGATIVE_PER_100, "1000.1", "1000.1 is out of range"),
        (Measure.ATTENDANCE, "95.25", "more than one decimal place"),
        (Measure.ATTENDANCE, "NaN", "'NaN' is not a number"),
    ],
)
def test_set_target_rejects_value(world, leader, measure, value, words):
    with pytest.raises(ValidationError) as caught:
        _set(world, leader, measure, value)

    message = caught.value.message_dict["value"][0]
    assert words in message
    assert Measure(measure).label in message
    assert not Target.objects.exists()


def test_per_100_allows_above_100(world, leader):
    target = _set(world, leader, Measure.NEGATIVE_PER_100, "250")

    assert target.value == Decimal("250.0")


def test_set_target_rejects_measure(world, leader):
    with pytest.raises(ValidationError) as caught:
        _set(world, leader, "happiness", "50")

    message = caught.value.message_dict["measure"][0]
    assert "'happiness'" in message
    assert "attendance" in message


def test_set_target_rejects_other_trust(world, leader):
    other_year = AcademicYear.objects.create(
        trust=world.academies["oak"].trust.__class__.objects.create(name="Other trust"),
        start_year=2026,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 8, 31),
    )

    with pytest.raises(ValidationError) as caught:
        set_target(
            actor=leader,
            measure=Measure.ATTENDANCE,
            academic_year=other_year,
            academy=world.academies["oak"],
            value="95",
        )

    assert "Oak Academy" in caught.value.message_dict["academy"][0]


@pytest.mark.parametrize("key", ["trustee", "headteacher", "trust_hr", "head_of_year"])
def test_set_target_rejects_reader(world, key):
    with pytest.raises(PermissionDenied):
        _set(world, world.users[key], Measure.ATTENDANCE, "95")

    assert not Target.objects.exists()


def test_can_edit_targets_roles(world):
    with time_machine.travel(TODAY, tick=False):
        allowed = {key for key, user in world.users.items() if can_edit_targets(user)}
        superuser = get_user_model().objects.create_superuser("root", "root@example.com", "x")

        assert allowed == {"trust_leader", "trust_admin"}
        assert can_edit_targets(superuser)


def test_save_targets_reports_conflict(world, leader):
    oak = world.academies["oak"]
    _set(world, leader, Measure.ATTENDANCE, "96.0", "oak")
    key = (Measure.ATTENDANCE.value, oak.pk)

    with pytest.raises(ValidationError) as caught:
        save_targets(
            actor=leader,
            academic_year=world.academic_year,
            academies={oak.pk: oak},
            values={key: Decimal("94.0")},
            previous={key: Decimal("95.0")},
        )

    message = caught.value.message_dict["targets"][0]
    assert "Attendance rate, Oak Academy was changed to 96.0" in message
    assert Target.objects.get().value == Decimal("96.0")


# Page ---------------------------------------------------------------------------


def _get(client, user, query=""):
    client.force_login(user)
    with time_machine.travel(TODAY, tick=False):
        return client.get(URL + query)


def _post(client, user, data, year):
    client.force_login(user)
    with time_machine.travel(TODAY, tick=False):
        return client.post(f"{URL}?year={year.pk}", data)


def _grid(response):
    """Return the submitted values of the page's grid as the browser would send them."""
    form = response.context["form"]
    data = {}
    for field in form:
        data[field.name] = field.value() or ""
    return data


def test_page_leader_sees_form(client, world, leader):
    response = _get(client, leader)

    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert response.context["year"] == world.academic_year
    assert 'name="target-attendance-trust"' in body
    assert f'name="target-attendance-{world.academies["oak"].pk}"' in body
    assert "England's figures" in body
    assert "Save the targets for 2026/27" in body


def test_page_trustee_reads(client, world, leader):
    _set(world, leader, Measure.ATTENDANCE, "95.5")

    response = _get(client, world.users["trustee"])

    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "95.5" in body
    assert 'name="target-attendance-trust"' not in body
    assert response.context["form"] is None


@pytest.mark.parametrize("key", ["head_of_year", "headteacher", "teacher", "staff"])
def test_page_404_without_trust_dashboard(client, world, key):
    response = _get(client, world.users[key])

    assert response.status_code == 404


def test_page_trustee_post_forbidden(client, world):
    data = {input_name(Measure.ATTENDANCE, None): "95"}

    response = _post(client, world.users["trustee"], data, world.academic_year)

    assert response.status_code == 403
    assert not Target.objects.exists()


def test_page_saves_changed_cells(client, world, leader):
    oak = world.academies["oak"]
    data = _grid(_get(client, leader))
    data[input_name(Measure.ATTENDANCE, None)] = "95.0"
    data[input_name(Measure.ATTENDANCE, oak.pk)] = "96.5"
    data[input_name(Measure.SUSPENSION_RATE, None)] = "2.5"

    response = _post(client, leader, data, world.academic_year)

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?year={world.academic_year.pk}"
    book = target_book(world.academic_year, None)
    assert book.values == {
        ("attendance", None): Decimal("95.0"),
        ("attendance", oak.pk): Decimal("96.5"),
        ("suspension_rate", None): Decimal("2.5"),
    }
    assert AuditEvent.objects.filter(model="reports.Target", action="create").count() == 3


def test_page_clears_emptied_cell(client, world, leader):
    _set(world, leader, Measure.ATTENDANCE, "95.0", "oak")
    data = _grid(_get(client, leader))
    data[input_name(Measure.ATTENDANCE, world.academies["oak"].pk)] = ""

    response = _post(client, leader, data, world.academic_year)

    assert response.status_code == 302
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("ninety", "'ninety' is not a number"),
        ("150", "150 is out of range"),
        ("95.55", "more than one decimal place"),
    ],
)
def test_page_rejects_bad_value(client, world, leader, value, words):
    data = _grid(_get(client, leader))
    data[input_name(Measure.ATTENDANCE, None)] = value
    data[input_name(Measure.TMG_ALL, None)] = "60"

    response = _post(client, leader, data, world.academic_year)

    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert words in body
    assert "Attendance rate, Trust-wide" in body
    assert 'aria-invalid="true"' in body
    assert not Target.objects.exists()


def test_page_rejects_unknown_academy(client, world, leader):
    data = _grid(_get(client, leader))
    data[input_name(Measure.TMG_ALL, None)] = "60"
    data["target-attendance-999999"] = "95"

    response = _post(client, leader, data, world.academic_year)

    assert response.status_code == 400
    assert "academy id '999999' is not an academy" in html.unescape(response.content.decode())
    assert not Target.objects.exists()


def test_page_rejects_unknown_measure(client, world, leader):
    data = _grid(_get(client, leader))
    data["target-happiness-trust"] = "95"

    response = _post(client, leader, data, world.academic_year)

    assert response.status_code == 400
    assert "Measure 'happiness' is not valid" in html.unescape(response.content.decode())
    assert not Target.objects.exists()


def test_page_keeps_other_editors_change(client, world, leader):
    data = _grid(_get(client, leader))
    _set(world, world.users["trust_admin"], Measure.ATTENDANCE, "97.0")
    data[input_name(Measure.ATTENDANCE, None)] = "95.0"

    response = _post(client, leader, data, world.academic_year)

    assert response.status_code == 400
    assert "changed to 97.0 by someone else" in html.unescape(response.content.decode())
    assert Target.objects.get().value == Decimal("97.0")
    assert response.context["form"].data[was_name(Measure.ATTENDANCE, None)] == "97.0"


def test_page_rejects_bad_year(client, world, leader):
    response = _get(client, leader, "?year=abc")

    assert response.status_code == 400
    assert "Academic year 'abc' is not valid" in html.unescape(response.content.decode())


def test_page_chooses_year(client, world, leader):
    earlier = AcademicYear.objects.create(
        trust=world.academic_year.trust,
        start_year=2025,
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 8, 31),
    )
    set_target(
        actor=leader, measure=Measure.ATTENDANCE, academic_year=earlier, academy=None, value="94"
    )

    response = _get(client, world.users["trustee"], f"?year={earlier.pk}")

    assert response.status_code == 200
    assert response.context["year"] == earlier
    assert "94.0" in html.unescape(response.content.decode())


def test_page_admin_link_for_trust_admin(client, world):
    admin_url = reverse("admin:reports_nationalfigure_changelist")

    as_admin = html.unescape(_get(client, world.users["trust_admin"]).content.decode())
    as_leader = html.unescape(_get(client, world.users["trust_leader"]).content.decode())

    assert admin_url in as_admin
    assert admin_url not in as_leader


def test_page_query_count_flat(client, world, leader, django_assert_max_num_queries):
    _get(client, leader)
    with django_assert_max_num_queries(20):
        _get(client, leader)


# Admin --------------------------------------------------------------------------


def test_admin_adds_national_year(client, world):
    client.force_login(world.users["trust_admin"])
    url = reverse("admin:reports_nationalfigure_add")
    data = {
        "start_year": "2026",
        "phase": "primary",
        "period": "Autumn term",
        "attendance_rate": "95.1",
        "persistent_absence_rate": "12.0",
        "severe_absence_rate": "",
        "suspension_rate": "",
        "source": "DfE",
    }

    with time_machine.travel(TODAY, tick=False):
        listing = client.get(reverse("admin:reports_nationalfigure_changelist"))
        response = client.post(url, data)

    assert listing.status_code == 200
    assert response.status_code == 302
    row = NationalFigure.objects.get(start_year=2026, phase="primary")
    assert row.attendance_rate == Decimal("95.1")
    created = AuditEvent.objects.get(model="reports.NationalFigure", object_id=str(row.pk))
    assert created.actor == world.users["trust_admin"]


def test_admin_rejects_national_percentage(client, world):
    client.force_login(world.users["trust_admin"])
    row = NationalFigure.objects.get(start_year=2025, phase="primary")
    url = reverse("admin:reports_nationalfigure_change", args=[row.pk])
    data = {
        "start_year": "2025",
        "phase": "primary",
        "period": row.period,
        "attendance_rate": "194.7",
        "persistent_absence_rate": "13.8",
        "severe_absence_rate": "",
        "suspension_rate": "",
        "source": row.source,
    }

    with time_machine.travel(TODAY, tick=False):
        response = client.post(url, data)

    assert response.status_code == 200
    assert "194.7 is out of range" in html.unescape(response.content.decode())
    row.refresh_from_db()
    assert row.attendance_rate == Decimal("94.7")


def test_admin_rejects_target_percentage(client, world):
    client.force_login(world.users["trust_admin"])
    data = {
        "measure": "attendance",
        "academic_year": str(world.academic_year.pk),
        "academy": "",
        "value": "150",
    }

    with time_machine.travel(TODAY, tick=False):
        response = client.post(reverse("admin:reports_target_add"), data)

    assert response.status_code == 200
    assert "150 is out of range" in html.unescape(response.content.decode())
    assert not Target.objects.exists()


def test_admin_closed_to_trust_leader(client, world):
    client.force_login(world.users["trust_leader"])

    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("admin:reports_nationalfigure_changelist"))

    assert response.status_code == 302


def test_admin_lists_targets(client, world, leader):
    _set(world, leader, Measure.ATTENDANCE, "95", "oak")
    client.force_login(world.users["trust_admin"])

    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("admin:reports_target_changelist"))

    assert response.status_code == 200
    assert "Oak Academy" in html.unescape(response.content.decode())
