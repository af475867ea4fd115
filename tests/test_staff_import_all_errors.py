"""The staff import reports every problem of a row in one preview, the line
manager check included."""

import pytest
import time_machine

from academies.models import Academy
from staff.imports import build_staff_plan

from .factories import StaffFactory
from .factories_imports import IMPORT_MOMENT, csv_bytes, secondary

pytestmark = [pytest.mark.django_db]

HEADER = [
    "First Name",
    "Surname",
    "Email",
    "Job Title",
    "Post Type",
    "Academy",
    "Line Manager",
    "Start Date",
]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(IMPORT_MOMENT, tick=False):
        yield


@pytest.fixture
def academy():
    return secondary(name="Oak Academy", urn="140101")


def errors_of(academy, rows) -> dict[tuple[int, str], str]:
    plan = build_staff_plan(
        content=csv_bytes([HEADER, *rows]),
        filename="staff.csv",
        academies=Academy.objects.all(),
    )
    return {(error.line, error.column): error.reason for error in plan.errors}


def test_unknown_manager_reported_with_cell_errors(academy):
    row = ["", "Patel", "s.patel@oak.example", "Teacher", "Teachign", academy.urn,
           "nobody@oak.example", "31/02/2020"]  # fmt: skip

    found = errors_of(academy, [row])

    assert set(found) == {
        (2, "First Name"),
        (2, "Post Type"),
        (2, "Line Manager"),
        (2, "Start Date"),
    }
    assert "nobody@oak.example" in found[(2, "Line Manager")]


def test_unknown_manager_reported_with_invalid_email(academy):
    row = ["Sam", "Patel", "not-an-email", "Teacher", "Teacher", academy.urn,
           "nobody@oak.example", ""]  # fmt: skip

    found = errors_of(academy, [row])

    assert "not a valid email address" in found[(2, "Email")]
    assert "nobody@oak.example" in found[(2, "Line Manager")]


def test_duplicate_reported_with_cell_errors(academy):
    rows = [
        ["Al", "Ray", "dup@oak.example", "Teacher", "Teachign", academy.urn, "", ""],
        ["Bo", "Ray", "dup@oak.example", "Teacher", "Teacher", academy.urn, "", ""],
    ]

    found = errors_of(academy, rows)

    assert "not an allowed value" in found[(2, "Post Type")]
    assert "also on line 3" in found[(2, "Email")]
    assert "also on line 2" in found[(3, "Email")]


def test_manager_row_with_errors_counts_as_in_file(academy):
    rows = [
        ["Sam", "Patel", "s.patel@oak.example", "Teacher", "Teacher", academy.urn,
         "j.okafor@oak.example", ""],
        ["Jo", "Okafor", "j.okafor@oak.example", "Head", "Teachign", academy.urn, "", ""],
    ]  # fmt: skip

    found = errors_of(academy, rows)

    assert set(found) == {(3, "Post Type")}


def test_stored_manager_is_not_unknown(academy):
    StaffFactory(academy=academy, email="J.Okafor@oak.example")
    row = ["", "Patel", "s.patel@oak.example", "Teacher", "Teacher", academy.urn,
           "j.okafor@oak.example", ""]  # fmt: skip

    found = errors_of(academy, [row])

    assert set(found) == {(2, "First Name")}
