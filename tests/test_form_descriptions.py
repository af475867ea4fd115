"""Every aria-describedby on the behaviour forms points at an element that
exists, so screen readers announce each field's help."""

import re

import pytest
import time_machine

from .factories_incidents import build_categories
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("headteacher", "/behaviour/suspensions/new/?pupil={pupil}"),
        ("head_of_year", "/behaviour/log/?pupils={pupil}"),
        ("trust_admin", "/behaviour/categories/new/"),
    ],
)
def test_described_by_targets_exist(world, client, persona, path):
    build_categories(world)
    client.force_login(world.users[persona])

    response = client.get(path.format(pupil=world.pupils["oak9a_obrien"].pk))

    html = response.content.decode()
    assert response.status_code == 200
    references = {
        ref for value in re.findall(r'aria-describedby="([^"]+)"', html) for ref in value.split()
    }
    assert references
    for ref in references:
        assert f'id="{ref}"' in html, ref
