"""The access matrix over the pages: for each role, which academies, year
groups, tutor groups, pupils and staff records it can list and open.

Oak Academy and Elm Academy come from tests/personas.py. Every persona but
the Elm teacher works at Oak. Anything outside a user's scope answers 404
and the body carries none of the other academy's data.
"""

import pytest
import time_machine
from django.urls import reverse

from .personas import PUPILS, TODAY, TUTOR_GROUPS, build_personas

pytestmark = pytest.mark.django_db

ALL_YEAR_GROUPS = {"oak9", "oak10", "elm9", "elm10"}
ALL_TUTOR_GROUPS = set(TUTOR_GROUPS)
ALL_PUPILS = set(PUPILS)
OAK_PUPILS = {k for k in PUPILS if k.startswith("oak")}
OAK_YEAR_9 = {"oak9a_obrien", "oak9a_smithjones", "oak9b_patel"}
OAK_TUTOR_GROUPS = {"9A", "9B", "10A"}

# persona: (academies listed and opened, year group pages opened,
#           tutor group pages opened, pupils listed and opened)
MATRIX: dict[str, tuple[set[str], set[str], set[str], set[str]]] = {
    "trust_leader": ({"oak", "elm"}, ALL_YEAR_GROUPS, ALL_TUTOR_GROUPS, ALL_PUPILS),
    "trust_admin": ({"oak", "elm"}, ALL_YEAR_GROUPS, ALL_TUTOR_GROUPS, ALL_PUPILS),
    "trust_hr": ({"oak", "elm"}, set(), set(), set()),
    "trustee": ({"oak", "elm"}, set(), set(), set()),
    "headteacher": ({"oak"}, {"oak9", "oak10"}, OAK_TUTOR_GROUPS, OAK_PUPILS),
    "academy_leader": ({"oak"}, {"oak9", "oak10"}, OAK_TUTOR_GROUPS, OAK_PUPILS),
    "attendance_officer": ({"oak"}, {"oak9", "oak10"}, OAK_TUTOR_GROUPS, OAK_PUPILS),
    "safeguarding_lead": ({"oak"}, {"oak9", "oak10"}, OAK_TUTOR_GROUPS, OAK_PUPILS),
    "head_of_year": ({"oak"}, {"oak9"}, {"9A", "9B"}, OAK_YEAR_9),
    "tutor": ({"oak"}, set(), {"9A"}, {"oak9a_obrien", "oak9a_smithjones"}),
    "teacher": ({"oak"}, set(), set(), set()),
    "staff": (set(), set(), set(), set()),
}


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    return build_personas()


def status(client, url, **params) -> int:
    return client.get(url, params).status_code


def listed_pupils(client, world) -> set[str]:
    body = client.get(reverse("pupils:search")).content.decode()
    return {key for key, pupil in world.pupils.items() if f'href="/pupils/{pupil.pk}/"' in body}


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_academies_by_role(client, world, persona):
    academies = MATRIX[persona][0]
    client.force_login(world.users[persona])
    body = client.get(reverse("academies:list")).content.decode()
    for key, academy in world.academies.items():
        listed = reverse("academies:detail", args=[academy.pk]) in body
        assert listed == (key in academies), f"{persona} listing {key}"
        expected = 200 if key in academies else 404
        url = reverse("academies:detail", args=[academy.pk])
        assert status(client, url) == expected, f"{persona} opening {key}"


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_year_groups_by_role(client, world, persona):
    year_groups = MATRIX[persona][1]
    client.force_login(world.users[persona])
    for key, group in world.year_groups.items():
        expected = 200 if key in year_groups else 404
        url = reverse("academies:year-group", args=[group.pk])
        assert status(client, url) == expected, f"{persona} opening {key}"


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_tutor_groups_by_role(client, world, persona):
    tutor_groups = MATRIX[persona][2]
    client.force_login(world.users[persona])
    for key, group in world.tutor_groups.items():
        expected = 200 if key in tutor_groups else 404
        url = reverse("academies:tutor-group", args=[group.pk])
        assert status(client, url) == expected, f"{persona} opening {key}"


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_group_links_match_access(client, world, persona):
    academies, year_groups, tutor_groups, _ = MATRIX[persona]
    client.force_login(world.users[persona])
    for academy_key in academies:
        url = reverse("academies:detail", args=[world.academies[academy_key].pk])
        body = client.get(url).content.decode()
        for key, group in world.year_groups.items():
            if group.academy_id != world.academies[academy_key].pk:
                continue
            linked = reverse("academies:year-group", args=[group.pk]) in body
            assert linked == (key in year_groups), f"{persona} link to {key}"
        for key, group in world.tutor_groups.items():
            if group.academy_id != world.academies[academy_key].pk:
                continue
            linked = reverse("academies:tutor-group", args=[group.pk]) in body
            assert linked == (key in tutor_groups), f"{persona} link to {key}"


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_pupils_listed_by_role(client, world, persona):
    client.force_login(world.users[persona])
    assert listed_pupils(client, world) == MATRIX[persona][3]


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_pupil_profiles_by_role(client, world, persona):
    pupils = MATRIX[persona][3]
    client.force_login(world.users[persona])
    for key, pupil in world.pupils.items():
        expected = 200 if key in pupils else 404
        url = reverse("pupils:profile", args=[pupil.pk])
        assert status(client, url) == expected, f"{persona} opening {key}"


def test_head_of_year_404_for_other_year(client, world):
    client.force_login(world.users["head_of_year"])
    for key in ("oak10a_taylor", "elm9e_ashdown", "elm10e_birchwood"):
        response = client.get(reverse("pupils:profile", args=[world.pupils[key].pk]))
        assert response.status_code == 404
        assert world.pupils[key].legal_surname not in response.content.decode()


def test_trustee_sees_no_pupil(client, world):
    client.force_login(world.users["trustee"])
    body = client.get(reverse("pupils:search")).content.decode()
    assert "Your role does not include pupil records" in body
    for pupil in world.pupils.values():
        assert pupil.legal_surname.replace("'", "&#x27;") not in body
        assert status(client, reverse("pupils:profile", args=[pupil.pk])) == 404


def test_trustee_search_by_name_finds_nothing(client, world):
    client.force_login(world.users["trustee"])
    body = client.get(reverse("pupils:search"), {"q": "Patel"}).content.decode()
    assert "Isla" not in body
    assert world.pupils["oak9b_patel"].upn not in body


# X1: a teacher at Oak asks for Elm records by id, in the path or a query parameter.


def elm_words(world) -> list[str]:
    elm_teacher = world.staff["elm_teacher"]
    words = ["Elm Academy", elm_teacher.email, elm_teacher.first_name]
    for key, pupil in world.pupils.items():
        if key.startswith("elm"):
            words += [pupil.legal_surname, pupil.legal_forename, pupil.upn]
    return words


def elm_requests(world) -> list[tuple[str, dict]]:
    elm = world.academies["elm"]
    return [
        (reverse("pupils:profile", args=[world.pupils["elm9e_ashdown"].pk]), {}),
        (reverse("pupils:sensitive", args=[world.pupils["elm9e_ashdown"].pk]), {}),
        (reverse("pupils:audit", args=[world.pupils["elm9e_ashdown"].pk]), {}),
        (reverse("staff:detail", args=[world.staff["elm_teacher"].pk]), {}),
        (reverse("staff:audit", args=[world.staff["elm_teacher"].pk]), {}),
        (reverse("academies:detail", args=[elm.pk]), {}),
        (reverse("academies:year-group", args=[world.year_groups["elm9"].pk]), {}),
        (reverse("academies:tutor-group", args=[world.tutor_groups["9E"].pk]), {}),
        (reverse("pupils:search"), {"academy": elm.pk}),
        (reverse("pupils:search"), {"year_group": world.year_groups["elm9"].pk}),
        (reverse("pupils:search"), {"tutor_group": world.tutor_groups["9E"].pk}),
        (reverse("staff:directory"), {"academy": elm.pk}),
        (reverse("academy-dashboard"), {"academy": elm.pk}),
    ]


def test_oak_teacher_gets_404_for_elm(client, world):
    client.force_login(world.users["teacher"])
    for url, params in elm_requests(world):
        response = client.get(url, params)
        assert response.status_code == 404, f"{url} {params}"
        body = response.content.decode()
        for word in elm_words(world):
            assert word not in body, f"{word!r} in {url} {params}"


def test_oak_teacher_directory_without_elm(client, world):
    client.force_login(world.users["teacher"])
    body = client.get(reverse("staff:directory")).content.decode()
    assert "Persona, Teacher" in body
    assert world.staff["elm_teacher"].email not in body


@pytest.mark.parametrize("persona", ["trust_leader", "trust_admin"])
def test_trust_role_sees_both_academies(client, world, persona):
    client.force_login(world.users[persona])
    for key in ("oak9b_patel", "elm9e_ashdown"):
        url = reverse("pupils:profile", args=[world.pupils[key].pk])
        assert status(client, url) == 200
    for key in ("teacher", "elm_teacher"):
        url = reverse("staff:detail", args=[world.staff[key].pk])
        assert status(client, url) == 200
    body = client.get(reverse("pupils:search"), {"q": "a"}).content.decode()
    assert "Patel, Isla" in body
    assert "Ashdown, Elowen" in body


def test_staff_records_by_role(client, world):
    elm_teacher = world.staff["elm_teacher"]
    oak_teacher = world.staff["teacher"]
    expected = {
        "trust_hr": (200, 200),
        "headteacher": (200, 404),
        "head_of_year": (200, 404),
        "staff": (200, 404),
        "trustee": (404, 404),
    }
    for persona, (oak_status, elm_status) in expected.items():
        client.force_login(world.users[persona])
        oak_url = reverse("staff:detail", args=[oak_teacher.pk])
        elm_url = reverse("staff:detail", args=[elm_teacher.pk])
        assert status(client, oak_url) == oak_status, f"{persona} opening Oak teacher"
        assert status(client, elm_url) == elm_status, f"{persona} opening Elm teacher"


def test_trustee_opens_own_staff_record(client, world):
    client.force_login(world.users["trustee"])
    url = reverse("staff:detail", args=[world.staff["trustee"].pk])
    assert status(client, url) == 200
