"""The attendance statistics engine against the DfE's rules and published figures."""

import csv
import datetime
from pathlib import Path

import pytest

from attendance.codes import Category, code_error, code_on
from attendance.statistics import Counts, group_figures, one_decimal

DATA = Path(__file__).resolve().parent.parent / "attendance" / "data"


def test_worked_example_one_term():
    # 146 sessions: 118 present, 4 L, 2 B, 8 I, 2 M, 2 U, 4 G, 2 Y2, 4 #.
    counts = Counts(
        present=118 + 4,
        approved_activity=2,
        authorised=8 + 2,
        unauthorised=2 + 4,
        not_counted=2 + 4,
        late_before_close=4,
        late_after_close=2,
    )

    assert counts.possible == 140
    assert counts.attendance == 124
    assert round(counts.attendance_rate, 3) == 88.571
    assert round(counts.authorised_rate, 3) == 7.143
    assert round(counts.unauthorised_rate, 3) == 4.286
    assert round(counts.absence_rate, 3) == 11.429
    assert counts.persistent_absence
    assert not counts.severe_absence
    assert counts.late == 6
    assert counts.attendance_rate + counts.absence_rate == pytest.approx(100)


@pytest.mark.parametrize(
    ("absence", "persistent", "severe"),
    [(14, True, False), (13, False, False), (70, True, True), (69, True, False)],
)
def test_absence_thresholds(absence, persistent, severe):
    counts = Counts(present=140 - absence, unauthorised=absence)

    assert counts.possible == 140
    assert counts.persistent_absence is persistent
    assert counts.severe_absence is severe


def test_dual_registration_not_possible_session():
    # Changing one B to D removes the session rather than making it absence.
    with_b = Counts(present=137, approved_activity=1, unauthorised=2)
    with_d = Counts(present=137, approved_activity=0, unauthorised=2, not_counted=1)

    assert with_b.possible == 140
    assert with_d.possible == 139
    assert with_d.absence == with_b.absence


def test_missing_marks_not_counted():
    # Case: 5 present, one each of G, U, O, and 2 sessions not yet marked.
    counts = Counts(present=5, unauthorised=3, late_after_close=1)

    assert counts.possible == 8
    assert counts.attendance_rate == 62.5
    assert counts.unauthorised == 3


def test_absence_split_matches_everywhere():
    counts = Counts(unauthorised=6, authorised=3)

    assert counts.authorised == 3
    assert counts.unauthorised == 6
    assert counts.absence == 9


def test_no_possible_sessions_gives_no_rate():
    counts = Counts(not_counted=4)

    assert counts.attendance_rate is None
    assert not counts.persistent_absence


def test_group_figures_count_enrolments():
    figures = group_figures(
        [Counts(present=90, unauthorised=10), Counts(present=100), Counts(not_counted=5)]
    )

    assert figures.enrolments == 2
    assert figures.persistent_absence_count == 1
    assert figures.persistent_absence_rate == 50.0
    assert figures.counts.possible == 200


@pytest.mark.parametrize(("rate", "shown"), [(93.25, 93.3), (93.24, 93.2), (88.5714, 88.6)])
def test_one_decimal_rounds_half_up(rate, shown):
    assert one_decimal(rate) == shown


def national_rows():
    with open(DATA / "attendance-england-2025-26-year-to-date.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize(
    "row", national_rows(), ids=lambda r: f"{r['region_name']}-{r['education_phase']}"
)
def test_published_rates_reproduced(row):
    present = int(row["present_sessions"])
    counts = Counts(
        present=present,
        approved_activity=int(row["approved_educational_activity"]),
        authorised=int(row["authorised_absence"]),
        unauthorised=int(row["unauthorised_absence"]),
    )

    assert counts.possible == int(row["possible_sessions"])
    assert counts.attendance_rate == pytest.approx(float(row["attendance_perc"]), abs=1e-9)
    assert counts.absence_rate == pytest.approx(float(row["overall_absence_perc"]), abs=1e-9)
    assert counts.authorised_rate == pytest.approx(float(row["authorised_absence_perc"]), abs=1e-9)
    assert counts.unauthorised_rate == pytest.approx(
        float(row["unauthorised_absence_perc"]), abs=1e-9
    )


def test_j_before_and_after_2024():
    before = code_on("J", datetime.date(2024, 3, 1))
    assert before is not None
    assert before.category == Category.APPROVED_ACTIVITY
    assert code_on("J1", datetime.date(2024, 9, 2)).category == Category.AUTHORISED

    error = code_error("J", datetime.date(2024, 9, 2))
    assert error is not None
    assert "retired on 18/08/2024" in error
    assert "J1" in error


def test_new_code_rejected_before_2024():
    error = code_error("Y4", datetime.date(2023, 10, 2))
    assert error is not None
    assert "came into use on 19/08/2024" in error


def test_unknown_code_lists_allowed():
    error = code_error("QQ", datetime.date(2026, 12, 4))
    assert error is not None
    assert "'QQ' is not an attendance code" in error
    assert " J1 " in error


@pytest.mark.parametrize("code", ["D", "X", "Q", "Y1", "Y4", "Y7", "Z", "#"])
def test_not_counted_codes(code):
    definition = code_on(code, datetime.date(2026, 12, 4))
    assert definition is not None
    assert not definition.is_possible_session
