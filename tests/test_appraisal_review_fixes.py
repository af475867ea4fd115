"""Appraisal and CPD pages and API after a newcomer's review: the stated
deadline order, CPD event dates, numbers typed in exponent notation, plural
wording, and money in the CPD summary and its export."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from appraisal.cpd import booking_make
from appraisal.deadlines import deadline_table
from appraisal.models import CpdEvent, CpdKind, PortfolioEntry, Stage, Track
from appraisal.services import deadlines_set

from .factories_appraisal import cycle_2026
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
NEXT_MONTH = DAY + datetime.timedelta(days=30)
ORDER_TEXT = (
    "On each track the objectives deadline falls before the mid-year review, the mid-year "
    "review before the final review, and sign-off on or after the final review. Only "
    "sign-off may share the date of the stage before it."
)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    people = build_personas()
    people.cycle = cycle_2026(people)
    return people


# Deadline order ------------------------------------------------------------------------


def test_trust_deadlines_page_states_order(client, world):
    client.force_login(world.users["trust_hr"])
    response = client.get(reverse("appraisal:cycle-deadlines", args=[world.cycle.pk]))
    assert ORDER_TEXT in response.content.decode()


def test_academy_deadlines_page_states_order(client, world):
    oak = world.academies["oak"]
    client.force_login(world.users["headteacher"])
    response = client.get(reverse("appraisal:academy-deadlines", args=[world.cycle.pk, oak.pk]))
    assert ORDER_TEXT in response.content.decode()


def test_deadline_order_matches_page(world):
    """The rule the pages state: only sign-off may share the stage before it's date."""
    trust = deadline_table(world.cycle).trust
    objectives = trust[(Track.STAFF, Stage.OBJECTIVES)]
    final = trust[(Track.STAFF, Stage.FINAL_REVIEW)]

    with pytest.raises(ValidationError):
        deadlines_set(
            world.users["trust_hr"],
            world.cycle,
            dates={(Track.STAFF, Stage.MID_YEAR): objectives},
        )
    deadlines_set(
        world.users["trust_hr"], world.cycle, dates={(Track.STAFF, Stage.SIGN_OFF): final}
    )
    assert deadline_table(world.cycle).trust[(Track.STAFF, Stage.SIGN_OFF)] == final


# CPD event dates -----------------------------------------------------------------------


def _event_data(world, **overrides: str) -> dict[str, str]:
    data = {
        "title": "Adaptive teaching",
        "kind": "course",
        "subject": "",
        "host_academy": str(world.academies["oak"].pk),
        "provider": "",
        "venue": "Oak hall",
        "starts_on": f"{NEXT_MONTH:%d/%m/%Y}",
        "ends_on": "",
        "hours": "2.5",
        "cost_per_place": "12.50",
        "places": "15",
        "description": "",
    }
    data.update(overrides)
    return data


def test_new_event_dates_start_empty(client, world):
    client.force_login(world.users["trust_hr"])
    body = client.get(reverse("appraisal:cpd-event-add")).content.decode()
    starts = re.search(r'<input[^>]*name="starts_on"[^>]*>', body)
    ends = re.search(r'<input[^>]*name="ends_on"[^>]*>', body)
    assert starts is not None
    assert ends is not None
    assert "value=" not in starts.group(0)
    assert "value=" not in ends.group(0)
    assert "Leave it empty for a one-day event, and the start date is used." in body


def test_new_event_without_end_date(client, world):
    client.force_login(world.users["trust_hr"])
    response = client.post(reverse("appraisal:cpd-event-add"), _event_data(world))
    assert response.status_code == 302, response.content.decode()
    event = CpdEvent.objects.get()
    assert event.starts_on == NEXT_MONTH
    assert event.ends_on == NEXT_MONTH


def test_new_event_end_before_start(client, world):
    client.force_login(world.users["trust_hr"])
    earlier = NEXT_MONTH - datetime.timedelta(days=1)
    response = client.post(
        reverse("appraisal:cpd-event-add"), _event_data(world, ends_on=f"{earlier:%d/%m/%Y}")
    )
    assert response.status_code == 400
    assert "before the start date" in response.content.decode()
    assert not CpdEvent.objects.exists()


# Numbers in exponent notation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (
            "hours",
            "1e5",
            "Hours “1e5” is not a number; enter digits with an optional decimal point, "
            "from 0.1 to 500.",
        ),
        (
            "cost_per_place",
            "1e9",
            "Cost per place “1e9” is not a number; enter digits with an optional decimal "
            "point, from 0 to 100000.",
        ),
        ("hours", "Infinity", "Hours “Infinity” is not a number"),
        ("cost_per_place", "0x10", "Cost per place “0x10” is not a number"),
    ],
)
def test_event_form_rejects_exponent(client, world, field, typed, message):
    client.force_login(world.users["trust_hr"])
    response = client.post(reverse("appraisal:cpd-event-add"), _event_data(world, **{field: typed}))
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert "E+" not in body
    assert not CpdEvent.objects.exists()


def test_event_form_echoes_typed_number(client, world):
    client.force_login(world.users["trust_hr"])
    response = client.post(
        reverse("appraisal:cpd-event-add"),
        _event_data(world, cost_per_place="1000000000", hours="0500.5"),
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Cost per place 1000000000 is too large; the maximum is 100000." in body
    assert "Cost per place 1000000000 has too many digits; enter a number from 0 to 100000." in (
        body
    )
    assert "Hours 0500.5 is too large; the maximum is 500." in body


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("hours", "1e5", "“1e5” is not a number; enter hours as a number such as 6 or 2.5, "),
        ("cost", "1e9", "“1e9” is not a number; enter pounds as a number such as 150 or 89.50, "),
        ("cost", "£1e3", "“£1e3” is not a number"),
    ],
)
def test_portfolio_form_rejects_exponent(client, world, field, typed, message):
    client.force_login(world.users["teacher"])
    data = {
        "kind": CpdKind.COURSE,
        "title": "Reading in Key Stage 3",
        "started_on": "12/10/2026",
        "hours": "3",
        "cost": "0",
        field: typed,
    }
    response = client.post(reverse("appraisal:portfolio-entry-add"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert "E+" not in body
    assert not PortfolioEntry.objects.exists()


# Wording -----------------------------------------------------------------------------------


def test_full_one_place_event_wording(client, world):
    event = CpdEvent.objects.create(
        title="Coaching",
        kind=CpdKind.COURSE,
        host_academy=world.academies["oak"],
        starts_on=NEXT_MONTH,
        ends_on=NEXT_MONTH,
        hours=Decimal("1.0"),
        cost_per_place=Decimal("0"),
        places=1,
    )
    booking_make(world.users["elm_teacher"], event)
    client.force_login(world.users["teacher"])
    body = client.get(reverse("appraisal:cpd-event", args=[event.pk])).content.decode()
    assert "This event is full: its one place is booked." in body
    assert "all 1 places" not in body


# Money in the CPD summary ----------------------------------------------------------------


def _cost_cells(body: str) -> list[str]:
    """Return the number cells of the summary's cost tables."""
    cells: list[str] = []
    for table in re.findall(r"<table>.*?</table>", body, flags=re.S):
        if "CPD cost in pounds" in table:
            cells += re.findall(r'<td class="num">([^<]*)</td>', table)
    return cells


def test_summary_costs_two_decimals(client, world):
    # 109.00 among the Oak teaching staff gives costs per person that
    # need a second decimal digit written out, such as 10.90.
    for key, cost in (("teacher", "100.00"), ("head_of_year", "9.00"), ("elm_teacher", "7.1")):
        PortfolioEntry.objects.create(
            staff=world.staff[key],
            kind=CpdKind.COURSE,
            title="Course",
            started_on=datetime.date(2026, 10, 1),
            hours=Decimal("1.0"),
            cost=Decimal(cost),
        )
    client.force_login(world.users["trust_leader"])
    body = client.get(reverse("appraisal:cpd-summary"), {"year": "2026"}).content.decode()
    cells = _cost_cells(body)
    assert len(cells) > 8
    for cell in cells:
        assert re.fullmatch(r"[0-9,]+\.[0-9]{2}|–", cell), cell
    assert "Total cost (£)" in body
    assert "Cost per person (£)" in body


def test_summary_export_kind_without_entries(client, world):
    """A kind an academy has no entries of is written 0.00 pounds, as the totals are."""
    PortfolioEntry.objects.create(
        staff=world.staff["teacher"],
        kind=CpdKind.COURSE,
        title="Course",
        started_on=datetime.date(2026, 10, 1),
        hours=Decimal("1.0"),
        cost=Decimal("10.00"),
    )
    client.force_login(world.users["trust_leader"])
    response = client.get(reverse("appraisal:cpd-summary"), {"year": "2026", "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Academy,Elm Academy,Course,,,0.0,0.00" in text.splitlines()
