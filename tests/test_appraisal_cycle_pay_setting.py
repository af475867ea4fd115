"""Whether a cycle's final reviews record a pay recommendation: chosen when
the cycle is opened (service, page and API) and changed afterwards."""

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from appraisal import services
from appraisal.models import Appraisal, AppraisalCycle

from .factories import AcademicYearFactory
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    world.cycle = cycle_2026(world)  # type: ignore[attr-defined]
    world.next_year = AcademicYearFactory(  # type: ignore[attr-defined]
        trust=world.academies["oak"].trust, start_year=2027
    )
    return world


def recorded_pay(world) -> Appraisal:
    appraisal = make_appraisal(
        world.cycle,
        world.staff["teacher"],
        world.staff["academy_leader"],
        status=Appraisal.Status.FINAL_REVIEWED,
    )
    appraisal.pay_recommendation = "Move up one point on the main pay range."
    appraisal.save()
    return appraisal


# Services ------------------------------------------------------------------------------


def test_cycle_create_uses_pay_by_default(world):
    cycle = services.cycle_create(world.users["trust_hr"], world.next_year)
    cycle.refresh_from_db()
    assert cycle.uses_pay_recommendation is True


def test_cycle_create_without_pay(world):
    cycle = services.cycle_create(
        world.users["trust_hr"], world.next_year, uses_pay_recommendation=False
    )
    cycle.refresh_from_db()
    assert cycle.uses_pay_recommendation is False


@pytest.mark.parametrize("value", [False, True])
def test_settings_set_changes_cycle(world, value):
    world.cycle.uses_pay_recommendation = not value
    world.cycle.save()

    services.cycle_settings_set(
        world.users["trust_leader"], world.cycle, uses_pay_recommendation=value
    )

    world.cycle.refresh_from_db()
    assert world.cycle.uses_pay_recommendation is value


@pytest.mark.parametrize("persona", ["headteacher", "teacher", "trustee", "trust_admin"])
def test_settings_set_refused(world, persona):
    with pytest.raises(PermissionDenied):
        services.cycle_settings_set(
            world.users[persona], world.cycle, uses_pay_recommendation=False
        )
    world.cycle.refresh_from_db()
    assert world.cycle.uses_pay_recommendation is True


def test_settings_off_after_recorded_pay(world):
    recorded_pay(world)

    with pytest.raises(ValidationError) as raised:
        services.cycle_settings_set(
            world.users["trust_hr"], world.cycle, uses_pay_recommendation=False
        )

    message = raised.value.message_dict["uses_pay_recommendation"][0]
    assert message == (
        "1 final review records a pay recommendation in the 2026/27 cycle already, "
        "so pay recommendations cannot be turned off for it."
    )
    world.cycle.refresh_from_db()
    assert world.cycle.uses_pay_recommendation is True


def test_settings_on_after_recorded_pay(world):
    recorded_pay(world)
    cycle = services.cycle_settings_set(
        world.users["trust_hr"], world.cycle, uses_pay_recommendation=True
    )
    assert cycle.uses_pay_recommendation is True


# Pages ---------------------------------------------------------------------------------


def test_create_page_checkbox_ticked(client, world):
    client.force_login(world.users["trust_hr"])
    body = client.get(reverse("appraisal:cycle-create")).content.decode()
    assert 'name="uses_pay_recommendation"' in body
    assert 'id="id_uses_pay_recommendation" checked' in body
    assert '<label for="id_uses_pay_recommendation">' in body


@pytest.mark.parametrize(
    ("sent", "expected"), [({}, False), ({"uses_pay_recommendation": "on"}, True)]
)
def test_create_page_saves_setting(client, world, sent, expected):
    client.force_login(world.users["trust_hr"])
    response = client.post(
        reverse("appraisal:cycle-create"), {"academic_year": world.next_year.pk, **sent}
    )
    assert response.status_code == 302
    cycle = AppraisalCycle.objects.get(academic_year=world.next_year)
    assert cycle.uses_pay_recommendation is expected


def test_settings_page_shows_current(client, world):
    world.cycle.uses_pay_recommendation = False
    world.cycle.save()
    client.force_login(world.users["trust_hr"])
    response = client.get(reverse("appraisal:cycle-settings", args=[world.cycle.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Settings of the 2026/27 appraisal cycle</h1>" in body
    assert 'name="uses_pay_recommendation"' in body
    assert "checked" not in body


def test_settings_page_turns_off(client, world):
    client.force_login(world.users["trust_hr"])
    response = client.post(reverse("appraisal:cycle-settings", args=[world.cycle.pk]), {})
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisal:cycles")
    world.cycle.refresh_from_db()
    assert world.cycle.uses_pay_recommendation is False
    listing = client.get(reverse("appraisal:cycles")).content.decode()
    assert "final reviews of the 2026/27 cycle do not record a pay recommendation" in listing
    assert "Final reviews record no pay recommendation." in listing


def test_settings_page_rejected_400(client, world):
    recorded_pay(world)
    client.force_login(world.users["trust_hr"])
    response = client.post(reverse("appraisal:cycle-settings", args=[world.cycle.pk]), {})
    body = response.content.decode()
    assert response.status_code == 400
    assert "1 final review records a pay recommendation" in body
    assert 'aria-invalid="true"' in body
    assert 'id="id_uses_pay_recommendation-error"' in body
    world.cycle.refresh_from_db()
    assert world.cycle.uses_pay_recommendation is True


@pytest.mark.parametrize("persona", ["headteacher", "teacher", "trust_admin"])
def test_settings_page_refused_403(client, world, persona):
    client.force_login(world.users[persona])
    url = reverse("appraisal:cycle-settings", args=[world.cycle.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403
    world.cycle.refresh_from_db()
    assert world.cycle.uses_pay_recommendation is True


def test_settings_page_unknown_cycle_404(client, world):
    client.force_login(world.users["trust_hr"])
    response = client.get(reverse("appraisal:cycle-settings", args=[999999]))
    assert response.status_code == 404


def test_deadlines_page_links_settings(client, world):
    client.force_login(world.users["trust_hr"])
    body = client.get(reverse("appraisal:cycle-deadlines", args=[world.cycle.pk])).content.decode()
    assert reverse("appraisal:cycle-settings", args=[world.cycle.pk]) in body
    assert "Final reviews record a pay recommendation." in body


# API -----------------------------------------------------------------------------------


def api_create(world, **body):
    client = APIClient()
    client.force_authenticate(world.users["trust_hr"])
    return client.post(
        f"{API}/appraisal-cycles/", {"academic_year": world.next_year.pk, **body}, format="json"
    )


@pytest.mark.parametrize(
    ("sent", "expected"), [({}, True), ({"uses_pay_recommendation": False}, False)]
)
def test_api_create_sets_pay(world, sent, expected):
    response = api_create(world, **sent)
    assert response.status_code == 201
    assert response.json()["uses_pay_recommendation"] is expected
    cycle = AppraisalCycle.objects.get(academic_year=world.next_year)
    assert cycle.uses_pay_recommendation is expected


def test_api_create_bad_pay_value_400(world):
    response = api_create(world, uses_pay_recommendation="sometimes")
    assert response.status_code == 400
    assert "'sometimes' is not valid" in str(response.json()["uses_pay_recommendation"])
    assert not AppraisalCycle.objects.filter(academic_year=world.next_year).exists()
