"""The figures of the dashboards and reports, for academies, year groups and
groups of pupils, with trust totals summed from counts.

Every figure is kept as the counts it is computed from (sessions, pupils on
roll, incidents, graded pupils, contracted days, appraisals), so a total is
the sum of counts, never an average of percentages. The rates are worked
out from the counts by the properties below.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from academies.models import AcademicYear, Academy, YearGroup
from appraisal.completion import Counts as AppraisalCounts
from appraisal.completion import completion_by_group
from appraisal.models import Stage
from appraisal.selectors import current_cycle
from attendance.selectors import GroupTarget, _sums, _weeks, academies_attendance, default_range
from attendance.staff_absence import RateCell, absence_rates
from attendance.statistics import Counts as SessionCounts
from attendance.statistics import GroupFigures, group_figures, one_decimal
from attendance.summaries import counts_of
from behaviour.analysis import SUSPENSION_KINDS, TALLY_AGGREGATES
from behaviour.analysis import Filters as BehaviourFilters
from behaviour.models import IncidentPupil, Suspension, SuspensionSession
from progress.summaries import AREAS, PointFigures, latest_points, point_figures
from progress.summaries import Tally as TmgTally
from pupils.models import Enrolment, active_on

from .models import Measure

# A figure resting on fewer pupils than this is hidden from those who may not
# see pupils (trustees), so no child can be identified from it.
SUPPRESS_BELOW = 5


def _rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    if not whole:
        return None
    return round(100 * float(part) / float(whole), 1)


def _empty_attendance() -> GroupFigures:
    return GroupFigures(
        counts=SessionCounts(), enrolments=0, persistent_absence_count=0, severe_absence_count=0
    )


def _empty_tmg() -> dict[str, TmgTally]:
    return {area.key: TmgTally() for area in AREAS}


@dataclass
class Figures:
    """One group's counts behind every dashboard measure.

    `staff_absence` and `appraisal` are None for year groups and pupil
    groups, which have no staff of their own. `suppressed` names the
    measures hidden because they rest on fewer than SUPPRESS_BELOW pupils.
    """

    on_roll: int = 0
    attendance: GroupFigures = field(default_factory=_empty_attendance)
    # Pupils aged 5 to 15 on 31 August only: the DfE's cohort, compared with England.
    cohort_attendance: GroupFigures | None = None
    negative_incidents: int = 0
    pupils_with_negative: int = 0
    suspensions: int = 0
    pupils_suspended: int = 0
    # School days of suspension (a session is half a day) with dates in the window.
    suspension_days: Decimal = Decimal(0)
    # Permanent exclusions decided in the window, which suspensions leave out.
    permanent_exclusions: int = 0
    tmg: dict[str, TmgTally] = field(default_factory=_empty_tmg)
    staff_absence: RateCell | None = None
    appraisal: AppraisalCounts | None = None
    suppressed: frozenset[str] = frozenset()

    # Rates ------------------------------------------------------------------

    @property
    def attendance_rate(self) -> float | None:
        return one_decimal(self.attendance.counts.attendance_rate)

    @property
    def persistent_absence_rate(self) -> float | None:
        return _rate(self.attendance.persistent_absence_count, self.attendance.enrolments)

    @property
    def severe_absence_rate(self) -> float | None:
        return _rate(self.attendance.severe_absence_count, self.attendance.enrolments)

    @property
    def negative_per_100(self) -> float | None:
        return _rate(self.negative_incidents, self.on_roll)

    @property
    def suspension_rate(self) -> float | None:
        return round(100 * self.suspensions / self.on_roll, 2) if self.on_roll else None

    def tmg_percent(self, area: str) -> float | None:
        return self.tmg[area].percent

    @property
    def tmg_english(self) -> float | None:
        return self.tmg_percent("english")

    @property
    def tmg_maths(self) -> float | None:
        return self.tmg_percent("maths")

    @property
    def tmg_all(self) -> float | None:
        return self.tmg_percent("all")

    @property
    def staff_absence_rate(self) -> float | None:
        return self.staff_absence.rate if self.staff_absence is not None else None

    @property
    def appraisal_completion(self) -> float | None:
        """Percent of appraisals of the current cycle with objectives agreed."""
        if self.appraisal is None or not self.appraisal.total:
            return None
        agreed = self.appraisal.done.get(Stage.OBJECTIVES, 0)
        return _rate(agreed, self.appraisal.total)

    def value(self, measure: str) -> float | None:
        """Return the figure for `measure` (a Measure value), or None where it is
        unknown or suppressed."""
        if measure in self.suppressed:
            return None
        return float(v) if (v := getattr(self, MEASURE_ATTRIBUTES[measure])) is not None else None

    def __add__(self, other: "Figures") -> "Figures":
        """Sum the counts of two groups that share no pupil and no member of staff.

        The sum carries no suppression: it is decided again for the new group.
        """
        return Figures(
            on_roll=self.on_roll + other.on_roll,
            attendance=_add_attendance(self.attendance, other.attendance),
            cohort_attendance=_add_optional_attendance(
                self.cohort_attendance, other.cohort_attendance
            ),
            negative_incidents=self.negative_incidents + other.negative_incidents,
            pupils_with_negative=self.pupils_with_negative + other.pupils_with_negative,
            suspensions=self.suspensions + other.suspensions,
            pupils_suspended=self.pupils_suspended + other.pupils_suspended,
            suspension_days=self.suspension_days + other.suspension_days,
            permanent_exclusions=self.permanent_exclusions + other.permanent_exclusions,
            tmg={area.key: self.tmg[area.key] + other.tmg[area.key] for area in AREAS},
            staff_absence=_add_rate_cells(self.staff_absence, other.staff_absence),
            appraisal=_add_appraisal(self.appraisal, other.appraisal),
        )


def _add_attendance(first: GroupFigures, second: GroupFigures) -> GroupFigures:
    return GroupFigures(
        counts=first.counts + second.counts,
        enrolments=first.enrolments + second.enrolments,
        persistent_absence_count=first.persistent_absence_count + second.persistent_absence_count,
        severe_absence_count=first.severe_absence_count + second.severe_absence_count,
    )


def _add_optional_attendance(
    first: GroupFigures | None, second: GroupFigures | None
) -> GroupFigures | None:
    if first is None or second is None:
        return first or second
    return _add_attendance(first, second)


def _add_rate_cells(first: RateCell | None, second: RateCell | None) -> RateCell | None:
    if first is None and second is None:
        return None
    result = RateCell()
    for cell in (first, second):
        if cell is None:
            continue
        result.contracted += cell.contracted
        result.lost += cell.lost
        result.staff_count += cell.staff_count
        for reason, days in cell.lost_by_reason.items():
            result.lost_by_reason[reason] = result.lost_by_reason.get(reason, Decimal(0)) + days
    return result


def _add_appraisal(
    first: AppraisalCounts | None, second: AppraisalCounts | None
) -> AppraisalCounts | None:
    if first is None and second is None:
        return None
    result = AppraisalCounts()
    for counts in (first, second):
        if counts is not None:
            result.add(counts)
    return result


MEASURE_ATTRIBUTES: dict[str, str] = {
    Measure.ATTENDANCE: "attendance_rate",
    Measure.PERSISTENT_ABSENCE: "persistent_absence_rate",
    Measure.SEVERE_ABSENCE: "severe_absence_rate",
    Measure.NEGATIVE_PER_100: "negative_per_100",
    Measure.SUSPENSION_RATE: "suspension_rate",
    Measure.TMG_ENGLISH: "tmg_english",
    Measure.TMG_MATHS: "tmg_maths",
    Measure.TMG_ALL: "tmg_all",
    Measure.STAFF_ABSENCE: "staff_absence_rate",
    Measure.APPRAISAL_COMPLETION: "appraisal_completion",
}


@dataclass
class FigureRow:
    """One row of a dashboard table: an academy, a year group or a pupil group."""

    label: str
    figures: Figures
    academy: Academy | None = None
    year_group: YearGroup | None = None
    key: str = ""


@dataclass
class FigureTable:
    rows: list[FigureRow]
    total: FigureRow
    start: datetime.date
    end: datetime.date


# Reading the counts ----------------------------------------------------------------
#
# Each reader below takes a group field ("academy_id" or "year_group_id") and
# the ids of the groups, and returns one entry per group in a fixed number of
# queries, so the tables cost the same for one academy or sixty.


def _on_roll(field_name: str, ids: Sequence[int], today: datetime.date) -> dict[int, int]:
    """Count the distinct pupils on roll on `today` per group, as
    behaviour.analysis.Viewer.on_roll does."""
    rows = (
        Enrolment.objects.filter(active_on(today), **{f"{field_name}__in": ids})
        .values(field_name)
        .annotate(count=Count("pupil_id", distinct=True))
        .order_by()
    )
    return {row[field_name]: row["count"] for row in rows}


NEGATIVE_AGGREGATES = {
    "negative_incidents": TALLY_AGGREGATES["negative_incidents"],
    "negative_pupils": TALLY_AGGREGATES["negative_pupils"],
}


def _negative_links(start: datetime.date, end: datetime.date) -> QuerySet[IncidentPupil]:
    # Every link counts, restricted incidents included, as for a trust-wide
    # viewer of behaviour.analysis.
    return BehaviourFilters(start, end).apply(IncidentPupil.objects.all())


def _behaviour(
    field_name: str, ids: Sequence[int], start: datetime.date, end: datetime.date
) -> dict[int, dict[str, int]]:
    rows = (
        _negative_links(start, end)
        .filter(**{f"{field_name}__in": ids})
        .values(field_name)
        .annotate(**NEGATIVE_AGGREGATES)
        .order_by()
    )
    return {row[field_name]: row for row in rows}


def _in_force(start: datetime.date, end: datetime.date) -> QuerySet[Suspension]:
    return Suspension.objects.filter(
        status=Suspension.Status.ACTIVE, start_date__range=(start, end)
    )


SUSPENDED = Q(kind__in=SUSPENSION_KINDS)
SUSPENSION_AGGREGATES = {
    "suspensions": Count("pk", filter=SUSPENDED),
    "pupils_suspended": Count("pupil_id", distinct=True, filter=SUSPENDED),
    "permanent_exclusions": Count("pk", filter=Q(kind=Suspension.Kind.PERMANENT)),
}


def _suspensions(
    field_name: str, ids: Sequence[int], start: datetime.date, end: datetime.date
) -> dict[int, dict[str, int]]:
    """Count the suspensions in force (not withdrawn) that start in the window, per group.

    Suspensions and lunchtime suspensions count as suspensions, as in
    behaviour.analysis. Permanent exclusions are counted apart.
    """
    rows = (
        _in_force(start, end)
        .filter(**{f"{field_name}__in": ids})
        .values(field_name)
        .annotate(**SUSPENSION_AGGREGATES)
        .order_by()
    )
    return {row[field_name]: row for row in rows}


def _suspension_days(
    field_name: str, ids: Sequence[int], start: datetime.date, end: datetime.date
) -> dict[int, Decimal]:
    """Count the school days of suspension with session dates in the window, per group.

    The days are counted as behaviour.analysis.group_suspension_days counts
    them: sessions of suspensions and lunchtime suspensions in force, each
    half a day.
    """
    # Sessions carry their academy but not their year group, which is the suspension's.
    key = "academy_id" if field_name == "academy_id" else f"suspension__{field_name}"
    rows = (
        SuspensionSession.objects.filter(
            suspension__kind__in=SUSPENSION_KINDS,
            suspension__status=Suspension.Status.ACTIVE,
            date__gte=start,
            date__lte=end,
            **{f"{key}__in": ids},
        )
        .values(key)
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row[key]: Decimal(row["count"]) / 2 for row in rows}


def _tmg(field_name: str, figures: Sequence[PointFigures]) -> dict[int, dict[str, TmgTally]]:
    """Sum the pupils on or above TMG at each year group's latest assessment
    point per group, as progress.summaries.trust_summary sums them."""
    result: dict[int, dict[str, TmgTally]] = {}
    for point in figures:
        key = getattr(point.point, field_name)
        areas = result.setdefault(key, _empty_tmg())
        for area, tally in point.areas.items():
            areas[area] = areas[area] + tally
    return result


def _latest_point_figures(academy_ids: Sequence[int], today: datetime.date) -> list[PointFigures]:
    return point_figures(latest_points(academy_ids, today), today)


def _current_year(today: datetime.date) -> AcademicYear | None:
    return AcademicYear.objects.filter(start_date__lte=today, end_date__gte=today).first()


def _staff_absence(academies: Sequence[Academy], today: datetime.date) -> dict[int, RateCell]:
    """Return each academy's staff absence over its academic year to `today`.

    The central team belongs to no academy, so it is in no row.
    """
    year = _current_year(today)
    if year is None or not academies:
        return {}
    table = absence_rates(academies=academies, year=year, include_central=False, to=today)
    return {row.academy_id: row.year for row in table.rows if row.academy_id is not None}


def _appraisal(
    academies: Sequence[Academy], today: datetime.date
) -> dict[int, AppraisalCounts] | None:
    """Return each academy's appraisal counts in the current cycle, or None with no cycle."""
    cycle = current_cycle(today)
    if cycle is None:
        return None
    groups = completion_by_group(cycle, academies, today)
    return {group.academy_id: group.all_tracks for group in groups if group.academy_id}


# Suppression -------------------------------------------------------------------------


def _tmg_measure(area: str) -> Callable[[Figures], int]:
    return lambda figures: figures.tmg[area].graded


# The pupils each measure rests on. A measure whose count is 1 to 4 is hidden
# from those who may not see pupils.
MEASURE_BASES: dict[str, Callable[[Figures], int]] = {
    Measure.ATTENDANCE: lambda f: f.attendance.enrolments,
    Measure.PERSISTENT_ABSENCE: lambda f: f.attendance.enrolments,
    Measure.SEVERE_ABSENCE: lambda f: f.attendance.enrolments,
    Measure.NEGATIVE_PER_100: lambda f: f.on_roll,
    Measure.SUSPENSION_RATE: lambda f: f.on_roll,
    Measure.TMG_ENGLISH: _tmg_measure("english"),
    Measure.TMG_MATHS: _tmg_measure("maths"),
    Measure.TMG_ALL: _tmg_measure("all"),
}
# Staff absence and appraisal are figures about staff, so they are never suppressed.


def _is_small(count: int) -> bool:
    return 0 < count < SUPPRESS_BELOW


def small_measures(figures: Figures) -> frozenset[str]:
    """Return the measures of `figures` that rest on 1 to 4 pupils.

    Negative incidents are also hidden when 1 to 4 pupils have any, as
    behaviour.analysis hides them, and suspensions when 1 to 4 pupils were
    suspended.
    """
    hidden = {measure for measure, base in MEASURE_BASES.items() if _is_small(base(figures))}
    if _is_small(figures.pupils_with_negative):
        hidden.add(Measure.NEGATIVE_PER_100)
    if _is_small(figures.pupils_suspended):
        hidden.add(Measure.SUSPENSION_RATE)
    return frozenset(hidden)


def protect_rows(rows: Sequence[FigureRow]) -> None:
    """Suppress each small measure of `rows`, then a second row wherever one
    row alone is suppressed for a measure.

    The rows add up to a total that is shown, so a single hidden figure could
    be worked out by subtraction. The smallest other row with pupils for that
    measure is hidden as well, as progress.summaries.protect does.
    """
    hidden = {id(row): set(small_measures(row.figures)) for row in rows}
    for measure, base in MEASURE_BASES.items():
        suppressed = [row for row in rows if measure in hidden[id(row)]]
        if len(suppressed) != 1:
            continue
        shown = [row for row in rows if measure not in hidden[id(row)] and base(row.figures)]
        if shown:
            smallest = min(shown, key=lambda row: base(row.figures))
            hidden[id(smallest)].add(measure)
    for row in rows:
        row.figures.suppressed = frozenset(hidden[id(row)])


def protect_total(row: FigureRow) -> None:
    """Suppress the measures of a total only where the total itself is small."""
    row.figures.suppressed = small_measures(row.figures)


# Tables ------------------------------------------------------------------------------


def _academy_figures(
    academies: Sequence[Academy],
    today: datetime.date,
    start: datetime.date,
    points: Sequence[PointFigures] | None = None,
) -> tuple[dict[int, Figures], Figures]:
    """Return each academy's figures and the trust total, unsuppressed.

    `points` are the academies' latest point figures when the caller has
    already read them.
    """
    ids = [a.pk for a in academies]
    attendance_rows, _ = academies_attendance(academies, start, today)
    cohort_rows, _ = academies_attendance(academies, start, today, cohort=True)
    cohort = {row.academy.pk: row.figures for row in cohort_rows if row.academy is not None}
    on_roll = _on_roll("academy_id", ids, today)
    behaviour = _behaviour("academy_id", ids, start, today)
    suspensions = _suspensions("academy_id", ids, start, today)
    days = _suspension_days("academy_id", ids, start, today)
    if points is None:
        points = _latest_point_figures(ids, today)
    tmg = _tmg("academy_id", points)
    staff = _staff_absence(academies, today)
    appraisal = _appraisal(academies, today)

    figures: dict[int, Figures] = {}
    for academy, row in zip(academies, attendance_rows, strict=True):
        pk = academy.pk
        negative = behaviour.get(pk, {})
        suspended = suspensions.get(pk, {})
        figures[pk] = Figures(
            on_roll=on_roll.get(pk, 0),
            attendance=row.figures,
            cohort_attendance=cohort.get(pk),
            negative_incidents=negative.get("negative_incidents", 0),
            pupils_with_negative=negative.get("negative_pupils", 0),
            suspensions=suspended.get("suspensions", 0),
            pupils_suspended=suspended.get("pupils_suspended", 0),
            suspension_days=days.get(pk, Decimal(0)),
            permanent_exclusions=suspended.get("permanent_exclusions", 0),
            tmg=tmg.get(pk, _empty_tmg()),
            staff_absence=staff.get(pk, RateCell()) if staff else None,
            appraisal=appraisal.get(pk, AppraisalCounts()) if appraisal is not None else None,
        )

    total = sum(figures.values(), Figures(cohort_attendance=_empty_attendance()))
    # A pupil who moved academy is one pupil in the trust, so distinct pupils
    # and incidents are counted across the academies, as behaviour.analysis does.
    negative = (
        _negative_links(start, today).filter(academy_id__in=ids).aggregate(**NEGATIVE_AGGREGATES)
    )
    total.negative_incidents = negative["negative_incidents"] or 0
    total.pupils_with_negative = negative["negative_pupils"] or 0
    total.pupils_suspended = (
        _in_force(start, today)
        .filter(academy_id__in=ids)
        .aggregate(count=SUSPENSION_AGGREGATES["pupils_suspended"])["count"]
        or 0
    )
    return figures, total


def academy_table(
    academies: Sequence[Academy], today: datetime.date, *, suppress: bool
) -> FigureTable:
    """Return one row per academy and the trust total, over the academic year to `today`.

    The total adds up the academies' counts. Staff absence covers the
    academies' staff only, because the central team is in no academy row.
    """
    academies = list(academies)
    start, end = default_range(today)
    figures, total = _academy_figures(academies, today, start)
    rows = [
        FigureRow(label=a.name, figures=figures[a.pk], academy=a, key=str(a.pk)) for a in academies
    ]
    total_row = FigureRow(label="All academies", figures=total)
    if suppress:
        protect_rows(rows)
        protect_total(total_row)
    return FigureTable(rows=rows, total=total_row, start=start, end=end)


def _attendance_by_year_group(
    academy: Academy,
    ids: Sequence[int],
    start: datetime.date,
    end: datetime.date,
    *,
    cohort: bool,
) -> dict[int, GroupFigures]:
    """Return each year group's attendance figures, in one query.

    Week summaries are summed per pupil and year group, so each year group's
    figures equal attendance.selectors.group_figures_for(year_group).
    """
    # NOTE: this uses attendance.selectors' private week query, because that
    # module has no public read grouped by year group.
    rows = (
        _weeks(GroupTarget(academy_ids=(academy.pk,)), start, end, cohort=cohort)
        .filter(year_group_id__in=ids)
        .values("pupil_id", "year_group_id")
        .annotate(**_sums())
        .order_by()
    )
    grouped: dict[int, list[SessionCounts]] = defaultdict(list)
    for row in rows:
        grouped[row["year_group_id"]].append(counts_of(row))
    return {key: group_figures(items) for key, items in grouped.items()}


def _year_group_figures(
    academy: Academy,
    year_groups: Sequence[YearGroup],
    today: datetime.date,
    start: datetime.date,
    points: Sequence[PointFigures],
) -> dict[int, Figures]:
    """Return the figures of each year group of `academy`, unsuppressed."""
    ids = [y.pk for y in year_groups]
    attendance = _attendance_by_year_group(academy, ids, start, today, cohort=False)
    cohort = _attendance_by_year_group(academy, ids, start, today, cohort=True)
    on_roll = _on_roll("year_group_id", ids, today)
    behaviour = _behaviour("year_group_id", ids, start, today)
    suspensions = _suspensions("year_group_id", ids, start, today)
    days = _suspension_days("year_group_id", ids, start, today)
    tmg = _tmg("year_group_id", points)

    figures: dict[int, Figures] = {}
    for pk in ids:
        negative = behaviour.get(pk, {})
        suspended = suspensions.get(pk, {})
        figures[pk] = Figures(
            on_roll=on_roll.get(pk, 0),
            attendance=attendance.get(pk, _empty_attendance()),
            cohort_attendance=cohort.get(pk, _empty_attendance()),
            negative_incidents=negative.get("negative_incidents", 0),
            pupils_with_negative=negative.get("negative_pupils", 0),
            suspensions=suspended.get("suspensions", 0),
            pupils_suspended=suspended.get("pupils_suspended", 0),
            suspension_days=days.get(pk, Decimal(0)),
            permanent_exclusions=suspended.get("permanent_exclusions", 0),
            tmg=tmg.get(pk, _empty_tmg()),
        )
    return figures


def year_group_table(academy: Academy, today: datetime.date, *, suppress: bool) -> FigureTable:
    """Return one row per year group of `academy`, by NC year, and the academy's total.

    The total is the academy's row of academy_table, staff figures included,
    so the figure a leader drills down from is the figure they find here.
    """
    start, end = default_range(today)
    year_groups = list(YearGroup.objects.filter(academy=academy).order_by("nc_year"))
    for year_group in year_groups:
        year_group.academy = academy
    points = _latest_point_figures([academy.pk], today)
    figures = _year_group_figures(academy, year_groups, today, start, points)
    rows = [
        FigureRow(label=y.name, figures=figures[y.pk], academy=academy, year_group=y, key=str(y.pk))
        for y in year_groups
    ]
    academy_figures, _ = _academy_figures([academy], today, start, points)
    total_row = FigureRow(
        label=academy.name,
        figures=academy_figures[academy.pk],
        academy=academy,
        key=str(academy.pk),
    )
    if suppress:
        protect_rows(rows)
        protect_total(total_row)
    return FigureTable(rows=rows, total=total_row, start=start, end=end)


def figures_for_year_group(
    year_group: YearGroup, today: datetime.date, *, suppress: bool
) -> Figures:
    """Return one year group's figures over the academic year to `today`,
    suppressed only where the year group itself is small."""
    start, _ = default_range(today)
    academy = year_group.academy
    latest = [p for p in latest_points([academy.pk], today) if p.year_group_id == year_group.pk]
    points = point_figures(latest, today)
    figures = _year_group_figures(academy, [year_group], today, start, points)[year_group.pk]
    if suppress:
        figures.suppressed = small_measures(figures)
    return figures
