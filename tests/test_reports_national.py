"""England's national figures: the seeded rows, the year fallback, and the
academies' DfE cohort figures compared phase by phase."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from academies.models import Phase
from reports import seeding
from reports.models import NationalFigure, NationalPhase
from reports.national import comparisons_by_academy, comparisons_for, national_for, trust_comparison
from tests.factories import PupilFactory
from tests.factories_attstats import mark_days
from tests.factories_seed import academy_with_years, enrol, trust_with_year, tutor_group

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 4)
FIRST_MONDAY = datetime.date(2026, 9, 7)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 12, 4, 10, 0), tick=False):
        yield


# Seeding ------------------------------------------------------------------------


def test_seeding_creates_four_rows():
    rows = {row.phase: row for row in NationalFigure.objects.filter(start_year=2025)}

    assert set(rows) == {"primary", "secondary", "special", "total"}
    assert rows["primary"].attendance_rate == Decimal("94.7")
    assert rows["primary"].persistent_absence_rate == Decimal("13.8")
    assert rows["secondary"].attendance_rate == Decimal("91.5")
    assert rows["special"].persistent_absence_rate == Decimal("36.1")
    assert rows["total"].attendance_rate == Decimal("93.1")


def test_reseed_restores_missing_row():
    NationalFigure.objects.filter(start_year=2025, phase="special").delete()

    seeding.reseed()

    assert NationalFigure.objects.filter(start_year=2025, phase="special").count() == 1
    assert NationalFigure.objects.filter(start_year=2025).count() == 4


def test_reseed_keeps_administrator_edit():
    row = NationalFigure.objects.get(start_year=2025, phase="primary")
    row.attendance_rate = Decimal("95.0")
    row.severe_absence_rate = Decimal("1.9")
    row.save()

    seeding.reseed()

    row.refresh_from_db()
    assert row.attendance_rate == Decimal("95.0")
    assert row.severe_absence_rate == Decimal("1.9")
    assert NationalFigure.objects.filter(start_year=2025, phase="primary").count() == 1


# national_for -------------------------------------------------------------------


def test_national_for_exact_year():
    NationalFigure.objects.create(
        start_year=2026, phase="secondary", attendance_rate=Decimal("92.0")
    )

    national = national_for(Phase.SECONDARY, 2026)

    assert national is not None
    assert national.is_current_year
    assert national.year_label == "2026/27"
    assert national.attendance_rate == Decimal("92.0")
    assert national.heading == "England 2026/27"


def test_national_for_falls_back_with_label():
    national = national_for(Phase.PRIMARY, 2026)

    assert national is not None
    assert not national.is_current_year
    assert national.start_year == 2025
    assert national.year_label == "2025/26"
    assert national.heading == "England 2025/26 (latest published)"
    assert national.attendance_rate == Decimal("94.7")
    assert national.phase_label == "Primary"
    assert national.source


def test_national_for_ignores_later_years():
    NationalFigure.objects.create(start_year=2027, phase="primary", attendance_rate=Decimal("99"))

    national = national_for(Phase.PRIMARY, 2026)

    assert national is not None
    assert national.start_year == 2025


def test_national_for_year_before_any_row():
    assert national_for(Phase.PRIMARY, 2019) is None


@pytest.mark.parametrize("phase", [Phase.NURSERY, Phase.ALTERNATIVE_PROVISION, Phase.ALL_THROUGH])
def test_national_for_phase_without_row(phase):
    assert national_for(phase, 2025) is None


def test_national_for_special_and_total():
    special = national_for(Phase.SPECIAL, 2025)
    total = national_for(NationalPhase.TOTAL, 2025)

    assert special is not None and special.attendance_rate == Decimal("86.8")
    assert total is not None and total.attendance_rate == Decimal("93.1")


# Comparisons --------------------------------------------------------------------


def _pupil(academy, year, nc_year, born, codes):
    group = tutor_group(academy, year, nc_year, f"{nc_year}{born.year}", with_tutor=False)
    pupil = PupilFactory(date_of_birth=born)
    enrol(group, pupil=pupil)
    mark_days(pupil, FIRST_MONDAY, codes)
    return pupil


@pytest.fixture
def all_through():
    """An all-through academy (ages 4 to 18) with one pupil in each of
    Reception (aged 4), Year 1 (5), Year 11 (15) and Year 12 (16) on
    31 August 2026. Only the Year 1 and Year 11 pupils are in the cohort."""
    trust, year = trust_with_year(2026)
    academy = academy_with_years(trust, low=4, high=18, phase=Phase.ALL_THROUGH)
    # Outside the cohort: absent throughout, so including them would show.
    _pupil(academy, year, 0, datetime.date(2022, 1, 10), ["O"] * 10)
    _pupil(academy, year, 12, datetime.date(2010, 1, 10), ["O"] * 10)
    # Year 1: 9 of 10 sessions attended (90%, persistent absence).
    _pupil(academy, year, 1, datetime.date(2021, 1, 10), ["/"] * 9 + ["O"])
    # Year 11: 8 of 10 attended, 2 authorised absences.
    _pupil(academy, year, 11, datetime.date(2011, 1, 10), ["/"] * 8 + ["I", "I"])
    return trust, year, academy


def test_all_through_two_phase_comparisons(all_through):
    _, _, academy = all_through

    comparisons = comparisons_for(academy, TODAY)

    assert [c.phase for c in comparisons] == ["primary", "secondary"]
    primary, secondary = comparisons
    assert primary.national is not None
    assert primary.national.phase == "primary"
    assert primary.national.attendance_rate == Decimal("94.7")
    assert secondary.national is not None
    assert secondary.national.phase == "secondary"
    assert secondary.national.attendance_rate == Decimal("91.5")


def test_all_through_cohort_figures(all_through):
    _, _, academy = all_through

    primary, secondary = comparisons_for(academy, TODAY)

    assert primary.figures.enrolments == 1
    assert primary.figures.counts.possible == 10
    assert primary.attendance_rate == 90.0
    assert primary.persistent_absence_rate == 100.0
    assert secondary.figures.enrolments == 1
    assert secondary.figures.counts.possible == 10
    assert secondary.attendance_rate == 80.0
    assert secondary.figures.counts.authorised == 2
    assert secondary.severe_absence_rate == 0.0


def test_comparison_labels_fallback_year(all_through):
    _, _, academy = all_through

    primary, _ = comparisons_for(academy, TODAY)

    assert primary.national is not None
    assert primary.national.heading == "England 2025/26 (latest published)"


def test_single_phase_academy_one_comparison(all_through):
    trust, year, _ = all_through
    secondary = academy_with_years(trust, low=11, high=16, phase=Phase.SECONDARY)
    _pupil(secondary, year, 9, datetime.date(2012, 10, 1), ["/"] * 4)
    # Aged 16 on 31 August 2026: outside the cohort.
    _pupil(secondary, year, 11, datetime.date(2010, 6, 1), ["O"] * 4)

    comparisons = comparisons_for(secondary, TODAY)

    assert len(comparisons) == 1
    assert comparisons[0].phase == "secondary"
    assert comparisons[0].figures.enrolments == 1
    assert comparisons[0].attendance_rate == 100.0


@pytest.mark.parametrize("phase", [Phase.NURSERY, Phase.ALTERNATIVE_PROVISION])
def test_phase_without_row_no_comparison(phase):
    trust, _ = trust_with_year(2026)
    low, high = (3, 4) if phase == Phase.NURSERY else (11, 16)
    academy = academy_with_years(trust, low=low, high=high, phase=phase)

    assert comparisons_for(academy, TODAY) == []


def test_trust_comparison_totals_cohort(all_through):
    trust, year, academy = all_through
    secondary = academy_with_years(trust, low=11, high=16, phase=Phase.SECONDARY)
    _pupil(secondary, year, 9, datetime.date(2012, 10, 1), ["/"] * 10)

    comparison = trust_comparison([academy, secondary], TODAY)

    assert comparison.academy is None
    assert comparison.phase == "total"
    assert comparison.figures.enrolments == 3
    assert comparison.figures.counts.possible == 30
    assert comparison.attendance_rate == 90.0
    assert comparison.national is not None
    assert comparison.national.attendance_rate == Decimal("93.1")


def test_comparison_queries_constant(all_through):
    trust, year, academy = all_through
    single = [academy]
    with CaptureQueriesContext(connection) as few:
        comparisons_by_academy(single, TODAY)
    more = [academy]
    for _ in range(3):
        extra = academy_with_years(trust, low=11, high=16, phase=Phase.SECONDARY)
        _pupil(extra, year, 9, datetime.date(2012, 10, 1), ["/"] * 2)
        more.append(extra)

    with CaptureQueriesContext(connection) as many:
        result = comparisons_by_academy(more, TODAY)

    assert len(many) == len(few) == 2
    assert len(result) == 4
