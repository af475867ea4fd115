"""Demo progress data for secondary academies: classes, assessment points,
TMGs and grades for Years 7 to 11, last year and this year.

Each year group has sets in English language, English literature, maths and
combined science, and Years 10 and 11 have option classes. Three
assessment points a year (autumn, spring, summer) are created where their
date is on or before today. TMGs come from the pupils' KS2 scores through
progress.targets.tmg_generate_plan, the rule tmg_generate applies. Grades
are drawn around each pupil's TMG: most near it, some above, a tail below
and a few "Absent". Each academy then gets up to three interventions for
pupils below TMG this year (maths tutoring, already reviewed, English
catch-up and mentoring), and each pupil in one a logged parent contact.

Rows are written with bulk_create, and TMGs and grades straight into their
tables as register marks are, so there are no audit records, like the rest
of the demo.
"""

import datetime
import math
import random
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import connection

import progress
from academies.models import AcademicYear, YearGroup
from progress.grades import ABSENT, default_subjects_ensure, scale_grades
from progress.models import (
    AssessmentPoint,
    ClassMembership,
    EstimateRow,
    EstimateTable,
    Grade,
    GradeEntry,
    GradeScale,
    Intervention,
    InterventionPupil,
    ParentContact,
    Qualification,
    TargetGrade,
    TeachingGroup,
)
from progress.targets import estimate_plan, tmg_generate_plan
from pupils.models import Contact, Enrolment, Pupil
from staff.models import PostType, StaffMember
from trust.models import AuditEvent

from .attendance import _insert
from .staffing import StaffPlan
from .structure import AcademyPlan, DemoContext

BATCH_SIZE = 5000
LONDON = ZoneInfo("Europe/London")

ESTIMATES_FILE = Path(progress.__file__).parent / "data" / "attainment8-estimates-2024.csv"
ESTIMATES_NAME = "DfE Attainment 8 estimates"
ESTIMATES_YEAR = 2024
ESTIMATES_SOURCE = (
    "Department for Education, Attainment 8 element estimates by KS2 prior attainment group, 2024"
)

# Qualification key (see progress.grades.DEFAULT_QUALIFICATIONS) -> the
# department that teaches it and the class name code.
CORE: dict[str, tuple[str, str]] = {
    "gcse_english_language": ("English", "En"),
    "gcse_english_literature": ("English", "El"),
    "gcse_maths": ("Mathematics", "Ma"),
    "gcse_combined_science": ("Science", "Sc"),
}
OPTIONS: dict[str, tuple[str, str]] = {
    "gcse_history": ("History", "Hi"),
    "gcse_geography": ("Geography", "Gg"),
    "gcse_french": ("Modern Foreign Languages", "Fr"),
    "gcse_spanish": ("Modern Foreign Languages", "Sp"),
    "gcse_computer_science": ("Computing", "Cs"),
    "gcse_art": ("Art and Design", "Ar"),
    "gcse_music": ("Music", "Mu"),
    "gcse_religious_studies": ("Religious Education", "Rs"),
    "btec_sport": ("Physical Education", "Pe"),
    "cambridge_national_imedia": ("Computing", "Im"),
}
OPTION_YEARS = (10, 11)
# Each Year 10 and 11 pupil takes this many options: one humanity, then others.
OPTIONS_PER_PUPIL = 3
HUMANITIES = ("gcse_history", "gcse_geography")
SECONDARY_YEARS = range(7, 12)
# Pupils per class, the size sets and option classes are split by.
CLASS_SIZE = 28

# Season name, month and day: each point falls on the last Friday on or
# before that day.
SEASONS = (("Autumn", 11, 30), ("Spring", 3, 20), ("Summer", 7, 10))
FRIDAY = 4
# Share of grade entries recorded as "Absent".
ABSENT_SHARE = 0.02


@dataclass
class ProgressCounts:
    teaching_groups: int = 0
    memberships: int = 0
    assessment_points: int = 0
    target_grades: int = 0
    grade_entries: int = 0
    interventions: int = 0
    parent_contacts: int = 0


@dataclass
class _Cohort:
    """The pupils of one year group of one academy in one academic year."""

    plan: AcademyPlan
    academic_year: AcademicYear
    year_group: YearGroup
    enrolments: list[Enrolment] = field(default_factory=list)


@dataclass
class _Class:
    group: TeachingGroup
    # The qualification's key in progress.grades.DEFAULT_QUALIFICATIONS.
    key: str
    enrolments: list[Enrolment]
    teachers: list[StaffMember] = field(default_factory=list)

    @property
    def department(self) -> str:
        return {**CORE, **OPTIONS}[self.key][0]

    @property
    def cohort_key(self) -> tuple[int, int, int]:
        group = self.group
        return (group.academy.pk, group.academic_year.pk, group.year_group.pk)


def load_progress(
    ctx: DemoContext, *, staff: StaffPlan, enrolments: list[Enrolment], weeks: int | None = None
) -> ProgressCounts:
    """Write the demo's progress data for every secondary academy.

    With `weeks`, grades are written only at assessment points in the last
    `weeks` weeks before today, so the largest demo trusts stay quick to
    load. The points themselves and the TMGs are always written.
    """
    assert ctx.trust is not None
    assert ctx.current_year is not None
    assert ctx.last_year is not None
    counts = ProgressCounts()
    # The scales, subjects and estimate table are saved through the ORM, which
    # audits them. Demo data carries no audit trail, so those events are dropped.
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    qualifications = default_subjects_ensure(ctx.trust)
    table = _estimate_table(ctx)
    AuditEvent.objects.filter(pk__gt=last_event).delete()
    years = [ctx.last_year, ctx.current_year]
    cohorts = _cohorts(ctx, enrolments, years)
    if not cohorts:
        return counts
    options = _choose_options(ctx.rng, cohorts)

    classes = _plan_classes(cohorts, qualifications, options)
    _assign_teachers(ctx, staff, classes)
    counts.teaching_groups, counts.memberships = _save_classes(classes)

    points = _save_points(ctx, cohorts)
    counts.assessment_points = sum(len(found) for found in points.values())
    targets = _save_targets(cohorts, table)
    counts.target_grades = len(targets)

    earliest = ctx.today - datetime.timedelta(weeks=weeks) if weeks else None
    counts.grade_entries = _save_grades(ctx.rng, classes, points, targets, earliest)
    counts.interventions, counts.parent_contacts = load_support(ctx, staff, qualifications)
    return counts


# Estimates --------------------------------------------------------------------------


def _estimate_table(ctx: DemoContext) -> EstimateTable:
    assert ctx.trust is not None
    plan = estimate_plan(ESTIMATES_FILE.read_bytes(), ESTIMATES_FILE.name)
    if not plan.is_valid:
        raise ValueError(f"{ESTIMATES_FILE} is invalid: {plan.file_error or plan.errors[:3]}")
    table = EstimateTable.objects.create(
        trust=ctx.trust, name=ESTIMATES_NAME, year=ESTIMATES_YEAR, source=ESTIMATES_SOURCE
    )
    for row in plan.rows:
        row.table = table
    EstimateRow.objects.bulk_create(plan.rows)
    return table


# Cohorts and options ---------------------------------------------------------------


def _cohorts(
    ctx: DemoContext, enrolments: list[Enrolment], years: list[AcademicYear]
) -> list[_Cohort]:
    """Return each secondary year group's pupils in each academic year, in a fixed order."""
    by_key: dict[tuple[int, int, int], _Cohort] = {}
    ordered: list[_Cohort] = []
    for plan in ctx.plans:
        if not plan.is_secondary:
            continue
        for year in years:
            for nc_year in SECONDARY_YEARS:
                year_group = plan.year_groups.get(nc_year)
                if year_group is None:
                    continue
                cohort = _Cohort(plan=plan, academic_year=year, year_group=year_group)
                by_key[(plan.academy.pk, year.pk, year_group.pk)] = cohort
                ordered.append(cohort)
    for enrolment in enrolments:
        key = (enrolment.academy_id, enrolment.academic_year_id, enrolment.year_group_id)
        found = by_key.get(key)
        if found is not None:
            found.enrolments.append(enrolment)
    return [cohort for cohort in ordered if cohort.enrolments]


def _choose_options(rng: random.Random, cohorts: list[_Cohort]) -> dict[int, list[str]]:
    """Return the options of each pupil in Years 10 and 11, kept from one year to the next."""
    chosen: dict[int, list[str]] = {}
    others = [key for key in OPTIONS if key not in HUMANITIES]
    for cohort in cohorts:
        if cohort.year_group.nc_year not in OPTION_YEARS:
            continue
        for enrolment in cohort.enrolments:
            if enrolment.pupil_id in chosen:
                continue
            picks = [rng.choice(HUMANITIES)]
            picks += rng.sample(others, OPTIONS_PER_PUPIL - 1)
            chosen[enrolment.pupil_id] = sorted(picks, key=list(OPTIONS).index)
    return chosen


# Classes --------------------------------------------------------------------------


def _ks2_key(pupil: Pupil, measure: str) -> tuple[int, float, str]:
    """Sort key for setting: highest KS2 score first, pupils without one last."""
    reading, maths = pupil.ks2_reading, pupil.ks2_maths
    score: float | None = {"reading": reading, "maths": maths}.get(measure)
    if measure == "average" and reading is not None and maths is not None:
        score = (reading + maths) / 2
    if score is None:
        return (1, 0.0, pupil.upn)
    return (0, -float(score), pupil.upn)


def _split(enrolments: list[Enrolment]) -> list[list[Enrolment]]:
    count = max(1, round(len(enrolments) / CLASS_SIZE))
    size = math.ceil(len(enrolments) / count)
    return [enrolments[i : i + size] for i in range(0, len(enrolments), size)]


def _new_class(
    cohort: _Cohort,
    qualifications: dict[str, Qualification],
    key: str,
    name: str,
    members: list[Enrolment],
) -> _Class:
    group = TeachingGroup(
        academy=cohort.plan.academy,
        academic_year=cohort.academic_year,
        year_group=cohort.year_group,
        qualification=qualifications[key],
        name=name,
    )
    return _Class(group=group, key=key, enrolments=members)


# The KS2 score each core subject is set by.
SET_BY = {
    "gcse_english_language": "reading",
    "gcse_english_literature": "reading",
    "gcse_maths": "maths",
    "gcse_combined_science": "average",
}


def _plan_classes(
    cohorts: list[_Cohort],
    qualifications: dict[str, Qualification],
    options: dict[int, list[str]],
) -> list[_Class]:
    """Plan the sets of each core subject and the option classes, unsaved."""
    classes: list[_Class] = []
    for cohort in cohorts:
        nc_year = cohort.year_group.nc_year
        for key, (_department, code) in CORE.items():
            measure = SET_BY[key]
            ranked = sorted(cohort.enrolments, key=lambda e: _ks2_key(e.pupil, measure))
            for number, members in enumerate(_split(ranked), start=1):
                name = f"{nc_year}{code}{number}"
                classes.append(_new_class(cohort, qualifications, key, name, members))
        if nc_year not in OPTION_YEARS:
            continue
        for key, (_department, code) in OPTIONS.items():
            takers = [e for e in cohort.enrolments if key in options.get(e.pupil_id, [])]
            takers.sort(key=lambda e: e.pupil.upn)
            for number, members in enumerate(_split(takers) if takers else [], start=1):
                name = f"{nc_year}{code}{number}"
                classes.append(_new_class(cohort, qualifications, key, name, members))
    return classes


def _assign_teachers(ctx: DemoContext, staff: StaffPlan, classes: list[_Class]) -> None:
    """Give each class a teacher of its department, taking them in turn.

    The demo `teacher` login teaches at least two of this year's classes.
    """
    departments: dict[tuple[int, str], list[StaffMember]] = defaultdict(list)
    teachers: dict[int, list[StaffMember]] = defaultdict(list)
    for person in staff.people:
        member = person.member
        if member.academy_id is None or member.post_type != PostType.TEACHER:
            continue
        teachers[member.academy_id].append(member)
        for prefix in ("Teacher of ", "Head of "):
            if member.job_title.startswith(prefix):
                departments[(member.academy_id, member.job_title[len(prefix) :])].append(member)
    turns: dict[tuple[int, str], int] = defaultdict(int)
    for planned in classes:
        academy_id = planned.group.academy.pk
        pool = departments.get((academy_id, planned.department)) or teachers[academy_id]
        turn = turns[(academy_id, planned.department)]
        turns[(academy_id, planned.department)] = turn + 1
        planned.teachers = [pool[turn % len(pool)]] if pool else []
    _give_demo_teacher_classes(ctx, staff, classes)


def _give_demo_teacher_classes(ctx: DemoContext, staff: StaffPlan, classes: list[_Class]) -> None:
    login = next((login for login in staff.logins if login.username == "teacher"), None)
    if login is None:
        return
    member = login.planned.member
    current = [
        c
        for c in classes
        if c.group.academy.pk == member.academy_id and c.group.academic_year == ctx.current_year
    ]
    taught = [c for c in current if member in c.teachers]
    if len(taught) >= 2:
        return
    department = member.job_title.removeprefix("Teacher of ")
    own = [c for c in current if c not in taught and c.department == department]
    # A teacher of a subject without classes here takes Year 10 classes, or any.
    year_ten = [c for c in current if c.group.year_group.nc_year == 10]
    chosen: list[_Class] = []
    for planned in own + year_ten + current:
        if planned not in taught and planned not in chosen and len(taught) + len(chosen) < 2:
            chosen.append(planned)
    for planned in chosen:
        planned.teachers = [member]


def _save_classes(classes: list[_Class]) -> tuple[int, int]:
    groups = [c.group for c in classes]
    TeachingGroup.objects.bulk_create(groups, batch_size=BATCH_SIZE)
    through = TeachingGroup.teachers.through
    links = [
        through(teachinggroup_id=c.group.pk, staffmember_id=teacher.pk)
        for c in classes
        for teacher in c.teachers
    ]
    through.objects.bulk_create(links, batch_size=BATCH_SIZE)
    memberships = (
        (c.group.pk, e.pupil_id, max(e.start_date, c.group.academic_year.start_date), e.end_date)
        for c in classes
        for e in c.enrolments
    )
    count = _insert(ClassMembership, ("group", "pupil", "start_date", "end_date"), memberships)
    return len(groups), count


# Assessment points ----------------------------------------------------------------


def point_dates(academic_year: AcademicYear) -> list[tuple[str, datetime.date]]:
    """Return the autumn, spring and summer points of a year: names and dates."""
    start = academic_year.start_date.year
    found = []
    for season, month, day in SEASONS:
        year = start if month >= 9 else start + 1
        latest = datetime.date(year, month, day)
        date = latest - datetime.timedelta(days=(latest.weekday() - FRIDAY) % 7)
        found.append((f"{season} {year}", date))
    return found


def _point_kind(nc_year: int, name: str) -> str:
    # Year 11 sit mocks in the spring and Year 10 at the end of the year.
    if (nc_year == 11 and name.startswith("Spring")) or (
        nc_year == 10 and name.startswith("Summer")
    ):
        return AssessmentPoint.Kind.MOCK
    return AssessmentPoint.Kind.WORKING_AT


def _save_points(
    ctx: DemoContext, cohorts: list[_Cohort]
) -> dict[tuple[int, int, int], list[AssessmentPoint]]:
    """Write the points of every cohort up to today; keyed by (academy, year, year group)."""
    points: dict[tuple[int, int, int], list[AssessmentPoint]] = {}
    rows = []
    for cohort in cohorts:
        key = (cohort.plan.academy.pk, cohort.academic_year.pk, cohort.year_group.pk)
        points[key] = [
            AssessmentPoint(
                academy=cohort.plan.academy,
                academic_year=cohort.academic_year,
                year_group=cohort.year_group,
                name=name,
                date=date,
                kind=_point_kind(cohort.year_group.nc_year, name),
            )
            for name, date in point_dates(cohort.academic_year)
            if date <= ctx.today
        ]
        rows += points[key]
    AssessmentPoint.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return points


# TMGs -------------------------------------------------------------------------------


TARGET_FIELDS = (
    "pupil",
    "qualification",
    "academic_year",
    "grade",
    "basis",
    "reason",
    "estimate_table",
    "uplift",
    "set_at",
    "version",
)


def _save_targets(
    cohorts: list[_Cohort], table: EstimateTable
) -> dict[tuple[int, int, int], float]:
    """Generate the TMGs of every cohort's GCSE classes, as of the start of
    each academic year, and return their points by (pupil, qualification, year)."""
    points: dict[tuple[int, int, int], float] = {}
    rows: list[tuple[object, ...]] = []
    for cohort in cohorts:
        year = cohort.academic_year
        result = tmg_generate_plan(year_group=cohort.year_group, academic_year=year, table=table)
        set_at = datetime.datetime.combine(year.start_date, datetime.time(8), tzinfo=LONDON)
        for planned in result.planned:
            reason = (
                f"Generated from {table.name} ({table.year}), prior attainment group "
                f"{planned.row.group}, uplift {result.uplift}"
            )
            rows.append(
                (
                    planned.pupil.pk,
                    planned.qualification.pk,
                    year.pk,
                    planned.grade.pk,
                    TargetGrade.Basis.GENERATED.value,
                    reason,
                    table.pk,
                    result.uplift,
                    connection.ops.adapt_datetimefield_value(set_at),
                    1,
                )
            )
            key = (planned.pupil.pk, planned.qualification.pk, year.pk)
            points[key] = float(planned.grade.points or 0)
    _insert(TargetGrade, TARGET_FIELDS, rows)
    return points


# Grades -----------------------------------------------------------------------------


class _GradeDrawer:
    """Drawer of each pupil's grades around their TMG.

    A pupil keeps one offset from their TMG per qualification: 70% near it,
    17% a grade above and 13% a grade or more below. Each point adds a little noise, and earlier
    points in the year sit slightly lower.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.offsets: dict[tuple[int, str], float] = {}
        self.results: dict[int, tuple[list[float], list[Grade]]] = {}
        self.absent: dict[int, Grade | None] = {}

    def offset(self, pupil_id: int, key: str) -> float:
        found = self.offsets.get((pupil_id, key))
        if found is None:
            roll = self.rng.random()
            if roll < 0.7:
                found = self.rng.gauss(0.45, 0.3)
            elif roll < 0.87:
                found = self.rng.gauss(1.4, 0.3)
            else:
                found = self.rng.gauss(-1.2, 0.5)
            self.offsets[(pupil_id, key)] = found
        return found

    def prepare(self, scale: GradeScale) -> tuple[list[float], list[Grade]]:
        found = self.results.get(scale.pk)
        if found is None:
            ranked = sorted(
                (g for g in scale_grades(scale) if g.is_result and g.points is not None),
                key=lambda g: g.points or 0,
            )
            found = ([float(g.points or 0) for g in ranked], ranked)
            self.results[scale.pk] = found
            self.absent[scale.pk] = next(
                (g for g in scale_grades(scale) if g.label == ABSENT), None
            )
        return found

    def grade(self, scale: GradeScale, target: float, offset: float, season: int) -> Grade:
        values, grades = self.prepare(scale)
        absent = self.absent[scale.pk]
        if absent is not None and self.rng.random() < ABSENT_SHARE:
            return absent
        drawn = target + offset + self.rng.gauss(0, 0.25) - 0.1 * (2 - season)
        index = bisect_left(values, drawn)
        if index == len(values):
            return grades[-1]
        if index > 0 and drawn - values[index - 1] < values[index] - drawn:
            return grades[index - 1]
        return grades[index]


def _fallback_target(pupil: Pupil, scale: GradeScale) -> float:
    """Return a pupil's expected points without a TMG: from KS2 where known."""
    reading, maths = pupil.ks2_reading, pupil.ks2_maths
    average = (reading + maths) / 2 if reading is not None and maths is not None else 103
    if scale.kind == GradeScale.Kind.VOCATIONAL:
        # Pass (1) for a KS2 average of 95, up to Distinction (3) from 111.
        return max(1.0, min(3.0, 1 + (average - 95) / 8))
    return max(1.0, min(8.0, 4.5 + (average - 103) / 4))


GRADE_FIELDS = (
    "pupil",
    "qualification",
    "assessment_point",
    "grade",
    "academy",
    "academic_year",
    "year_group",
    "entered_by",
    "entered_at",
    "version",
)


def _save_grades(
    rng: random.Random,
    classes: list[_Class],
    points: dict[tuple[int, int, int], list[AssessmentPoint]],
    targets: dict[tuple[int, int, int], float],
    earliest: datetime.date | None,
) -> int:
    """Write a grade for every class member at each point up to today."""
    drawer = _GradeDrawer(rng)
    for planned in classes:
        # Read every scale's grades first: _insert consumes the rows lazily.
        drawer.prepare(planned.group.qualification.scale)
    rows = _grade_rows(drawer, classes, points, targets, earliest)
    return _insert(GradeEntry, GRADE_FIELDS, rows)


def _grade_rows(
    drawer: "_GradeDrawer",
    classes: list[_Class],
    points: dict[tuple[int, int, int], list[AssessmentPoint]],
    targets: dict[tuple[int, int, int], float],
    earliest: datetime.date | None,
) -> Iterator[tuple[object, ...]]:
    for planned in classes:
        group = planned.group
        qualification = group.qualification
        teacher_user = next((t.user_id for t in planned.teachers if t.user_id), None)
        for point in points.get(planned.cohort_key, []):
            if earliest is not None and point.date < earliest:
                continue
            season = next(i for i, s in enumerate(SEASONS) if point.name.startswith(s[0]))
            entered_at = connection.ops.adapt_datetimefield_value(
                datetime.datetime.combine(point.date, datetime.time(16), tzinfo=LONDON)
            )
            for enrolment in planned.enrolments:
                if enrolment.start_date > point.date:
                    continue
                pupil = enrolment.pupil
                target = targets.get((pupil.pk, qualification.pk, group.academic_year.pk))
                if target is None:
                    target = _fallback_target(pupil, qualification.scale)
                offset = drawer.offset(pupil.pk, planned.key)
                grade = drawer.grade(qualification.scale, target, offset, season)
                yield (
                    pupil.pk,
                    qualification.pk,
                    point.pk,
                    grade.pk,
                    group.academy.pk,
                    group.academic_year.pk,
                    group.year_group.pk,
                    teacher_user,
                    entered_at,
                    1,
                )


# Interventions and parent contacts ----------------------------------------------------


@dataclass(frozen=True)
class _Below:
    """A pupil below TMG in one qualification at their latest point this year."""

    pupil_id: int
    upn: str
    academy_id: int
    qualification_id: int
    qualification_name: str
    point_date: datetime.date
    points: Decimal
    tmg_points: Decimal


# Intervention plans: kind, title, qualification key (None for support in
# every subject) and the department its owner teaches in.
SUPPORT_PLANS = (
    (Intervention.Kind.TUTORING, "Small-group maths tutoring", "gcse_maths", "Mathematics"),
    (
        Intervention.Kind.LITERACY,
        "Reading and writing catch-up",
        "gcse_english_language",
        "English",
    ),
    (Intervention.Kind.MENTORING, "Weekly progress mentoring", None, None),
)
# Pupils in one demo intervention at most.
SUPPORT_GROUP_SIZE = 6
# Weeks from an intervention's start to its review.
REVIEW_WEEKS = 8
CONTACT_METHODS = (
    ParentContact.Method.PHONE,
    ParentContact.Method.EMAIL,
    ParentContact.Method.MEETING,
    ParentContact.Method.LETTER,
)


def _below_this_year(ctx: DemoContext) -> list[_Below]:
    """Return the results below TMG at each pupil's latest point this year, by UPN."""
    assert ctx.current_year is not None
    targets = {
        (pupil_id, qualification_id): points
        for pupil_id, qualification_id, points in TargetGrade.objects.filter(
            academic_year=ctx.current_year, grade__isnull=False
        ).values_list("pupil_id", "qualification_id", "grade__points")
    }
    rows = GradeEntry.objects.filter(
        academic_year=ctx.current_year,
        assessment_point__date__lte=ctx.today,
        grade__is_result=True,
    ).values_list(
        "pupil_id",
        "pupil__upn",
        "academy_id",
        "qualification_id",
        "qualification__name",
        "assessment_point__date",
        "grade__points",
    )
    latest: dict[int, datetime.date] = {}
    found: list[_Below] = []
    for pupil_id, upn, academy_id, qualification_id, name, day, points in rows:
        latest[pupil_id] = max(day, latest.get(pupil_id, day))
        target = targets.get((pupil_id, qualification_id))
        if target is not None and points is not None and points < target:
            found.append(
                _Below(pupil_id, upn, academy_id, qualification_id, name, day, points, target)
            )
    chosen = [b for b in found if b.point_date == latest[b.pupil_id]]
    return sorted(chosen, key=lambda b: (b.upn, b.qualification_name))


def _owner(
    members: list[StaffMember], department: str | None, rng: random.Random
) -> StaffMember | None:
    """Pick a teacher of `department`, or a head of year for pastoral work, else any teacher."""
    if department is None:
        pool = [m for m in members if m.job_title.startswith("Head of Year")]
    else:
        pool = [m for m in members if m.job_title.endswith(department)]
    pool = pool or [m for m in members if m.post_type == PostType.TEACHER]
    return rng.choice(pool) if pool else None


def load_support(
    ctx: DemoContext, staff: StaffPlan, qualifications: dict[str, Qualification]
) -> tuple[int, int]:
    """Write a few interventions for pupils below TMG this year, some already
    reviewed, and a parent contact for each pupil in one. Return the counts."""
    assert ctx.current_year is not None
    rng = random.Random(ctx.rng.random())
    below = _below_this_year(ctx)
    members_by_academy: dict[int, list[StaffMember]] = defaultdict(list)
    for person in staff.people:
        if person.member.academy_id is not None:
            members_by_academy[person.member.academy_id].append(person.member)

    interventions: list[Intervention] = []
    planned_pupils: list[tuple[Intervention, list[_Below]]] = []
    for academy_id in sorted({b.academy_id for b in below}):
        own = [b for b in below if b.academy_id == academy_id]
        for index, (kind, title, key, department) in enumerate(SUPPORT_PLANS):
            if key is None:
                # Mentoring is for pupils below in two or more subjects.
                below_count: dict[int, int] = defaultdict(int)
                for b in own:
                    below_count[b.pupil_id] += 1
                several = {b.pupil_id: b for b in own if below_count[b.pupil_id] >= 2}
                candidates = list(several.values())
            else:
                candidates = [b for b in own if b.qualification_id == qualifications[key].pk]
            owner = _owner(members_by_academy[academy_id], department, rng)
            if not candidates or owner is None:
                continue
            picked = rng.sample(candidates, min(SUPPORT_GROUP_SIZE, len(candidates)))
            start = min(picked[0].point_date + datetime.timedelta(days=7), ctx.today)
            # The first plan began in September and is reviewed at the latest point.
            reviewed = index == 0
            if reviewed:
                start = ctx.current_year.start_date + datetime.timedelta(days=14)
            review = (
                max(start, picked[0].point_date)
                if reviewed
                else start + datetime.timedelta(weeks=REVIEW_WEEKS)
            )
            intervention = Intervention(
                academy_id=academy_id,
                academic_year=ctx.current_year,
                kind=kind,
                title=title,
                qualification=qualifications[key] if key else None,
                owner=owner,
                start_date=start,
                review_date=review,
                status=Intervention.Status.REVIEWED if reviewed else Intervention.Status.ACTIVE,
                reviewed_on=review if reviewed else None,
                outcome="Some pupils moved closer to their TMG; the group continues next term."
                if reviewed
                else "",
            )
            interventions.append(intervention)
            planned_pupils.append((intervention, picked))
    Intervention.objects.bulk_create(interventions, batch_size=BATCH_SIZE)

    links = []
    for intervention, picked in planned_pupils:
        for b in picked:
            reviewed = intervention.status == Intervention.Status.REVIEWED
            links.append(
                InterventionPupil(
                    intervention=intervention,
                    pupil_id=b.pupil_id,
                    # A reviewed group started one grade below its current grade.
                    start_points=b.points - 1 if reviewed and b.points >= 1 else b.points,
                    tmg_points=b.tmg_points,
                    review_points=b.points if reviewed else None,
                )
            )
    InterventionPupil.objects.bulk_create(links, batch_size=BATCH_SIZE)
    return len(interventions), _save_contacts(ctx, rng, planned_pupils)


def _save_contacts(
    ctx: DemoContext,
    rng: random.Random,
    planned: list[tuple[Intervention, list[_Below]]],
) -> int:
    """Log one contact with a parent of each pupil in an intervention, when it started."""
    pupil_ids = {b.pupil_id for _, picked in planned for b in picked}
    first_contact: dict[int, int] = {}
    for pupil_id, contact_id in (
        Contact.objects.filter(pupil_id__in=pupil_ids, parental_responsibility=True)
        .order_by("pupil_id", "priority", "pk")
        .values_list("pupil_id", "id")
    ):
        first_contact.setdefault(pupil_id, contact_id)
    rows = []
    done: set[int] = set()
    for intervention, picked in planned:
        for b in picked:
            if b.pupil_id in done:
                continue
            done.add(b.pupil_id)
            method = rng.choice(CONTACT_METHODS)
            at = datetime.datetime.combine(
                intervention.start_date, datetime.time(15, 30 + rng.randint(0, 29)), tzinfo=LONDON
            )
            rows.append(
                ParentContact(
                    pupil_id=b.pupil_id,
                    contact_id=first_contact.get(b.pupil_id),
                    academy_id=intervention.academy_id,
                    method=method,
                    occurred_at=at,
                    summary=f"Explained the {intervention.title.lower()} starting on "
                    f"{intervention.start_date:%d/%m/%Y} and how to help at home.",
                    staff=intervention.owner,
                )
            )
    ParentContact.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)
