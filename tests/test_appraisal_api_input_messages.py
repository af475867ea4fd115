"""Appraisal API input: whose portfolio an entry goes in, dates that do not
exist, numbers in exponent notation, and messages that name the field and
its limit."""

import datetime
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from appraisal.api_serializers import FinalReviewInput
from appraisal.models import CpdKind, PortfolioEntry

from .factories_appraisal import cycle_2026
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    people = build_personas()
    people.cycle = cycle_2026(people)
    return people


def api_client(world, persona: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[persona])
    return client


def test_cycle_filter_id_article(world):
    response = api_client(world, "trust_hr").get(f"{API}/appraisals/", {"cycle": "abc"})
    assert response.status_code == 400
    assert "the id of an appraisal cycle you can see" in str(response.json())
    assert "a appraisal" not in str(response.json())


def _entry_body(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "course",
        "title": "Reading in Key Stage 3",
        "started_on": "2026-10-12",
        "hours": 3,
        "cost": 0,
        **fields,
    }


def test_api_entry_for_other_staff_rejected(world):
    other = world.staff["elm_teacher"]
    response = api_client(world, "teacher").post(
        f"{API}/portfolio-entries/", _entry_body(staff=other.pk), format="json"
    )
    assert response.status_code == 400
    message = response.json()["staff"][0]
    assert f"staff {other.pk} is another member of staff" in message
    assert f"send your own id {world.staff['teacher'].pk}" in message
    assert not PortfolioEntry.objects.exists()


def test_api_entry_for_self_by_id(world):
    own = world.staff["teacher"]
    response = api_client(world, "teacher").post(
        f"{API}/portfolio-entries/", _entry_body(staff=own.pk), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["staff"] == own.pk


def test_api_entry_by_trust_hr_for_other(world):
    teacher = world.staff["teacher"]
    response = api_client(world, "trust_hr").post(
        f"{API}/portfolio-entries/", _entry_body(staff=teacher.pk), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["staff"] == teacher.pk
    assert PortfolioEntry.objects.get().staff_id == teacher.pk


def test_api_entry_by_trust_hr_unknown_staff(world):
    response = api_client(world, "trust_hr").post(
        f"{API}/portfolio-entries/", _entry_body(staff=99999999), format="json"
    )
    assert response.status_code == 400
    assert "Staff member 99999999 was not found" in response.json()["staff"][0]


def test_api_entry_cannot_move_portfolio(world):
    entry = PortfolioEntry.objects.create(
        staff=world.staff["teacher"],
        kind=CpdKind.COURSE,
        title="Course",
        started_on=datetime.date(2026, 10, 1),
    )
    other = world.staff["elm_teacher"]
    response = api_client(world, "trust_hr").patch(
        f"{API}/portfolio-entries/{entry.pk}/", {"staff": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "cannot move to another portfolio" in response.json()["staff"][0]
    entry.refresh_from_db()
    assert entry.staff_id == world.staff["teacher"].pk


def test_api_schema_documents_staff(world):
    response = api_client(world, "trust_hr").get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    assert "Another member of staff's id is accepted only from trust HR" in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"started_on": "2026-02-31"},
            "started_on",
            "started_on 2026-02-31 is not a real date; use YYYY-MM-DD.",
        ),
        (
            {"ended_on": "2027-02-29"},
            "ended_on",
            "ended_on 2027-02-29 is not a real date; use YYYY-MM-DD.",
        ),
        ({"title": "x" * 201}, "title", "title is longer than 200 characters"),
        ({"title": ""}, "title", "title is empty; send some text."),
        ({"title": None}, "title", "title is null; send a value."),
        ({"hours": "1e5"}, "hours", "hours '1e5' is not a number; send digits"),
    ],
)
def test_api_entry_messages_name_field(world, fields, field, message):
    response = api_client(world, "teacher").post(
        f"{API}/portfolio-entries/", _entry_body(**fields), format="json"
    )
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not PortfolioEntry.objects.exists()


def test_api_entry_missing_field_named(world):
    body = _entry_body()
    del body["started_on"]
    response = api_client(world, "teacher").post(f"{API}/portfolio-entries/", body, format="json")
    assert response.status_code == 400
    assert response.json()["started_on"] == ["started_on is missing; send it in the request body."]


def test_api_list_item_too_long(world):
    """A nested list item names the list and the limit."""
    submitted = FinalReviewInput(data={"summary": "Done", "development_needs": ["x" * 301]})
    assert not submitted.is_valid()
    assert "Each item of development_needs is longer than 300 characters" in str(
        submitted.errors["development_needs"]
    )
