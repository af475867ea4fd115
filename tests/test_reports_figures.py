"""The shared figures of the dashboards: equal to each domain's own selectors,
trust totals summed from counts, a fixed number of queries, and small
groups suppressed for trustees."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from academies.models import AcademicYear
from appraisal.completion import Counts as AppraisalCounts
from appraisal.completion import completion_by_group
from attendance import selectors as attendance
from attendance.models import StaffAbsence
from attendance.staff_absence import RateCell, absence_rates
from attendance.statistics import Counts, GroupFigures
from behaviour import analysis
from behaviour.models import Suspension
from behaviour.services import PupilEntry, incident_log
from behaviour.suspensions import suspension_record
from progress.grades import default_subjects_ensure
from progress.summaries import Tally, academy_summary, trust_summary
from reports.figures import (
    FigureRow,
    Figures,
    academy_table,
    figures_for_year_group,
    protect_rows,
    protect_total,
    small_measures,
    year_group_table,
)
from reports.models import Measure
from staff.models import Role

from .factories import (
    AcademyFactory,
    PupilFactory,
    StaffFactory,
    TutorGroupFactory,
    UserFactory,
    YearGroupFactory,
    grant,
)
from .factories_appraisal import Status, cycle_2026, make_appraisal
from .factories_attendance import enrol
from .factories_attstats import mark_days
from .factories_incidents import LOGGED_AT, build_categories
from .factories_progress import (
    AssessmentPointFactory,
    GradeEntryFactory,
    TargetGradeFactory,
    grade_of,
)
from .factories_suspensions import suspension_world
from .personas import TODAY

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
MONDAY = datetime.date(2026, 11, 30)
# Codes of four days (Monday to Thursday) by pupil pattern: full attendance,
# persistent absence (25% missed) and severe absence (62.5% missed).
PATTERNS = (["/"] * 8, ["/"] * 6 + ["O", "O"], ["I"] * 5 + ["/"] * 3)


def frozen():
    return time_machine.travel(TODAY, tick=False)


@pytest.fixture
def world():
    with frozen():
        world = suspension_world()
        trust = world.academies["oak"].trust
        world.categories = build_categories(world)
        world.qualifications = default_subjects_ensure(trust)
        world.cycle = cycle_2026(world)
        world.heads = {
            "oak": world.staff["headteacher"],
            "elm": world.staff["elm_headteacher"],
        }
        world.points = {}
        yield world


def add_pupils(world, tutor_group, count):
    pupils = [PupilFactory() for _ in range(count)]
    for pupil in pupils:
        enrol(pupil, tutor_group, world.academic_year.start_date)
    return pupils


def add_academy(world, name, *, year=9):
    """Add an academy of the personas' trust with a headteacher and one year group."""
    academy = AcademyFactory(trust=world.academies["oak"].trust, name=name)
    year_group = YearGroupFactory(academy=academy, nc_year=year)
    tutor_group = TutorGroupFactory(
        academy=academy,
        academic_year=world.academic_year,
        year_group=year_group,
        name=f"{year}{name[0]}",
    )
    head = StaffFactory(user=UserFactory(), academy=academy, first_name=f"{name[:3]}Head")
    grant(head, Role.HEADTEACHER, academy)
    world.heads[name] = head
    return academy, year_group, tutor_group


def point_for(world, year_group):
    if year_group.pk not in world.points:
        world.points[year_group.pk] = AssessmentPointFactory(
            academy=year_group.academy,
            academic_year=world.academic_year,
            year_group=year_group,
            name="November",
            date=datetime.date(2026, 11, 20),
        )
    return world.points[year_group.pk]


def grade(world, year_group, pupil, key, label, target):
    """Grade `pupil` in a qualification at the year group's November point, with a TMG."""
    qualification = world.qualifications[key]
    GradeEntryFactory(
        assessment_point=point_for(world, year_group),
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


def negative_incident(world, academy, pupils):
    return incident_log(
        actor=world.users["trust_leader"],
        academy_id=academy.pk,
        occurred_at=LOGGED_AT,
        category_id=world.categories.disruption.pk,
        pupils=[PupilEntry(pupil_id=p.pk, points=-2) for p in pupils],
        reported_by_id=world.staff["trust_leader"].pk,
    )


def suspend(world, head_key, pupil, **fields):
    head = world.heads[head_key]
    values = {
        "kind": Suspension.Kind.SUSPENSION,
        "start_date": DAY,
        "sessions": 2,
        "reasons": ["DB"],
    }
    values.update(fields)
    return suspension_record(
        actor=world.users["trust_leader"], pupil_id=pupil.pk, decided_by_id=head.pk, **values
    )


def populate(
    world, head_key, academy, year_group, pupils, *, suspended=1, absent_days=1, appraise=True
):
    """Give each pupil marks, grades and (some of them) incidents, and the academy staff."""
    for index, pupil in enumerate(pupils):
        mark_days(pupil, MONDAY, PATTERNS[index % len(PATTERNS)])
        on_target = index % 2 == 0
        grade(world, year_group, pupil, "gcse_maths", "6" if on_target else "4", "6")
        if index % 3 == 0:
            grade(world, year_group, pupil, "gcse_english_language", "5", "5")
    negative_incident(world, academy, pupils[:2])
    negative_incident(world, academy, pupils[:1])
    for pupil in pupils[:suspended]:
        suspend(world, head_key, pupil)

    teacher = StaffFactory(user=UserFactory(), academy=academy, fte=Decimal("1.0"))
    StaffAbsence.objects.create(
        staff=teacher,
        start_date=MONDAY,
        end_date=MONDAY + datetime.timedelta(days=absent_days - 1),
        reason=StaffAbsence.Reason.SICKNESS,
        sickness_category=StaffAbsence.SicknessCategory.MINOR,
    )
    if not appraise:
        return
    make_appraisal(world.cycle, teacher, world.heads[head_key], status=Status.OBJECTIVES_AGREED)
    make_appraisal(
        world.cycle,
        StaffFactory(user=UserFactory(), academy=academy),
        world.heads[head_key],
        status=Status.DRAFT,
    )


def build_two_academies(world):
    """Populate Oak Year 9 (9 pupils) and Elm Year 9 (3 pupils)."""
    oak9 = world.tutor_groups["9A"]
    elm9 = world.tutor_groups["9E"]
    oak_pupils = [world.pupils[k] for k in ("oak9a_obrien", "oak9a_smithjones")]
    oak_pupils += add_pupils(world, oak9, 7)
    elm_pupils = [world.pupils["elm9e_ashdown"], *add_pupils(world, elm9, 2)]
    populate(world, "oak", world.academies["oak"], oak9.year_group, oak_pupils, suspended=2)
    populate(world, "elm", world.academies["elm"], elm9.year_group, elm_pupils, absent_days=3)
    return oak_pupils, elm_pupils


def academies_of(world):
    return [world.academies["elm"], world.academies["oak"]]


# Equal to the domain selectors ---------------------------------------------------------


def test_academy_rows_equal_attendance_selectors(world):
    with frozen():
        build_two_academies(world)
        academies = academies_of(world)
        table = academy_table(academies, DAY, suppress=False)
        start, end = attendance.default_range(DAY)
        rows, total = attendance.academies_attendance(academies, start, end)
        cohort_rows, cohort_total = attendance.academies_attendance(
            academies, start, end, cohort=True
        )

    assert (table.start, table.end) == (start, end)
    assert [r.figures.attendance for r in table.rows] == [r.figures for r in rows]
    assert [r.figures.cohort_attendance for r in table.rows] == [r.figures for r in cohort_rows]
    assert table.total.figures.attendance == total
    assert table.total.figures.cohort_attendance == cohort_total
    for row in table.rows:
        assert row.figures.attendance == attendance.group_figures_for(row.academy, start, end)


def test_academy_rows_equal_behaviour_analysis(world):
    with frozen():
        build_two_academies(world)
        academies = academies_of(world)
        table = academy_table(academies, DAY, suppress=False)
        viewer = analysis.viewer_for(world.users["trust_leader"])
        filters = analysis.Filters(*attendance.default_range(DAY))
        rows, total = analysis.academy_rows(viewer, academies, filters)
        days = {
            a.pk: analysis.group_suspension_days(viewer, analysis.Target(academy=a), filters)
            for a in academies
        }

    for figure_row, behaviour_row in zip(table.rows, rows, strict=True):
        figures = figure_row.figures
        assert figures.on_roll == behaviour_row.tally.on_roll
        assert figures.negative_incidents == behaviour_row.tally.negative_incidents
        assert figures.pupils_with_negative == behaviour_row.tally.negative_pupils
        assert figures.negative_per_100 == behaviour_row.tally.negative_per_100
        assert figures.suspension_days == days[figure_row.academy.pk]
    assert table.total.figures.negative_incidents == total.negative_incidents
    assert table.total.figures.pupils_with_negative == total.negative_pupils
    assert table.total.figures.on_roll == total.on_roll
    assert table.total.figures.negative_per_100 == total.negative_per_100


def test_suspensions_count_those_in_force(world):
    with frozen():
        oak_pupils, elm_pupils = build_two_academies(world)
        withdrawn = suspend(world, "oak", oak_pupils[5])
        Suspension.objects.filter(pk=withdrawn.pk).update(status=Suspension.Status.WITHDRAWN)
        suspend(world, "elm", elm_pupils[1], kind=Suspension.Kind.LUNCHTIME, sessions=1)
        suspend(world, "elm", elm_pupils[2], kind=Suspension.Kind.PERMANENT, sessions=None)
        table = academy_table(academies_of(world), DAY, suppress=False)

    elm, oak = (row.figures for row in table.rows)
    assert (oak.suspensions, oak.pupils_suspended, oak.suspension_days) == (2, 2, Decimal(2))
    assert (elm.suspensions, elm.pupils_suspended, elm.permanent_exclusions) == (2, 2, 1)
    assert elm.suspension_days == Decimal("1.5")
    assert table.total.figures.suspensions == 4
    assert table.total.figures.permanent_exclusions == 1
    assert oak.suspension_rate == round(100 * 2 / oak.on_roll, 2)


def test_academy_rows_equal_trust_summary(world):
    with frozen():
        build_two_academies(world)
        academies = academies_of(world)
        table = academy_table(academies, DAY, suppress=False)
        summary = trust_summary(academies, DAY, suppress=False)

    by_name = {row.label: row.areas for row in summary.rows}
    for row in table.rows:
        assert row.figures.tmg == by_name[row.label]
    assert table.total.figures.tmg == summary.total.areas
    oak = table.rows[1].figures
    assert oak.tmg["maths"].graded == 9
    assert oak.tmg_maths == round(100 * 5 / 9, 1)


def test_staff_rows_equal_absence_rates_and_completion(world):
    with frozen():
        build_two_academies(world)
        academies = academies_of(world)
        table = academy_table(academies, DAY, suppress=False)
        year = AcademicYear.objects.get(pk=world.academic_year.pk)
        rates = absence_rates(academies=academies, year=year, include_central=False, to=DAY)
        completion = completion_by_group(world.cycle, academies, DAY)

    cells = {row.academy_id: row.year for row in rates.rows}
    counts = {group.academy_id: group.all_tracks for group in completion}
    for row in table.rows:
        assert row.figures.staff_absence == cells[row.academy.pk]
        assert row.figures.appraisal == counts[row.academy.pk]
        assert row.figures.appraisal_completion == 50.0
    assert table.total.figures.staff_absence_rate == rates.total.year.rate
    assert table.total.figures.appraisal.total == sum(c.total for c in counts.values())


def test_year_group_rows_equal_group_selectors(world):
    with frozen():
        oak = world.academies["oak"]
        oak9 = world.year_groups["oak9"]
        oak10 = world.year_groups["oak10"]
        nine = [world.pupils["oak9a_obrien"], *add_pupils(world, world.tutor_groups["9B"], 5)]
        ten = [world.pupils["oak10a_taylor"], *add_pupils(world, world.tutor_groups["10A"], 6)]
        populate(world, "oak", oak, oak9, nine)
        populate(world, "oak", oak, oak10, ten, suspended=2)
        table = year_group_table(oak, DAY, suppress=False)
        start, end = attendance.default_range(DAY)
        viewer = analysis.viewer_for(world.users["trust_leader"])
        filters = analysis.Filters(start, end)
        expected = {}
        for year_group in (oak9, oak10):
            target = analysis.Target(year_group=year_group)
            expected[year_group.pk] = (
                attendance.group_figures_for(year_group, start, end),
                attendance.group_figures_for(year_group, start, end, cohort=True),
                analysis.group_figures(viewer, target, filters),
                analysis.group_suspension_days(viewer, target, filters),
            )
        summary = academy_summary(oak, DAY, suppress=False)
        single = figures_for_year_group(oak10, DAY, suppress=False)
        academy_row = academy_table([oak], DAY, suppress=False).rows[0]

    assert [row.year_group for row in table.rows] == [oak9, oak10]
    assert [row.label for row in table.rows] == ["Year 9", "Year 10"]
    tmg = {row.label: row.areas for row in summary.rows}
    for row in table.rows:
        figures = row.figures
        groups, cohort, tally, days = expected[row.year_group.pk]
        assert figures.attendance == groups
        assert figures.cohort_attendance == cohort
        assert figures.on_roll == tally.on_roll
        assert figures.negative_incidents == tally.negative_incidents
        assert figures.pupils_with_negative == tally.negative_pupils
        assert figures.suspension_days == days
        assert figures.tmg == tmg[row.label]
        assert figures.staff_absence is None
        assert figures.appraisal is None
    assert table.rows[1].figures.suspensions == 2
    assert single.attendance == table.rows[1].figures.attendance
    assert single.suspensions == 2
    assert table.total.label == oak.name
    assert table.total.figures.attendance == academy_row.figures.attendance
    assert table.total.figures.staff_absence == academy_row.figures.staff_absence


# Totals from counts -------------------------------------------------------------------


def test_trust_total_sums_counts(world):
    with frozen():
        build_two_academies(world)
        table = academy_table(academies_of(world), DAY, suppress=False)

    elm, oak = (row.figures for row in table.rows)
    total = table.total.figures
    assert total.attendance.counts == elm.attendance.counts + oak.attendance.counts
    assert total.attendance.enrolments == 12
    assert total.tmg["maths"].graded == 12
    mean_of_rates = (elm.attendance_rate + oak.attendance_rate) / 2
    assert total.attendance_rate != round(mean_of_rates, 1)
    assert total.attendance_rate == round(
        100 * total.attendance.counts.attendance / total.attendance.counts.possible, 1
    )
    mean_of_maths = (elm.tmg_maths + oak.tmg_maths) / 2
    assert total.tmg_maths == round(100 * 7 / 12, 1)
    assert total.tmg_maths != round(mean_of_maths, 1)


def test_figures_add_sums_each_count():
    first = Figures(on_roll=10, negative_incidents=3, suspension_days=Decimal("1.5"))
    second = Figures(on_roll=5, negative_incidents=1, suspension_days=Decimal("0.5"))

    total = first + second

    assert total.on_roll == 15
    assert total.negative_incidents == 4
    assert total.suspension_days == Decimal(2)
    assert total.staff_absence is None
    assert total.appraisal is None
    assert total.cohort_attendance is None
    assert total.suppressed == frozenset()


def test_figures_add_staff_cells():
    sickness = StaffAbsence.Reason.SICKNESS
    appraisals = AppraisalCounts(total=2)
    appraisals.done["objectives"] = 1
    first = Figures(
        staff_absence=RateCell(
            contracted=Decimal(60), lost=Decimal(3), lost_by_reason={sickness: Decimal(3)}
        ),
        appraisal=appraisals,
        suppressed=frozenset({Measure.ATTENDANCE}),
    )
    second = Figures(
        staff_absence=RateCell(
            contracted=Decimal(40), lost=Decimal(2), lost_by_reason={sickness: Decimal(2)}
        ),
        appraisal=None,
    )

    total = first + second

    assert total.staff_absence.contracted == Decimal(100)
    assert total.staff_absence.lost_by_reason == {sickness: Decimal(5)}
    assert total.staff_absence_rate == 5.0
    assert total.appraisal.total == 2
    assert total.appraisal_completion == 50.0
    assert total.suppressed == frozenset()
    assert (Figures() + second).staff_absence.contracted == Decimal(40)


# Query counts -------------------------------------------------------------------------


def count_queries(function, *args, **kwargs):
    with CaptureQueriesContext(connection) as context:
        function(*args, **kwargs)
    return len(context.captured_queries)


def test_query_counts_do_not_grow(world):
    with frozen():
        oak = world.academies["oak"]
        oak9 = world.year_groups["oak9"]
        first = [world.pupils["oak9a_obrien"], *add_pupils(world, world.tutor_groups["9A"], 2)]
        populate(world, "oak", oak, oak9, first)
        small_trust = count_queries(academy_table, [oak], DAY, suppress=True)
        small_year = count_queries(year_group_table, oak, DAY, suppress=True)
        small_one = count_queries(figures_for_year_group, oak9, DAY, suppress=True)

        academies = [oak]
        for name in ("Ash Academy", "Birch Academy"):
            academy, year_group, tutor_group = add_academy(world, name)
            populate(world, name, academy, year_group, add_pupils(world, tutor_group, 6))
            academies.append(academy)
        more = add_pupils(world, world.tutor_groups["10A"], 6)
        populate(world, "oak", oak, world.year_groups["oak10"], more, suspended=3)
        populate(world, "oak", oak, oak9, add_pupils(world, world.tutor_groups["9B"], 6))
        large_trust = count_queries(academy_table, academies, DAY, suppress=True)
        large_year = count_queries(year_group_table, oak, DAY, suppress=True)
        large_one = count_queries(figures_for_year_group, oak9, DAY, suppress=True)

    assert large_trust == small_trust
    assert large_year == small_year
    assert large_one == small_one


# Suppression --------------------------------------------------------------------------


def test_small_year_group_and_its_complement_hidden(world):
    with frozen():
        oak = world.academies["oak"]
        oak11 = YearGroupFactory(academy=oak, nc_year=11)
        group11 = TutorGroupFactory(
            academy=oak, academic_year=world.academic_year, year_group=oak11, name="11A"
        )
        nine = [world.pupils[k] for k in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel")]
        ten = [world.pupils["oak10a_taylor"], *add_pupils(world, world.tutor_groups["10A"], 5)]
        eleven = add_pupils(world, group11, 8)
        populate(world, "oak", oak, world.year_groups["oak9"], nine, suspended=0)
        populate(world, "oak", oak, world.year_groups["oak10"], ten, suspended=0)
        populate(world, "oak", oak, oak11, eleven, suspended=0)
        shown = year_group_table(oak, DAY, suppress=False)
        hidden = year_group_table(oak, DAY, suppress=True)

    nine_row, ten_row, eleven_row = hidden.rows
    assert nine_row.figures.attendance.enrolments == 3
    assert nine_row.figures.value(Measure.ATTENDANCE) is None
    assert nine_row.figures.value(Measure.TMG_MATHS) is None
    assert ten_row.figures.value(Measure.ATTENDANCE) is None
    assert ten_row.figures.value(Measure.TMG_MATHS) is None
    assert eleven_row.figures.value(Measure.ATTENDANCE) == eleven_row.figures.attendance_rate
    assert eleven_row.figures.value(Measure.TMG_MATHS) is not None
    assert hidden.total.figures.value(Measure.ATTENDANCE) is not None
    assert hidden.total.figures.value(Measure.STAFF_ABSENCE) is not None
    assert all(not row.figures.suppressed for row in shown.rows)
    assert nine_row.figures.value(Measure.ATTENDANCE) != shown.rows[0].figures.attendance_rate


def test_small_academy_hidden_from_trustees(world):
    with frozen():
        build_two_academies(world)
        table = academy_table(academies_of(world), DAY, suppress=True)

    elm, oak = (row.figures for row in table.rows)
    for measure in (Measure.ATTENDANCE, Measure.NEGATIVE_PER_100, Measure.TMG_MATHS):
        assert elm.value(measure) is None, measure
        # Only two rows: the other is hidden too, or the total would give it away.
        assert oak.value(measure) is None, measure
    assert table.total.figures.value(Measure.ATTENDANCE) is not None
    assert table.total.figures.value(Measure.TMG_MATHS) is not None
    # Four pupils in the trust have a negative incident, so the total hides it too.
    assert table.total.figures.pupils_with_negative == 4
    assert table.total.figures.value(Measure.NEGATIVE_PER_100) is None
    assert elm.value(Measure.STAFF_ABSENCE) == elm.staff_absence_rate
    assert elm.value(Measure.APPRAISAL_COMPLETION) == 50.0


def test_no_cycle_gives_no_appraisal(world):
    with frozen():
        oak = world.academies["oak"]
        pupils = add_pupils(world, world.tutor_groups["9A"], 5)
        populate(world, "oak", oak, world.year_groups["oak9"], pupils, appraise=False)
        world.cycle.delete()
        table = academy_table(academies_of(world), DAY, suppress=False)

    assert all(row.figures.appraisal is None for row in table.rows)
    assert table.total.figures.appraisal is None
    assert table.total.figures.value(Measure.APPRAISAL_COMPLETION) is None


def figures_of(pupils, *, suspended=0, negative=0):
    """Return figures of `pupils` pupils, each with a mark, a grade and a place on roll."""
    return Figures(
        on_roll=pupils,
        attendance=GroupFigures(
            counts=Counts(present=2 * pupils),
            enrolments=pupils,
            persistent_absence_count=0,
            severe_absence_count=0,
        ),
        pupils_with_negative=negative,
        negative_incidents=negative,
        pupils_suspended=suspended,
        suspensions=suspended,
        tmg={"english": Tally(), "maths": Tally(graded=pupils), "all": Tally(graded=pupils)},
    )


def test_small_measures_by_base_count():
    assert small_measures(figures_of(0)) == frozenset()
    assert small_measures(figures_of(5, suspended=5, negative=5)) == frozenset()
    small = small_measures(figures_of(4))
    assert Measure.ATTENDANCE in small
    assert Measure.TMG_MATHS in small
    assert Measure.TMG_ENGLISH not in small
    assert Measure.STAFF_ABSENCE not in small
    assert Measure.APPRAISAL_COMPLETION not in small


def test_small_measures_few_suspended_or_negative():
    suspended = small_measures(figures_of(200, suspended=2))
    assert suspended == frozenset({Measure.SUSPENSION_RATE})
    negative = small_measures(figures_of(200, negative=4))
    assert negative == frozenset({Measure.NEGATIVE_PER_100})


def test_protect_rows_hides_smallest_other():
    rows = [
        FigureRow(label="empty", figures=figures_of(0)),
        FigureRow(label="small", figures=figures_of(3)),
        FigureRow(label="large", figures=figures_of(40)),
        FigureRow(label="middle", figures=figures_of(12)),
    ]
    protect_rows(rows)

    hidden = {row.label for row in rows if Measure.ATTENDANCE in row.figures.suppressed}
    assert hidden == {"small", "middle"}
    assert rows[3].figures.value(Measure.ATTENDANCE) is None
    assert rows[2].figures.value(Measure.ATTENDANCE) == 100.0


def test_protect_rows_two_small_rows_enough():
    rows = [FigureRow(label=str(n), figures=figures_of(n)) for n in (2, 3, 30, 40)]
    protect_rows(rows)

    hidden = [Measure.ATTENDANCE in row.figures.suppressed for row in rows]
    assert hidden == [True, True, False, False]


def test_protect_total_only_when_small():
    large = FigureRow(label="total", figures=figures_of(45, suspended=3))
    protect_total(large)
    small = FigureRow(label="total", figures=figures_of(4))
    protect_total(small)

    assert large.figures.suppressed == frozenset({Measure.SUSPENSION_RATE})
    assert Measure.ATTENDANCE in small.figures.suppressed
