"""The behaviour log PDF, and totals that equal the sum of the records
everywhere they are shown (page, profile, PDF and API)."""

import datetime
import re

import pytest
import time_machine
from django.test import Client

from academies.models import Term
from behaviour.models import Incident
from behaviour.services import incident_delete
from trust import clock

from .factories_incidents import build_categories, log_incident
from .personas import TODAY, build_personas
from .test_pdf import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    Term.objects.create(
        academic_year=world.academic_year,
        season=Term.Season.AUTUMN,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2026, 12, 18),
    )
    return world


def client_for(world, persona: str) -> Client:
    client = Client()
    client.force_login(world.users[persona])
    return client


def at(day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, 0, tzinfo=clock.LONDON)


def test_log_pdf_tables_across_pages(world, tmp_path):
    cats = build_categories(world)
    last_sentence = "The final sentence of the long account is here."
    long_text = ("Pupil left the room without permission and did not return. " * 50)[:2950]
    log_incident(
        world,
        "head_of_year",
        cats.disruption,
        ["oak9a_obrien"],
        points=-1,
        occurred_at=at(2),
        description=f"{long_text} {last_sentence}",
    )
    for index in range(59):
        log_incident(
            world,
            "head_of_year",
            cats.merit if index % 2 else cats.disruption,
            ["oak9a_obrien"],
            points=1 if index % 2 else -1,
            occurred_at=at(3 + index % 25, 8 + index % 8),
            description=f"Entry number {index}.",
        )
    pupil = world.pupils["oak9a_obrien"]

    response = client_for(world, "head_of_year").get(f"/behaviour/pupils/{pupil.pk}/?format=pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    pages = pdf_pages(pdf, tmp_path)
    assert pages >= 3
    for page in range(2, pages + 1):
        assert "What happened, and what was done" in pdf_text(pdf, tmp_path, page)
    text = re.sub(r"\s+", " ", pdf_text(pdf, tmp_path))
    assert last_sentence in text
    assert "Entry number 58." in text


def test_log_pdf_hides_restricted_content(world, tmp_path):
    cats = build_categories(world)
    log_incident(
        world,
        "safeguarding_lead",
        cats.safeguarding,
        ["oak9a_obrien"],
        points=0,
        occurred_at=at(10),
        description="Disclosure noted by the safeguarding lead.",
    )
    pupil = world.pupils["oak9a_obrien"]

    hidden = client_for(world, "head_of_year").get(f"/behaviour/pupils/{pupil.pk}/?format=pdf")
    shown = client_for(world, "safeguarding_lead").get(f"/behaviour/pupils/{pupil.pk}/?format=pdf")

    assert "Disclosure noted" not in pdf_text(hidden.content, tmp_path)
    assert "Disclosure noted" in pdf_text(shown.content, tmp_path)


def figures(world, tmp_path) -> dict[str, int]:
    """Return the pupil's net points as the API, the timeline, the profile and the PDF show them."""
    pupil = world.pupils["oak9a_obrien"]
    client = client_for(world, "head_of_year")
    api = client.get(
        f"/api/v1/pupils/{pupil.pk}/behaviour/", {"from": "2026-09-01", "to": "2026-12-04"}
    ).json()
    timeline = client.get(f"/behaviour/pupils/{pupil.pk}/").content.decode()
    profile = client.get(f"/pupils/{pupil.pk}/").content.decode()
    pdf = re.sub(
        r"\s+",
        " ",
        pdf_text(client.get(f"/behaviour/pupils/{pupil.pk}/?format=pdf").content, tmp_path),
    )
    profile_net = re.search(r"Net points this term</span><span class=\"figure\">(-?\d+)<", profile)
    pdf_year = re.search(r"Academic year 2026/27 (-?\d+) (-?\d+) (-?\d+) (\d+)", pdf)
    assert profile_net is not None
    assert pdf_year is not None
    return {
        "api": api["net_points"],
        "profile": int(profile_net.group(1)),
        "pdf": int(pdf_year.group(3)),
        "timeline_has_net": int(f"{api['net_points']}" in timeline),
    }


def test_totals_equal_sum_of_records(world, tmp_path):
    cats = build_categories(world)
    for points, day in ((3, 2), (2, 3)):
        log_incident(
            world, "head_of_year", cats.merit, ["oak9a_obrien"], points=points, occurred_at=at(day)
        )
    minus = log_incident(
        world, "head_of_year", cats.disruption, ["oak9a_obrien"], points=-1, occurred_at=at(4)
    )

    before = figures(world, tmp_path)
    incident_delete(
        actor=world.users["headteacher"], incident=Incident.objects.get(pk=minus.pk), reason="Error"
    )
    after = figures(world, tmp_path)

    assert before == {"api": 4, "profile": 4, "pdf": 4, "timeline_has_net": 1}
    assert after == {"api": 5, "profile": 5, "pdf": 5, "timeline_has_net": 1}
