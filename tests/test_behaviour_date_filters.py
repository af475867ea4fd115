"""Date filters typed dd/mm/yyyy on the behaviour analysis pages, the pupil
timeline and the suspension register: inputs, parsing, 400 pages and links."""

import csv
import datetime
import io

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse

from behaviour.filters import check_date_range, date_parameter
from trust.clock import LONDON
from trust.params import InvalidParameter

from .factories_behaviour import CategoryFactory, PositiveCategoryFactory
from .factories_timeline import at, make_incident, make_terms
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

REGISTER = reverse("behaviour:suspension-register")
RANGE_RULE = "dates must be written dd/mm/yyyy, with “from” on or before “to”"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    make_terms(2026, world.academic_year.pk)
    trust = world.academies["oak"].trust
    merit = PositiveCategoryFactory(trust=trust, name="Merit")
    disruption = CategoryFactory(trust=trust, name="Low-level disruption")
    obrien = world.pupils["oak9a_obrien"]
    teacher = world.staff["teacher"]
    make_incident(
        pupils=[obrien],
        category=merit,
        occurred_at=at(datetime.date(2026, 10, 5)),
        reported_by=teacher,
        points=2,
    )
    make_incident(
        pupils=[obrien],
        category=disruption,
        occurred_at=at(datetime.date(2026, 11, 20)),
        reported_by=teacher,
        points=-1,
    )
    world.obrien = obrien
    return world


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def body(response):
    return response.content.decode()


def analysis_url(world, query=""):
    url = f"/behaviour/academies/{world.academies['oak'].pk}/analysis/"
    return url + (f"?{query}" if query else "")


def timeline_url(world, query=""):
    url = f"/behaviour/pupils/{world.obrien.pk}/"
    return url + (f"?{query}" if query else "")


# Parser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("04/12/2026", datetime.date(2026, 12, 4)),
        ("4/9/2026", datetime.date(2026, 9, 4)),
        ("2026-12-04", datetime.date(2026, 12, 4)),
        (" 01/09/2026 ", datetime.date(2026, 9, 1)),
        ("", None),
    ],
)
def test_date_parameter_reads_both_forms(raw, expected):
    request = RequestFactory().get("/", {"from": raw})

    assert date_parameter(request, "from") == expected


@pytest.mark.parametrize("raw", ["31/02/2026", "12/04/26", "2026/12/04", "yesterday", "13/13/2026"])
def test_date_parameter_rejects_bad_dates(raw):
    request = RequestFactory().get("/", {"to": raw})

    with pytest.raises(InvalidParameter) as caught:
        date_parameter(request, "to")

    assert caught.value.name == "to"
    assert caught.value.value == raw
    assert "dd/mm/yyyy" in str(caught.value)


def test_check_date_range_allows_one_day():
    day = datetime.date(2026, 12, 4)

    check_date_range(day, day)


def test_check_date_range_names_rule():
    with pytest.raises(InvalidParameter) as caught:
        check_date_range(datetime.date(2026, 12, 1), datetime.date(2026, 11, 1))

    message = str(caught.value)
    assert caught.value.name == "from"
    assert "01/12/2026" in message
    assert RANGE_RULE in message
    assert "(01/11/2026)" in message


# Analysis pages ----------------------------------------------------------------


def test_analysis_inputs_are_text_dd_mm_yyyy(world):
    html = body(client_for(world, "headteacher").get(analysis_url(world)))

    assert 'type="date"' not in html
    assert (
        '<input type="text" name="from" id="range-from" value="01/09/2026" inputmode="numeric"'
        in html
    )
    assert (
        '<input type="text" name="to" id="range-to" value="04/12/2026" inputmode="numeric"' in html
    )
    assert 'id="range-date-help">Dates as dd/mm/yyyy.' in html


@pytest.mark.parametrize(
    "query", ["from=01/11/2026&to=30/11/2026", "from=2026-11-01&to=2026-11-30"]
)
def test_analysis_reads_both_date_forms(world, query):
    html = body(client_for(world, "headteacher").get(analysis_url(world, query)))

    assert "Figures from 01/11/2026 to 30/11/2026" in html
    assert 'id="range-from" value="01/11/2026"' in html
    assert 'id="range-to" value="30/11/2026"' in html


def test_analysis_export_links_keep_filters(world):
    client = client_for(world, "headteacher")
    html = body(client.get(analysis_url(world, "from=01/11/2026&to=30/11/2026")))

    link = "?from=2026-11-01&amp;to=2026-11-30&amp;export=category&amp;format=csv"
    assert link in html
    assert link.replace("format=csv", "format=xlsx") in html

    response = client.get(analysis_url(world, link[1:].replace("&amp;", "&")))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Trust category"
    assert [row[0] for row in rows[1:]] == ["Low-level disruption"]


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ("from=31/02/2026", "from", "31/02/2026"),
        ("to=2026-13-01", "to", "2026-13-01"),
        ("to=yesterday", "to", "yesterday"),
    ],
)
def test_analysis_bad_date_is_400(world, query, field, value):
    response = client_for(world, "headteacher").get(analysis_url(world, query))

    assert response.status_code == 400
    assert f"The filter “{field}” has the value “{value}”" in body(response)
    assert "dd/mm/yyyy" in body(response)


def test_analysis_bad_range_is_400(world):
    response = client_for(world, "headteacher").get(
        analysis_url(world, "from=04/12/2026&to=01/11/2026")
    )

    assert response.status_code == 400
    assert "The filter “from” has the value “04/12/2026”" in body(response)
    assert RANGE_RULE in body(response)


def test_trust_analysis_bad_range_is_400(world):
    response = client_for(world, "headteacher").get("/behaviour/analysis/?from=05/12/2026")

    assert response.status_code == 400
    assert RANGE_RULE in body(response)
    assert "(04/12/2026)" in body(response)


# Timeline ----------------------------------------------------------------------


def test_timeline_inputs_are_text_dd_mm_yyyy(world):
    html = body(client_for(world, "headteacher").get(timeline_url(world)))

    assert 'type="date"' not in html
    assert '<input type="text" id="filter-from" name="from" value="" inputmode="numeric"' in html
    assert '<input type="text" id="filter-to" name="to" value="" inputmode="numeric"' in html
    assert 'id="filter-date-help">Dates as dd/mm/yyyy.' in html


def test_timeline_shows_iso_link_as_dd_mm_yyyy(world):
    html = body(
        client_for(world, "headteacher").get(timeline_url(world, "from=2026-11-01&to=2026-11-30"))
    )

    assert 'id="filter-from" name="from" value="01/11/2026"' in html
    assert 'id="filter-to" name="to" value="30/11/2026"' in html
    assert "20/11/2026" in html
    assert "05/10/2026" not in html


def test_timeline_export_links_keep_filters(world):
    client = client_for(world, "headteacher")
    html = body(client.get(timeline_url(world, "from=01/11/2026&to=30/11/2026")))

    for fmt in ("csv", "xlsx", "pdf"):
        assert f'href="?from=01%2F11%2F2026&amp;to=30%2F11%2F2026&amp;format={fmt}"' in html

    response = client.get(timeline_url(world, "from=01%2F11%2F2026&to=30%2F11%2F2026&format=csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2
    assert "20/11/2026" in rows[1][0]


def test_timeline_bad_date_is_400(world):
    response = client_for(world, "headteacher").get(timeline_url(world, "to=30/11/26"))

    assert response.status_code == 400
    assert "The filter “to” has the value “30/11/26”" in body(response)
    assert "dd/mm/yyyy" in body(response)


def test_timeline_bad_range_is_400(world):
    response = client_for(world, "headteacher").get(
        timeline_url(world, "from=30/11/2026&to=01/11/2026")
    )

    assert response.status_code == 400
    assert "The filter “from” has the value “30/11/2026”" in body(response)
    assert RANGE_RULE in body(response)


# Suspension register -----------------------------------------------------------


def test_register_bad_range_names_rule(world):
    response = client_for(world, "headteacher").get(f"{REGISTER}?from=01/12/2026&to=01/11/2026")

    assert response.status_code == 400
    assert "The filter “from” has the value “01/12/2026”" in body(response)
    assert RANGE_RULE in body(response)


def test_register_bad_date_names_value(world):
    response = client_for(world, "headteacher").get(f"{REGISTER}?to=31/02/2026")

    assert response.status_code == 400
    assert "The filter “to” has the value “31/02/2026”" in body(response)
