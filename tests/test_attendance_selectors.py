"""Attendance figures: a pupil's counts and missing marks, group figures from
the weekly summaries, splits, trends and the date range rules."""

import datetime

import pytest
import time_machine

from academies.models import Closure
from attendance import selectors
from attendance.selectors import GroupTarget, RangeError, group_report, parse_range, pupil_counts
from pupils.models import Enrolment, SenStatus
from trust.clock import LONDON

from .factories import (
    AcademicYearFactory,
    AcademyFactory,
    PupilFactory,
    TrustFactory,
    TutorGroupFactory,
    YearGroupFactory,
)
from .factories_attstats import mark_days, whole_year_term

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 9, 7)
FRIDAY = datetime.date(2026, 9, 11)


def frozen(day: datetime.date):
    return time_machine.travel(
        datetime.datetime.combine(day, datetime.time(16, 0), tzinfo=LONDON), tick=False
    )


@pytest.fixture
def school():
    trust = TrustFactory()
    year = AcademicYearFactory(trust=trust, start_year=2026)
    whole_year_term(year)
    academy = AcademyFactory(trust=trust, name="Ash Academy")
    group = TutorGroupFactory(academy=academy, academic_year=year, name="9A")
    return {"trust": trust, "year": year, "academy": academy, "group": group}


def enrol(school, *, start=MONDAY, group=None, **pupil_fields):
    group = group or school["group"]
    pupil = PupilFactory(**pupil_fields)
    Enrolment.objects.create(
        pupil=pupil,
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=start,
    )
    return pupil


def test_case_a1_missing_marks_neither_present_nor_absent(school):
    with frozen(FRIDAY):
        pupil = enrol(school)
        mark_days(pupil, MONDAY, ["/", "\\", "/", "\\", "/", "G", "U", "O"])
        result = pupil_counts(pupil, *selectors.default_range())

    assert result.counts.possible == 8
    assert result.counts.attendance_rate == 62.5
    assert result.counts.unauthorised == 3
    assert [(m.date, m.session) for m in result.missing] == [(FRIDAY, "AM"), (FRIDAY, "PM")]
    fields = selectors.counts_fields(result.counts, len(result.missing))
    assert fields["missing_sessions"] == 2
    assert all(v >= 0 for v in fields.values() if isinstance(v, int | float))


def test_case_a1_six_o_three_i_same_in_pupil_and_group(school):
    with frozen(FRIDAY):
        pupil = enrol(school)
        mark_days(pupil, MONDAY, ["O"] * 6 + ["I"] * 3)
        alone = pupil_counts(pupil, *selectors.default_range()).counts
        group = group_report(school["academy"], *selectors.default_range()).figures.counts

    for counts in (alone, group):
        assert (counts.authorised, counts.unauthorised, counts.absence) == (3, 6, 9)


def test_missing_marks_only_while_enrolled_and_not_on_closures(school):
    with frozen(FRIDAY):
        pupil = enrol(school, start=datetime.date(2026, 9, 9))
        Closure.objects.create(
            academy=school["academy"], date=datetime.date(2026, 9, 10), kind="inset"
        )
        Closure.objects.create(
            academy=school["academy"], date=FRIDAY, kind="planned", sessions="pm"
        )
        result = pupil_counts(pupil, *selectors.default_range())

    assert [(m.date, m.session) for m in result.missing] == [
        (datetime.date(2026, 9, 9), "AM"),
        (datetime.date(2026, 9, 9), "PM"),
        (FRIDAY, "AM"),
    ]


def test_case_r4_new_year_starts_at_zero():
    trust = TrustFactory()
    last = AcademicYearFactory(trust=trust, start_year=2024)
    this = AcademicYearFactory(trust=trust, start_year=2025)
    whole_year_term(last)
    whole_year_term(this)
    academy = AcademyFactory(trust=trust)
    year8 = YearGroupFactory(academy=academy, nc_year=8)
    year9 = YearGroupFactory(academy=academy, nc_year=9)
    pupil = PupilFactory()
    Enrolment.objects.create(
        pupil=pupil,
        academy=academy,
        academic_year=last,
        year_group=year8,
        start_date=last.start_date,
        end_date=last.end_date,
    )
    Enrolment.objects.create(
        pupil=pupil,
        academy=academy,
        academic_year=this,
        year_group=year9,
        start_date=this.start_date,
    )
    with frozen(datetime.date(2025, 6, 12)):
        mark_days(pupil, datetime.date(2025, 6, 9), ["I", "I", "O"])
    with frozen(datetime.date(2025, 9, 3)):
        current = pupil_counts(pupil, *selectors.default_range()).counts
        previous = pupil_counts(pupil, last.start_date, last.end_date).counts
        year_now = group_report(academy, *selectors.default_range()).figures
        year_before = group_report(academy, last.start_date, last.end_date).figures

    assert current.absence == 0
    assert previous.absence == 3
    assert year_now.counts.absence == 0
    assert year_before.counts.absence == 3


def test_group_figures_persistent_and_severe_per_enrolment(school):
    with frozen(FRIDAY):
        good = enrol(school, sen_status=SenStatus.SEN_SUPPORT, eal=True)
        persistent = enrol(school, sex="M")
        severe = enrol(school)
        mark_days(good, MONDAY, ["/"] * 10)
        mark_days(persistent, MONDAY, ["/"] * 9 + ["O"])
        mark_days(severe, MONDAY, ["/"] * 5 + ["I"] * 5)
        report = group_report(school["group"], *selectors.default_range())

    figures = report.figures
    assert figures.enrolments == 3
    assert figures.persistent_absence_count == 2
    assert figures.severe_absence_count == 1
    assert figures.counts.possible == 30
    splits = {(s.heading, s.label): s.figures for s in report.splits}
    assert splits[("SEN support", "SEN support")].enrolments == 1
    assert splits[("SEN support", "SEN support")].persistent_absence_count == 0
    assert splits[("English as an additional language", "English first language")].enrolments == 2
    assert splits[("Sex", "Male")].persistent_absence_count == 1
    assert splits[("Year group", "Year 9")].enrolments == 3


def test_mover_counts_once_at_each_academy(school):
    other = AcademyFactory(trust=school["trust"], name="Birch Academy")
    other_group = TutorGroupFactory(academy=other, academic_year=school["year"], name="9B")
    with frozen(datetime.date(2026, 9, 18)):
        pupil = enrol(school)
        Enrolment.objects.filter(pupil=pupil).update(end_date=FRIDAY)
        mark_days(pupil, MONDAY, ["O"] * 10)
        Enrolment.objects.create(
            pupil=pupil,
            academy=other,
            academic_year=school["year"],
            year_group=other_group.year_group,
            tutor_group=other_group,
            start_date=datetime.date(2026, 9, 14),
        )
        mark_days(pupil, datetime.date(2026, 9, 14), ["/"] * 10)
        trust = group_report(None, *selectors.default_range())

    assert trust.figures.enrolments == 2
    assert trust.figures.persistent_absence_count == 1
    assert trust.by_academy()[other.pk].persistent_absence_count == 0


def test_tutor_group_counts_only_weeks_in_the_group(school):
    other_group = TutorGroupFactory(
        academy=school["academy"],
        academic_year=school["year"],
        year_group=school["group"].year_group,
        name="9C",
    )
    with frozen(datetime.date(2026, 9, 18)):
        pupil = enrol(school)
        Enrolment.objects.filter(pupil=pupil).update(end_date=FRIDAY)
        Enrolment.objects.create(
            pupil=pupil,
            academy=school["academy"],
            academic_year=school["year"],
            year_group=other_group.year_group,
            tutor_group=other_group,
            start_date=datetime.date(2026, 9, 14),
        )
        mark_days(pupil, MONDAY, ["O"] * 10 + ["/"] * 10)
        first = group_report(school["group"], *selectors.default_range()).figures
        second = group_report(other_group, *selectors.default_range()).figures

    assert (first.counts.absence, first.counts.possible) == (10, 10)
    assert (second.counts.absence, second.counts.possible) == (0, 10)


def test_cohort_keeps_pupils_aged_5_to_15(school):
    with frozen(FRIDAY):
        in_cohort = enrol(school, date_of_birth=datetime.date(2011, 9, 1))
        too_old = enrol(school, date_of_birth=datetime.date(2010, 8, 31))
        mark_days(in_cohort, MONDAY, ["/"] * 4)
        mark_days(too_old, MONDAY, ["O"] * 4)
        everyone = group_report(school["academy"], *selectors.default_range()).figures
        cohort = group_report(school["academy"], *selectors.default_range(), cohort=True).figures

    assert everyone.enrolments == 2
    assert cohort.enrolments == 1
    assert cohort.counts.absence == 0


def test_weekly_trend(school):
    with frozen(datetime.date(2026, 9, 18)):
        pupil = enrol(school)
        mark_days(pupil, MONDAY, ["/"] * 10 + ["/"] * 5 + ["O"] * 5)
        trend = selectors.weekly_trend(school["academy"], *selectors.default_range())

    assert [(week, counts.attendance_rate) for week, counts in trend] == [
        (MONDAY, 100.0),
        (datetime.date(2026, 9, 14), 50.0),
    ]


@pytest.mark.parametrize("pupils", [2, 12])
def test_group_queries_do_not_grow_with_pupils(school, pupils, django_assert_num_queries):
    with frozen(FRIDAY):
        for _ in range(pupils):
            mark_days(enrol(school), MONDAY, ["/", "O"])
        with django_assert_num_queries(1):
            report = group_report(school["academy"], *selectors.default_range())
        with django_assert_num_queries(1):
            selectors.weekly_trend(GroupTarget(), *selectors.default_range())

    assert report.figures.enrolments == pupils


def test_parse_range_messages():
    with frozen(FRIDAY):
        assert parse_range(None, None) == (datetime.date(2026, 9, 1), FRIDAY)
        assert parse_range("2026-09-07", "2026-09-08") == (MONDAY, datetime.date(2026, 9, 8))
        with pytest.raises(RangeError) as bad:
            parse_range("07/09/2026", None)
        assert bad.value.field == "from"
        assert "07/09/2026" in bad.value.message
        assert "YYYY-MM-DD" in bad.value.message
        with pytest.raises(RangeError) as backwards:
            parse_range("2026-09-08", "2026-09-07")
        assert "2026-09-08" in backwards.value.message


@pytest.mark.parametrize(
    ("rate", "key"),
    [
        (97.0, "excellent"),
        (96.9, "expected"),
        (95.0, "expected"),
        (94.9, "at-risk"),
        (90.1, "at-risk"),
        (90.0, "persistent"),
        (50.1, "persistent"),
        (50.0, "severe"),
        (None, "none"),
    ],
)
def test_bands(rate, key):
    assert selectors.band(rate)[0] == key


def test_database_sums_equal_per_pupil_sums(school):
    other = AcademyFactory(trust=school["trust"], name="Birch Academy")
    other_group = TutorGroupFactory(academy=other, academic_year=school["year"], name="9B")
    with frozen(FRIDAY):
        for codes in (["/"] * 8, ["/"] * 7 + ["O"], ["I"] * 4 + ["/"] * 4, ["D"] * 2):
            mark_days(enrol(school), MONDAY, codes)
        mark_days(enrol(school, group=other_group), MONDAY, ["G", "/", "/"])
        academies = [school["academy"], other]
        expected = group_report(
            GroupTarget(academy_ids=(school["academy"].pk, other.pk)), *selectors.default_range()
        ).by_academy()
        rows, total = selectors.academies_attendance(academies, *selectors.default_range())

    for row in rows:
        assert row.figures == expected[row.academy.pk]
    assert total.enrolments == 4
    assert total.persistent_absence_count == 3
    assert total.severe_absence_count == 1
    assert total.counts.possible == 27
