"""Error pages keep the layout and say what to do next."""

import pytest
import time_machine

from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


def test_not_found_page_keeps_navigation(world, client):
    client.force_login(world.users["head_of_year"])
    response = client.get("/pupils/99999999/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Page not found</h1>" in body
    assert 'aria-label="Main"' in body
    assert 'href="/"' in body


def test_out_of_scope_pupil_same_page(world, client):
    client.force_login(world.users["head_of_year"])
    elm_pupil = world.pupils["elm9e_ashdown"]
    response = client.get(f"/pupils/{elm_pupil.pk}/")

    assert response.status_code == 404
    assert "Ashdown" not in response.content.decode()


def test_favicon_redirects_to_static(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"


def test_report_card_listed_by_area(world, client):
    from academies.models import OfstedInspection

    oak = world.academies["oak"]
    OfstedInspection.objects.create(
        academy=oak,
        inspected_on="2026-03-04",
        report_card={
            "safeguarding": "Met",
            "evaluations": {"Inclusion": "Strong standard", "Leadership": "Expected standard"},
        },
    )
    client.force_login(world.users["headteacher"])
    body = client.get(f"/academies/{oak.pk}/").content.decode()

    assert "<li>Safeguarding: Met</li>" in body
    assert "<li>Inclusion: Strong standard</li>" in body
    assert "evaluations" not in body
