"""Reads for the year group heatmap and the academy and trust progress summaries.

Each read takes a fixed number of queries whatever the number of pupils:
the pupils, grade entries and TMGs are read once each and statuses are
worked out in Python with progress.grades.entry_status, or
its plain-value form plain_status for the summaries. A TMG counts only
for the academic year of the assessment point, a missing grade or an
absence gives "no grade" (never a zero), and a grade without a TMG is
never counted as on target.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q

from academies.models import Academy, YearGroup, year_group_name
from pupils.models import Pupil, SenStatus, Sex, active_on
from pupils.selectors import disadvantaged_filter

from .grades import GradeFacts, Status, entry_status, plain_status
from .models import (
    AssessmentPoint,
    ClassMembership,
    Grade,
    GradeEntry,
    GradeEquivalent,
    Qualification,
    TargetGrade,
)

# The heatmap's columns, in order. "Not comparable" (a grade on another
# scale without an equivalent) is added only where it occurs.
HEATMAP_STATUSES: tuple[str, ...] = (
    Status.ABOVE,
    Status.ON,
    Status.BELOW,
    Status.WELL_BELOW,
    Status.NO_GRADE,
    Status.NO_TMG,
)
ON_OR_ABOVE = (Status.ABOVE, Status.ON)

# Figures resting on 1 to 4 pupils are shown as "fewer than 5" to viewers
# who may not see every pupil counted, such as trustees.
SUPPRESS_BELOW = 5


# Assessment points -------------------------------------------------------------------


def year_group_points(year_group: YearGroup) -> list[AssessmentPoint]:
    """Return the assessment points of `year_group` in every academic year, earliest first."""
    return list(
        AssessmentPoint.objects.filter(year_group=year_group)
        .select_related("academic_year")
        .order_by("date", "pk")
    )


def default_point(
    points: Sequence[AssessmentPoint], today: datetime.date
) -> AssessmentPoint | None:
    """Return the last point dated on or before `today`, else the first one to come."""
    past = [p for p in points if p.date <= today]
    if past:
        return past[-1]
    return points[0] if points else None


def latest_points(academy_ids: Iterable[int], today: datetime.date) -> list[AssessmentPoint]:
    """Return, per year group of the academies, the latest assessment point of the
    academic year containing `today` that is dated on or before `today`."""
    points = (
        AssessmentPoint.objects.filter(
            academy_id__in=list(academy_ids),
            academic_year__start_date__lte=today,
            academic_year__end_date__gte=today,
            date__lte=today,
        )
        .select_related("academy", "year_group", "academic_year")
        .order_by("date", "pk")
    )
    latest: dict[int, AssessmentPoint] = {}
    for point in points:
        latest[point.year_group_id] = point
    return sorted(latest.values(), key=lambda p: (p.academy.name, p.year_group.nc_year))


# Statuses at one assessment point ------------------------------------------------------


def _shared_grades(grade_ids: Iterable[int]) -> dict[int, Grade]:
    """Return the grades with their equivalents, one object per grade.

    Rows share these objects instead of each loading its own copy, so a
    trust's thousands of grades cost two queries and no per-row prefetch.
    """
    rows = Grade.objects.filter(pk__in=set(grade_ids)).prefetch_related("equivalents")
    return {grade.pk: grade for grade in rows}


def _entries_at(point_ids: Iterable[int], **filters: Any) -> list[GradeEntry]:
    entries = list(GradeEntry.objects.filter(assessment_point_id__in=list(point_ids), **filters))
    grades = _shared_grades(e.grade_id for e in entries if e.grade_id)
    qualifications = {
        q.pk: q
        for q in Qualification.objects.filter(
            pk__in={e.qualification_id for e in entries}
        ).select_related("scale", "subject")
    }
    for entry in entries:
        entry.qualification = qualifications[entry.qualification_id]
        if entry.grade_id:
            entry.grade = grades[entry.grade_id]
    return entries


def _grade_facts(grade_ids: Iterable[int]) -> dict[int, GradeFacts]:
    """Return the grades with their equivalents as plain values, in the queries
    _shared_grades takes."""
    rows = Grade.objects.filter(pk__in=set(grade_ids)).values_list(
        "pk", "scale_id", "points", "is_result"
    )
    equivalents: dict[int, dict[int, Decimal]] = {}
    facts = {
        pk: GradeFacts(scale_id, points, is_result, equivalents.setdefault(pk, {}))
        for pk, scale_id, points, is_result in rows
    }
    if facts:
        pairs = GradeEquivalent.objects.filter(grade_id__in=list(facts)).values_list(
            "grade_id", "scale_id", "points"
        )
        for grade_id, scale_id, points in pairs:
            equivalents[grade_id][scale_id] = points
    return facts


def _tmgs(pupil_ids: Iterable[int], academic_year_ids: Iterable[int]) -> dict[tuple, TargetGrade]:
    """Return TMGs keyed (pupil id, qualification id, academic year id)."""
    rows = list(
        TargetGrade.objects.filter(
            pupil_id__in=list(pupil_ids), academic_year_id__in=list(academic_year_ids)
        )
    )
    grades = _shared_grades(t.grade_id for t in rows if t.grade_id)
    for target in rows:
        if target.grade_id:
            target.grade = grades[target.grade_id]
    return {(t.pupil_id, t.qualification_id, t.academic_year_id): t for t in rows}


@dataclass
class PupilStatus:
    """One pupil's grade and TMG in one qualification at one assessment point."""

    pupil_id: int
    status: str
    entry: GradeEntry | None
    tmg: TargetGrade | None


@dataclass
class HeatmapRow:
    qualification: Qualification
    counts: dict[str, int]
    pupils: list[PupilStatus]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Heatmap:
    year_group: YearGroup
    point: AssessmentPoint
    rows: list[HeatmapRow]
    statuses: list[str]

    def row_for(self, qualification_id: int) -> HeatmapRow | None:
        return next((r for r in self.rows if r.qualification.pk == qualification_id), None)


def heatmap(year_group: YearGroup, point: AssessmentPoint) -> Heatmap:
    """Count the pupils of each qualification taught in `year_group` by status at `point`.

    A qualification's pupils are those in one of its classes of the year
    group on the point's date, and anyone with an entry for it at the point.
    The number of queries does not depend on the number of pupils.
    """
    members = ClassMembership.objects.filter(
        active_on(point.date),
        group__year_group=year_group,
        group__academic_year_id=point.academic_year_id,
    ).values_list("pupil_id", "group__qualification_id")
    cohort: dict[int, set[int]] = {}
    for pupil_id, qualification_id in members:
        cohort.setdefault(qualification_id, set()).add(pupil_id)
    entries = {(e.pupil_id, e.qualification_id): e for e in _entries_at([point.pk])}
    for pupil_id, qualification_id in entries:
        cohort.setdefault(qualification_id, set()).add(pupil_id)

    taught = Q(
        teaching_groups__year_group=year_group,
        teaching_groups__academic_year_id=point.academic_year_id,
    )
    qualifications = list(
        Qualification.objects.filter(taught | Q(pk__in=list(cohort)))
        .select_related("subject", "scale")
        .distinct()
        .order_by("subject__name", "name", "pk")
    )
    pupil_ids = set().union(*cohort.values()) if cohort else set()
    tmgs = _tmgs(pupil_ids, [point.academic_year_id])

    rows = []
    seen: set[str] = set()
    for qualification in qualifications:
        statuses = []
        for pupil_id in sorted(cohort.get(qualification.pk, set())):
            entry = entries.get((pupil_id, qualification.pk))
            tmg = tmgs.get((pupil_id, qualification.pk, point.academic_year_id))
            status = entry_status(entry, tmg, qualification.scale)
            statuses.append(PupilStatus(pupil_id=pupil_id, status=status, entry=entry, tmg=tmg))
            seen.add(status)
        counts = {status.value: 0 for status in Status}
        for item in statuses:
            counts[item.status] += 1
        rows.append(HeatmapRow(qualification=qualification, counts=counts, pupils=statuses))
    columns = list(HEATMAP_STATUSES)
    if Status.NOT_COMPARABLE in seen:
        columns.append(Status.NOT_COMPARABLE)
    return Heatmap(year_group=year_group, point=point, rows=rows, statuses=columns)


# Percentages on or above TMG ---------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Pupils with a grade in an area, how many are on or above TMG in all of
    them, and how many have a grade without a TMG. Summed, never averaged."""

    graded: int = 0
    on_or_above: int = 0
    no_tmg: int = 0
    suppressed: bool = False

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            graded=self.graded + other.graded,
            on_or_above=self.on_or_above + other.on_or_above,
            no_tmg=self.no_tmg + other.no_tmg,
        )

    @property
    def percent(self) -> float | None:
        """The percentage on or above TMG to one decimal place, None without pupils."""
        if self.suppressed or not self.graded:
            return None
        return round(100 * self.on_or_above / self.graded, 1)

    @property
    def small(self) -> bool:
        return 0 < self.graded < SUPPRESS_BELOW

    def hidden(self) -> "Tally":
        return replace(self, suppressed=True)


@dataclass(frozen=True)
class Area:
    key: str
    label: str


AREAS = (
    Area("english", "English"),
    Area("maths", "Mathematics"),
    Area("all", "All subjects"),
)
ENGLISH_ELEMENTS = (
    Qualification.Element.ENGLISH_LANGUAGE,
    Qualification.Element.ENGLISH_LITERATURE,
)


def areas_of(qualification: Qualification) -> list[str]:
    """Return the area keys a qualification counts in: English (language or
    literature), mathematics, and always all subjects."""
    keys = ["all"]
    code = qualification.subject.code
    if qualification.element in ENGLISH_ELEMENTS or code == "english":
        keys.append("english")
    if qualification.element == Qualification.Element.MATHS or code == "maths":
        keys.append("maths")
    return keys


@dataclass(frozen=True)
class PupilGroup:
    """A group of pupils the summaries break figures down by."""

    key: str
    label: str
    # Groups of one family partition the pupils, so their counts sum to the total.
    family: str


PUPIL_GROUPS = (
    PupilGroup("disadvantaged", "Disadvantaged", "disadvantaged"),
    PupilGroup("not_disadvantaged", "Not disadvantaged", "disadvantaged"),
    PupilGroup("sen_support", "SEN support", "sen"),
    PupilGroup("ehc_plan", "EHC plan", "sen"),
    PupilGroup("no_sen", "No SEN", "sen"),
    PupilGroup("eal", "EAL", "eal"),
    PupilGroup("not_eal", "English as first language", "eal"),
    PupilGroup("female", "Female", "sex"),
    PupilGroup("male", "Male", "sex"),
    PupilGroup("sex_not_known", "Sex not known", "sex"),
)


def _groups_of(pupil: Mapping[str, Any]) -> list[str]:
    keys = ["disadvantaged" if pupil["is_disadvantaged"] else "not_disadvantaged"]
    keys.append(
        {SenStatus.SEN_SUPPORT: "sen_support", SenStatus.EHC_PLAN: "ehc_plan"}.get(
            pupil["sen_status"], "no_sen"
        )
    )
    keys.append("eal" if pupil["eal"] else "not_eal")
    keys.append({Sex.FEMALE: "female", Sex.MALE: "male"}.get(pupil["sex"], "sex_not_known"))
    return keys


AreaTallies = dict[str, Tally]


def _empty() -> AreaTallies:
    return {area.key: Tally() for area in AREAS}


def _sum(items: Iterable[AreaTallies]) -> AreaTallies:
    total = _empty()
    for item in items:
        for key, tally in item.items():
            total[key] = total[key] + tally
    return total


@dataclass
class PointFigures:
    """The tallies of one year group at its latest assessment point."""

    point: AssessmentPoint
    areas: AreaTallies = field(default_factory=_empty)
    groups: dict[str, AreaTallies] = field(default_factory=dict)


def point_figures(points: Sequence[AssessmentPoint], today: datetime.date) -> list[PointFigures]:
    """Tally each point's pupils on or above TMG by area and by pupil group.

    A pupil counts in an area when they have a grade (a result) in at least
    one of its qualifications, and as on or above only when every such grade
    is on or above its TMG. Disadvantage is read on `today`. The number of
    queries depends on neither the number of pupils nor of points.
    """
    if not points:
        return []
    # TODO: tallied per request from every grade at the latest points; the largest
    # trusts need stored per-point tallies instead.
    # Plain values, not model instances, because a large trust has hundreds of
    # thousands of grade entries at its latest points.
    entries = list(
        GradeEntry.objects.filter(assessment_point_id__in=[p.pk for p in points]).values_list(
            "assessment_point_id", "pupil_id", "qualification_id", "grade_id", "value"
        )
    )
    pupil_ids = {row[1] for row in entries}
    targets = {
        (pupil_id, qualification_id, year_id): (grade_id, value)
        for pupil_id, qualification_id, year_id, grade_id, value in TargetGrade.objects.filter(
            pupil_id__in=list(pupil_ids),
            academic_year_id__in=list({p.academic_year_id for p in points}),
        ).values_list("pupil_id", "qualification_id", "academic_year_id", "grade_id", "value")
    }
    grades = _grade_facts(row[3] for row in entries if row[3])
    grades.update(_grade_facts(t[0] for t in targets.values() if t[0]))
    qualifications = Qualification.objects.filter(
        pk__in={row[2] for row in entries}
    ).select_related("scale", "subject")
    # qualification id -> ((scale id, numeric, step), area keys)
    per_qualification = {
        q.pk: ((q.scale_id, q.scale.numeric, q.scale.step), areas_of(q)) for q in qualifications
    }
    pupils = {
        row["pk"]: row
        for row in Pupil.objects.filter(pk__in=list(pupil_ids))
        .annotate(
            is_disadvantaged=ExpressionWrapper(
                disadvantaged_filter(today), output_field=BooleanField()
            )
        )
        .values("pk", "sex", "sen_status", "eal", "is_disadvantaged")
    }
    year_of = {p.pk: p.academic_year_id for p in points}
    # (point id, pupil id) -> area key -> statuses of the graded qualifications
    graded: dict[tuple[int, int], dict[str, list[str]]] = {}
    for point_id, pupil_id, qualification_id, grade_id, value in entries:
        scale, area_keys = per_qualification[qualification_id]
        tmg = targets.get((pupil_id, qualification_id, year_of[point_id]))
        status = plain_status((grade_id, value), tmg, grades, scale)
        if status == Status.NO_GRADE:
            continue
        areas = graded.setdefault((point_id, pupil_id), {})
        for key in area_keys:
            areas.setdefault(key, []).append(status)

    # Counted in integers and made into Tallies once, because adding a Tally per
    # pupil and group took about 40% of the time on the demo trust.
    # point id -> group key (None for the whole point) -> area key
    # -> [graded, on or above, no TMG]
    counts: dict[int, dict[str | None, dict[str, list[int]]]] = {p.pk: {} for p in points}
    for (point_id, pupil_id), areas in graded.items():
        pupil_counts = [
            (
                key,
                int(all(s in ON_OR_ABOVE for s in statuses)),
                int(Status.NO_TMG in statuses),
            )
            for key, statuses in areas.items()
        ]
        by_group = counts[point_id]
        for group in [None, *_groups_of(pupils[pupil_id])]:
            totals = by_group.setdefault(group, {})
            for key, on_or_above, no_tmg in pupil_counts:
                total = totals.setdefault(key, [0, 0, 0])
                total[0] += 1
                total[1] += on_or_above
                total[2] += no_tmg

    figures = []
    for point in points:
        result = PointFigures(point=point)
        for group, totals in counts[point.pk].items():
            tallies = _empty()
            for key, (graded_count, on_or_above, no_tmg) in totals.items():
                tallies[key] = Tally(graded=graded_count, on_or_above=on_or_above, no_tmg=no_tmg)
            if group is None:
                result.areas = tallies
            else:
                result.groups[group] = tallies
        figures.append(result)
    return figures


# Rows of the summary pages -----------------------------------------------------------


@dataclass
class SummaryRow:
    label: str
    areas: AreaTallies
    point: AssessmentPoint | None = None
    link: str = ""

    @property
    def cells(self) -> list[Tally]:
        """The tallies in the order of AREAS, for templates."""
        return [self.areas[area.key] for area in AREAS]


def protect(rows: list[SummaryRow]) -> list[SummaryRow]:
    """Suppress each small figure, then a second one wherever one alone is suppressed.

    The rows must partition a total that is shown, so a single suppressed
    figure could be worked out by subtraction: the smallest other figure of
    that area is hidden as well.
    """
    for area in AREAS:
        hidden = 0
        for row in rows:
            if row.areas[area.key].small:
                row.areas[area.key] = row.areas[area.key].hidden()
                hidden += 1
        if hidden != 1:
            continue
        shown = [r for r in rows if r.areas[area.key].graded and not r.areas[area.key].suppressed]
        if shown:
            smallest = min(shown, key=lambda r: r.areas[area.key].graded)
            smallest.areas[area.key] = smallest.areas[area.key].hidden()
    return rows


def protect_total(row: SummaryRow) -> SummaryRow:
    for area in AREAS:
        if row.areas[area.key].small:
            row.areas[area.key] = row.areas[area.key].hidden()
    return row


def group_rows(figures: Iterable[PointFigures], *, suppress: bool) -> list[SummaryRow]:
    """Return one row per pupil group, its counts summed over `figures`."""
    figures = list(figures)
    rows = [
        SummaryRow(
            label=group.label,
            areas=_sum(f.groups.get(group.key, _empty()) for f in figures),
        )
        for group in PUPIL_GROUPS
    ]
    if suppress:
        families: dict[str, list[SummaryRow]] = {}
        for group, row in zip(PUPIL_GROUPS, rows, strict=True):
            families.setdefault(group.family, []).append(row)
        for family in families.values():
            protect(family)
    return rows


@dataclass
class Summary:
    title: str
    rows: list[SummaryRow]
    total: SummaryRow
    groups: list[SummaryRow]
    # Further rows of the trust summary: NC years across the academies.
    year_rows: list[SummaryRow] = field(default_factory=list)
    suppressed: bool = False


def academy_summary(academy: Academy, today: datetime.date, *, suppress: bool) -> Summary:
    """Return one row per year group of `academy` with an assessment point so far
    this academic year, a total and the pupil group breakdown."""
    figures = point_figures(latest_points([academy.pk], today), today)
    rows = [
        SummaryRow(label=f.point.year_group.name, areas=dict(f.areas), point=f.point)
        for f in figures
    ]
    total = SummaryRow(
        label=f"All year groups, {academy.name}", areas=_sum(f.areas for f in figures)
    )
    if suppress:
        protect(rows)
        protect_total(total)
    return Summary(
        title=academy.name,
        rows=rows,
        total=total,
        groups=group_rows(figures, suppress=suppress),
        suppressed=suppress,
    )


def trust_summary(academies: Sequence[Academy], today: datetime.date, *, suppress: bool) -> Summary:
    """Return one row per academy and per NC year, each from the summed counts of
    its year groups' latest assessment points, a total and the group breakdown."""
    figures = point_figures(latest_points([a.pk for a in academies], today), today)
    by_academy: dict[int, list[PointFigures]] = {}
    by_year: dict[int, list[PointFigures]] = {}
    for f in figures:
        by_academy.setdefault(f.point.academy_id, []).append(f)
        by_year.setdefault(f.point.year_group.nc_year, []).append(f)
    rows = [
        SummaryRow(label=a.name, areas=_sum(f.areas for f in by_academy.get(a.pk, [])))
        for a in sorted(academies, key=lambda a: a.name)
    ]
    year_rows = [
        SummaryRow(label=year_group_name(nc_year), areas=_sum(f.areas for f in by_year[nc_year]))
        for nc_year in sorted(by_year)
    ]
    total = SummaryRow(label="All academies", areas=_sum(f.areas for f in figures))
    if suppress:
        protect(rows)
        protect(year_rows)
        protect_total(total)
    return Summary(
        title=academies[0].trust.name if academies else "the trust",
        rows=rows,
        total=total,
        groups=group_rows(figures, suppress=suppress),
        year_rows=year_rows,
        suppressed=suppress,
    )
