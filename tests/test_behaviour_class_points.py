"""Positive points for a whole class in one action."""

import datetime

import pytest
import time_machine

from behaviour.models import Incident
from progress.models import ClassMembership

from .factories_incidents import build_categories
from .personas import TODAY, build_personas
from .test_class_scope import make_class

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    return build_personas()


@pytest.fixture
def taught(world):
    group = make_class(world)
    for key in ("oak9a_obrien", "oak9b_patel"):
        ClassMembership.objects.create(
            group=group, pupil=world.pupils[key], start_date=datetime.date(2026, 9, 1)
        )
    return group


def login(client, world, persona: str):
    client.force_login(world.users[persona])
    return client


def test_class_points_one_incident(world, taught, client):
    cats = build_categories(world)
    url = f"/behaviour/classes/{taught.pk}/points/"
    pupils = [world.pupils["oak9a_obrien"].pk, world.pupils["oak9b_patel"].pk]

    page = login(client, world, "teacher").get(url)
    response = client.post(url, {"category": cats.merit.pk, "points": "1", "pupil": pupils})

    assert page.status_code == 200
    assert "Isla Patel" in page.content.decode()
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert sorted(incident.pupil_links.values_list("pupil_id", flat=True)) == sorted(pupils)
    assert set(incident.pupil_links.values_list("points", flat=True)) == {1}


def test_class_points_out_of_scope(world, taught, client):
    response = login(client, world, "elm_teacher").get(f"/behaviour/classes/{taught.pk}/points/")

    assert response.status_code == 404
    assert not Incident.objects.exists()


def test_class_page_links_points(world, taught, client):
    html = login(client, world, "teacher").get(f"/progress/classes/{taught.pk}/").content.decode()

    assert f'href="/behaviour/classes/{taught.pk}/points/"' in html


def test_class_points_error_shown_once(world, taught, client):
    cats = build_categories(world)
    pupils = [world.pupils["oak9a_obrien"].pk, world.pupils["oak9b_patel"].pk]

    response = login(client, world, "teacher").post(
        f"/behaviour/classes/{taught.pk}/points/",
        {"category": cats.merit.pk, "points": "9", "pupil": pupils},
    )

    html = response.content.decode()
    assert response.status_code == 200
    # Once in the error summary and once by the field, not once per pupil.
    assert html.count("Points 9 are outside Merit&#x27;s range of 1 to 3.") == 2
    assert not Incident.objects.exists()
