"""Behaviour figures in the API: a pupil's points and suspension days, the
figures of an academy, year group and tutor group, date errors and scope."""

import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from behaviour.models import Suspension
from trust.clock import LONDON

from .factories_analysis import log_incident, suspend
from .factories_behaviour import CategoryFactory, PositiveCategoryFactory
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    """O'Brien: -2 on 30/11 (with Smith-Jones), +2 on 02/12, target (0) of a
    -3 incident of Taylor on 03/12, and -1 on 10/09. Suspended for a day on
    01/12 and a lunchtime on 02/12; a withdrawn suspension on 03/12 and a
    permanent exclusion record do not count."""
    world = build_personas()
    oak = world.academies["oak"]
    trust = oak.trust
    disruption = CategoryFactory(trust=trust, name="Disruption", default_points=-2)
    effort = PositiveCategoryFactory(trust=trust, name="Effort")
    p = world.pupils
    teacher = world.staff["teacher"]

    def log(category, pupils, day, points=None, roles=None):
        log_incident(
            academy=oak,
            category=category,
            pupils=pupils,
            reported_by=teacher,
            at=datetime.datetime.fromisoformat(f"{day}T10:00"),
            points=points,
            roles=roles,
        )

    log(disruption, [p["oak9a_obrien"], p["oak9a_smithjones"]], "2026-11-30")
    log(effort, [p["oak9a_obrien"]], "2026-12-02", points=2)
    log(
        disruption,
        [p["oak10a_taylor"], p["oak9a_obrien"]],
        "2026-12-03",
        points=-3,
        roles={p["oak9a_obrien"].pk: "target"},
    )
    log(disruption, [p["oak9a_obrien"]], "2026-09-10", points=-1)

    head = world.staff["headteacher"]
    obrien = p["oak9a_obrien"]
    suspend(
        pupil=obrien,
        academy=oak,
        decided_by=head,
        sessions=[(datetime.date(2026, 12, 1), "AM"), (datetime.date(2026, 12, 1), "PM")],
    )
    suspend(
        pupil=obrien,
        academy=oak,
        decided_by=head,
        sessions=[(datetime.date(2026, 12, 2), "LN")],
        kind=Suspension.Kind.LUNCHTIME,
    )
    suspend(
        pupil=obrien,
        academy=oak,
        decided_by=head,
        sessions=[(datetime.date(2026, 12, 3), "AM")],
        status=Suspension.Status.WITHDRAWN,
    )
    suspend(
        pupil=obrien,
        academy=oak,
        decided_by=head,
        sessions=[(datetime.date(2026, 12, 4), "AM")],
        kind=Suspension.Kind.PERMANENT,
    )
    return world


def api_for(world, persona):
    client = APIClient()
    client.force_authenticate(world.users[persona])
    return client


def test_pupil_figures_fields_and_types(world):
    obrien = world.pupils["oak9a_obrien"]

    response = api_for(world, "headteacher").get(f"/api/v1/pupils/{obrien.pk}/behaviour/")

    assert response.status_code == 200
    data = response.json()
    assert data == {
        "positive_points": 2,
        "negative_points": -3,
        "net_points": -1,
        "incident_count": 4,
        "suspension_days": 1.5,
        "from": "2026-09-01",
        "to": "2026-12-04",
    }
    assert isinstance(data["suspension_days"], float)
    assert isinstance(data["negative_points"], int)


def test_pupil_figures_in_range(world):
    obrien = world.pupils["oak9a_obrien"]

    response = api_for(world, "headteacher").get(
        f"/api/v1/pupils/{obrien.pk}/behaviour/?from=2026-12-01&to=2026-12-01"
    )

    data = response.json()
    assert data["incident_count"] == 0
    assert data["negative_points"] == 0
    assert data["suspension_days"] == 1.0
    assert data["from"] == "2026-12-01"
    assert data["to"] == "2026-12-01"


@pytest.mark.parametrize(
    "query,field",
    [
        ("from=2026-02-30", "from"),
        ("from=01/09/2026", "from"),
        ("to=tomorrow", "to"),
        ("from=2026-12-04&to=2026-12-01", "from"),
    ],
)
def test_pupil_bad_dates_give_400(world, query, field):
    obrien = world.pupils["oak9a_obrien"]

    response = api_for(world, "headteacher").get(f"/api/v1/pupils/{obrien.pk}/behaviour/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field][0], str)


def test_pupil_outside_scope_404(world):
    taylor = world.pupils["oak10a_taylor"]

    assert api_for(world, "tutor").get(f"/api/v1/pupils/{taylor.pk}/behaviour/").status_code == 404
    assert (
        api_for(world, "trustee").get(f"/api/v1/pupils/{taylor.pk}/behaviour/").status_code == 404
    )
    assert (
        api_for(world, "elm_teacher").get(f"/api/v1/pupils/{taylor.pk}/behaviour/").status_code
        == 404
    )


def test_academy_figures(world):
    oak = world.academies["oak"]

    response = api_for(world, "headteacher").get(f"/api/v1/academies/{oak.pk}/behaviour/")

    assert response.status_code == 200
    data = response.json()
    assert data["incident_count"] == 4
    assert data["positive_points"] == 2
    assert data["negative_points"] == -8
    assert data["net_points"] == -6
    assert data["negative_incident_count"] == 3
    assert data["negative_pupil_count"] == 3
    assert data["pupils_on_roll"] == 4
    assert data["negative_incidents_per_100_pupils"] == 75.0
    assert data["suspension_days"] == 1.5
    assert data["suppressed"] is False
    assert data["from"] == "2026-09-01"


def test_year_and_tutor_group_figures(world):
    client = api_for(world, "headteacher")
    year9 = world.year_groups["oak9"]
    group = world.tutor_groups["9A"]

    year_data = client.get(f"/api/v1/year-groups/{year9.pk}/behaviour/").json()
    group_data = client.get(f"/api/v1/tutor-groups/{group.pk}/behaviour/").json()

    assert year_data["negative_points"] == -5
    assert year_data["incident_count"] == 4
    assert year_data["suspension_days"] == 1.5
    assert group_data["negative_points"] == -5
    assert group_data["pupils_on_roll"] == 2
    assert group_data["suspension_days"] == 1.5


def test_tutor_group_10a_has_no_suspension(world):
    group = world.tutor_groups["10A"]

    data = api_for(world, "headteacher").get(f"/api/v1/tutor-groups/{group.pk}/behaviour/").json()

    assert data["negative_points"] == -3
    assert data["suspension_days"] == 0.0


def test_group_bad_dates_give_400(world):
    oak = world.academies["oak"]

    response = api_for(world, "headteacher").get(
        f"/api/v1/academies/{oak.pk}/behaviour/?from=2026-13-01"
    )

    assert response.status_code == 400
    assert "from" in response.json()


def test_group_outside_scope_404(world):
    client = api_for(world, "head_of_year")

    assert (
        client.get(f"/api/v1/year-groups/{world.year_groups['oak10'].pk}/behaviour/").status_code
        == 404
    )
    assert (
        api_for(world, "elm_teacher")
        .get(f"/api/v1/academies/{world.academies['oak'].pk}/behaviour/")
        .status_code
        == 404
    )


def test_trustee_academy_figures_suppressed(world):
    oak = world.academies["oak"]

    data = api_for(world, "trustee").get(f"/api/v1/academies/{oak.pk}/behaviour/").json()

    # Three pupils with negative incidents and one with a positive one.
    assert data["suppressed"] is True
    assert data["negative_points"] is None
    assert data["positive_points"] is None
    assert data["pupils_on_roll"] == 4


def test_schema_lists_behaviour_endpoints(world):
    client = api_for(world, "trust_leader")

    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/pupils/{id}/behaviour/" in paths
    assert "/api/v1/tutor-groups/{id}/behaviour/" in paths
