"""Appraisal pages after a newcomer's review: who may be chosen as appraiser,
no preselected agreement when signing, locked forms shown as notices,
required-field messages, lower-case labels inside sentences and the overdue
count on the appraisees list."""

import datetime
import html
import re

import pytest
import time_machine
from django.urls import reverse

from appraisal.models import Appraisal

from .factories import StaffFactory
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

Status = Appraisal.Status


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    world.cycle = cycle_2026(world)  # type: ignore[attr-defined]
    return world


def appraisal_of(world, status=Status.DRAFT, **kwargs) -> Appraisal:
    """The teacher's appraisal, with the academy leader as appraiser."""
    return make_appraisal(
        world.cycle, world.staff["teacher"], world.staff["academy_leader"], status=status, **kwargs
    )


def get(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


def post(client, user, name, *args, **data):
    client.force_login(user)
    return client.post(reverse(name, args=args), data)


def visible_text(response) -> str:
    """The page's text with tags removed and spaces collapsed."""
    body = response.content.decode()
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def option_ids(response, name: str) -> set[int]:
    """The ids offered by the <select> named `name`."""
    body = response.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None, f"no <select name={name!r}> on the page"
    return {int(value) for value in re.findall(r'<option value="(\d+)"', select.group(1))}


# Choosing the appraiser ----------------------------------------------------------------


def test_headteacher_appraiser_choices_include_central_team(client, world):
    head = world.staff["headteacher"]
    ceo = world.staff["trust_leader"]
    left_central = StaffFactory(academy=None, left_on=TODAY.date() - datetime.timedelta(days=1))
    elm_teacher = world.staff["elm_teacher"]
    appraisal = make_appraisal(world.cycle, head, ceo)
    assert appraisal.track == "headteacher"

    response = get(client, world.users["trust_hr"], "appraisal:appraiser", appraisal.pk)

    assert response.status_code == 200
    offered = option_ids(response, "appraiser")
    assert ceo.pk in offered
    assert world.staff["trust_hr"].pk in offered
    assert world.staff["teacher"].pk in offered
    assert head.pk not in offered
    assert left_central.pk not in offered
    assert world.staff["trustee"].pk not in offered
    assert elm_teacher.pk not in offered


def test_appraiser_choices_keep_current_appraiser_elsewhere(client, world):
    elm_teacher = world.staff["elm_teacher"]
    appraisal = make_appraisal(world.cycle, world.staff["teacher"], elm_teacher)

    response = get(client, world.users["trust_hr"], "appraisal:appraiser", appraisal.pk)

    assert elm_teacher.pk in option_ids(response, "appraiser")


def test_headteacher_appraiser_set_to_central_team(client, world):
    head = world.staff["headteacher"]
    appraisal = make_appraisal(world.cycle, head, world.staff["academy_leader"])

    response = post(
        client,
        world.users["trust_hr"],
        "appraisal:appraiser",
        appraisal.pk,
        appraiser=str(world.staff["trust_leader"].pk),
    )

    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.appraiser == world.staff["trust_leader"]
