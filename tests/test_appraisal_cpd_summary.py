"""The CPD summary: hours and cost per academy and per staff group by kind,
equal to the sums of the portfolio entries, with access, exports and query counts."""

import csv
import datetime
import io
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from appraisal.cpd import cpd_summary, summary_export_rows
from appraisal.models import CpdKind, PortfolioEntry
from staff.models import PostType, StaffMember

from .factories import AcademyFactory, StaffFactory
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

YEAR_START = datetime.date(2026, 9, 1)
YEAR_END = datetime.date(2027, 8, 31)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


class World:
    def __init__(self) -> None:
        self.p = build_personas()
        self.oak = self.p.academies["oak"]
        self.elm = self.p.academies["elm"]
        self.oak_ta = StaffFactory(
            academy=self.oak, post_type=PostType.TEACHING_ASSISTANT, first_name="Tamsin"
        )
        self.elm_support = StaffFactory(
            academy=self.elm, post_type=PostType.SUPPORT, first_name="Sunil"
        )

    def entry(self, staff: StaffMember, kind: str, day: datetime.date, hours: str, cost: str):
        return PortfolioEntry.objects.create(
            staff=staff,
            kind=kind,
            title=f"Entry of {staff.first_name}",
            started_on=day,
            hours=Decimal(hours),
            cost=Decimal(cost),
        )


@pytest.fixture
def world() -> World:
    return World()


def _seed_entries(world: World) -> None:
    teacher = world.p.staff["teacher"]
    elm_teacher = world.p.staff["elm_teacher"]
    world.entry(teacher, CpdKind.COURSE, datetime.date(2026, 9, 1), "6.0", "120.00")
    world.entry(teacher, CpdKind.INSET, datetime.date(2026, 11, 3), "2.5", "0")
    world.entry(world.oak_ta, CpdKind.COURSE, datetime.date(2027, 1, 10), "3.0", "45.50")
    world.entry(elm_teacher, CpdKind.PEER_VISIT, datetime.date(2026, 10, 1), "4.0", "12.00")
    world.entry(world.elm_support, CpdKind.COURSE, datetime.date(2027, 8, 31), "1.5", "10.00")
    # Outside the academic year: the day before it starts, and the day after it ends.
    world.entry(teacher, CpdKind.COURSE, datetime.date(2026, 8, 31), "100.0", "999.00")
    world.entry(teacher, CpdKind.COURSE, datetime.date(2027, 9, 1), "100.0", "999.00")
    # The central team has no academy: only trust-wide readers see its row.
    world.entry(world.p.staff["trust_hr"], CpdKind.COURSE, datetime.date(2026, 10, 1), "9.0", "9")


# Figures -------------------------------------------------------------------------------


def test_summary_per_academy(world):
    _seed_entries(world)
    summary = cpd_summary([world.oak, world.elm], YEAR_START, YEAR_END)
    by_name = {tally.label: tally for tally in summary.academies}

    oak = by_name["Oak Academy"]
    assert oak.hours_by_kind == {"course": Decimal("9.0"), "inset": Decimal("2.5")}
    assert oak.cost_by_kind == {"course": Decimal("165.50"), "inset": Decimal("0")}
    assert oak.hours == Decimal("11.5")
    assert oak.cost == Decimal("165.50")
    assert oak.entries == 3
    # Eight Oak personas and the teaching assistant.
    assert oak.staff_count == 9
    elm = by_name["Elm Academy"]
    assert elm.hours_by_kind == {"peer_visit": Decimal("4.0"), "course": Decimal("1.5")}
    assert elm.cost == Decimal("22.00")
    assert elm.staff_count == 2


def test_summary_per_staff_group(world):
    _seed_entries(world)
    summary = cpd_summary([world.oak, world.elm], YEAR_START, YEAR_END)
    by_name = {tally.label: tally for tally in summary.groups}

    assert set(by_name) == {"Teacher", "Teaching assistant", "Support staff"}
    assert by_name["Teacher"].hours_by_kind == {
        "course": Decimal("6.0"),
        "inset": Decimal("2.5"),
        "peer_visit": Decimal("4.0"),
    }
    assert by_name["Teaching assistant"].hours == Decimal("3.0")
    # A group of one is still shown: these are staff figures, not pupils'.
    assert by_name["Support staff"].staff_count == 1
    assert by_name["Support staff"].cost == Decimal("10.00")


def test_summary_trust_total(world):
    _seed_entries(world)
    summary = cpd_summary([world.oak, world.elm], YEAR_START, YEAR_END)

    assert summary.total.hours == Decimal("17.0")
    assert summary.total.cost == Decimal("187.50")
    assert summary.total.entries == 5
    assert summary.total.staff_count == 11
    assert summary.total.hours == sum((t.hours for t in summary.academies), Decimal("0"))
    assert summary.total.hours == sum((t.hours for t in summary.groups), Decimal("0"))
    assert summary.total.cost == sum((t.cost for t in summary.groups), Decimal("0"))
    assert summary.kinds == ["course", "inset", "peer_visit"]


def test_summary_date_range(world):
    _seed_entries(world)
    summary = cpd_summary(
        [world.oak, world.elm], datetime.date(2026, 10, 1), datetime.date(2026, 11, 30)
    )
    assert summary.total.hours == Decimal("6.5")
    assert summary.total.entries == 2


def test_summary_one_academy(world):
    _seed_entries(world)
    summary = cpd_summary([world.elm], YEAR_START, YEAR_END)
    assert [t.label for t in summary.academies] == ["Elm Academy"]
    assert summary.total.hours == Decimal("5.5")


def test_summary_empty(world):
    summary = cpd_summary([world.oak], YEAR_START, YEAR_END)
    assert summary.total.hours == Decimal("0")
    assert summary.kinds == []
    assert summary.academies[0].hours_per_head == Decimal("0.0")


entry_strategy = st.tuples(
    st.sampled_from(["teacher", "oak_ta", "elm_teacher", "elm_support"]),
    st.sampled_from(CpdKind.values),
    st.integers(min_value=-30, max_value=400),
    st.decimals(min_value=0, max_value=99, places=1),
    st.decimals(min_value=0, max_value=999, places=2),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entries=st.lists(entry_strategy, max_size=12))
def test_summary_equals_entry_sums(world, entries):
    PortfolioEntry.objects.all().delete()
    people = {
        "teacher": world.p.staff["teacher"],
        "oak_ta": world.oak_ta,
        "elm_teacher": world.p.staff["elm_teacher"],
        "elm_support": world.elm_support,
    }
    expected_academy: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    expected_group_cost: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, kind, offset, hours, cost in entries:
        staff = people[key]
        day = YEAR_START + datetime.timedelta(days=offset)
        world.entry(staff, kind, day, str(hours), str(cost))
        if YEAR_START <= day <= YEAR_END:
            expected_academy[(staff.academy.name, kind)] += hours
            expected_group_cost[(staff.get_post_type_display(), kind)] += cost

    summary = cpd_summary([world.oak, world.elm], YEAR_START, YEAR_END)

    got_academy = {
        (t.label, kind): hours for t in summary.academies for kind, hours in t.hours_by_kind.items()
    }
    got_group_cost = {
        (t.label, kind): cost for t in summary.groups for kind, cost in t.cost_by_kind.items()
    }
    assert got_academy == dict(expected_academy)
    assert got_group_cost == dict(expected_group_cost)
    assert summary.total.hours == sum(expected_academy.values(), Decimal("0"))
    assert summary.total.cost == sum(expected_group_cost.values(), Decimal("0"))


# The page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status", "sees_elm"),
    [
        ("trust_leader", 200, True),
        ("trust_admin", 200, True),
        ("trust_hr", 200, True),
        ("headteacher", 200, False),
        ("academy_leader", 200, False),
        ("teacher", 403, False),
        ("elm_teacher", 403, False),
        ("head_of_year", 403, False),
        ("staff", 403, False),
        ("trustee", 403, False),
    ],
)
def test_summary_page_per_persona(client, world, persona, status, sees_elm):
    _seed_entries(world)
    client.force_login(world.p.users[persona])
    response = client.get(reverse("appraisal:cpd-summary"))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "Oak Academy" in body
        assert ("Elm Academy" in body) is sees_elm


def test_summary_page_figures(client, world):
    _seed_entries(world)
    client.force_login(world.p.users["trust_leader"])
    body = client.get(reverse("appraisal:cpd-summary")).content.decode()

    assert "01/09/2026 and 31/08/2027" in body
    assert "26.0 hours of CPD and £196.50 in 6 portfolio entries, for 15 members of staff" in body
    assert "<svg" in body
    assert "Data behind the chart" in body
    assert "Teaching assistant" in body
    assert "CPD cost in pounds by staff group and kind" in body
    assert "Peer visit to another academy" in body


def test_summary_page_shows_no_names(client, world):
    _seed_entries(world)
    client.force_login(world.p.users["trust_hr"])
    body = client.get(reverse("appraisal:cpd-summary")).content.decode()
    assert "Tamsin" not in body
    assert "Sunil" not in body
    assert "Entry of" not in body
    assert "Teacher Persona" not in body


def test_summary_page_date_filters(client, world):
    _seed_entries(world)
    client.force_login(world.p.users["trust_leader"])
    response = client.get(
        reverse("appraisal:cpd-summary"), {"from": "01/10/2026", "to": "30/11/2026"}
    )
    assert "15.5 hours of CPD" in response.content.decode()
    last_year = client.get(reverse("appraisal:cpd-summary"), {"year": "2025"})
    assert "01/09/2025 and 31/08/2026" in last_year.content.decode()
    assert "100.0 hours of CPD" in last_year.content.decode()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"year": "twenty"}, "“year” has the value “twenty”"),
        ({"year": "1999"}, "“year” has the value “1999”"),
        ({"from": "31/02/2027"}, "“from” has the value “31/02/2027”"),
        ({"from": "01/05/2027", "to": "01/04/2027"}, "“from” on or before “to”"),
        ({"format": "pdf"}, "“format” has the value “pdf”"),
    ],
)
def test_summary_page_bad_input(client, world, params, fragment):
    client.force_login(world.p.users["trust_leader"])
    response = client.get(reverse("appraisal:cpd-summary"), params)
    assert response.status_code == 400
    assert fragment in response.content.decode()


def test_summary_page_query_count(client, world, django_assert_max_num_queries):
    _seed_entries(world)
    client.force_login(world.p.users["trust_leader"])
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("appraisal:cpd-summary"))
    for index in range(12):
        academy = AcademyFactory(trust=world.oak.trust, name=f"Academy {index:02d}")
        for kind in (CpdKind.COURSE, CpdKind.COACHING, CpdKind.READING):
            staff = StaffFactory(academy=academy, post_type=PostType.LEADERSHIP)
            world.entry(staff, kind, datetime.date(2026, 10, 5), "2.0", "30.00")
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        response = client.get(reverse("appraisal:cpd-summary"))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert "Academy 11" in response.content.decode()


# Exports -------------------------------------------------------------------------------


def _csv_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_summary_csv_rows(client, world):
    _seed_entries(world)
    client.force_login(world.p.users["trust_leader"])
    rows = _csv_rows(client.get(reverse("appraisal:cpd-summary"), {"format": "csv"}))

    assert rows[0] == ["Breakdown", "Name", "Kind", "Staff", "Entries", "Hours", "Cost (£)"]
    assert ["Academy", "Oak Academy", "Course", "", "", "9.0", "165.50"] in rows
    assert ["Staff group", "Support staff", "All kinds", "1", "1", "1.5", "10.00"] in rows
    assert ["Trust", "Trust total", "All kinds", "15", "6", "26.0", "196.50"] in rows


def test_summary_csv_neutralises_formulas(client, world):
    world.oak.name = '=HYPERLINK("http://example.invalid","Oak")'
    world.oak.save()
    _seed_entries(world)
    client.force_login(world.p.users["trust_leader"])
    rows = _csv_rows(client.get(reverse("appraisal:cpd-summary"), {"format": "csv"}))
    names = {row[1] for row in rows[1:] if row[0] == "Academy"}
    assert '\'=HYPERLINK("http://example.invalid","Oak")' in names
    assert not any(name.startswith("=") for name in names)


def test_summary_xlsx_numbers(client, world):
    _seed_entries(world)
    client.force_login(world.p.users["trust_hr"])
    response = client.get(reverse("appraisal:cpd-summary"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    total = next(row for row in rows if row[1] == "Trust total" and row[2] == "All kinds")
    assert total[5] == 26
    assert total[6] == 196.5


def test_summary_export_rows_total_matches(world):
    _seed_entries(world)
    summary = cpd_summary([world.oak, world.elm], YEAR_START, YEAR_END)
    rows = summary_export_rows(summary)
    academy_hours = sum(
        (row[5] for row in rows if row[0] == "Academy" and row[2] == "All kinds"), Decimal("0")
    )
    assert academy_hours == summary.total.hours
