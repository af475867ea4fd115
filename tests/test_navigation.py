"""Navigation links each role sees, and that each link opens."""

import pytest
import time_machine

from trust.navigation import landing_url, nav_items

from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

EXPECTED_LANDING = {
    "trust_leader": "/trust/",
    "trust_admin": "/trust/",
    "trustee": "/reports/",
    "headteacher": "/academy/",
    "academy_leader": "/academy/",
    "attendance_officer": "/academy/",
    "head_of_year": "/my-year/",
    "tutor": "/my-classes/",
    "teacher": "/my-classes/",
    "staff": "/my-appraisal/",
}


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


def labels(user):
    return [item.label for item in nav_items(user)]


@pytest.mark.parametrize("persona", ["trust_admin", "headteacher", "academy_leader"])
def test_importing_roles_see_imports(world, client, persona):
    user = world.users[persona]
    assert "Imports" in labels(user)

    client.force_login(user)
    assert client.get("/pupils/import/").status_code == 200


@pytest.mark.parametrize("persona", ["head_of_year", "tutor", "teacher", "trustee", "staff"])
def test_other_roles_have_no_imports(world, client, persona):
    user = world.users[persona]
    assert "Imports" not in labels(user)

    client.force_login(user)
    assert client.get("/pupils/import/").status_code == 404


def test_only_trust_admin_sees_administration(world):
    assert "Administration" in labels(world.users["trust_admin"])
    assert "Administration" not in labels(world.users["headteacher"])


@pytest.mark.parametrize(("persona", "path"), sorted(EXPECTED_LANDING.items()))
def test_role_lands_on_its_page(world, client, persona, path):
    user = world.users[persona]
    assert landing_url(user) == path

    client.force_login(user)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == path
    assert response.status_code == 200


@pytest.mark.parametrize("persona", sorted(EXPECTED_LANDING))
def test_every_nav_link_opens(world, client, persona):
    user = world.users[persona]
    client.force_login(user)

    for item in nav_items(user):
        assert client.get(item.url).status_code == 200, item.url


def test_admin_site_open_to_trust_admin_only(world, client):
    client.force_login(world.users["trust_admin"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/pupils/pupil/").status_code == 200

    client.force_login(world.users["headteacher"])
    assert client.get("/admin/").status_code == 302


def test_import_page_marks_one_section(world, client):
    client.force_login(world.users["trust_admin"])
    body = client.get("/pupils/import/").content.decode()

    assert body.count('aria-current="true"') + body.count('aria-current="page"') == 1
    assert 'href="/pupils/import/" aria-current="page">Imports' in body


def test_my_classes_links_todays_registers(world, client):
    client.force_login(world.users["tutor"])
    body = client.get("/my-classes/").content.decode()
    group = world.tutor_groups["9A"]

    assert f'href="/attendance/registers/{group.pk}/2026-12-04/AM/"' in body
    assert f'href="/attendance/registers/{group.pk}/2026-12-04/PM/"' in body


@pytest.mark.parametrize(
    ("persona", "label"),
    [
        ("teacher", "My appraisees"),
        ("head_of_year", "My appraisees"),
        ("headteacher", "Appraisals"),
        ("trust_hr", "Appraisals"),
    ],
)
def test_appraisal_list_link_names_what_it_lists(world, persona, label):
    links = labels(world.users[persona])

    assert label in links
    assert "CPD portfolio" in links
    assert "CPD offer" in links


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("trust_hr", True),
        ("trust_leader", True),
        ("trustee", True),
        ("headteacher", True),
        ("academy_leader", True),
        ("teacher", False),
        ("head_of_year", False),
    ],
)
def test_completion_link_for_leaders_and_trustees(world, persona, shown):
    assert ("Appraisal completion" in labels(world.users[persona])) is shown
