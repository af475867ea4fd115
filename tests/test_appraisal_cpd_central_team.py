"""The central team (staff with no academy) in the CPD summary: a row of its
own for trust-wide readers, counted into the trust total, hidden from
academy leaders."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum
from django.urls import reverse

from appraisal.cpd import CENTRAL_TEAM_LABEL, cpd_summary
from appraisal.models import CpdKind, PortfolioEntry
from staff.models import PostType

from .factories import StaffFactory
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

YEAR_START = datetime.date(2026, 9, 1)
YEAR_END = datetime.date(2027, 8, 31)


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        world = build_personas()
        central_finance = StaffFactory(academy=None, post_type=PostType.SUPPORT)
        entries = [
            (world.staff["teacher"], CpdKind.COURSE, "6.0", "120.00"),
            (world.staff["elm_teacher"], CpdKind.INSET, "2.5", "0"),
            (world.staff["trust_hr"], CpdKind.COURSE, "9.0", "250.00"),
            (central_finance, CpdKind.READING, "1.5", "30.00"),
        ]
        for staff, kind, hours, cost in entries:
            PortfolioEntry.objects.create(
                staff=staff,
                kind=kind,
                title="Safer recruitment",
                started_on=datetime.date(2026, 10, 1),
                hours=Decimal(hours),
                cost=Decimal(cost),
            )
        yield world


def entry_sums(**staff_filter) -> tuple[Decimal, Decimal, int]:
    entries = PortfolioEntry.objects.filter(
        started_on__range=(YEAR_START, YEAR_END),
        **{f"staff__{name}": value for name, value in staff_filter.items()},
    )
    sums = entries.aggregate(hours=Sum("hours"), cost=Sum("cost"))
    return sums["hours"] or Decimal("0"), sums["cost"] or Decimal("0"), entries.count()


def test_central_row_equals_entry_sums(world):
    academies = world.academies.values()
    summary = cpd_summary(academies, YEAR_START, YEAR_END, central_team=True)
    central = summary.academies[-1]

    hours, cost, count = entry_sums(academy__isnull=True)
    assert central.label == CENTRAL_TEAM_LABEL
    assert central.hours == hours == Decimal("10.5")
    assert central.cost == cost == Decimal("280.00")
    assert central.entries == count == 2
    assert central.hours_by_kind[CpdKind.READING] == Decimal("1.5")


def test_central_row_in_trust_total(world):
    summary = cpd_summary(world.academies.values(), YEAR_START, YEAR_END, central_team=True)

    hours, cost, count = entry_sums()
    assert summary.total.hours == hours == sum(t.hours for t in summary.academies)
    assert summary.total.cost == cost == sum(t.cost for t in summary.academies)
    assert summary.total.entries == count == sum(t.entries for t in summary.academies)
    assert summary.total.hours == sum(t.hours for t in summary.groups)
    assert summary.total.staff_count == sum(t.staff_count for t in summary.academies)
    assert summary.total.staff_count == sum(t.staff_count for t in summary.groups)


def test_central_row_counts_staff(world):
    summary = cpd_summary(world.academies.values(), YEAR_START, YEAR_END, central_team=True)
    central = summary.academies[-1]
    assert central.staff_count > 0
    assert central.staff_count == summary.total.staff_count - sum(
        t.staff_count for t in summary.academies[:-1]
    )


def test_summary_without_central_team(world):
    summary = cpd_summary(world.academies.values(), YEAR_START, YEAR_END)
    assert CENTRAL_TEAM_LABEL not in [t.label for t in summary.academies]
    hours, _cost, _count = entry_sums(academy__isnull=False)
    assert summary.total.hours == hours == Decimal("8.5")


@pytest.mark.parametrize("persona", ["trust_hr", "trust_leader", "trust_admin"])
def test_summary_page_central_row_for_trust(client, world, persona):
    client.force_login(world.users[persona])
    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("appraisal:cpd-summary"))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<th scope="row">Central team</th>' in body
    assert "19.0 hours of CPD and £400.00 in 4 portfolio entries" in body


def test_summary_page_central_row_for_superuser(client, world, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "x"))
    with time_machine.travel(TODAY, tick=False):
        body = client.get(reverse("appraisal:cpd-summary")).content.decode()
    assert '<th scope="row">Central team</th>' in body


@pytest.mark.parametrize("persona", ["headteacher", "academy_leader"])
def test_summary_page_no_central_row_for_academy(client, world, persona):
    client.force_login(world.users[persona])
    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("appraisal:cpd-summary"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Central team" not in body
    assert "6.0 hours of CPD and £120.00 in 1 portfolio entry" in body


def test_summary_csv_central_row(client, world):
    client.force_login(world.users["trust_hr"])
    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("appraisal:cpd-summary"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Academy,Central team,All kinds," in text
