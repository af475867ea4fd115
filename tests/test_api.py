"""The REST API: each endpoint's fields, filters and their errors,
pagination, tokens, sensitive fields, query counts, and the OpenAPI schema
and documentation pages."""

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from academies.models import OfstedInspection
from pupils.models import Enrolment, FsmPeriod
from trust.api import MAX_PAGE_SIZE, PageNumberPagination
from trust.clock import LONDON
from trust.models import AuditEvent

from .factories import PupilFactory, UserFactory
from .factories_api import ApiWorld, add_pupils, build_world, grant_safeguarding

pytestmark = pytest.mark.django_db

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 11, 10, 10, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world() -> ApiWorld:
    return build_world()


def client_for(world: ApiWorld, role: str) -> APIClient:
    client = APIClient()
    client.force_login(world.users[role])
    return client


@pytest.fixture
def leader(world: ApiWorld) -> APIClient:
    return client_for(world, "trust_leader")


def results(client: APIClient, path: str, **params: object) -> list[dict]:
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


# Authentication ----------------------------------------------------------------


def test_anonymous_request_rejected(world: ApiWorld) -> None:
    response = APIClient().get("/api/v1/pupils/")
    assert response.status_code == 401
    assert "credentials were not provided" in response.json()["detail"]


def test_token_flow(world: ApiWorld) -> None:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "oak.head", "password": "password"}, format="json"
    )
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(key=key).user == world.users["oak_head"]

    again = client.post("/api/v1/auth/token/", {"username": "oak.head", "password": "password"})
    assert again.json()["token"] == key

    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    rows = results(client, "/api/v1/pupils/")
    assert len(rows) == 4


def test_token_wrong_password(world: ApiWorld) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "oak.head", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Unable to sign in with the username and password given."]
    }
    assert not Token.objects.exists()


def test_token_missing_fields(world: ApiWorld) -> None:
    response = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["username"] == ["This field is required."]
    assert response.json()["password"] == ["This field is required."]


def test_token_inactive_user(world: ApiWorld) -> None:
    user = world.users["oak_head"]
    user.is_active = False
    user.save()
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "oak.head", "password": "password"}, format="json"
    )
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_invalid_token_rejected(world: ApiWorld) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/academies/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_token_request_ignores_session_csrf(world: ApiWorld) -> None:
    # A browser that is already signed in still gets a token without a CSRF token.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["oak_head"])
    response = client.post(
        "/api/v1/auth/token/", {"username": "oak.head", "password": "password"}, format="json"
    )
    assert response.status_code == 200


# Academies -----------------------------------------------------------------------


def test_academy_fields(world: ApiWorld, leader: APIClient) -> None:
    oak = world.academies["oak"]
    OfstedInspection.objects.create(
        academy=oak, inspected_on=datetime.date(2019, 3, 5), overall_grade=3
    )
    OfstedInspection.objects.create(
        academy=oak, inspected_on=datetime.date(2023, 6, 14), overall_grade=2
    )
    response = leader.get(f"/api/v1/academies/{oak.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == oak.pk
    assert body["name"] == "Oak Academy"
    assert body["urn"] == oak.urn
    assert body["dfe_number"] == oak.dfe_number
    assert body["phase"] == "secondary"
    assert body["age_range_low"] == 11
    assert body["age_range_high"] == 18
    assert body["joined_trust_on"] == "2015-09-01"
    assert body["closed_on"] is None
    assert body["pupils_on_roll"] == 4
    assert body["latest_ofsted"] == {
        "inspected_on": "2023-06-14",
        "overall_grade": 2,
        "special_measures": False,
        "outcome": "Good",
    }


def test_academy_without_inspection(world: ApiWorld, leader: APIClient) -> None:
    body = leader.get(f"/api/v1/academies/{world.academies['elm'].pk}/").json()
    assert body["latest_ofsted"] is None
    assert body["pupils_on_roll"] == 2


def test_academy_roll_excludes_leavers(world: ApiWorld, leader: APIClient) -> None:
    Enrolment.objects.filter(pupil=world.pupils["oak9a_1"]).update(
        end_date=datetime.date(2026, 10, 23)
    )
    body = leader.get(f"/api/v1/academies/{world.academies['oak'].pk}/").json()
    assert body["pupils_on_roll"] == 3


def test_academy_phase_filter(world: ApiWorld, leader: APIClient) -> None:
    rows = results(leader, "/api/v1/academies/", phase="all_through")
    assert [row["name"] for row in rows] == ["Elm Academy"]
    assert results(leader, "/api/v1/academies/", phase="primary") == []


def test_academy_phase_filter_invalid(world: ApiWorld, leader: APIClient) -> None:
    response = leader.get("/api/v1/academies/", {"phase": "infant"})
    assert response.status_code == 400
    message = response.json()["phase"][0]
    assert "'infant' is not a valid phase" in message
    assert "secondary (Secondary)" in message
    assert "all_through (All-through)" in message


# Year groups and tutor groups ------------------------------------------------------


def test_year_group_fields(world: ApiWorld, leader: APIClient) -> None:
    oak9 = world.year_groups["oak9"]
    body = leader.get(f"/api/v1/year-groups/{oak9.pk}/").json()
    assert body == {
        "id": oak9.pk,
        "academy": world.academies["oak"].pk,
        "nc_year": 9,
        "name": "Year 9",
        "key_stage": "KS3",
        "pupils_on_roll": 3,
    }


def test_year_group_filters(world: ApiWorld, leader: APIClient) -> None:
    oak = world.academies["oak"].pk
    rows = results(leader, "/api/v1/year-groups/", academy=oak)
    assert {row["nc_year"] for row in rows} == {9, 10}
    rows = results(leader, "/api/v1/year-groups/", nc_year=9)
    assert {row["id"] for row in rows} == {
        world.year_groups["oak9"].pk,
        world.year_groups["elm9"].pk,
    }
    rows = results(leader, "/api/v1/year-groups/", academy=oak, nc_year=10)
    assert [row["id"] for row in rows] == [world.year_groups["oak10"].pk]


@pytest.mark.parametrize("value", ["14", "Y9", "-2", "nine"])
def test_year_group_nc_year_invalid(world: ApiWorld, leader: APIClient, value: str) -> None:
    response = leader.get("/api/v1/year-groups/", {"nc_year": value})
    assert response.status_code == 400
    message = response.json()["nc_year"][0]
    assert f"'{value}' is not a valid national curriculum year" in message
    assert "-1 (Nursery)" in message
    assert "13 (Year 13)" in message


def test_tutor_group_fields(world: ApiWorld, leader: APIClient) -> None:
    group = world.tutor_groups["oak9a"]
    body = leader.get(f"/api/v1/tutor-groups/{group.pk}/").json()
    assert body == {
        "id": group.pk,
        "name": "9A",
        "academy": world.academies["oak"].pk,
        "year_group": world.year_groups["oak9"].pk,
        "academic_year": world.year.pk,
        "academic_year_name": "2026/27",
        "tutor": world.staff["oak_tutor9a"].pk,
        "tutor_name": "Tutor9a Oakson",
        "room": "",
        "pupils_on_roll": 2,
    }
    no_tutor = leader.get(f"/api/v1/tutor-groups/{world.tutor_groups['oak9b'].pk}/").json()
    assert no_tutor["tutor"] is None
    assert no_tutor["tutor_name"] is None


def test_tutor_group_filters(world: ApiWorld, leader: APIClient) -> None:
    groups = world.tutor_groups
    rows = results(leader, "/api/v1/tutor-groups/", academy=world.academies["oak"].pk)
    assert {row["name"] for row in rows} == {"9A", "9B", "10A"}
    rows = results(leader, "/api/v1/tutor-groups/", year_group=world.year_groups["oak9"].pk)
    assert {row["id"] for row in rows} == {groups["oak9a"].pk, groups["oak9b"].pk}
    rows = results(leader, "/api/v1/tutor-groups/", academic_year=world.year.pk)
    assert len(rows) == 4
    assert results(leader, "/api/v1/tutor-groups/", academic_year=world.year.pk + 1000) == []


# Pupils ----------------------------------------------------------------------------


def test_pupil_list_fields(world: ApiWorld, leader: APIClient) -> None:
    pupil = world.pupils["oak9a_1"]
    rows = results(leader, "/api/v1/pupils/", q=pupil.upn)
    assert len(rows) == 1
    row = rows[0]

    assert row["id"] == pupil.pk
    assert row["upn"] == pupil.upn
    assert row["legal_forename"] == "Amara"
    assert row["legal_surname"] == "Oakpupil"
    assert row["preferred_forename"] == "Amy"
    assert row["preferred_surname"] == ""
    assert row["display_name"] == "Amy Oakpupil"
    assert row["date_of_birth"] == "2012-10-01"
    assert row["sex"] == "F"
    assert row["sen_status"] == "K"
    assert row["eal"] is False
    # Looked after, so disadvantaged; the category itself is sensitive.
    assert row["disadvantaged"] is True
    assert row["pupil_premium"] == []

    assert row["current_enrolment"] == {
        "academy": world.academies["oak"].pk,
        "academy_name": "Oak Academy",
        "year_group": world.year_groups["oak9"].pk,
        "year_group_name": "Year 9",
        "tutor_group": world.tutor_groups["oak9a"].pk,
        "tutor_group_name": "9A",
        "start_date": "2026-09-02",
    }

    assert "sensitive" not in row
    assert "medical_notes" not in row
    assert "looked_after" not in row


def test_pupil_fsm_premium(world: ApiWorld, leader: APIClient) -> None:
    row = leader.get(f"/api/v1/pupils/{world.pupils['oak9a_2'].pk}/").json()
    assert row["disadvantaged"] is True
    assert row["pupil_premium"] == ["FSM Ever 6"]


def test_pupil_without_current_enrolment(world: ApiWorld, leader: APIClient) -> None:
    pupil = world.pupils["oak10a_1"]
    Enrolment.objects.filter(pupil=pupil).update(end_date=datetime.date(2026, 10, 23))
    body = leader.get(f"/api/v1/pupils/{pupil.pk}/").json()
    assert body["current_enrolment"] is None


def test_pupil_group_filters_use_today(world: ApiWorld, leader: APIClient) -> None:
    # Ben moves from 9B to 9A at half term: today's group counts, not last month's.
    ben = world.pupils["oak9b_1"]
    Enrolment.objects.filter(pupil=ben).update(end_date=datetime.date(2026, 10, 23))
    Enrolment.objects.create(
        pupil=ben,
        academy=world.academies["oak"],
        academic_year=world.year,
        year_group=world.year_groups["oak9"],
        tutor_group=world.tutor_groups["oak9a"],
        start_date=datetime.date(2026, 11, 2),
    )
    in_9a = results(leader, "/api/v1/pupils/", tutor_group=world.tutor_groups["oak9a"].pk)
    assert {row["id"] for row in in_9a} == {
        world.pupils["oak9a_1"].pk,
        world.pupils["oak9a_2"].pk,
        ben.pk,
    }
    assert results(leader, "/api/v1/pupils/", tutor_group=world.tutor_groups["oak9b"].pk) == []
    ben_row = leader.get(f"/api/v1/pupils/{ben.pk}/").json()
    assert ben_row["current_enrolment"]["tutor_group_name"] == "9A"


def test_pupil_academy_and_year_filters(world: ApiWorld, leader: APIClient) -> None:
    oak = world.academies["oak"].pk
    rows = results(leader, "/api/v1/pupils/", academy=oak, year_group=world.year_groups["oak10"].pk)
    assert [row["id"] for row in rows] == [world.pupils["oak10a_1"].pk]
    # An Elm year group with the Oak academy matches no single enrolment.
    assert (
        results(leader, "/api/v1/pupils/", academy=oak, year_group=world.year_groups["elm9"].pk)
        == []
    )


def test_pupil_sen_status_filter(world: ApiWorld, leader: APIClient) -> None:
    rows = results(leader, "/api/v1/pupils/", sen_status="E")
    assert [row["id"] for row in rows] == [world.pupils["elm9e_2"].pk]
    rows = results(leader, "/api/v1/pupils/", sen_status="N")
    assert len(rows) == 4


@pytest.mark.parametrize(
    "query",
    ["zoe", "ZOË", "o'brien", "O’Brien", "obrien-oakpupil zoe", "brien oak", "OBrien"],
)
def test_pupil_name_search(world: ApiWorld, leader: APIClient, query: str) -> None:
    rows = results(leader, "/api/v1/pupils/", q=query)
    assert [row["id"] for row in rows] == [world.pupils["oak9a_2"].pk]


def test_pupil_search_needs_every_word(world: ApiWorld, leader: APIClient) -> None:
    assert results(leader, "/api/v1/pupils/", q="zoe elmpupil") == []
    rows = results(leader, "/api/v1/pupils/", q="elmpupil")
    assert {row["id"] for row in rows} == {world.pupils["elm9e_1"].pk, world.pupils["elm9e_2"].pk}


def test_pupil_preferred_name_search(world: ApiWorld, leader: APIClient) -> None:
    rows = results(leader, "/api/v1/pupils/", q="amy")
    assert [row["id"] for row in rows] == [world.pupils["oak9a_1"].pk]


def test_pupil_upn_search(world: ApiWorld, leader: APIClient) -> None:
    pupil = world.pupils["elm9e_1"]
    rows = results(leader, "/api/v1/pupils/", q=pupil.upn.lower())
    assert [row["id"] for row in rows] == [pupil.pk]


def test_pupil_search_respects_scope(world: ApiWorld) -> None:
    client = client_for(world, "oak_hoy9")
    assert results(client, "/api/v1/pupils/", q="elmpupil") == []
    assert results(client, "/api/v1/pupils/", q=world.pupils["elm9e_1"].upn) == []


@pytest.mark.parametrize(
    ("params", "field", "value", "allowed"),
    [
        ({"sen_status": "X"}, "sen_status", "'X'", "N (No special educational needs)"),
        ({"academy": "abc"}, "academy", "'abc'", "a whole number from 1"),
        ({"year_group": "1.5"}, "year_group", "'1.5'", "a whole number from 1"),
        ({"tutor_group": "-3"}, "tutor_group", "'-3'", "a whole number from 1"),
        ({"academy": "0"}, "academy", "'0'", "a whole number from 1"),
        ({"academy": "9" * 30}, "academy", "'" + "9" * 30 + "'", "a whole number from 1"),
        ({"academy": "١٢"}, "academy", "'١٢'", "a whole number from 1"),
    ],
)
def test_pupil_filter_invalid(
    world: ApiWorld, leader: APIClient, params: dict, field: str, value: str, allowed: str
) -> None:
    response = leader.get("/api/v1/pupils/", params)
    assert response.status_code == 400
    messages = response.json()[field]
    assert len(messages) == 1
    assert value in messages[0]
    assert allowed in messages[0]


def test_pupil_search_too_long(world: ApiWorld, leader: APIClient) -> None:
    response = leader.get("/api/v1/pupils/", {"q": "a" * 101})
    assert response.status_code == 400
    assert "q" in response.json()


# Sensitive fields ------------------------------------------------------------------


def test_sensitive_fields_for_safeguarding_lead(world: ApiWorld) -> None:
    grant_safeguarding(world.staff["oak_head"], world.academies["oak"])
    client = client_for(world, "oak_head")
    pupil = world.pupils["oak9a_1"]
    body = client.get(f"/api/v1/pupils/{pupil.pk}/").json()
    assert body["sensitive"] == {
        "looked_after": True,
        "previously_looked_after": False,
        "medical_notes": "Carries an inhaler.",
        "safeguarding_notes": "Social worker: see file.",
        "sen_needs": [
            {
                "need": "SPLD",
                "need_name": "Specific learning difficulty",
                "rank": 1,
                "notes": "Dyslexia",
            }
        ],
    }
    assert body["pupil_premium"] == ["Looked after"]

    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW_SENSITIVE)
    assert event.actor == world.users["oak_head"]
    assert event.pupil_ref == pupil.pk
    assert event.object_id == str(pupil.pk)
    assert "medical_notes" in event.changes["fields"]


def test_sensitive_fields_hidden_without_permission(world: ApiWorld) -> None:
    client = client_for(world, "oak_head")
    pupil = world.pupils["oak9a_1"]
    response = client.get(f"/api/v1/pupils/{pupil.pk}/")
    body = response.json()
    assert body["sensitive"] is None
    assert body["pupil_premium"] == []
    assert "inhaler" not in response.content.decode()
    assert "Dyslexia" not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_SENSITIVE).exists()


def test_sensitive_fields_never_in_list(world: ApiWorld) -> None:
    grant_safeguarding(world.staff["oak_head"], world.academies["oak"])
    client = client_for(world, "oak_head")
    response = client.get("/api/v1/pupils/")
    assert response.status_code == 200
    assert "inhaler" not in response.content.decode()
    assert all("sensitive" not in row for row in response.json()["results"])
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_SENSITIVE).exists()


def test_safeguarding_lead_elsewhere_sees_none(world: ApiWorld) -> None:
    # Heading Oak shows Oak's pupils; safeguarding at Elm adds no Oak notes.
    grant_safeguarding(world.staff["oak_head"], world.academies["elm"])
    client = client_for(world, "oak_head")
    body = client.get(f"/api/v1/pupils/{world.pupils['oak9a_1'].pk}/").json()
    assert body["sensitive"] is None


# Staff -----------------------------------------------------------------------------


def test_staff_fields(world: ApiWorld, leader: APIClient) -> None:
    hoy = world.staff["oak_hoy9"]
    body = leader.get(f"/api/v1/staff/{hoy.pk}/").json()
    assert body == {
        "id": hoy.pk,
        "title": "",
        "first_name": "Hoy9",
        "last_name": "Oakson",
        "full_name": "Hoy9 Oakson",
        "job_title": "Teacher of English",
        "post_type": "pastoral",
        "academy": world.academies["oak"].pk,
        "academy_name": "Oak Academy",
        "line_manager": world.staff["oak_head"].pk,
        "email": "oak_hoy9@trust.example",
    }
    central = leader.get(f"/api/v1/staff/{world.staff['trust_admin'].pk}/").json()
    assert central["academy"] is None
    assert central["academy_name"] == "Central team"


def test_staff_filters(world: ApiWorld, leader: APIClient) -> None:
    rows = results(leader, "/api/v1/staff/", academy=world.academies["elm"].pk)
    assert {row["email"] for row in rows} == {"elm_head@trust.example", "elm_teacher@trust.example"}
    rows = results(leader, "/api/v1/staff/", post_type="pastoral")
    assert [row["id"] for row in rows] == [world.staff["oak_hoy9"].pk]


def test_staff_post_type_invalid(world: ApiWorld, leader: APIClient) -> None:
    response = leader.get("/api/v1/staff/", {"post_type": "cleaner"})
    assert response.status_code == 400
    message = response.json()["post_type"][0]
    assert "'cleaner' is not a valid post type" in message
    assert "teaching_assistant (Teaching assistant)" in message


# Pagination ------------------------------------------------------------------------


def test_pagination_shape(world: ApiWorld, leader: APIClient) -> None:
    first = leader.get("/api/v1/pupils/", {"page_size": 4}).json()
    assert first["count"] == 6
    assert len(first["results"]) == 4
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = leader.get("/api/v1/pupils/", {"page_size": 4, "page": 2}).json()
    assert len(second["results"]) == 2
    assert second["next"] is None
    assert second["previous"] is not None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(set(ids)) == 6


def test_pagination_page_out_of_range(world: ApiWorld, leader: APIClient) -> None:
    assert leader.get("/api/v1/pupils/", {"page": 99}).status_code == 404
    assert leader.get("/api/v1/pupils/", {"page": "abc"}).status_code == 404


def test_pagination_page_size_capped() -> None:
    paginator = PageNumberPagination()
    factory = APIRequestFactory()
    assert paginator.get_page_size(Request(factory.get("/", {"page_size": 100000}))) == 500
    assert paginator.get_page_size(Request(factory.get("/", {"page_size": 20}))) == 20
    assert paginator.get_page_size(Request(factory.get("/", {}))) == 50


@pytest.mark.parametrize("value", ["x", "0", "-5", "1.5"])
def test_invalid_page_size_rejected(world: ApiWorld, leader: APIClient, value: str) -> None:
    response = leader.get("/api/v1/pupils/", {"page_size": value})

    assert response.status_code == 400
    message = response.json()["page_size"][0]
    assert repr(value) in message
    assert "from 1 to 500" in message


def test_missing_credentials_get_401() -> None:
    response = APIClient().get("/api/v1/pupils/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert MAX_PAGE_SIZE == 500


def test_numbers_and_dates_are_json_types(world: ApiWorld, leader: APIClient) -> None:
    for row in results(leader, "/api/v1/academies/"):
        assert isinstance(row["pupils_on_roll"], int)
        assert ISO_DATE.match(row["joined_trust_on"])
    for row in results(leader, "/api/v1/year-groups/"):
        assert isinstance(row["pupils_on_roll"], int)
        assert isinstance(row["nc_year"], int)
    for row in results(leader, "/api/v1/pupils/"):
        assert ISO_DATE.match(row["date_of_birth"])
        assert isinstance(row["disadvantaged"], bool)


# Query counts ----------------------------------------------------------------------


@pytest.mark.parametrize("extra", [1, 36])
def test_pupil_list_queries_constant(
    world: ApiWorld, leader: APIClient, django_assert_max_num_queries, extra: int
) -> None:
    # 4 Oak pupils plus `extra`: 5 and 40 pupils cost the same number of queries.
    add_pupils(world.tutor_groups["oak9b"], extra)
    client = client_for(world, "oak_head")
    with django_assert_max_num_queries(10) as captured:
        response = client.get("/api/v1/pupils/", {"page_size": 500})
    assert response.status_code == 200
    assert response.json()["count"] == 4 + extra
    assert all(row["current_enrolment"] for row in response.json()["results"])
    assert len(captured.captured_queries) <= 10


def test_pupil_list_query_count_equal(world: ApiWorld) -> None:
    client = client_for(world, "oak_head")
    add_pupils(world.tutor_groups["oak9b"], 1)
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/pupils/", {"page_size": 500})
    add_pupils(world.tutor_groups["oak9b"], 35)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/api/v1/pupils/", {"page_size": 500})
    assert response.json()["count"] == 40
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.parametrize("resource", ["academies", "year-groups", "tutor-groups", "staff"])
def test_group_list_queries_constant(
    world: ApiWorld, leader: APIClient, django_assert_max_num_queries, resource: str
) -> None:
    add_pupils(world.tutor_groups["oak9b"], 30, with_fsm=False)
    with django_assert_max_num_queries(10):
        response = leader.get(f"/api/v1/{resource}/")
    assert response.status_code == 200


# Schema and documentation pages -----------------------------------------------------


def test_schema_requires_login(world: ApiWorld) -> None:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 401


def test_schema_served_to_staff(world: ApiWorld) -> None:
    client = client_for(world, "oak_teacher")
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/academies/",
        "/api/v1/academies/{id}/",
        "/api/v1/year-groups/",
        "/api/v1/tutor-groups/",
        "/api/v1/pupils/",
        "/api/v1/pupils/{id}/",
        "/api/v1/staff/",
    ):
        assert path in schema["paths"], path
    pupil_params = {p["name"] for p in schema["paths"]["/api/v1/pupils/"]["get"]["parameters"]}
    assert pupil_params >= {"academy", "year_group", "tutor_group", "sen_status", "q", "page"}
    token_post = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert set(token_post["responses"]) == {"200", "400"}


def test_schema_validates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3.0")


@pytest.mark.parametrize("path", ["/api/docs/"])
def test_docs_redirect_anonymous_to_login(world: ApiWorld, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert f"next={path}" in response["Location"].replace("%2F", "/")


ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/api/docs/"])
def test_docs_use_local_assets_only(world: ApiWorld, path: str) -> None:
    client = Client()
    client.force_login(world.users["oak_teacher"])
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html), html
    assets = ASSET.findall(html)
    assert assets, "the page loads no scripts or styles"
    for asset in assets:
        assert asset.startswith("/static/"), asset

    # Whitenoise serves static files from the finders here, as `collectstatic`
    # output would be served in production.
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        static_client = Client()
        for asset in assets:
            served = static_client.get(asset)
            assert served.status_code == 200, asset
            body = b"".join(served.streaming_content)
            assert len(body) > 100, asset


def test_docs_page_points_at_schema(world: ApiWorld) -> None:
    client = Client()
    client.force_login(world.users["oak_teacher"])
    html = client.get("/api/docs/").content.decode()
    assert '"/api/schema/"' in html


def test_redoc_page_not_served(world: ApiWorld) -> None:
    # ReDoc's bundle loads its logo from a CDN, so only Swagger UI is served.
    client = Client()
    client.force_login(world.users["oak_teacher"])
    assert client.get("/api/redoc/").status_code == 404


def test_browsable_root_lists_endpoints(world: ApiWorld, leader: APIClient) -> None:
    body = leader.get("/api/v1/", HTTP_ACCEPT="application/json").json()
    assert set(body) == {"academies", "year-groups", "tutor-groups", "pupils", "staff"}


def test_fsm_ended_long_ago_not_disadvantaged(world: ApiWorld, leader: APIClient) -> None:
    pupil = PupilFactory()
    Enrolment.objects.create(
        pupil=pupil,
        academy=world.academies["oak"],
        academic_year=world.year,
        year_group=world.year_groups["oak9"],
        tutor_group=world.tutor_groups["oak9b"],
        start_date=datetime.date(2026, 9, 2),
    )
    FsmPeriod.objects.create(
        pupil=pupil, start_date=datetime.date(2015, 1, 5), end_date=datetime.date(2016, 7, 20)
    )
    body = leader.get(f"/api/v1/pupils/{pupil.pk}/").json()
    assert body["disadvantaged"] is False
    assert body["pupil_premium"] == []


def test_user_without_staff_record_sees_nothing(world: ApiWorld) -> None:
    client = APIClient()
    client.force_login(UserFactory(username="no.staff.record"))
    for resource in ("academies", "year-groups", "tutor-groups", "pupils", "staff"):
        assert results(client, f"/api/v1/{resource}/") == [], resource


# Hostile input -------------------------------------------------------------------

FILTERS = {
    "academies": ["phase"],
    "year-groups": ["academy", "nc_year"],
    "tutor-groups": ["academy", "year_group", "academic_year"],
    "pupils": ["academy", "year_group", "tutor_group", "sen_status", "q"],
    "staff": ["academy", "post_type"],
}
ODD_VALUES = [
    " ",
    "\x00",
    "１",
    "1e3",
    "0x10",
    "9" * 19,
    "9" * 18,
    "-0",
    "null",
    "[]",
    "%",
    "'; DROP TABLE pupils_pupil; --",
    "é" * 200,
]


@pytest.mark.parametrize("resource", list(FILTERS))
def test_odd_filter_values_never_500(world: ApiWorld, leader: APIClient, resource: str) -> None:
    for name in FILTERS[resource]:
        for value in ODD_VALUES:
            response = leader.get(f"/api/v1/{resource}/", {name: value})
            assert response.status_code in (200, 400), (name, value, response.status_code)
            if response.status_code == 400:
                assert name in response.json(), (name, value)


def test_null_character_in_search(world: ApiWorld, leader: APIClient) -> None:
    response = leader.get("/api/v1/pupils/", {"q": "Zo\x00e"})
    assert response.status_code == 400
    assert response.json()["q"] == ["Null characters are not allowed."]


def test_largest_id_matches_nothing(world: ApiWorld, leader: APIClient) -> None:
    assert results(leader, "/api/v1/pupils/", academy=2**63 - 1) == []
    response = leader.get("/api/v1/pupils/", {"academy": 2**63})
    assert response.status_code == 400


@pytest.mark.parametrize("resource", list(FILTERS))
def test_browsable_api_renders(world: ApiWorld, leader: APIClient, resource: str) -> None:
    response = leader.get(f"/api/v1/{resource}/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""<(?:script|link)[^>]+(?:src|href)=["'](?:https?:)?//""", html)
    invalid = leader.get(
        f"/api/v1/{resource}/", {FILTERS[resource][0]: "?"}, HTTP_ACCEPT="text/html"
    )
    assert invalid.status_code == 400
    assert "is not a valid" in invalid.content.decode()
