"""Live measures of appraisal objectives: each value equals the figure the
progress or attendance page shows for the same group, the rules of
measure_errors, and a query count that does not grow with the objectives."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from appraisal.measures import MeasureValue, measure_errors, measure_values
from appraisal.models import Measure, MeasureScope, Objective
from attendance.selectors import default_range, group_figures_for
from attendance.statistics import one_decimal
from progress.grades import Status, default_subjects_ensure
from progress.models import AssessmentPoint
from progress.selectors import class_view, grid_view
from progress.summaries import academy_summary, heatmap, point_figures
from staff.models import StaffMember
from trust.clock import LONDON

from .factories import AcademicYearFactory, PupilFactory, YearGroupFactory
from .factories_appraisal import cycle_2026, make_appraisal, make_objective
from .factories_attendance import enrol
from .factories_attstats import mark_days, whole_year_term
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    GradeEntryFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    default_scale,
    grade_of,
)
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.date(2026, 11, 20)
OCTOBER = datetime.date(2026, 10, 9)
RESULTS_DAY = datetime.date(2026, 8, 20)
MARKS_MONDAY = datetime.date(2026, 11, 30)
COMPARED = (Status.ABOVE, Status.ON, Status.BELOW, Status.WELL_BELOW)

# Pupils of the teacher's Year 9 maths class: key -> (grade at November or
# None, TMG for 2026/27 or None). "october_only" has no November grade but a
# grade 9 in October, which the class page takes as the latest grade.
NINE_MATHS = {
    "above": ("7", "6"),
    "on": ("6", "6"),
    "below": ("6-", "6"),
    "well_below": ("5", "6"),
    "absent": ("Absent", "6"),
    "october_only": (None, "6"),
    "no_tmg": ("6", None),
}
# The teacher's Year 10 English language class: key -> (grade, TMG).
TEN_ENGLISH = {"above": ("6", "5"), "on": ("5", "5"), "below": ("4", "5")}
# Last year's Year 11 maths class at its final results: key -> (grade, TMG for 2025/26).
ELEVEN_FINAL = {"above": ("8", "7"), "on": ("7", "7"), "below": ("5", "7"), "no_tmg": ("6", None)}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


def tmg(qualification, pupil, label, year):
    return TargetGradeFactory(
        pupil=pupil,
        qualification=qualification,
        academic_year=year,
        grade=grade_of(qualification.scale, label),
    )


def grade(point, pupil, qualification, label):
    return GradeEntryFactory(
        assessment_point=point,
        pupil=pupil,
        qualification=qualification,
        grade=grade_of(qualification.scale, label),
    )


def fill_class(group, point, pupils_table, *, tutor_group=None):
    """Add one pupil per row of `pupils_table` to `group`, with their TMG and grade at `point`."""
    pupils = {}
    for key, (label, target) in pupils_table.items():
        pupil = PupilFactory(legal_forename=key.replace("_", "").capitalize())
        if tutor_group is not None:
            enrol(pupil, tutor_group, tutor_group.academic_year.start_date)
        ClassMembershipFactory(group=group, pupil=pupil)
        if target:
            tmg(group.qualification, pupil, target, group.academic_year)
        if label:
            grade(point, pupil, group.qualification, label)
        pupils[key] = pupil
    return pupils


@pytest.fixture
def world():
    world = build_personas()
    whole_year_term(world.academic_year)
    oak = world.academies["oak"]
    trust = oak.trust
    default_scale(trust)
    qualifications = default_subjects_ensure(trust)
    maths = qualifications["gcse_maths"]
    english = qualifications["gcse_english_language"]
    world.maths = maths
    world.english = english
    teacher = world.staff["teacher"]

    world.nine_maths = TeachingGroupFactory(
        academy=oak,
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=maths,
        name="9Ma1",
        teachers=[teacher],
    )
    october = AssessmentPointFactory(group=world.nine_maths, name="October 2026", date=OCTOBER)
    world.nine_november = AssessmentPointFactory(
        group=world.nine_maths, name="Autumn 2026", date=NOVEMBER
    )
    nine = fill_class(
        world.nine_maths, world.nine_november, NINE_MATHS, tutor_group=world.tutor_groups["9A"]
    )
    grade(october, nine["october_only"], maths, "9")
    # A pupil who left 9Ma1 in October is off the class page and out of the measure.
    left = PupilFactory(legal_forename="Left")
    ClassMembershipFactory(group=world.nine_maths, pupil=left, end_date=datetime.date(2026, 10, 31))
    tmg(maths, left, "4", world.academic_year)
    grade(october, left, maths, "9")

    world.ten_english = TeachingGroupFactory(
        academy=oak,
        academic_year=world.academic_year,
        year_group=world.year_groups["oak10"],
        qualification=english,
        name="10En1",
        teachers=[teacher],
    )
    world.ten_november = AssessmentPointFactory(
        group=world.ten_english, name="Autumn 2026", date=NOVEMBER
    )
    fill_class(world.ten_english, world.ten_november, TEN_ENGLISH)

    # A second teacher's class, so the Year 9 figures are not the teacher's alone.
    world.nine_maths_two = TeachingGroupFactory(
        academy=oak,
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=maths,
        name="9Ma2",
        teachers=[world.staff["head_of_year"]],
    )
    fill_class(world.nine_maths_two, world.nine_november, {"on": ("6", "6")})

    # Last summer's Year 11 results, taught by the teacher in 2025/26.
    world.last_year = AcademicYearFactory(trust=trust, start_year=2025)
    world.oak11 = YearGroupFactory(academy=oak, nc_year=11)
    world.eleven_maths = TeachingGroupFactory(
        academy=oak,
        academic_year=world.last_year,
        year_group=world.oak11,
        qualification=maths,
        name="11Ma1",
        teachers=[teacher],
    )
    world.results = AssessmentPointFactory(
        group=world.eleven_maths,
        name="Summer 2026 results",
        date=RESULTS_DAY,
        kind=AssessmentPoint.Kind.FINAL,
    )
    fill_class(world.eleven_maths, world.results, ELEVEN_FINAL)

    world.cycle = cycle_2026(world)
    world.appraisal = make_appraisal(
        world.cycle, teacher, world.staff["headteacher"], objectives=()
    )
    return world


def objective(world, measure, scope, target="60.0", appraisal=None, **places):
    return make_objective(
        appraisal or world.appraisal,
        f"{measure} of {scope}",
        10,
        measure=measure,
        measure_scope=scope,
        target_value=Decimal(target) if target is not None else None,
        **places,
    )


def value_of(world, item: Objective) -> MeasureValue:
    return measure_values([item], TODAY.date())[item.pk]


def page(world, persona, url):
    client = APIClient()
    client.force_login(world.users[persona])
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def compared_percent(counts):
    compared = sum(counts[s] for s in COMPARED)
    return round(100 * (counts[Status.ABOVE] + counts[Status.ON]) / compared, 1)


def summary_percents(content: str, label: str) -> list[str]:
    """Return the percentages of one row of the progress summary table, in area order."""
    row = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\">(?:<a [^>]*>)?{re.escape(label)}.*?</tr>", content, re.S
    )
    assert row is not None, label
    return re.findall(r"(\d+\.\d)%|–", row.group(0))


# Pupils on or above TMG: the appraisee's classes ------------------------------------


def test_own_classes_equals_class_pages(world):
    item = objective(world, Measure.TMG_LATEST, MeasureScope.OWN_CLASSES)
    on_or_above = 0
    compared = 0
    for group in (world.nine_maths, world.ten_english):
        content = page(world, "teacher", f"/progress/classes/{group.pk}/").content.decode()
        found = re.search(r"(\d+) on or above TMG, (\d+) below TMG", content)
        assert found is not None
        on_or_above += int(found.group(1))
        compared += int(found.group(1)) + int(found.group(2))
        view = class_view(group)
        assert int(found.group(1)) == view.on_or_above_count
        assert int(found.group(2)) == view.below_count

    value = value_of(world, item)

    # 9Ma1: above, on, october_only (grade 9 in October) of five compared; 10En1: two of three.
    assert (on_or_above, compared) == (5, 8)
    assert value.value == round(100 * on_or_above / compared, 1)
    assert value.value == 62.5
    assert value.display == "62.5%"
    assert value.scope_label == "The appraisee's classes"
    assert value.basis == "Latest grades in the appraisee's classes this year: 9Ma1, 10En1"
    assert value.higher_is_better is True


def test_own_classes_final_equals_grid(world):
    item = objective(world, Measure.TMG_FINAL, MeasureScope.OWN_CLASSES)
    grid = grid_view(world.eleven_maths, world.results)
    counts = {s.value: 0 for s in Status}
    for row in grid.rows:
        counts[row.status.value] += 1

    value = value_of(world, item)

    assert counts[Status.NO_TMG] == 1
    assert value.value == compared_percent(counts)
    assert value.value == round(200 / 3, 1)
    assert value.basis == "Final results: 2025/26 (11Ma1)"


def test_own_classes_without_classes_no_data(world):
    appraisal = make_appraisal(
        world.cycle, world.staff["staff"], world.staff["headteacher"], objectives=()
    )
    latest = objective(world, Measure.TMG_LATEST, MeasureScope.OWN_CLASSES, appraisal=appraisal)
    final = objective(world, Measure.TMG_FINAL, MeasureScope.OWN_CLASSES, appraisal=appraisal)

    values = measure_values([latest, final], TODAY.date())

    assert values[latest.pk].value is None
    assert values[latest.pk].display == "No data yet"
    assert values[latest.pk].meets_target is None
    assert values[final.pk].value is None
    assert values[final.pk].display == "No final results yet"
    assert values[final.pk].meets_target is None


# Pupils on or above TMG: year groups and academies -------------------------------------


def test_year_group_equals_summary_page(world):
    oak = world.academies["oak"]
    item = objective(
        world,
        Measure.TMG_LATEST,
        MeasureScope.YEAR_GROUP,
        measure_year_group=world.year_groups["oak9"],
    )
    content = page(world, "headteacher", f"/progress/academies/{oak.pk}/summary/").content.decode()
    summary = academy_summary(oak, TODAY.date(), suppress=False)
    row = next(
        r for r in summary.rows if r.point and r.point.year_group_id == world.year_groups["oak9"].pk
    )

    value = value_of(world, item)

    assert value.value == row.areas["all"].percent
    assert summary_percents(content, "Year 9")[2] == f"{value.value}"
    assert value.display == f"{value.value}%"
    assert value.basis == "Latest assessment point: Autumn 2026 (Year 9)"
    assert value.scope_label == "Year 9, Oak Academy"


def test_academy_equals_summary_total(world):
    oak = world.academies["oak"]
    item = objective(world, Measure.TMG_LATEST, MeasureScope.ACADEMY, measure_academy=oak)
    content = page(world, "headteacher", f"/progress/academies/{oak.pk}/summary/").content.decode()
    summary = academy_summary(oak, TODAY.date(), suppress=False)

    value = value_of(world, item)

    assert value.value == summary.total.areas["all"].percent
    assert summary_percents(content, "All year groups, Oak Academy")[2] == f"{value.value}"
    assert value.basis == "Latest assessment points: Autumn 2026 (Year 9), Autumn 2026 (Year 10)"


def test_year_group_final_results(world):
    item = objective(
        world, Measure.TMG_FINAL, MeasureScope.YEAR_GROUP, measure_year_group=world.oak11
    )
    tally = point_figures([world.results], TODAY.date())[0].areas["all"]

    value = value_of(world, item)

    # Four pupils graded, two on or above: the pupil without a TMG counts as not on target.
    assert (tally.graded, tally.on_or_above) == (4, 2)
    assert value.value == tally.percent
    assert value.value == 50.0
    assert value.basis == "Final results: Summer 2026 results (Year 11)"


def test_academy_final_results(world):
    oak = world.academies["oak"]
    item = objective(world, Measure.TMG_FINAL, MeasureScope.ACADEMY, measure_academy=oak)

    value = value_of(world, item)

    assert value.value == point_figures([world.results], TODAY.date())[0].areas["all"].percent
    assert value.basis == "Final results: Summer 2026 results (Year 11)"


def test_final_results_none_yet(world):
    elm = world.academies["elm"]
    item = objective(world, Measure.TMG_FINAL, MeasureScope.ACADEMY, measure_academy=elm)
    appraisal_elm = make_appraisal(
        world.cycle, world.staff["elm_teacher"], world.staff["headteacher"], objectives=()
    )
    other = objective(
        world,
        Measure.TMG_FINAL,
        MeasureScope.YEAR_GROUP,
        appraisal=appraisal_elm,
        measure_year_group=world.year_groups["elm9"],
    )

    values = measure_values([item, other], TODAY.date())

    for found in values.values():
        assert found.value is None
        assert found.display == "No final results yet"
        assert found.meets_target is None


def test_year_group_without_points_no_data(world):
    item = objective(
        world,
        Measure.TMG_LATEST,
        MeasureScope.YEAR_GROUP,
        measure_year_group=world.year_groups["elm10"],
    )

    value = value_of(world, item)

    assert value.value is None
    assert value.display == "No data yet"
    assert value.meets_target is None
    assert value.basis == "No assessment points yet"


# Pupils on or above TMG: a subject in an academy ---------------------------------------


def heatmap_counts(content: str, qualification_id: int) -> dict[str, int]:
    found = re.findall(rf'qualification={qualification_id}&amp;status=([a-z_]+)">(\d+)<', content)
    return {status: int(count) for status, count in found}


def test_subject_equals_heatmaps(world):
    oak = world.academies["oak"]
    item = objective(
        world,
        Measure.TMG_LATEST,
        MeasureScope.SUBJECT,
        measure_subject=world.maths.subject,
        measure_academy=oak,
    )
    year_nine = world.year_groups["oak9"]
    content = page(
        world, "headteacher", f"/progress/year-groups/{year_nine.pk}/heatmap/"
    ).content.decode()
    page_counts = heatmap_counts(content, world.maths.pk)
    row = heatmap(year_nine, world.nine_november).row_for(world.maths.pk)
    assert row is not None
    for status in COMPARED:
        assert page_counts[status] == row.counts[status]
    # Year 10 has no maths row, so the figure is Year 9's: above and on of 9Ma1
    # and on of 9Ma2 out of five compared at November.
    year_ten = heatmap(world.year_groups["oak10"], world.ten_november)
    assert year_ten.row_for(world.maths.pk) is None

    value = value_of(world, item)

    assert value.value == compared_percent(page_counts)
    assert value.value == 60.0
    assert value.scope_label == "Mathematics, Oak Academy"
    assert value.basis == "Latest assessment point: Autumn 2026 (Year 9)"


def test_subject_final_results(world):
    oak = world.academies["oak"]
    item = objective(
        world,
        Measure.TMG_FINAL,
        MeasureScope.SUBJECT,
        measure_subject=world.maths.subject,
        measure_academy=oak,
    )
    english = objective(
        world,
        Measure.TMG_FINAL,
        MeasureScope.SUBJECT,
        measure_subject=world.english.subject,
        measure_academy=oak,
    )
    row = heatmap(world.oak11, world.results).row_for(world.maths.pk)
    assert row is not None

    values = measure_values([item, english], TODAY.date())

    assert values[item.pk].value == compared_percent(row.counts)
    assert values[item.pk].value == round(200 / 3, 1)
    assert values[item.pk].basis == "Final results: Summer 2026 results (Year 11)"
    assert values[english.pk].value is None
    assert values[english.pk].display == "No final results yet"
    assert values[english.pk].basis == (
        f"No {world.english.subject.name} classes or grades at the assessment points"
    )


# Attendance and persistent absence ----------------------------------------------------


@pytest.fixture
def marks(world):
    """Mark one week: Smith-Jones misses 3 of 10 sessions, the others attend every one."""
    present = ["/", "\\"] * 5
    mark_days(world.pupils["oak9a_obrien"], MARKS_MONDAY, present)
    mark_days(world.pupils["oak9a_smithjones"], MARKS_MONDAY, ["/", "\\"] * 3 + ["/"] + ["O"] * 3)
    mark_days(world.pupils["oak9b_patel"], MARKS_MONDAY, present)
    mark_days(world.pupils["oak10a_taylor"], MARKS_MONDAY, present)
    return world


def card_figure(content: str, label: str) -> str:
    found = re.search(
        rf'<span class="label">{label}</span> <span class="figure">([^<]*)</span>', content
    )
    assert found is not None, label
    return found.group(1)


def test_attendance_year_group_equals_page(marks):
    world = marks
    year_nine = world.year_groups["oak9"]
    rate = objective(
        world, Measure.ATTENDANCE, MeasureScope.YEAR_GROUP, "95.0", measure_year_group=year_nine
    )
    absence = objective(
        world,
        Measure.PERSISTENT_ABSENCE,
        MeasureScope.YEAR_GROUP,
        "10.0",
        measure_year_group=year_nine,
    )
    content = page(
        world, "headteacher", f"/attendance/year-groups/{year_nine.pk}/"
    ).content.decode()
    pa_text = re.search(r"(\d+\.\d)% of (\d+) pupils", content)
    assert pa_text is not None

    values = measure_values([rate, absence], TODAY.date())

    assert card_figure(content, "Attendance") == values[rate.pk].display
    assert card_figure(content, "Attendance") == "90.0%"
    assert values[rate.pk].meets_target is False
    assert values[rate.pk].basis == "Attendance 01/09/2026 to 04/12/2026"
    assert float(pa_text.group(1)) == values[absence.pk].value
    assert float(pa_text.group(1)) == 33.3
    assert values[absence.pk].higher_is_better is False
    assert values[absence.pk].meets_target is False


def test_attendance_academy_equals_page(marks):
    world = marks
    oak = world.academies["oak"]
    rate = objective(world, Measure.ATTENDANCE, MeasureScope.ACADEMY, "92.5", measure_academy=oak)
    absence = objective(
        world, Measure.PERSISTENT_ABSENCE, MeasureScope.ACADEMY, "25.0", measure_academy=oak
    )
    content = page(world, "headteacher", f"/attendance/academies/{oak.pk}/").content.decode()
    pa_text = re.search(r"(\d+\.\d)% of (\d+) pupils", content)
    assert pa_text is not None

    values = measure_values([rate, absence], TODAY.date())

    assert card_figure(content, "Attendance") == values[rate.pk].display
    assert card_figure(content, "Attendance") == "92.5%"
    # Equal to the target meets it, whichever way is better.
    assert values[rate.pk].meets_target is True
    assert float(pa_text.group(1)) == values[absence.pk].value
    assert float(pa_text.group(1)) == 25.0
    assert values[absence.pk].meets_target is True
    assert values[absence.pk].scope_label == "Oak Academy"


def test_attendance_tutor_group_equals_api(marks):
    world = marks
    group = world.tutor_groups["9A"]
    rate = objective(
        world, Measure.ATTENDANCE, MeasureScope.TUTOR_GROUP, "80.0", measure_tutor_group=group
    )
    absence = objective(
        world,
        Measure.PERSISTENT_ABSENCE,
        MeasureScope.TUTOR_GROUP,
        "60.0",
        measure_tutor_group=group,
    )
    api_figures = page(world, "headteacher", f"/api/v1/tutor-groups/{group.pk}/attendance/").json()
    figures = group_figures_for(group, *default_range(TODAY.date()))

    values = measure_values([rate, absence], TODAY.date())

    assert api_figures["attendance_rate"] == values[rate.pk].value
    assert api_figures["attendance_rate"] == 85.0
    assert one_decimal(figures.counts.attendance_rate) == 85.0
    assert values[rate.pk].meets_target is True
    assert api_figures["persistent_absence_rate"] == values[absence.pk].value
    assert api_figures["persistent_absence_rate"] == 50.0
    assert values[absence.pk].meets_target is True
    assert values[absence.pk].scope_label == "Tutor group 9A (2026/27), Oak Academy"


def test_attendance_without_marks_no_data(world):
    group = world.tutor_groups["10E"]
    rate = objective(world, Measure.ATTENDANCE, MeasureScope.TUTOR_GROUP, measure_tutor_group=group)
    absence = objective(
        world, Measure.PERSISTENT_ABSENCE, MeasureScope.TUTOR_GROUP, measure_tutor_group=group
    )

    values = measure_values([rate, absence], TODAY.date())

    for item in (rate, absence):
        assert values[item.pk].value is None
        assert values[item.pk].display == "No data yet"
        assert values[item.pk].meets_target is None


# Targets and objectives without a measure ------------------------------------------------


def test_target_comparison_both_directions(marks):
    world = marks
    group = world.tutor_groups["9A"]
    cases = [
        (Measure.ATTENDANCE, "85.1", False),
        (Measure.ATTENDANCE, "85.0", True),
        (Measure.ATTENDANCE, "84.9", True),
        (Measure.PERSISTENT_ABSENCE, "49.9", False),
        (Measure.PERSISTENT_ABSENCE, "50.0", True),
        (Measure.PERSISTENT_ABSENCE, "50.1", True),
    ]
    items = [
        (
            objective(world, measure, MeasureScope.TUTOR_GROUP, target, measure_tutor_group=group),
            met,
        )
        for measure, target, met in cases
    ]

    values = measure_values([item for item, _ in items], TODAY.date())

    for item, met in items:
        assert values[item.pk].meets_target is met, (item.measure, item.target_value)
        assert values[item.pk].target == float(item.target_value)


def test_without_target_meets_is_none(marks):
    world = marks
    item = objective(
        world,
        Measure.ATTENDANCE,
        MeasureScope.TUTOR_GROUP,
        None,
        measure_tutor_group=world.tutor_groups["9A"],
    )

    value = value_of(world, item)

    assert value.value == 85.0
    assert value.target is None
    assert value.meets_target is None


def test_objectives_without_measure_left_out(world):
    plain = make_objective(world.appraisal, "Lead the reading programme", 10)

    assert measure_values([plain], TODAY.date()) == {}


# Query count -----------------------------------------------------------------------------


def count_queries(items):
    with CaptureQueriesContext(connection) as context:
        measure_values(items, TODAY.date())
    return len(context.captured_queries)


def one_of_each(world, appraisal):
    oak = world.academies["oak"]
    return [
        objective(world, Measure.TMG_LATEST, MeasureScope.OWN_CLASSES, appraisal=appraisal),
        objective(world, Measure.TMG_FINAL, MeasureScope.OWN_CLASSES, appraisal=appraisal),
        objective(
            world,
            Measure.TMG_LATEST,
            MeasureScope.YEAR_GROUP,
            appraisal=appraisal,
            measure_year_group=world.year_groups["oak9"],
        ),
        objective(
            world, Measure.TMG_FINAL, MeasureScope.ACADEMY, appraisal=appraisal, measure_academy=oak
        ),
        objective(
            world,
            Measure.TMG_LATEST,
            MeasureScope.SUBJECT,
            appraisal=appraisal,
            measure_subject=world.maths.subject,
            measure_academy=oak,
        ),
        objective(
            world,
            Measure.ATTENDANCE,
            MeasureScope.TUTOR_GROUP,
            appraisal=appraisal,
            measure_tutor_group=world.tutor_groups["9A"],
        ),
        objective(
            world,
            Measure.PERSISTENT_ABSENCE,
            MeasureScope.ACADEMY,
            appraisal=appraisal,
            measure_academy=oak,
        ),
    ]


def test_query_count_independent_of_objectives(marks):
    world = marks
    first = one_of_each(world, world.appraisal)
    baseline = count_queries(first)

    more = list(first)
    for key in ("head_of_year", "tutor", "academy_leader"):
        appraisal = make_appraisal(
            world.cycle, world.staff[key], world.staff["headteacher"], objectives=()
        )
        more += one_of_each(world, appraisal)
    # Other year groups and subjects of the same academy share its points and heatmaps.
    oak = world.academies["oak"]
    more += [
        objective(
            world,
            Measure.TMG_LATEST,
            MeasureScope.YEAR_GROUP,
            measure_year_group=world.year_groups["oak10"],
        ),
        objective(
            world, Measure.TMG_FINAL, MeasureScope.YEAR_GROUP, measure_year_group=world.oak11
        ),
        objective(
            world,
            Measure.TMG_LATEST,
            MeasureScope.SUBJECT,
            measure_subject=world.english.subject,
            measure_academy=oak,
        ),
    ]

    assert len(more) == 4 * len(first) + 3
    assert count_queries(more) == baseline
    assert len(measure_values(more, TODAY.date())) == len(more)


# measure_errors --------------------------------------------------------------------------


def errors_for(world, appraisee="teacher", **fields):
    arguments = {
        "measure": "",
        "measure_scope": "",
        "measure_academy": None,
        "measure_subject": None,
        "measure_year_group": None,
        "measure_tutor_group": None,
        "target_value": None,
    }
    arguments.update(fields)
    return measure_errors(world.staff[appraisee], **arguments)


def test_errors_none_for_valid_choices(world):
    oak = world.academies["oak"]
    valid = [
        {},
        {"measure": "tmg_latest", "measure_scope": "own_classes", "target_value": Decimal("72.5")},
        {
            "measure": "tmg_final",
            "measure_scope": "academy",
            "measure_academy": oak,
            "target_value": 0,
        },
        {
            "measure": "tmg_latest",
            "measure_scope": "subject",
            "measure_subject": world.maths.subject,
            "measure_academy": oak,
            "target_value": "100",
        },
        {
            "measure": "attendance",
            "measure_scope": "tutor_group",
            "measure_tutor_group": world.tutor_groups["9A"],
            "target_value": Decimal("96"),
        },
        {
            "measure": "persistent_absence",
            "measure_scope": "year_group",
            "measure_year_group": world.year_groups["oak9"],
            "target_value": Decimal("12.5"),
        },
    ]
    for fields in valid:
        assert errors_for(world, **fields) == {}, fields


def test_errors_without_measure(world):
    oak = world.academies["oak"]

    errors = errors_for(
        world,
        measure_scope="academy",
        measure_academy=oak,
        measure_year_group=world.year_groups["oak9"],
        target_value=Decimal("50"),
    )

    assert errors["measure_scope"] == [
        "Scope 'academy' needs a measure; choose a measure or clear the scope."
    ]
    assert errors["measure_academy"] == [
        "Academy 'Oak Academy' needs a measure; choose a measure or clear the academy."
    ]
    assert errors["measure_year_group"] == [
        "Year group 'Year 9, Oak Academy' needs a measure; "
        "choose a measure or clear the year group."
    ]
    assert errors["target_value"] == [
        "Target 50 needs a measure; choose a measure or clear the target."
    ]


def test_errors_unknown_measure(world):
    errors = errors_for(world, measure="behaviour_points", target_value=10)

    assert errors == {
        "measure": [
            "Measure 'behaviour_points' is not one of: tmg_latest, tmg_final, attendance, "
            "persistent_absence."
        ]
    }


def test_errors_scope_not_available(world):
    attendance = errors_for(
        world, measure="attendance", measure_scope="own_classes", target_value=95
    )
    progress = errors_for(
        world,
        measure="tmg_latest",
        measure_scope="tutor_group",
        measure_tutor_group=world.tutor_groups["9A"],
        target_value=60,
    )
    missing = errors_for(world, measure="persistent_absence", target_value=10)

    assert attendance == {
        "measure_scope": [
            "Scope 'own_classes' is not available for attendance rate; "
            "choose a tutor group, year group or academy."
        ]
    }
    assert progress == {
        "measure_scope": [
            "Scope 'tutor_group' is not available for pupils on or above TMG at the latest "
            "assessment point; choose the appraisee's classes, a subject, a year group or an "
            "academy."
        ]
    }
    assert missing == {
        "measure_scope": [
            "Scope is missing for persistent absence rate; "
            "choose a tutor group, year group or academy."
        ]
    }


def test_errors_scope_fields(world):
    oak = world.academies["oak"]
    subject = errors_for(world, measure="tmg_final", measure_scope="subject", target_value=60)
    year_group = errors_for(
        world,
        measure="attendance",
        measure_scope="year_group",
        measure_academy=oak,
        target_value=95,
    )
    own = errors_for(
        world,
        measure="tmg_latest",
        measure_scope="own_classes",
        measure_subject=world.maths.subject,
        target_value=60,
    )

    assert subject == {
        "measure_academy": ["Academy is missing; scope 'subject' needs an academy."],
        "measure_subject": ["Subject is missing; scope 'subject' needs a subject."],
    }
    assert year_group["measure_year_group"] == [
        "Year group is missing; scope 'year_group' needs a year group."
    ]
    assert year_group["measure_academy"] == [
        "Academy 'Oak Academy' is not used with scope 'year_group'; clear the academy."
    ]
    assert own == {
        "measure_subject": [
            "Subject 'Mathematics' is not used with scope 'own_classes'; clear the subject."
        ]
    }


def test_errors_target_value(world):
    base = {"measure": "tmg_latest", "measure_scope": "own_classes"}
    rule = "give a percentage from 0 to 100 with at most one decimal place."
    missing = "Target is missing for pupils on or above TMG at the latest assessment point"
    cases = {
        None: f"{missing}; {rule}",
        "": f"{missing}; {rule}",
        "abc": f"Target 'abc' is not a number; {rule}",
        Decimal("100.5"): f"Target 100.5 is outside 0 to 100; {rule}",
        Decimal("-1"): f"Target -1 is outside 0 to 100; {rule}",
        "72.55": f"Target 72.55 has more than one decimal place; {rule}",
    }
    for target, message in cases.items():
        assert errors_for(world, target_value=target, **base) == {"target_value": [message]}, target


def test_errors_other_academy(world):
    elm = world.academies["elm"]
    cases = [
        (
            {"measure_scope": "academy", "measure_academy": elm},
            "measure_academy",
            "Academy 'Elm Academy' is not in Oak Academy, the appraisee's academy; "
            "choose an academy of Oak Academy.",
        ),
        (
            {"measure_scope": "year_group", "measure_year_group": world.year_groups["elm9"]},
            "measure_year_group",
            "Year group 'Year 9, Elm Academy' is not in Oak Academy, the appraisee's academy; "
            "choose a year group of Oak Academy.",
        ),
        (
            {"measure_scope": "tutor_group", "measure_tutor_group": world.tutor_groups["9E"]},
            "measure_tutor_group",
            "Tutor group '9E (2026/27)' is not in Oak Academy, the appraisee's academy; "
            "choose a tutor group of Oak Academy.",
        ),
    ]
    for fields, field_name, message in cases:
        errors = errors_for(world, measure="attendance", target_value=95, **fields)
        assert errors == {field_name: [message]}, fields
        # Central team staff have no academy, so any academy's groups are allowed.
        assert (
            errors_for(world, "trust_leader", measure="attendance", target_value=95, **fields) == {}
        )


@settings(deadline=None, max_examples=200)
@given(tenths=st.integers(min_value=-2000, max_value=2000), extra=st.integers(0, 9))
def test_target_rule_property(tenths, extra):
    target = Decimal(tenths) / 10 + Decimal(extra) / 100
    central = StaffMember(academy=None)

    errors = measure_errors(
        central,
        measure="tmg_latest",
        measure_scope="own_classes",
        measure_academy=None,
        measure_subject=None,
        measure_year_group=None,
        measure_tutor_group=None,
        target_value=target,
    )

    allowed = 0 <= target <= 100 and extra == 0
    assert (errors == {}) is allowed, (target, errors)


def test_earlier_cycle_measured_at_year_end(world):
    from appraisal.models import AppraisalCycle

    last_year = AcademicYearFactory(trust=world.academic_year.trust, start_year=2025)
    cycle = AppraisalCycle.objects.create(academic_year=last_year)
    old = make_appraisal(cycle, world.staff["teacher"], world.staff["headteacher"], objectives=())
    group = world.tutor_groups["9A"]
    earlier = objective(
        world, Measure.ATTENDANCE, MeasureScope.TUTOR_GROUP, "95.0", old, measure_tutor_group=group
    )
    current = objective(
        world, Measure.ATTENDANCE, MeasureScope.TUTOR_GROUP, "95.0", measure_tutor_group=group
    )

    values = measure_values([earlier, current], TODAY.date())

    assert values[earlier.pk].basis == "Attendance 01/09/2025 to 31/08/2026"
    assert values[current.pk].basis == "Attendance 01/09/2026 to 04/12/2026"
