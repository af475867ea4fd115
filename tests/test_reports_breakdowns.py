"""Breakdowns by pupil group and the monthly trend of the dashboards, checked
against the attendance, behaviour and progress selectors for the same pupils."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attendance.models import PupilWeekSummary
from attendance.selectors import default_range, group_report
from behaviour.analysis import Filters, Target, viewer_for
from behaviour.analysis import group_figures as behaviour_figures
from behaviour.models import Suspension
from progress.grades import default_subjects_ensure
from progress.summaries import AREAS, PUPIL_GROUPS, academy_summary
from pupils.models import Enrolment, Pupil, SenStatus
from reports.breakdowns import breakdown, monthly_trend, monthly_trends_by_academy
from reports.figures import figures_for_year_group, year_group_table
from reports.models import Measure

from .factories import PupilFactory, TutorGroupFactory
from .factories_incidents import build_categories, log_incident
from .factories_progress import (
    AssessmentPointFactory,
    GradeEntryFactory,
    TargetGradeFactory,
    default_scale,
    grade_of,
)
from .factories_suspensions import record, suspension_world
from .personas import TODAY

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
FAMILIES = {}
for _group in PUPIL_GROUPS:
    FAMILIES.setdefault(_group.family, []).append(_group.key)


def add_pupil(world, key, tutor_group, **fields):
    """Enrol a new pupil in `tutor_group` from the start of the year, as world.pupils[key]."""
    pupil = PupilFactory(**fields)
    group = world.tutor_groups[tutor_group]
    Enrolment.objects.create(
        pupil=pupil,
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=group.academic_year.start_date,
    )
    world.pupils[key] = pupil
    return pupil


def add_weeks(pupil, weeks, *, present, authorised=0, unauthorised=0):
    """Write one week summary per Monday in `weeks` at the pupil's enrolment."""
    enrolment = Enrolment.objects.get(pupil=pupil)
    for monday in weeks:
        PupilWeekSummary.objects.create(
            pupil=pupil,
            academy_id=enrolment.academy_id,
            academic_year_id=enrolment.academic_year_id,
            year_group_id=enrolment.year_group_id,
            week_start=monday,
            present=present,
            authorised=authorised,
            unauthorised=unauthorised,
        )


def mondays(first, count):
    return [first + datetime.timedelta(weeks=n) for n in range(count)]


def grade(world, point, pupil, qualification, label, target):
    GradeEntryFactory(
        assessment_point=point,
        pupil=pupil,
        qualification=qualification,
        grade=grade_of(qualification.scale, label),
    )
    TargetGradeFactory(
        pupil=pupil,
        qualification=qualification,
        academic_year=world.academic_year,
        grade=grade_of(qualification.scale, target),
    )


def build_world(extra_pupils=6):
    """Oak Year 9 with the persona pupils and `extra_pupils` more (boys, no
    SEN), attendance weeks, single-pupil incidents, a suspension and grades."""
    world = suspension_world()
    for index in range(extra_pupils):
        add_pupil(world, f"extra{index}", "9B", sex="M")
    oak9 = [
        pupil
        for key, pupil in world.pupils.items()
        if key.startswith("oak9") or key.startswith("extra")
    ]
    # The first week starts on Monday 31/08/2026, before the year's first day.
    # Every third pupil misses three sessions a week: persistent absence.
    for index, pupil in enumerate(oak9):
        authorised = 3 if index % 3 == 2 else 0
        add_weeks(
            pupil,
            mondays(datetime.date(2026, 8, 31), 10),
            present=10 - authorised,
            authorised=authorised,
        )
        add_weeks(pupil, mondays(datetime.date(2026, 11, 9), 4), present=8, unauthorised=2)

    categories = world.categories = build_categories(world)
    for key in ("oak9a_obrien", "oak9a_obrien", "oak9b_patel", "extra0"):
        log_incident(world, "headteacher", categories.disruption, [key])
    log_incident(
        world,
        "headteacher",
        categories.disruption,
        ["extra1"],
        occurred_at=datetime.datetime(2026, 10, 5, 10, 0, tzinfo=datetime.UTC),
    )
    log_incident(world, "headteacher", categories.merit, ["extra2"])
    # With alternative provision no E marks are written, so the week summaries stay as set.
    provision = {"alternative_provision": True, "alternative_provision_details": "Unit"}
    record(world, "oak9a_obrien", **provision)
    record(world, "extra0", start_date=datetime.date(2026, 11, 3), **provision)

    trust = world.academies["oak"].trust
    default_scale(trust)
    qualifications = default_subjects_ensure(trust)
    world.english = qualifications["gcse_english_language"]
    world.maths = qualifications["gcse_maths"]
    world.point = AssessmentPointFactory(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        date=datetime.date(2026, 11, 20),
    )
    for index, pupil in enumerate(oak9):
        grade(world, world.point, pupil, world.maths, "6" if index % 2 else "4", "5")
        grade(world, world.point, pupil, world.english, "5", "5")
    return world


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_world()


def rows_by_key(rows):
    return {row.key: row for row in rows}


def family_sum(rows, family, value):
    chosen = rows_by_key(rows)
    return sum(value(chosen[key].figures) for key in FAMILIES[family] if key in chosen)


def oak9_on_roll(world):
    return Enrolment.objects.filter(year_group=world.year_groups["oak9"]).count()


def test_breakdown_keys_and_labels(world):
    rows = breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=False)
    expected = [(g.key, g.label) for g in PUPIL_GROUPS if g.key != "sex_not_known"]
    assert [(row.key, row.label) for row in rows] == expected


def test_breakdown_families_sum_to_year_group(world):
    oak9 = world.year_groups["oak9"]
    rows = breakdown(world.academies["oak"], oak9, DAY, suppress=False)
    start, end = default_range(DAY)
    attendance = group_report(oak9, start, end).figures
    viewer = viewer_for(world.users["trust_leader"])
    behaviour = behaviour_figures(viewer, Target(year_group=oak9), Filters(start, end))

    for family in FAMILIES:
        assert family_sum(rows, family, lambda f: f.on_roll) == oak9_on_roll(world), family
        enrolments = family_sum(rows, family, lambda f: f.attendance.enrolments)
        assert enrolments == attendance.enrolments, family
        possible = family_sum(rows, family, lambda f: f.attendance.counts.possible)
        assert possible == attendance.counts.possible, family
        persistent = family_sum(rows, family, lambda f: f.attendance.persistent_absence_count)
        assert persistent == attendance.persistent_absence_count, family
        negative = family_sum(rows, family, lambda f: f.negative_incidents)
        assert negative == behaviour.negative_incidents, family
        with_negative = family_sum(rows, family, lambda f: f.pupils_with_negative)
        assert with_negative == behaviour.negative_pupils, family
        assert family_sum(rows, family, lambda f: f.suspensions) == 2, family
        assert family_sum(rows, family, lambda f: f.pupils_suspended) == 2, family


def test_breakdown_families_sum_to_figures(world):
    oak = world.academies["oak"]
    oak9 = world.year_groups["oak9"]
    for year_group, total in (
        (oak9, figures_for_year_group(oak9, DAY, suppress=False)),
        (None, year_group_table(oak, DAY, suppress=False).total.figures),
    ):
        rows = breakdown(oak, year_group, DAY, suppress=False)
        for family in FAMILIES:
            where = (year_group, family)
            assert family_sum(rows, family, lambda f: f.on_roll) == total.on_roll, where
            attendance = [row.figures.attendance for row in rows if row.key in FAMILIES[family]]
            assert sum(a.enrolments for a in attendance) == total.attendance.enrolments, where
            assert sum(a.severe_absence_count for a in attendance) == (
                total.attendance.severe_absence_count
            ), where
            assert family_sum(rows, family, lambda f: f.suspensions) == total.suspensions, where
            days = family_sum(rows, family, lambda f: f.suspension_days)
            assert days == total.suspension_days, where
            for area in AREAS:
                graded = family_sum(rows, family, lambda f, a=area.key: f.tmg[a].graded)
                assert graded == total.tmg[area.key].graded, (where, area.key)
                on_or_above = family_sum(rows, family, lambda f, a=area.key: f.tmg[a].on_or_above)
                assert on_or_above == total.tmg[area.key].on_or_above, (where, area.key)


def test_breakdown_attendance_equals_splits(world):
    oak9 = world.year_groups["oak9"]
    rows = rows_by_key(breakdown(world.academies["oak"], oak9, DAY, suppress=False))
    start, end = default_range(DAY)
    splits = {split.label: split.figures for split in group_report(oak9, start, end).splits}
    assert rows["disadvantaged"].figures.attendance == splits["Disadvantaged"]
    assert rows["not_disadvantaged"].figures.attendance == splits["Not disadvantaged"]
    assert rows["eal"].figures.attendance == splits["EAL"]
    assert rows["not_eal"].figures.attendance == splits["English first language"]
    assert rows["sen_support"].figures.attendance == splits["SEN support"]
    assert rows["ehc_plan"].figures.attendance == splits["EHC plan"]
    assert rows["male"].figures.attendance == splits["Male"]


def test_breakdown_counts_of_one_group(world):
    rows = rows_by_key(
        breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=False)
    )
    disadvantaged = rows["disadvantaged"].figures
    # O'Brien is looked after: two incidents on 04/12/2026 and one suspension.
    assert disadvantaged.on_roll == 1
    assert disadvantaged.negative_incidents == 2
    assert disadvantaged.pupils_with_negative == 1
    assert disadvantaged.suspensions == 1
    assert disadvantaged.suspension_days == 1
    assert disadvantaged.tmg["maths"].graded == 1
    assert rows["male"].figures.on_roll == 6


def test_breakdown_tmg_equals_progress_groups(world):
    academy = world.academies["oak"]
    rows = rows_by_key(breakdown(academy, None, DAY, suppress=False))
    summary = academy_summary(academy, DAY, suppress=False)
    for group, summary_row in zip(PUPIL_GROUPS, summary.groups, strict=True):
        if group.key not in rows:
            assert all(not tally.graded for tally in summary_row.areas.values())
            continue
        for area in AREAS:
            assert rows[group.key].figures.tmg[area.key] == summary_row.areas[area.key], (
                group.key,
                area.key,
            )


def test_breakdown_permanent_exclusions(world):
    record(
        world,
        "extra3",
        kind=Suspension.Kind.PERMANENT,
        sessions=None,
        start_date=datetime.date(2026, 12, 2),
    )
    rows = rows_by_key(
        breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=False)
    )
    assert rows["male"].figures.permanent_exclusions == 1
    assert rows["female"].figures.permanent_exclusions == 0
    # A permanent exclusion is no suspension.
    assert rows["male"].figures.suspensions == 1


def test_breakdown_academy_includes_year_groups(world):
    academy = world.academies["oak"]
    rows = breakdown(academy, None, DAY, suppress=False)
    on_roll = Enrolment.objects.filter(academy=academy).count()
    assert family_sum(rows, "sex", lambda f: f.on_roll) == on_roll
    assert family_sum(rows, "eal", lambda f: f.on_roll) == on_roll


def test_breakdown_sex_not_known_row(world):
    add_pupil(world, "unknown", "9A", sex="U")
    rows = rows_by_key(
        breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=False)
    )
    assert rows["sex_not_known"].figures.on_roll == 1
    assert family_sum(rows.values(), "sex", lambda f: f.on_roll) == oak9_on_roll(world)


def test_breakdown_incident_with_two_groups(world):
    log_incident(world, "headteacher", world.categories.disruption, ["oak9a_obrien", "extra3"])
    rows = rows_by_key(
        breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=False)
    )
    # One incident of a disadvantaged and a not disadvantaged pupil counts in both rows.
    assert rows["disadvantaged"].figures.negative_incidents == 3
    assert rows["not_disadvantaged"].figures.negative_incidents == 4


def test_breakdown_suppresses_small_groups(world):
    rows = rows_by_key(
        breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=True)
    )
    disadvantaged = rows["disadvantaged"].figures
    assert Measure.ATTENDANCE in disadvantaged.suppressed
    assert Measure.TMG_MATHS in disadvantaged.suppressed
    assert disadvantaged.value(Measure.ATTENDANCE) is None
    assert disadvantaged.tmg_maths is None
    # Not disadvantaged (8 pupils) is the only other row, so it is hidden too.
    assert Measure.ATTENDANCE in rows["not_disadvantaged"].figures.suppressed
    assert rows["not_disadvantaged"].figures.value(Measure.ATTENDANCE) is None
    # Eight pupils on roll, but only three with negative incidents.
    assert Measure.NEGATIVE_PER_100 in rows["not_disadvantaged"].figures.suppressed


def test_breakdown_second_suppression_smallest(world):
    for index in range(5):
        add_pupil(world, f"sen{index}", "9B", sex="M", sen_status=SenStatus.EHC_PLAN)
    rows = rows_by_key(
        breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=True)
    )
    # SEN support has 1 pupil on roll, EHC plan 5 and no SEN 8.
    assert "on_roll" in rows["sen_support"].figures.suppressed
    assert "on_roll" in rows["ehc_plan"].figures.suppressed
    assert "on_roll" not in rows["no_sen"].figures.suppressed


def test_breakdown_large_groups_shown(world):
    for index in range(5):
        add_pupil(world, f"lac{index}", "9B", looked_after=True)
    rows = rows_by_key(
        breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=True)
    )
    assert "on_roll" not in rows["disadvantaged"].figures.suppressed
    assert "on_roll" not in rows["not_disadvantaged"].figures.suppressed


def test_breakdown_without_suppress_hides_nothing(world):
    rows = breakdown(world.academies["oak"], world.year_groups["oak9"], DAY, suppress=False)
    assert all(not row.figures.suppressed for row in rows)


def count_queries(function, *args, **kwargs):
    with CaptureQueriesContext(connection) as context:
        function(*args, **kwargs)
    return len(context.captured_queries)


def test_breakdown_query_count_constant():
    with time_machine.travel(TODAY, tick=False):
        few = build_world(extra_pupils=3)
        few_count = count_queries(
            breakdown, few.academies["oak"], few.year_groups["oak9"], DAY, suppress=True
        )
        for index in range(2, 12):
            pupil = add_pupil(few, f"more{index}", "9B", sex="M")
            add_weeks(pupil, mondays(datetime.date(2026, 9, 7), 3), present=10)
            grade(few, few.point, pupil, few.maths, "5", "5")
        log_incident(few, "headteacher", few.categories.disruption, ["more2", "more3"])
        record(few, "more4", alternative_provision=True, alternative_provision_details="Unit")
        many_count = count_queries(
            breakdown, few.academies["oak"], few.year_groups["oak9"], DAY, suppress=True
        )
        assert Pupil.objects.count() > 15
        assert few_count == many_count


# Monthly trend ---------------------------------------------------------------------------


def test_trend_one_point_per_month(world):
    points = monthly_trend([world.academies["oak"].pk], None, DAY)
    assert [p.label for p in points] == ["Sep 2026", "Oct 2026", "Nov 2026", "Dec 2026"]
    assert points[0].start == datetime.date(2026, 9, 1)
    assert points[0].end == datetime.date(2026, 9, 30)
    assert points[-1].start == datetime.date(2026, 12, 1)
    assert points[-1].end == DAY


def test_trend_sums_equal_year(world):
    oak = world.academies["oak"]
    oak9 = world.year_groups["oak9"]
    start, end = default_range(DAY)
    for academy_ids, year_group, target in (
        ([oak.pk], None, oak),
        ([oak.pk], oak9.pk, oak9),
        ([oak.pk, world.academies["elm"].pk], None, None),
    ):
        points = monthly_trend(academy_ids, year_group, DAY)
        year = group_report(target, start, end).figures.counts
        possible = sum(p.counts.possible for p in points)
        assert possible == year.possible
        assert sum(p.counts.attendance for p in points) == year.attendance
        assert sum(p.negative_incidents for p in points) == 5
        assert sum(p.suspensions for p in points) == 2


def test_trend_first_week_in_september(world):
    points = monthly_trend([world.academies["oak"].pk], None, DAY)
    # Ten weeks from Monday 31/08: 31/08 to 28/09 are September's five, 05/10
    # to 26/10 October's four, and 02/11 with the four from 09/11 November's.
    pupils = 9
    assert points[0].counts.possible == 5 * 10 * pupils
    assert points[1].counts.possible == 4 * 10 * pupils
    assert points[2].counts.possible == 5 * 10 * pupils
    assert points[3].counts.possible == 0


def test_trend_incidents_and_roll_by_month(world):
    points = monthly_trend([world.academies["oak"].pk], None, DAY)
    assert [p.negative_incidents for p in points] == [0, 1, 0, 4]
    assert [p.suspensions for p in points] == [0, 0, 1, 1]
    oak_pupils = Enrolment.objects.filter(academy=world.academies["oak"]).count()
    assert [p.on_roll for p in points] == [oak_pupils] * 4
    assert points[3].negative_per_100 == round(400 / oak_pupils, 1)
    assert points[0].attendance_rate is not None


def test_trend_query_count_constant():
    with time_machine.travel(TODAY, tick=False):
        few = build_world(extra_pupils=3)
        ids = [few.academies["oak"].pk]
        few_count = count_queries(monthly_trend, ids, None, DAY)
        for index in range(2, 12):
            pupil = add_pupil(few, f"more{index}", "9B")
            add_weeks(pupil, mondays(datetime.date(2026, 9, 7), 3), present=10)
        many_count = count_queries(monthly_trend, ids, None, DAY)
        assert few_count == many_count


def test_trends_by_academy_equal_each(world):
    ids = [world.academies["oak"].pk, world.academies["elm"].pk]
    trends = monthly_trends_by_academy(ids, DAY)
    assert list(trends) == ids
    for academy_id in ids:
        assert trends[academy_id] == monthly_trend([academy_id], None, DAY)
    assert sum(p.negative_incidents for p in trends[ids[0]]) == 5


def test_trends_by_academy_query_count(world):
    ids = [world.academies["oak"].pk, world.academies["elm"].pk]
    two = count_queries(monthly_trends_by_academy, ids, DAY)
    group = TutorGroupFactory(academic_year=world.academic_year)
    world.tutor_groups["third"] = group
    add_pupil(world, "third", "third")
    three = count_queries(monthly_trends_by_academy, [*ids, group.academy_id], DAY)
    assert two == three
    assert monthly_trends_by_academy([], DAY) == {}


def test_trend_roll_counts_leavers(world):
    enrolment = Enrolment.objects.get(pupil=world.pupils["extra4"])
    enrolment.end_date = datetime.date(2026, 10, 23)
    enrolment.save()
    oak = world.academies["oak"]
    on_roll = Enrolment.objects.filter(academy=oak).count()
    points = monthly_trend([oak.pk], None, DAY)
    # On roll on each month's last day: the leaver is gone by 31/10.
    assert [p.on_roll for p in points] == [on_roll, on_roll - 1, on_roll - 1, on_roll - 1]
    assert monthly_trends_by_academy([oak.pk], DAY)[oak.pk] == points
