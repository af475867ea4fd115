"""Links from the year group page to the progress pages, by role."""

import pytest
import time_machine

from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


def year_group_page(world, persona: str, client) -> str:
    client.force_login(world.users[persona])
    response = client.get(f"/academies/year-groups/{world.year_groups['oak9'].pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_head_of_year_sees_generate_link(world, client):
    html = year_group_page(world, "head_of_year", client)
    oak = world.academies["oak"].pk

    assert f"/progress/classes/?academy={oak}&amp;year=9" in html
    assert "/progress/targets/generate/" in html


def test_attendance_officer_sees_no_generate(world, client):
    html = year_group_page(world, "attendance_officer", client)

    assert "/progress/classes/" in html
    assert "/progress/targets/generate/" not in html


def test_trust_leader_can_generate(world, client):
    html = year_group_page(world, "trust_leader", client)
    oak9 = world.year_groups["oak9"].pk

    assert f"/progress/targets/generate/?year_group={oak9}" in html
    assert client.get(f"/progress/targets/generate/?year_group={oak9}").status_code == 200


def test_generation_only_for_secondary_years(world, client):
    from progress.targets import can_generate

    from .factories import YearGroupFactory

    year_6 = YearGroupFactory(academy=world.academies["oak"], nc_year=6)
    year_12 = YearGroupFactory(academy=world.academies["oak"], nc_year=12)
    leader = world.users["trust_leader"]

    assert can_generate(leader, world.year_groups["oak9"])
    assert not can_generate(leader, year_6)
    assert not can_generate(leader, year_12)
