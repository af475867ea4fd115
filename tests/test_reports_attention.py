"""The pupils behind a year group's figures, and those needing attention with
the interventions that cover each reason."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attendance.selectors import default_range, group_report
from behaviour.analysis import Filters, Target, viewer_for
from behaviour.analysis import group_figures as behaviour_figures
from behaviour.models import PupilRole
from progress.models import GradeEntry, Intervention, InterventionPupil
from progress.summaries import AREAS, latest_points, point_figures
from pupils.models import Enrolment
from reports.attention import (
    BELOW_TMG,
    BELOW_TMG_ENGLISH,
    BELOW_TMG_MATHS,
    NO_GRADE,
    ON_OR_ABOVE_TMG,
    PERSISTENT_ABSENCE,
    REPEATED_NEGATIVE,
    REPEATED_NEGATIVE_BEHAVIOUR,
    covered_needs,
    needing_attention,
    pupil_rows,
)
from reports.figures import figures_for_year_group

from .factories_incidents import log_incident
from .factories_progress import grade_of
from .personas import TODAY
from .test_reports_breakdowns import add_pupil, add_weeks, build_world, grade, mondays

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
Kind = Intervention.Kind


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_world()


def open_intervention(world, pupil_keys, kind, qualification=None, **fields):
    intervention = Intervention.objects.create(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        kind=kind,
        title=fields.pop("title", f"{kind} support"),
        qualification=qualification,
        owner=world.staff["teacher"],
        start_date=datetime.date(2026, 11, 23),
        review_date=datetime.date(2027, 1, 22),
        **fields,
    )
    for key in pupil_keys:
        InterventionPupil.objects.create(intervention=intervention, pupil=world.pupils[key])
    return intervention


def rows_by_key(world, rows):
    keys = {pupil.pk: key for key, pupil in world.pupils.items()}
    return {keys[row.pupil_id]: row for row in rows}


# Pupil rows --------------------------------------------------------------------------------


def test_pupil_rows_every_pupil_on_roll(world):
    oak9 = world.year_groups["oak9"]
    rows = pupil_rows(world.academies["oak"], oak9, DAY)
    on_roll = set(Enrolment.objects.filter(year_group=oak9).values_list("pupil_id", flat=True))
    assert {row.pupil_id for row in rows} == on_roll
    assert len(rows) == len(on_roll)
    names = [(row.pupil.surname.lower(), row.pupil.forename.lower()) for row in rows]
    assert names == sorted(names)


def test_pupil_rows_sum_to_year_group(world):
    oak9 = world.year_groups["oak9"]
    rows = pupil_rows(world.academies["oak"], oak9, DAY)
    start, end = default_range(DAY)
    attendance = group_report(oak9, start, end).figures
    viewer = viewer_for(world.users["trust_leader"])
    behaviour = behaviour_figures(viewer, Target(year_group=oak9), Filters(start, end))
    points = [p for p in latest_points([oak9.academy_id], DAY) if p.year_group_id == oak9.pk]
    (tallies,) = point_figures(points, DAY)

    assert sum(1 for row in rows if row.counts.possible) == attendance.enrolments
    assert sum(1 for row in rows if row.persistent_absence) == (attendance.persistent_absence_count)
    assert sum(1 for row in rows if row.severe_absence) == attendance.severe_absence_count
    assert sum(row.counts.possible for row in rows) == attendance.counts.possible
    assert sum(row.negative_incidents for row in rows) == behaviour.negative_incidents
    assert sum(row.suspensions for row in rows) == 2
    for area in AREAS:
        graded = sum(1 for row in rows if row.tmg[area.key] != NO_GRADE)
        on_or_above = sum(1 for row in rows if row.tmg[area.key] == ON_OR_ABOVE_TMG)
        assert graded == tallies.areas[area.key].graded, area.key
        assert on_or_above == tallies.areas[area.key].on_or_above, area.key


def test_pupil_rows_sum_to_figures(world):
    oak9 = world.year_groups["oak9"]
    rows = pupil_rows(world.academies["oak"], oak9, DAY)
    figures = figures_for_year_group(oak9, DAY, suppress=False)
    assert sum(1 for row in rows if row.counts.possible) == figures.attendance.enrolments
    assert sum(1 for row in rows if row.persistent_absence) == (
        figures.attendance.persistent_absence_count
    )
    assert sum(row.negative_incidents for row in rows) == figures.negative_incidents
    assert sum(1 for row in rows if row.negative_incidents) == figures.pupils_with_negative
    assert sum(row.suspensions for row in rows) == figures.suspensions
    assert len(rows) == figures.on_roll
    for area in AREAS:
        graded = sum(1 for row in rows if row.tmg[area.key] != NO_GRADE)
        on_or_above = sum(1 for row in rows if row.tmg[area.key] == ON_OR_ABOVE_TMG)
        assert graded == figures.tmg[area.key].graded, area.key
        assert on_or_above == figures.tmg[area.key].on_or_above, area.key


def test_pupil_row_fields(world):
    open_intervention(world, ["oak9a_obrien"], Kind.NUMERACY, world.maths, title="Maths boost")
    open_intervention(
        world,
        ["oak9a_obrien"],
        Kind.MENTORING,
        title="Finished mentoring",
        status=Intervention.Status.REVIEWED,
    )
    rows = rows_by_key(world, pupil_rows(world.academies["oak"], world.year_groups["oak9"], DAY))
    obrien = rows["oak9a_obrien"]
    assert obrien.name == world.pupils["oak9a_obrien"].display_name
    assert obrien.year_group == world.year_groups["oak9"]
    assert obrien.tutor_group_name == "9A"
    assert obrien.negative_incidents == 2
    assert obrien.suspensions == 1
    assert obrien.tmg == {"english": ON_OR_ABOVE_TMG, "maths": BELOW_TMG, "all": BELOW_TMG}
    assert obrien.tmg_label("maths") == "Below TMG"
    assert obrien.intervention_titles == ["Maths boost"]
    assert obrien.attendance_rate == 94.3
    assert not obrien.persistent_absence
    assert rows["oak9b_patel"].persistent_absence
    assert rows["extra0"].tmg["maths"] == ON_OR_ABOVE_TMG


def test_pupil_row_without_grades(world):
    pupil = add_pupil(world, "new", "9A")
    rows = rows_by_key(world, pupil_rows(world.academies["oak"], world.year_groups["oak9"], DAY))
    assert rows["new"].tmg == {"english": NO_GRADE, "maths": NO_GRADE, "all": NO_GRADE}
    assert rows["new"].counts.possible == 0
    assert rows["new"].attendance_rate is None
    assert pupil.pk == rows["new"].pupil_id


def test_pupil_rows_academy_wide(world):
    rows = rows_by_key(world, pupil_rows(world.academies["oak"], None, DAY))
    assert "oak10a_taylor" in rows
    assert "elm9e_ashdown" not in rows
    assert rows["oak10a_taylor"].year_group == world.year_groups["oak10"]
    assert rows["oak9a_obrien"].tmg["maths"] == BELOW_TMG


def test_pupil_rows_leaver_left_out(world):
    enrolment = Enrolment.objects.get(pupil=world.pupils["extra4"])
    enrolment.end_date = datetime.date(2026, 11, 30)
    enrolment.save()
    rows = rows_by_key(world, pupil_rows(world.academies["oak"], world.year_groups["oak9"], DAY))
    assert "extra4" not in rows


def test_pupil_rows_empty_group(world):
    empty = world.year_groups["elm10"]
    Enrolment.objects.filter(year_group=empty).delete()
    assert pupil_rows(world.academies["elm"], empty, DAY) == []
    assert needing_attention(world.academies["elm"], empty, DAY) == []


# Needing attention -------------------------------------------------------------------------


def attention_by_key(world):
    rows = needing_attention(world.academies["oak"], world.year_groups["oak9"], DAY)
    return rows, rows_by_key(world, rows)


def reason_keys(row):
    return [reason.key for reason in row.reasons]


def gap_keys(row):
    return [reason.key for reason in row.gaps]


def test_attention_reasons(world):
    _, rows = attention_by_key(world)
    assert reason_keys(rows["oak9a_obrien"]) == [BELOW_TMG_MATHS]
    assert reason_keys(rows["oak9b_patel"]) == [PERSISTENT_ABSENCE, BELOW_TMG_MATHS]
    assert reason_keys(rows["extra2"]) == [PERSISTENT_ABSENCE]
    assert "oak9a_smithjones" not in rows
    assert "extra0" not in rows
    assert "extra1" in rows
    assert rows["oak9b_patel"].reasons[0].label == "Persistent absence"
    assert rows["oak9b_patel"].reasons[0].detail == "Attendance 72.9%"


def test_attention_english_below(world):
    entry = GradeEntry.objects.get(
        pupil=world.pupils["oak9a_smithjones"], qualification=world.english
    )
    entry.grade = grade_of(world.english.scale, "3")
    entry.save()
    _, rows = attention_by_key(world)
    assert BELOW_TMG_ENGLISH in reason_keys(rows["oak9a_smithjones"])


def test_attention_maths_intervention_covers(world):
    open_intervention(world, ["oak9a_obrien"], Kind.NUMERACY, world.maths)
    _, rows = attention_by_key(world)
    assert reason_keys(rows["oak9a_obrien"]) == [BELOW_TMG_MATHS]
    assert gap_keys(rows["oak9a_obrien"]) == []
    assert rows["oak9a_obrien"].reasons[0].covered_by[0].kind == Kind.NUMERACY


def test_attention_english_intervention_leaves_gap(world):
    open_intervention(world, ["oak9a_obrien"], Kind.LITERACY, world.english)
    _, rows = attention_by_key(world)
    assert gap_keys(rows["oak9a_obrien"]) == [BELOW_TMG_MATHS]


def test_attention_closed_intervention_not_counted(world):
    open_intervention(
        world, ["oak9a_obrien"], Kind.NUMERACY, world.maths, status=Intervention.Status.STOPPED
    )
    _, rows = attention_by_key(world)
    assert gap_keys(rows["oak9a_obrien"]) == [BELOW_TMG_MATHS]


def test_attention_pastoral_covers_attendance(world):
    open_intervention(world, ["oak9b_patel"], Kind.PASTORAL)
    _, rows = attention_by_key(world)
    assert gap_keys(rows["oak9b_patel"]) == [BELOW_TMG_MATHS]


def test_attention_repeated_negative(world):
    _, rows = attention_by_key(world)
    assert REPEATED_NEGATIVE_BEHAVIOUR not in reason_keys(rows["oak9a_obrien"])
    log_incident(world, "headteacher", world.categories.disruption, ["oak9a_obrien"])
    _, rows = attention_by_key(world)
    obrien = rows["oak9a_obrien"]
    assert reason_keys(obrien) == [BELOW_TMG_MATHS, REPEATED_NEGATIVE_BEHAVIOUR]
    assert obrien.recent_negative == REPEATED_NEGATIVE
    assert obrien.reasons[1].detail == "3 negative incidents in the last 28 days"


def test_attention_negative_window_and_roles(world):
    disruption = world.categories.disruption
    # extra0 has one incident today. Of two more, 27 days ago counts and 28 does not.
    for days in (27, 28):
        log_incident(
            world,
            "headteacher",
            disruption,
            ["extra0"],
            occurred_at=datetime.datetime(2026, 12, 4, 9, 0, tzinfo=datetime.UTC)
            - datetime.timedelta(days=days),
        )
    _, rows = attention_by_key(world)
    assert "extra0" not in rows

    # As the target of an incident, a pupil shows no negative behaviour.
    incident = log_incident(world, "headteacher", disruption, ["extra0"])
    incident.pupil_links.update(role=PupilRole.TARGET)
    _, rows = attention_by_key(world)
    assert "extra0" not in rows

    log_incident(world, "headteacher", disruption, ["extra0"])
    _, rows = attention_by_key(world)
    assert reason_keys(rows["extra0"]) == [REPEATED_NEGATIVE_BEHAVIOUR]


def test_attention_order_by_gaps(world):
    open_intervention(world, ["extra5"], Kind.PASTORAL)
    rows, _ = attention_by_key(world)
    ordered = [(len(row.gaps), len(row.reasons)) for row in rows]
    assert ordered == sorted(ordered, reverse=True)
    assert rows[0].pupil == world.pupils["oak9b_patel"]
    keys = {pupil.pk: key for key, pupil in world.pupils.items()}
    extra5 = next(row for row in rows if keys[row.pupil.pk] == "extra5")
    assert gap_keys(extra5) == [BELOW_TMG_MATHS]


def test_attention_academy_wide(world):
    oak = world.academies["oak"]
    taylor = world.pupils["oak10a_taylor"]
    add_weeks(taylor, mondays(datetime.date(2026, 9, 7), 4), present=5, unauthorised=5)
    academy_rows = needing_attention(oak, None, DAY)
    by_year = [
        row
        for key in ("oak9", "oak10")
        for row in needing_attention(oak, world.year_groups[key], DAY)
    ]
    assert {row.pupil_id for row in academy_rows} == {row.pupil_id for row in by_year}
    taylor_row = next(row for row in academy_rows if row.pupil == taylor)
    assert reason_keys(taylor_row) == [PERSISTENT_ABSENCE]
    assert taylor_row.row.year_group == world.year_groups["oak10"]


@pytest.mark.parametrize(
    ("kind", "qualification", "needs"),
    [
        (Kind.NUMERACY, "maths", {"maths"}),
        (Kind.TUTORING, "english", {"english"}),
        (Kind.MENTORING, "maths", {"maths", "attendance", "behaviour"}),
        (Kind.LITERACY, None, {"english"}),
        (Kind.NUMERACY, None, {"maths"}),
        (Kind.CATCH_UP, None, {"english", "maths"}),
        (Kind.PASTORAL, None, {"attendance", "behaviour"}),
        (Kind.OTHER, None, {"attendance", "behaviour"}),
    ],
)
def test_covered_needs(world, kind, qualification, needs):
    chosen = getattr(world, qualification) if qualification else None
    intervention = open_intervention(world, [], kind, chosen)
    assert covered_needs(intervention) == needs


# Query counts ------------------------------------------------------------------------------


def count_queries(function, *args):
    with CaptureQueriesContext(connection) as context:
        function(*args)
    return len(context.captured_queries)


def test_query_count_constant():
    with time_machine.travel(TODAY, tick=False):
        world = build_world(extra_pupils=3)
        open_intervention(world, ["oak9a_obrien"], Kind.NUMERACY, world.maths)
        args = (world.academies["oak"], world.year_groups["oak9"], DAY)
        few = (count_queries(pupil_rows, *args), count_queries(needing_attention, *args))
        for index in range(12):
            pupil = add_pupil(world, f"more{index}", "9B")
            add_weeks(pupil, mondays(datetime.date(2026, 9, 7), 3), present=6, authorised=4)
            grade(world, world.point, pupil, world.maths, "3", "5")
            grade(world, world.point, pupil, world.english, "3", "5")
        open_intervention(world, ["more0", "more1"], Kind.TUTORING, title="Saturday school")
        open_intervention(world, ["more2"], Kind.PASTORAL)
        for _ in range(3):
            log_incident(world, "headteacher", world.categories.disruption, ["more3", "more4"])
        many = (count_queries(pupil_rows, *args), count_queries(needing_attention, *args))
        assert len(needing_attention(*args)) > 12
        assert few == many
