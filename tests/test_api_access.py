"""Who sees what through the API: the access matrix for each role, and
requests for another academy's records by id."""

import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from trust.clock import LONDON

from .factories_api import ROLE_NAMES, ApiWorld, build_world

pytestmark = pytest.mark.django_db

OAK_STAFF = {"oak_head", "oak_hoy9", "oak_tutor9a", "oak_teacher", "oak_no_role"}
ALL_STAFF = OAK_STAFF | {"trust_leader", "trust_admin", "trustee", "elm_head", "elm_teacher"}
ALL_YEAR_GROUPS = {"oak9", "oak10", "elm9"}
ALL_TUTOR_GROUPS = {"oak9a", "oak9b", "oak10a", "elm9e"}
ALL_PUPILS = {"oak9a_1", "oak9a_2", "oak9b_1", "oak10a_1", "elm9e_1", "elm9e_2"}
OAK_PUPILS = {"oak9a_1", "oak9a_2", "oak9b_1", "oak10a_1"}

EVERYTHING = {
    "academies": {"oak", "elm"},
    "year-groups": ALL_YEAR_GROUPS,
    "tutor-groups": ALL_TUTOR_GROUPS,
    "pupils": ALL_PUPILS,
    "staff": ALL_STAFF,
}

# What each role may list and open, by the keys of tests.factories_api.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "trust_leader": EVERYTHING,
    "trust_admin": EVERYTHING,
    "trustee": {
        "academies": {"oak", "elm"},
        "year-groups": set(),
        "tutor-groups": set(),
        "pupils": set(),
        "staff": {"trustee"},
    },
    "oak_head": {
        "academies": {"oak"},
        "year-groups": {"oak9", "oak10"},
        "tutor-groups": {"oak9a", "oak9b", "oak10a"},
        "pupils": OAK_PUPILS,
        "staff": OAK_STAFF,
    },
    "oak_hoy9": {
        "academies": {"oak"},
        "year-groups": {"oak9"},
        "tutor-groups": {"oak9a", "oak9b"},
        "pupils": {"oak9a_1", "oak9a_2", "oak9b_1"},
        "staff": OAK_STAFF,
    },
    "oak_tutor9a": {
        "academies": {"oak"},
        "year-groups": set(),
        "tutor-groups": {"oak9a"},
        "pupils": {"oak9a_1", "oak9a_2"},
        "staff": OAK_STAFF,
    },
    "oak_teacher": {
        "academies": {"oak"},
        "year-groups": set(),
        "tutor-groups": set(),
        "pupils": set(),
        "staff": OAK_STAFF,
    },
    "oak_no_role": {
        "academies": set(),
        "year-groups": set(),
        "tutor-groups": set(),
        "pupils": set(),
        "staff": OAK_STAFF,
    },
}


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


def objects_of(world: ApiWorld, resource: str) -> dict[str, int]:
    """Map every key of `resource` in the world to its id."""
    objects = {
        "academies": world.academies,
        "year-groups": world.year_groups,
        "tutor-groups": world.tutor_groups,
        "pupils": world.pupils,
        "staff": world.staff,
    }[resource]
    return {key: obj.pk for key, obj in objects.items()}


def listed_ids(client: APIClient, resource: str, **params: object) -> set[int]:
    response = client.get(f"/api/v1/{resource}/", {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return {row["id"] for row in body["results"]}


@pytest.mark.parametrize("resource", list(EVERYTHING))
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_list_and_detail_match_matrix(world: ApiWorld, role: str, resource: str) -> None:
    client = client_for(world, role)
    ids = objects_of(world, resource)
    expected = {ids[key] for key in EXPECTED[role][resource]}

    listed = listed_ids(client, resource)
    assert listed == expected

    opened = set()
    for key, pk in ids.items():
        response = client.get(f"/api/v1/{resource}/{pk}/")
        assert response.status_code in (200, 404), (key, response.status_code)
        if response.status_code == 200:
            assert response.json()["id"] == pk
            opened.add(pk)
    assert opened == listed


def test_head_of_year_gets_404_outside_year(world: ApiWorld) -> None:
    client = client_for(world, "oak_hoy9")
    for key in ("oak10a_1", "elm9e_1", "elm9e_2"):
        response = client.get(f"/api/v1/pupils/{world.pupils[key].pk}/")
        assert response.status_code == 404, key
        assert response.json() == {"detail": "Not found."}


def test_trustee_sees_no_pupil(world: ApiWorld) -> None:
    client = client_for(world, "trustee")
    assert listed_ids(client, "pupils") == set()
    for pupil in world.pupils.values():
        response = client.get(f"/api/v1/pupils/{pupil.pk}/")
        assert response.status_code == 404
        assert pupil.legal_surname not in response.content.decode()


def test_trustee_sees_academy_roll_counts(world: ApiWorld) -> None:
    client = client_for(world, "trustee")
    rows = client.get("/api/v1/academies/").json()["results"]
    rolls = {row["name"]: row["pupils_on_roll"] for row in rows}
    assert rolls == {"Elm Academy": 2, "Oak Academy": 4}


# Requests for Elm's records by someone at Oak --------------------------------


def elm_free(body: str) -> bool:
    return "Elm" not in body and "elm" not in body


@pytest.mark.parametrize("role", ["oak_teacher", "oak_head", "oak_hoy9", "oak_tutor9a"])
def test_oak_staff_get_404_for_elm_records(world: ApiWorld, role: str) -> None:
    client = client_for(world, role)
    paths = [
        f"/api/v1/pupils/{world.pupils['elm9e_1'].pk}/",
        f"/api/v1/staff/{world.staff['elm_teacher'].pk}/",
        f"/api/v1/academies/{world.academies['elm'].pk}/",
        f"/api/v1/year-groups/{world.year_groups['elm9'].pk}/",
        f"/api/v1/tutor-groups/{world.tutor_groups['elm9e'].pk}/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, path
        assert elm_free(response.content.decode()), path


@pytest.mark.parametrize("resource", ["pupils", "staff", "year-groups", "tutor-groups"])
@pytest.mark.parametrize("role", ["oak_teacher", "oak_head", "oak_hoy9"])
def test_oak_staff_filtering_by_elm_get_nothing(world: ApiWorld, role: str, resource: str) -> None:
    client = client_for(world, role)
    response = client.get(f"/api/v1/{resource}/", {"academy": world.academies["elm"].pk})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []
    assert elm_free(response.content.decode())


def test_oak_teacher_elm_pupil_with_elm_filter(world: ApiWorld) -> None:
    client = client_for(world, "oak_teacher")
    elm = world.academies["elm"].pk
    response = client.get(f"/api/v1/pupils/{world.pupils['elm9e_1'].pk}/", {"academy": elm})
    assert response.status_code == 404
    assert elm_free(response.content.decode())


def test_oak_head_filtering_by_elm_groups(world: ApiWorld) -> None:
    client = client_for(world, "oak_head")
    response = client.get(
        "/api/v1/pupils/",
        {"year_group": world.year_groups["elm9"].pk, "tutor_group": world.tutor_groups["elm9e"].pk},
    )
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("role", ["trust_leader", "trust_admin"])
def test_trust_roles_see_both_academies(world: ApiWorld, role: str) -> None:
    client = client_for(world, role)
    elm = world.academies["elm"].pk
    oak = world.academies["oak"].pk
    elm_pupils = {world.pupils["elm9e_1"].pk, world.pupils["elm9e_2"].pk}
    oak_pupils = {world.pupils[key].pk for key in OAK_PUPILS}
    assert listed_ids(client, "pupils", academy=elm) == elm_pupils
    assert listed_ids(client, "pupils", academy=oak) == oak_pupils
    assert listed_ids(client, "staff", academy=elm) == {
        world.staff["elm_head"].pk,
        world.staff["elm_teacher"].pk,
    }
    response = client.get(f"/api/v1/pupils/{world.pupils['elm9e_1'].pk}/")
    assert response.status_code == 200
    assert response.json()["legal_surname"] == "Elmpupil"
    assert response.json()["current_enrolment"]["academy_name"] == "Elm Academy"
