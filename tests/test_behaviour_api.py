"""The incidents, sanctions and follow-ups API: scope (list and detail agree),
sensitive content, filters, writes through the services, validation and
query counts."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from behaviour.models import Action, Incident, IncidentPupil
from trust.clock import LONDON

from .factories_behaviour import CategoryFactory, PositiveCategoryFactory
from .factories_timeline import at, make_detention, make_follow_up, make_incident, make_terms
from .personas import ROLE_PERSONAS, TODAY, build_personas

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/incidents/"
SANCTIONS = "/api/v1/sanctions/"
FOLLOW_UPS = "/api/v1/follow-ups/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    make_terms(2026, world.academic_year.pk)
    trust = world.academies["oak"].trust
    world.merit = PositiveCategoryFactory(trust=trust, name="Merit")
    world.disruption = CategoryFactory(trust=trust, name="Low-level disruption")
    world.safeguarding = CategoryFactory(
        trust=trust, name="Safeguarding concern", sensitive=True, default_points=0
    )
    teacher = world.staff["teacher"]
    world.obrien_merit = make_incident(
        pupils=[world.pupils["oak9a_obrien"]],
        category=world.merit,
        occurred_at=at(datetime.date(2026, 11, 10)),
        reported_by=teacher,
        points=2,
    )
    world.taylor_disruption = make_incident(
        pupils=[world.pupils["oak10a_taylor"]],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 11, 12)),
        reported_by=teacher,
        points=-1,
    )
    world.patel_sensitive = make_incident(
        pupils=[world.pupils["oak9b_patel"]],
        category=world.safeguarding,
        occurred_at=at(datetime.date(2026, 12, 1)),
        reported_by=teacher,
        points=-2,
        sensitive_kind="safeguarding",
        description="Disclosure made to the tutor",
    )
    world.elm_incident = make_incident(
        pupils=[world.pupils["elm9e_ashdown"]],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 11, 20)),
        reported_by=world.staff["elm_teacher"],
    )
    return world


def client_for(world, persona):
    client = APIClient()
    client.force_authenticate(world.users[persona])
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# Scope -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(ROLE_PERSONAS))
def test_list_and_detail_return_same_set(world, persona):
    client = client_for(world, persona)
    listed = ids(client.get(INCIDENTS))

    reachable = {
        incident.pk
        for incident in Incident.objects.all()
        if client.get(f"{INCIDENTS}{incident.pk}/").status_code == 200
    }

    assert listed == reachable


def test_head_of_year_sees_only_year_incidents(world):
    client = client_for(world, "head_of_year")

    listed = ids(client.get(INCIDENTS))
    detail = client.get(f"{INCIDENTS}{world.taylor_disruption.pk}/")
    by_pupil = ids(client.get(INCIDENTS, {"pupil": world.pupils["oak10a_taylor"].pk}))

    assert listed == {world.obrien_merit.pk, world.patel_sensitive.pk}
    assert detail.status_code == 404
    assert "Taylor" not in detail.content.decode()
    assert by_pupil == set()


def test_trustee_sees_no_incidents(world):
    client = client_for(world, "trustee")

    assert ids(client.get(INCIDENTS)) == set()
    assert client.get(f"{INCIDENTS}{world.obrien_merit.pk}/").status_code == 404
    assert ids(client.get(SANCTIONS)) == set()
    assert ids(client.get(FOLLOW_UPS)) == set()


def test_elm_teacher_gets_404_for_oak_incident(world):
    response = client_for(world, "elm_teacher").get(f"{INCIDENTS}{world.obrien_merit.pk}/")

    assert response.status_code == 404
    assert "O'Brien" not in response.content.decode()


# Sensitive content -------------------------------------------------------------


def test_sensitive_content_null_without_permission(world):
    response = client_for(world, "head_of_year").get(f"{INCIDENTS}{world.patel_sensitive.pk}/")

    data = response.json()
    assert data["restricted"] is True
    assert data["description"] is None
    assert data["category"] is None
    assert data["category_name"] is None
    assert data["location"] is None
    assert data["sensitive_kind"] is None
    assert data["date"] == "2026-12-01"
    assert data["pupils"][0]["points"] == -2
    assert "Disclosure" not in response.content.decode()


def test_sensitive_content_shown_to_safeguarding_lead(world):
    response = client_for(world, "safeguarding_lead").get(f"{INCIDENTS}{world.patel_sensitive.pk}/")

    data = response.json()
    assert data["restricted"] is False
    assert data["description"] == "Disclosure made to the tutor"
    assert data["category_name"] == "Safeguarding concern"
    assert data["sensitive_kind"] == "safeguarding"


def test_sensitive_action_and_follow_up_notes_null(world):
    patel = world.pupils["oak9b_patel"]
    detention = make_detention(world.patel_sensitive, patel, datetime.date(2026, 12, 2))
    detention.notes = "Kept apart from the other pupil"
    detention.save()
    follow_up = make_follow_up(
        world.patel_sensitive, world.staff["teacher"], datetime.date(2026, 12, 8), "Tell the DSL"
    )
    hidden = client_for(world, "head_of_year")
    permitted = client_for(world, "safeguarding_lead")

    assert hidden.get(f"{SANCTIONS}{detention.pk}/").json()["notes"] is None
    assert permitted.get(f"{SANCTIONS}{detention.pk}/").json()["notes"] == (
        "Kept apart from the other pupil"
    )
    assert hidden.get(f"{FOLLOW_UPS}{follow_up.pk}/").json()["note"] is None
    assert permitted.get(f"{FOLLOW_UPS}{follow_up.pk}/").json()["note"] == "Tell the DSL"
    owner = client_for(world, "teacher")
    assert owner.get(f"{FOLLOW_UPS}{follow_up.pk}/").json()["note"] == "Tell the DSL"


# Filters -----------------------------------------------------------------------


def test_filters_pupil_academy_dates_polarity(world):
    client = client_for(world, "trust_leader")
    oak = world.academies["oak"].pk

    assert ids(client.get(INCIDENTS, {"pupil": world.pupils["oak9a_obrien"].pk})) == {
        world.obrien_merit.pk
    }
    assert world.elm_incident.pk not in ids(client.get(INCIDENTS, {"academy": oak}))
    assert ids(client.get(INCIDENTS, {"from": "2026-11-11", "to": "2026-11-30"})) == {
        world.taylor_disruption.pk,
        world.elm_incident.pk,
    }
    assert ids(client.get(INCIDENTS, {"polarity": "positive"})) == {world.obrien_merit.pk}


@pytest.mark.parametrize(
    ("params", "field", "value"),
    [
        ({"from": "2026-13-01"}, "from", "2026-13-01"),
        ({"to": "04/12/2026"}, "to", "04/12/2026"),
        ({"polarity": "neutral"}, "polarity", "neutral"),
        ({"pupil": "abc"}, "pupil", "abc"),
    ],
)
def test_bad_filter_is_400_naming_value(world, params, field, value):
    response = client_for(world, "headteacher").get(INCIDENTS, params)

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert value in errors[field][0]


# Writes ------------------------------------------------------------------------


def incident_body(world, **overrides):
    body = {
        "academy": world.academies["oak"].pk,
        "occurred_at": "2026-12-04T09:15:00",
        "category": world.disruption.pk,
        "pupils": [{"pupil": world.pupils["oak9a_obrien"].pk, "points": -2}],
        "location": "corridor",
        "description": "Running in the corridor",
    }
    body.update(overrides)
    return body


def test_create_incident_returns_numbers_and_iso_dates(world):
    response = client_for(world, "head_of_year").post(
        INCIDENTS, incident_body(world), format="json"
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["date"] == "2026-12-04"
    assert data["occurred_at"].startswith("2026-12-04T09:15:00")
    assert data["pupils"][0]["points"] == -2
    assert data["version"] == 1
    assert data["reported_by"] == world.staff["head_of_year"].pk
    assert IncidentPupil.objects.filter(incident_id=data["id"]).count() == 1


def test_create_out_of_scope_pupil_is_404(world):
    before = Incident.objects.count()
    body = incident_body(
        world,
        pupils=[
            {"pupil": world.pupils["oak9a_obrien"].pk},
            {"pupil": world.pupils["oak10a_taylor"].pk},
        ],
    )

    response = client_for(world, "head_of_year").post(INCIDENTS, body, format="json")

    assert response.status_code == 404
    assert "Taylor" not in response.content.decode()
    assert Incident.objects.count() == before


def test_create_points_out_of_range_is_400(world):
    before = Incident.objects.count()
    body = incident_body(world, pupils=[{"pupil": world.pupils["oak9a_obrien"].pk, "points": 999}])

    response = client_for(world, "head_of_year").post(INCIDENTS, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["pupils.0.points"]
    assert "999" in errors["pupils.0.points"][0]
    assert Incident.objects.count() == before


def test_create_bad_shape_is_400_naming_value(world):
    response = client_for(world, "head_of_year").post(
        INCIDENTS, incident_body(world, category="abc", location="roof"), format="json"
    )

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["category"]
    assert "'abc'" in errors["category"][0]


def test_create_bad_location_is_400_from_service(world):
    response = client_for(world, "head_of_year").post(
        INCIDENTS, incident_body(world, location="roof"), format="json"
    )

    assert response.status_code == 400
    assert "roof" in response.json()["location"][0]


def test_create_with_detention_writes_all_or_nothing(world):
    before = (Incident.objects.count(), Action.objects.count())
    body = incident_body(
        world,
        actions=[{"kind": "detention", "date": "2026-12-07", "duration_minutes": 999}],
    )

    response = client_for(world, "head_of_year").post(INCIDENTS, body, format="json")

    assert response.status_code == 400
    assert "999" in response.json()["actions.0.duration_minutes"][0]
    assert (Incident.objects.count(), Action.objects.count()) == before


def test_patch_incident_with_version_and_reason(world):
    client = client_for(world, "headteacher")
    url = f"{INCIDENTS}{world.obrien_merit.pk}/"

    changed = client.patch(
        url, {"version": 1, "reason": "Typo", "description": "Helped a visitor"}, format="json"
    )
    stale = client.patch(
        url, {"version": 1, "reason": "Again", "description": "Other"}, format="json"
    )

    assert changed.status_code == 200, changed.content
    assert changed.json()["description"] == "Helped a visitor"
    assert changed.json()["version"] == 2
    assert stale.status_code == 400
    assert list(stale.json()) == ["version"]


def test_put_is_not_allowed(world):
    response = client_for(world, "headteacher").put(
        f"{INCIDENTS}{world.obrien_merit.pk}/", {}, format="json"
    )

    assert response.status_code == 405


def test_delete_needs_leader_and_reason(world):
    url = f"{INCIDENTS}{world.obrien_merit.pk}/"

    by_tutor = client_for(world, "tutor").delete(url, {"reason": "Wrong pupil"}, format="json")
    without_reason = client_for(world, "headteacher").delete(url, {}, format="json")
    by_head = client_for(world, "headteacher").delete(url, {"reason": "Wrong pupil"}, format="json")

    assert by_tutor.status_code == 403
    assert without_reason.status_code == 400
    assert "reason" in without_reason.json()
    assert by_head.status_code == 204
    assert not Incident.objects.filter(pk=world.obrien_merit.pk).exists()


def test_sanction_create_and_record_attendance(world):
    client = client_for(world, "head_of_year")
    created = client.post(
        SANCTIONS,
        {
            "incident": world.obrien_merit.pk,
            "kind": "detention",
            "date": "2026-12-03",
            "duration_minutes": 30,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    action_id = created.json()[0]["id"]

    updated = client.patch(f"{SANCTIONS}{action_id}/", {"attended": True}, format="json")

    assert updated.status_code == 200, updated.content
    assert updated.json()["attended"] is True
    assert updated.json()["duration_minutes"] == 30
    assert Action.objects.get(pk=action_id).attended is True


def test_sanction_attendance_before_the_day_is_400(world):
    action = make_detention(
        world.obrien_merit, world.pupils["oak9a_obrien"], datetime.date(2026, 12, 9)
    )

    response = client_for(world, "head_of_year").patch(
        f"{SANCTIONS}{action.pk}/", {"attended": True}, format="json"
    )

    assert response.status_code == 400
    assert "09/12/2026" in response.json()["attended"][0]


def test_sanction_on_out_of_scope_incident_is_404(world):
    response = client_for(world, "head_of_year").post(
        SANCTIONS,
        {"incident": world.taylor_disruption.pk, "kind": "detention", "date": "2026-12-07"},
        format="json",
    )

    assert response.status_code == 404
    assert not Action.objects.exists()


def test_follow_up_create_and_resolve(world):
    client = client_for(world, "head_of_year")
    created = client.post(
        FOLLOW_UPS,
        {
            "incident": world.obrien_merit.pk,
            "owner": world.staff["tutor"].pk,
            "due_on": "2026-12-09",
            "note": "Tell parents",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"{FOLLOW_UPS}{created.json()['id']}/resolve/"

    resolved = client.post(url, {"resolution": "Phoned home"}, format="json")
    again = client.post(url, {"resolution": "Phoned again"}, format="json")

    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    assert again.status_code == 400
    assert list(again.json()) == ["status"]


def test_follow_up_past_due_date_is_400(world):
    response = client_for(world, "head_of_year").post(
        FOLLOW_UPS,
        {
            "incident": world.obrien_merit.pk,
            "owner": world.staff["tutor"].pk,
            "due_on": "2026-11-01",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "01/11/2026" in response.json()["due_on"][0]


def test_follow_ups_overdue_flag(world):
    owner = world.staff["head_of_year"]
    late = make_follow_up(world.obrien_merit, owner, datetime.date(2026, 12, 1))
    later = make_follow_up(world.obrien_merit, owner, datetime.date(2026, 12, 11))

    rows = {
        row["id"]: row
        for row in client_for(world, "head_of_year").get(FOLLOW_UPS).json()["results"]
    }

    assert rows[late.pk]["overdue"] is True
    assert rows[later.pk]["overdue"] is False


# Query counts and schema -------------------------------------------------------


def count_list_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def add_incidents(world, count):
    teacher = world.staff["teacher"]
    for index in range(count):
        incident = make_incident(
            pupils=[world.pupils["oak9a_obrien"], world.pupils["oak9a_smithjones"]],
            category=world.disruption,
            occurred_at=at(datetime.date(2026, 10, 1) + datetime.timedelta(days=index)),
            reported_by=teacher,
        )
        make_detention(incident, world.pupils["oak9a_obrien"], datetime.date(2026, 12, 1))
        make_follow_up(incident, teacher, datetime.date(2026, 12, 10))


@pytest.mark.parametrize("path", [INCIDENTS, SANCTIONS, FOLLOW_UPS])
def test_list_queries_do_not_grow(world, path):
    client = client_for(world, "head_of_year")
    add_incidents(world, 3)
    client.get(path)
    few = count_list_queries(client, path)

    add_incidents(world, 27)
    many = count_list_queries(client, path)

    assert many == few


def test_schema_generates(world):
    response = client_for(world, "headteacher").get("/api/schema/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/incidents/{id}/" in text
    assert "/api/v1/follow-ups/{id}/resolve/" in text
