"""The appraisees page is headed by what it lists: an appraiser's own
appraisees, a headteacher's academy or every appraisal in the trust."""

import re

import pytest
import time_machine
from django.urls import reverse

from staff.models import Role

from .factories import grant
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    world.cycle = cycle_2026(world)  # type: ignore[attr-defined]
    make_appraisal(world.cycle, world.staff["teacher"], world.staff["academy_leader"])
    make_appraisal(world.cycle, world.staff["elm_teacher"], None)
    return world


def headings(client, user, **params) -> tuple[str, str]:
    """Return the page's <title> text and its <h1> text."""
    client.force_login(user)
    response = client.get(reverse("appraisal:appraisees"), params)
    assert response.status_code == 200
    body = response.content.decode()
    title = re.search(r"<title>(.*?)</title>", body, re.S)
    heading = re.search(r"<h1>(.*?)</h1>", body, re.S)
    assert title is not None
    assert heading is not None
    return title.group(1).strip(), heading.group(1).strip()


def test_appraiser_sees_my_appraisees(client, world):
    title, heading = headings(client, world.users["academy_leader"])
    assert heading == "My appraisees"
    assert title.startswith("My appraisees ·")


def test_headteacher_sees_academy_title(client, world):
    title, heading = headings(client, world.users["headteacher"])
    assert heading == "Appraisals at Oak Academy"
    assert title.startswith("Appraisals at Oak Academy ·")


def test_headteacher_own_filter_title(client, world):
    _title, heading = headings(client, world.users["headteacher"], mine="1")
    assert heading == "My appraisees"


def test_headteacher_of_two_academies_title(client, world):
    grant(world.staff["headteacher"], Role.HEADTEACHER, world.academies["elm"])
    _title, heading = headings(client, world.users["headteacher"])
    assert heading == "Appraisals at Elm Academy and Oak Academy"


def test_trust_hr_sees_all_appraisals(client, world):
    title, heading = headings(client, world.users["trust_hr"])
    assert heading == "All appraisals"
    assert title.startswith("All appraisals ·")


def test_trust_hr_academy_filter_title(client, world):
    academy = world.academies["elm"]
    _title, heading = headings(client, world.users["trust_hr"], academy=str(academy.pk))
    assert heading == "Appraisals at Elm Academy"


def test_superuser_sees_all_appraisals(client, world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    _title, heading = headings(client, admin)
    assert heading == "All appraisals"


def test_title_without_cycle(client, world):
    world.cycle.appraisals.all().delete()
    world.cycle.delete()
    _title, heading = headings(client, world.users["trust_hr"])
    assert heading == "All appraisals"
