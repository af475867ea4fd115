"""The behaviour pages: the log form, one incident and points for a tutor group."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from behaviour.models import Action, Incident, IncidentPupil
from behaviour.services import ActionInput
from pupils.models import Enrolment
from trust import clock
from trust.models import AuditEvent

from .factories import PupilFactory
from .factories_incidents import build_categories, log_incident
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

LOG_URL = "/behaviour/log/"
THREE = ["oak9a_obrien", "oak9a_smithjones", "oak9b_patel"]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=clock.LONDON), tick=False):
        yield


@pytest.fixture
def world():
    return build_personas()


@pytest.fixture
def cats(world):
    return build_categories(world)


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def body(response):
    return response.content.decode()


def ids(world, *keys):
    return [world.pupils[key].pk for key in keys]


def log_data(world, category, pupil_keys, points, **extra):
    data = {
        "academy": world.academies["oak"].pk,
        "occurred_date": "04/12/2026",
        "occurred_time": "09:15",
        "category": category.pk,
        "location": "classroom",
        "lesson": "Period 2",
        "subject": "Maths",
        "description": "Talked over the teacher repeatedly",
        "reported_by": world.staff["head_of_year"].pk,
        "pupil": ids(world, *pupil_keys),
        **extra,
    }
    for pupil_id in ids(world, *pupil_keys):
        data[f"role_{pupil_id}"] = "involved"
        data[f"points_{pupil_id}"] = str(points)
    return data


# The log form -------------------------------------------------------------------


def test_log_page_lists_pupils_in_scope(world, cats):
    response = client_for(world, "head_of_year").get(LOG_URL)

    assert response.status_code == 200
    html = body(response)
    assert "Aoife O&#x27;Brien" in html
    assert "Isla Patel" in html
    assert "Oliver Taylor" not in html
    assert "Elowen Ashdown" not in html
    assert 'label for="pupil-' in html
    assert "Disruption (-3 to -1 points)" in html
    assert "Oak star (+1 to +3 points), Oak Academy&#x27;s own, counts as Merit" in html
    assert "Elm leaf" not in html
    assert 'value="09:00"' in html or 'value="10:00"' in html


def test_log_page_preselects_pupils(world, cats):
    obrien, patel = ids(world, "oak9a_obrien", "oak9b_patel")

    html = body(client_for(world, "head_of_year").get(f"{LOG_URL}?pupils={obrien},{patel}"))

    assert f'value="{obrien}" id="pupil-{obrien}" checked' in html
    assert f'value="{patel}" id="pupil-{patel}" checked' in html
    assert "Pupils (2 selected)" in html


def test_log_page_preselects_tutor_group(world, cats):
    group = world.tutor_groups["9A"]

    html = body(client_for(world, "head_of_year").get(f"{LOG_URL}?tutor_group={group.pk}"))

    assert "Pupils (2 selected)" in html


def test_log_page_bad_parameters(world, cats):
    client = client_for(world, "tutor")
    patel = world.pupils["oak9b_patel"].pk

    assert client.get(f"{LOG_URL}?pupils={patel}").status_code == 404
    assert client.get(f"{LOG_URL}?tutor_group={world.tutor_groups['9B'].pk}").status_code == 404
    assert client.get(f"{LOG_URL}?pupils=1;2").status_code == 400
    assert client_for(world, "trustee").get(LOG_URL).status_code == 403


def test_log_form_saves_one_incident(world, cats):
    # Case B1 through the form, with a detention for each pupil.
    data = log_data(
        world, cats.disruption, THREE, -2, detention_date="07/12/2026", detention_minutes="30"
    )

    response = client_for(world, "head_of_year").post(LOG_URL, data)

    assert response.status_code == 302
    incident = Incident.objects.get()
    assert response["Location"] == f"{LOG_URL}?saved={incident.pk}"
    assert incident.pupil_links.count() == 3
    assert set(incident.pupil_links.values_list("points", flat=True)) == {-2}
    assert Action.objects.filter(kind="detention", duration_minutes=30).count() == 3
    assert incident.lesson == "Period 2"

    html = body(client_for(world, "head_of_year").get(response["Location"]))
    assert "Saved: Disruption on 04/12/2026 09:15" in html
    assert f'href="/behaviour/incidents/{incident.pk}/"' in html
    assert "Detention for Isla Patel on 07/12/2026, 30 minutes" in html


@pytest.mark.parametrize("points", ["-5", "999"])
def test_log_form_rejects_merit_points(world, cats, points):
    # Case B2: Merit allows +1 to +3.
    data = log_data(world, cats.merit, ["oak9b_patel"], points)

    response = client_for(world, "head_of_year").post(LOG_URL, data)

    assert response.status_code == 200
    html = body(response)
    assert f"Isla Patel: Points {points} are outside Merit&#x27;s range of 1 to 3." in html
    assert f'value="{points}"' in html
    assert "Talked over the teacher repeatedly" in html
    assert "Nothing was saved" in html
    assert not Incident.objects.exists()
    assert not IncidentPupil.objects.exists()


def test_log_form_errors_next_to_fields(world, cats):
    data = log_data(
        world,
        cats.disruption,
        ["oak9b_patel"],
        -1,
        occurred_date="31/02/2026",
        detention_minutes="lots",
    )

    html = body(client_for(world, "head_of_year").post(LOG_URL, data))

    assert 'id="id_occurred_date-error"' in html
    assert "“31/02/2026” is not a date" in html
    assert "“lots” is not a whole number" in html
    assert not Incident.objects.exists()


def test_log_form_service_errors_placed(world, cats):
    data = log_data(
        world,
        cats.disruption,
        ["oak9b_patel"],
        -1,
        detention_date="07/12/2026",
        detention_minutes="300",
        contact_method="phone",
    )

    html = body(client_for(world, "head_of_year").post(LOG_URL, data))

    assert 'id="id_detention_minutes-error"' in html
    assert "Detention minutes 300 are outside 1 to 240." in html
    assert 'id="id_contacted_date-error"' in html
    assert not Incident.objects.exists()


def test_tutor_cannot_post_other_group(world, cats):
    # Case X2 through the form: 404 and nothing written.
    data = log_data(world, cats.disruption, ["oak9b_patel"], -1)
    data["reported_by"] = world.staff["tutor"].pk

    response = client_for(world, "tutor").post(LOG_URL, data)

    assert response.status_code == 404
    assert "Patel" not in body(response)
    assert not Incident.objects.exists()


def test_log_page_queries_fixed(world, cats):
    client = client_for(world, "headteacher")
    group = world.tutor_groups["9A"]
    client.get(f"{LOG_URL}?tutor_group={group.pk}")

    with CaptureQueriesContext(connection) as few:
        response = client.get(f"{LOG_URL}?tutor_group={group.pk}")
    assert response.status_code == 200
    for _ in range(8):
        Enrolment.objects.create(
            pupil=PupilFactory(),
            academy=group.academy,
            academic_year=group.academic_year,
            year_group=group.year_group,
            tutor_group=group,
            start_date=group.academic_year.start_date,
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{LOG_URL}?tutor_group={group.pk}")

    assert "Pupils (10 selected)" in body(response)
    assert len(many) == len(few)


# One incident --------------------------------------------------------------------


def test_detail_shows_only_visible_pupils(world, cats):
    incident = log_incident(world, "head_of_year", cats.disruption, THREE, points=-2)

    html = body(client_for(world, "tutor").get(f"/behaviour/incidents/{incident.pk}/"))

    assert "Aoife O&#x27;Brien" in html
    assert "Noah Smith-Jones" in html
    assert "Isla Patel" not in html
    assert "and 1 other pupil." in html
    assert (
        client_for(world, "elm_teacher").get(f"/behaviour/incidents/{incident.pk}/").status_code
        == 404
    )


def test_sensitive_incident_restricted(world, cats):
    incident = log_incident(
        world,
        "safeguarding_lead",
        cats.safeguarding,
        ["oak9a_obrien", "oak9a_smithjones"],
        description="Disclosure made to the tutor",
        location="corridor",
    )

    html = body(client_for(world, "tutor").get(f"/behaviour/incidents/{incident.pk}/"))
    assert "Restricted incident" in html
    assert "04/12/2026" in html
    assert "Oak Academy" in html
    assert "Safeguarding concern" not in html
    assert "Disclosure" not in html
    assert "Corridor" not in html
    assert "Smith-Jones" not in html

    html = body(client_for(world, "safeguarding_lead").get(f"/behaviour/incidents/{incident.pk}/"))
    assert "Disclosure made to the tutor" in html


def test_correct_through_page(world, cats):
    incident = log_incident(world, "tutor", cats.disruption, ["oak9a_obrien"], points=-1)
    obrien = world.pupils["oak9a_obrien"].pk
    client = client_for(world, "head_of_year")
    url = f"/behaviour/incidents/{incident.pk}/"
    assert "Correct this incident" in body(client.get(url))

    response = client.post(
        url,
        {
            "form": "correct",
            "seen_version": 1,
            "occurred_date": "04/12/2026",
            "occurred_time": "09:30",
            "category": cats.disruption.pk,
            "location": "corridor",
            "lesson": "",
            "subject": "",
            "description": "Ran in the corridor",
            "sensitive_kind": "",
            "reason": "Wrong place recorded",
            f"role_{obrien}": "instigator",
            f"points_{obrien}": "-3",
        },
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.location == "corridor"
    assert incident.version == 2
    link = incident.pupil_links.get()
    assert link.role == "instigator"
    assert link.points == -3
    html = body(client.get(url))
    assert "Wrong place recorded" in html
    assert "Ran in the corridor" in html


def test_correct_points_out_of_range_on_page(world, cats):
    incident = log_incident(world, "tutor", cats.disruption, ["oak9a_obrien"], points=-1)
    obrien = world.pupils["oak9a_obrien"].pk

    response = client_for(world, "tutor").post(
        f"/behaviour/incidents/{incident.pk}/",
        {
            "form": "correct",
            "seen_version": 1,
            "occurred_date": "04/12/2026",
            "occurred_time": "09:30",
            "category": cats.disruption.pk,
            "reason": "Points were too low",
            f"role_{obrien}": "involved",
            f"points_{obrien}": "-5",
        },
    )

    assert response.status_code == 200
    html = body(response)
    assert f'id="id_points_{obrien}-error"' in html
    assert "Points -5 are outside Disruption&#x27;s range of -3 to -1." in html
    assert incident.pupil_links.get().points == -1


def test_correct_needs_reason_on_page(world, cats):
    incident = log_incident(world, "tutor", cats.disruption, ["oak9a_obrien"])
    url = f"/behaviour/incidents/{incident.pk}/"

    response = client_for(world, "tutor").post(
        url,
        {
            "form": "correct",
            "seen_version": 1,
            "occurred_date": "04/12/2026",
            "occurred_time": "09:30",
            "category": cats.disruption.pk,
            "reason": "",
            "description": "Changed",
        },
    )

    assert response.status_code == 200
    assert "Reason for the correction is missing." in body(response)
    incident.refresh_from_db()
    assert incident.description == ""


def test_delete_only_for_leaders_on_page(world, cats):
    incident = log_incident(world, "head_of_year", cats.disruption, THREE, points=-2)
    url = f"/behaviour/incidents/{incident.pk}/"
    data = {"form": "delete", "reason": "Logged twice", "confirm": "on"}

    assert "Delete this incident" not in body(client_for(world, "head_of_year").get(url))
    assert client_for(world, "head_of_year").post(url, data).status_code == 403
    head = client_for(world, "headteacher")
    unconfirmed = head.post(url, {"form": "delete", "reason": "Logged twice"})
    assert "Confirmation is missing" in body(unconfirmed)
    assert Incident.objects.filter(pk=incident.pk).exists()

    response = head.post(url, data)

    assert response.status_code == 302
    assert not Incident.objects.exists()
    assert AuditEvent.objects.filter(
        model="behaviour.Incident", action="delete", reason="Logged twice"
    ).exists()


def test_record_detention_attended(world, cats):
    earlier = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=clock.LONDON)
    incident = log_incident(
        world,
        "head_of_year",
        cats.disruption,
        ["oak9a_obrien"],
        occurred_at=earlier,
        actions=[
            ActionInput(kind="detention", date=datetime.date(2026, 12, 2), duration_minutes=20)
        ],
    )
    action = incident.actions.get()
    url = f"/behaviour/incidents/{incident.pk}/"
    client = client_for(world, "head_of_year")
    assert "Did Aoife O&#x27;Brien attend?" in body(client.get(url))

    response = client.post(
        url, {"form": "attended", "action": action.pk, f"action{action.pk}-attended": "no"}
    )

    assert response.status_code == 302
    action.refresh_from_db()
    assert action.attended is False


# Points for a tutor group ---------------------------------------------------------


def test_group_points_page(world, cats):
    group = world.tutor_groups["9A"]
    client = client_for(world, "tutor")
    url = f"/behaviour/tutor-groups/{group.pk}/points/"
    html = body(client.get(url))
    assert "Noah Smith-Jones" in html
    assert "Oak star" in html
    assert "Disruption" not in html

    obrien = world.pupils["oak9a_obrien"].pk
    response = client.post(url, {"category": cats.merit.pk, "points": "2", "pupil": [obrien]})

    assert response.status_code == 302
    incident = Incident.objects.get()
    assert list(incident.pupil_links.values_list("pupil_id", "points")) == [(obrien, 2)]


def test_tutor_group_page_links_points(world, cats):
    group = world.tutor_groups["9A"]

    html = body(client_for(world, "tutor").get(f"/academies/tutor-groups/{group.pk}/"))

    assert f'href="/behaviour/tutor-groups/{group.pk}/points/"' in html


def test_group_points_other_group_404(world, cats):
    url = f"/behaviour/tutor-groups/{world.tutor_groups['9B'].pk}/points/"

    assert client_for(world, "tutor").get(url).status_code == 404


def test_group_points_rejects_bad_points(world, cats):
    url = f"/behaviour/tutor-groups/{world.tutor_groups['9A'].pk}/points/"
    obrien = world.pupils["oak9a_obrien"].pk

    response = client_for(world, "tutor").post(
        url, {"category": cats.merit.pk, "points": "7", "pupil": [obrien]}
    )

    assert response.status_code == 200
    assert "Points 7 are outside Merit&#x27;s range of 1 to 3." in body(response)
    assert not Incident.objects.exists()
