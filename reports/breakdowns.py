"""Breakdowns of an academy's or a year group's figures by pupil group, and
the monthly trend of a group of academies over the academic year.

Both cover the academic year to date (attendance.selectors.default_range)
and read the domain apps' own selectors and summary tables, so a row here
equals the domain's figure for the same pupils. Each function takes a fixed
number of queries whatever the number of pupils, marks or incidents, and
checks no access: pages ask reports.access first.
"""

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from academies.models import Academy, YearGroup
from attendance.models import PupilWeekSummary, week_start
from attendance.selectors import GroupTarget, default_range, enrolment_rows, weekly_trend
from attendance.statistics import Counts, group_figures, one_decimal
from attendance.summaries import COUNT_FIELDS, counts_of
from behaviour.models import IncidentPupil, Polarity, Suspension, SuspensionSession
from behaviour.suspensions import COUNTED_KINDS
from progress.summaries import (
    AREAS,
    PUPIL_GROUPS,
    Tally,
    _groups_of,
    latest_points,
    point_figures,
)
from pupils.models import Enrolment, SenStatus, Sex, active_on
from pupils.selectors import disadvantaged_filter

from .figures import MEASURE_BASES as FIGURE_BASES
from .figures import SUPPRESS_BELOW, FigureRow, Figures
from .figures import small_measures as small_figure_measures
from .models import Measure

# A count of 1 to 4 pupils on roll is suppressed like a measure, though no
# Measure names it, so a page can tell that a group's size must not be shown.
ON_ROLL = "on_roll"
BASES: dict[str, Callable[[Figures], int]] = {
    **FIGURE_BASES,
    ON_ROLL: lambda figures: figures.on_roll,
}
TMG_MEASURES: dict[str, str] = {
    Measure.TMG_ENGLISH: "english",
    Measure.TMG_MATHS: "maths",
    Measure.TMG_ALL: "all",
}
SEX_NOT_KNOWN = "sex_not_known"


# Pupil groups ----------------------------------------------------------------------------


def group_conditions(today: datetime.date, prefix: str = "") -> dict[str, Q]:
    """Return a filter per key of PUPIL_GROUPS: the rules of
    progress.summaries in SQL. `prefix` reaches the pupil through a relation."""
    disadvantaged = disadvantaged_filter(today, prefix)
    sen = f"{prefix}sen_status"
    sex = f"{prefix}sex"
    eal = f"{prefix}eal"
    return {
        "disadvantaged": disadvantaged,
        "not_disadvantaged": ~disadvantaged,
        "sen_support": Q(**{sen: SenStatus.SEN_SUPPORT}),
        "ehc_plan": Q(**{sen: SenStatus.EHC_PLAN}),
        "no_sen": ~Q(**{f"{sen}__in": [SenStatus.SEN_SUPPORT, SenStatus.EHC_PLAN]}),
        "eal": Q(**{eal: True}),
        "not_eal": Q(**{eal: False}),
        "female": Q(**{sex: Sex.FEMALE}),
        "male": Q(**{sex: Sex.MALE}),
        SEX_NOT_KNOWN: ~Q(**{f"{sex}__in": [Sex.FEMALE, Sex.MALE]}),
    }


# An aggregate of _per_group: the field counted, whether each value counts
# once, and a further filter of the rows counted (or None).
Counted = tuple[str, bool, Q | None]


def _per_group(
    rows: QuerySet[Any], today: datetime.date, prefix: str, **aggregates: Counted
) -> dict[str, dict[str, int]]:
    """Count `rows` once per pupil group in one query.

    For example ("incident_id", True, None) counts each incident once per
    group even when several of its pupils are in the group.
    """
    expressions = {}
    for key, condition in group_conditions(today, prefix).items():
        for name, (counted, distinct, only) in aggregates.items():
            chosen = condition & only if only is not None else condition
            expressions[f"{key}__{name}"] = Count(counted, distinct=distinct, filter=chosen)
    values = rows.aggregate(**expressions)
    result: dict[str, dict[str, int]] = {group.key: {} for group in PUPIL_GROUPS}
    for label, value in values.items():
        key, name = label.split("__")
        result[key][name] = int(value or 0)
    return result


def _window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return default_range(today)


def scoped(
    rows: QuerySet[Any], academy_ids: Iterable[int], year_group_id: int | None
) -> QuerySet[Any]:
    """Filter rows that carry academy_id and year_group_id (enrolments, incident
    links, suspensions) to one year group, or else to the academies."""
    if year_group_id is not None:
        return rows.filter(year_group_id=year_group_id)
    return rows.filter(academy_id__in=list(academy_ids))


def counted_suspensions(start: datetime.date, end: datetime.date) -> QuerySet[Suspension]:
    """Return the suspensions in force (suspensions and lunchtime suspensions)
    that start between `start` and `end`: the count behind the suspension rate."""
    return _in_force(start, end).filter(kind__in=COUNTED_KINDS)


def _in_force(start: datetime.date, end: datetime.date) -> QuerySet[Suspension]:
    return Suspension.objects.filter(
        status=Suspension.Status.ACTIVE, start_date__gte=start, start_date__lte=end
    )


def negative_links(start: datetime.date, end: datetime.date) -> QuerySet[IncidentPupil]:
    """Return the pupils' links to negative incidents between `start` and `end`,
    every role included, as behaviour.analysis counts them."""
    return IncidentPupil.objects.filter(polarity=Polarity.NEGATIVE, date__gte=start, date__lte=end)


# Breakdown by pupil group ------------------------------------------------------------------


def _attendance_by_group(
    target: GroupTarget, start: datetime.date, end: datetime.date
) -> dict[str, list[Counts]]:
    by_group: dict[str, list[Counts]] = {group.key: [] for group in PUPIL_GROUPS}
    for row in enrolment_rows(target, start, end):
        facts = {
            "is_disadvantaged": row.disadvantaged,
            "sen_status": row.sen_status,
            "eal": row.eal,
            "sex": row.sex,
        }
        for key in _groups_of(facts):
            by_group[key].append(row.counts)
    return by_group


def _tmg_by_group(
    academy: Academy, year_group: YearGroup | None, today: datetime.date
) -> dict[str, dict[str, Tally]]:
    points = latest_points([academy.pk], today)
    if year_group is not None:
        points = [p for p in points if p.year_group_id == year_group.pk]
    result: dict[str, dict[str, Tally]] = {
        group.key: {area.key: Tally() for area in AREAS} for group in PUPIL_GROUPS
    }
    for figures in point_figures(points, today):
        for key, areas in figures.groups.items():
            for area, tally in areas.items():
                result[key][area] = result[key][area] + tally
    return result


def breakdown(
    academy: Academy, year_group: YearGroup | None, today: datetime.date, *, suppress: bool
) -> list[FigureRow]:
    """Return one row per pupil group (the keys and labels of
    progress.summaries.PUPIL_GROUPS) for `academy`, or for `year_group` of it,
    over the academic year to `today`.

    The groups of one family (disadvantaged, SEN, EAL, sex) partition the
    pupils, so their pupil counts, attendance counts, suspensions and TMG
    tallies sum to the academy's or year group's. An incident with pupils in
    two groups of a family counts once in each, so negative incidents sum to
    the total only when no incident mixes groups. "Sex not known" is left
    out when it has no pupils. Disadvantage is read on `today`, and SEN,
    EAL and sex are the pupil's current record.

    With `suppress`, each measure resting on 1 to 4 pupils is named in
    Figures.suppressed, and so is the same measure of a second row of the
    family where one row alone would hide it (see protect_rows). A fixed
    number of queries (14 in the tests) whatever the number of pupils.
    """
    start, end = _window(today)
    year_group_id = year_group.pk if year_group is not None else None
    academy_ids = [academy.pk]
    target = (
        GroupTarget(year_group_id=year_group_id)
        if year_group_id is not None
        else GroupTarget(academy_ids=(academy.pk,))
    )

    on_roll = _per_group(
        scoped(Enrolment.objects.filter(active_on(end)), academy_ids, year_group_id),
        end,
        "pupil__",
        pupils=("pupil_id", True, None),
    )
    incidents = _per_group(
        scoped(negative_links(start, end), academy_ids, year_group_id),
        end,
        "pupil__",
        incidents=("incident_id", True, None),
        pupils=("pupil_id", True, None),
    )
    counted = Q(kind__in=COUNTED_KINDS)
    suspensions = _per_group(
        scoped(_in_force(start, end), academy_ids, year_group_id),
        end,
        "pupil__",
        suspensions=("pk", False, counted),
        pupils=("pupil_id", True, counted),
        permanent=("pk", False, Q(kind=Suspension.Kind.PERMANENT)),
    )
    sessions = SuspensionSession.objects.filter(
        suspension__kind__in=COUNTED_KINDS,
        suspension__status=Suspension.Status.ACTIVE,
        date__gte=start,
        date__lte=end,
    )
    if year_group_id is not None:
        sessions = sessions.filter(suspension__year_group_id=year_group_id)
    else:
        sessions = sessions.filter(academy_id=academy.pk)
    suspension_sessions = _per_group(sessions, end, "pupil__", sessions=("pk", False, None))
    attendance = _attendance_by_group(target, start, end)
    tmg = _tmg_by_group(academy, year_group, end)

    rows = []
    for group in PUPIL_GROUPS:
        figures = Figures(
            on_roll=on_roll[group.key]["pupils"],
            attendance=group_figures(attendance[group.key]),
            negative_incidents=incidents[group.key]["incidents"],
            pupils_with_negative=incidents[group.key]["pupils"],
            suspensions=suspensions[group.key]["suspensions"],
            pupils_suspended=suspensions[group.key]["pupils"],
            # Each session, a lunchtime included, is half a school day.
            suspension_days=Decimal(suspension_sessions[group.key]["sessions"]) / 2,
            permanent_exclusions=suspensions[group.key]["permanent"],
            tmg=tmg[group.key],
        )
        if group.key == SEX_NOT_KNOWN and _is_empty(figures):
            continue
        rows.append(
            FigureRow(
                label=group.label,
                figures=figures,
                academy=academy,
                year_group=year_group,
                key=group.key,
            )
        )
    if suppress:
        families = {group.key: group.family for group in PUPIL_GROUPS}
        by_family: dict[str, list[FigureRow]] = {}
        for row in rows:
            by_family.setdefault(families[row.key], []).append(row)
        for family_rows in by_family.values():
            protect_rows(family_rows)
    return rows


def _is_empty(figures: Figures) -> bool:
    return not (
        figures.on_roll
        or figures.attendance.enrolments
        or figures.negative_incidents
        or figures.suspensions
        or any(tally.graded for tally in figures.tmg.values())
    )


# Suppression ---------------------------------------------------------------------------


def small_measures(figures: Figures) -> set[str]:
    """Return the measures of `figures` that reports.figures hides, and
    ON_ROLL when 1 to 4 pupils are on roll."""
    hidden = set(small_figure_measures(figures))
    if 0 < figures.on_roll < SUPPRESS_BELOW:
        hidden.add(ON_ROLL)
    return hidden


def _hide(row: FigureRow, measures: Iterable[str]) -> None:
    hidden = set(measures)
    tmg = dict(row.figures.tmg)
    # The tallies are hidden too, so Figures.tmg_percent gives None as value() does.
    for measure in hidden & set(TMG_MEASURES):
        area = TMG_MEASURES[measure]
        tmg[area] = tmg[area].hidden()
    row.figures = replace(row.figures, tmg=tmg, suppressed=row.figures.suppressed | hidden)


def protect_rows(rows: Sequence[FigureRow]) -> Sequence[FigureRow]:
    """Suppress the small measures of rows that partition a shown total.

    The rule of reports.figures.protect_rows, with ON_ROLL as one more
    measure: where exactly one row hides a measure, the reader could work
    it out from the total and the others, so the other row with the fewest
    (but some) pupils behind that measure hides it as well.
    """
    for row in rows:
        _hide(row, small_measures(row.figures))
    for measure, base in BASES.items():
        hidden = [row for row in rows if measure in row.figures.suppressed]
        if len(hidden) != 1:
            continue
        shown = [
            row for row in rows if measure not in row.figures.suppressed and base(row.figures) > 0
        ]
        if shown:
            smallest = min(shown, key=lambda row: base(row.figures))
            _hide(smallest, [measure])
    return rows


# Monthly trend ----------------------------------------------------------------------------


@dataclass
class TrendPoint:
    """One calendar month of a trend: attendance counts of the weeks starting
    in it, negative incidents and suspensions dated in it, and the pupils on
    roll on its last day (or `today`, for the current month)."""

    label: str
    start: datetime.date
    end: datetime.date
    counts: Counts = field(default_factory=Counts)
    negative_incidents: int = 0
    on_roll: int = 0
    suspensions: int = 0

    @property
    def attendance_rate(self) -> float | None:
        return one_decimal(self.counts.attendance_rate)

    @property
    def negative_per_100(self) -> float | None:
        if not self.on_roll:
            return None
        return round(100 * self.negative_incidents / self.on_roll, 1)


def _months(
    start: datetime.date, today: datetime.date
) -> list[tuple[datetime.date, datetime.date]]:
    months = []
    first = start.replace(day=1)
    while first <= today:
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        months.append((max(first, start), min(following - datetime.timedelta(days=1), today)))
        first = following
    return months


def _month_points(start: datetime.date, end: datetime.date) -> list[TrendPoint]:
    return [
        TrendPoint(label=first.strftime("%b %Y"), start=first, end=last)
        for first, last in _months(start, end)
    ]


def _point_of(points: Sequence[TrendPoint], day: datetime.date) -> TrendPoint:
    """Return the point of the month holding `day`; a day before the first
    month (the Monday of the year's first week) belongs to the first."""
    for point in points:
        if day <= point.end:
            return point
    return points[-1]


def monthly_trend(
    academy_ids: Sequence[int], year_group_id: int | None, today: datetime.date
) -> list[TrendPoint]:
    """Return one point per calendar month from 1 September to `today` (the
    month of `today` partial) for the academies, or for one year group of them.

    Attendance comes from the weekly summaries, so a week belongs to the
    month of its Monday. The week holding 1 September counts in September
    even when its Monday is in August. The points therefore add up to the
    year's figures of attendance.selectors.group_report. For the trust, pass
    every academy id. Four queries whatever the number of pupils or months.
    """
    start, end = _window(today)
    points = _month_points(start, end)
    if not points:
        return []

    def point_of(day: datetime.date) -> TrendPoint:
        return _point_of(points, day)

    target = GroupTarget(academy_ids=tuple(academy_ids), year_group_id=year_group_id)
    for week, counts in weekly_trend(target, start, end):
        point = point_of(max(week, start))
        point.counts = point.counts + counts

    links = scoped(negative_links(start, end), academy_ids, year_group_id)
    for row in (
        links.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(incidents=Count("incident_id", distinct=True))
        .order_by()
    ):
        point_of(_as_date(row["month"])).negative_incidents += row["incidents"]

    suspensions = scoped(counted_suspensions(start, end), academy_ids, year_group_id)
    for row in (
        suspensions.annotate(month=TruncMonth("start_date"))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        point_of(_as_date(row["month"])).suspensions += row["count"]

    enrolments = scoped(_overlapping(start, end), academy_ids, year_group_id)
    rolls = enrolments.aggregate(
        **{
            f"month_{index}": Count("pupil_id", distinct=True, filter=active_on(point.end))
            for index, point in enumerate(points)
        }
    )
    for index, point in enumerate(points):
        point.on_roll = int(rolls[f"month_{index}"] or 0)
    return points


def _overlapping(start: datetime.date, end: datetime.date) -> QuerySet[Enrolment]:
    """Return the enrolments on roll on some day from `start` to `end`, so the
    counts per month skip earlier years' rows."""
    return Enrolment.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start), start_date__lte=end
    )


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def monthly_trends_by_academy(
    academy_ids: Sequence[int], today: datetime.date
) -> dict[int, list[TrendPoint]]:
    """Return monthly_trend([academy id], None, today) of each academy, in
    four queries whatever the number of academies, pupils or months."""
    start, end = _window(today)
    trends = {pk: _month_points(start, end) for pk in academy_ids}
    if not academy_ids or not trends[academy_ids[0]]:
        return trends
    ids = list(academy_ids)

    # The weeks monthly_trend reads through attendance.selectors.weekly_trend,
    # grouped by academy as well.
    weeks = (
        PupilWeekSummary.objects.filter(
            academy_id__in=ids, week_start__gte=week_start(start), week_start__lte=end
        )
        .values("academy_id", "week_start")
        .annotate(**{name: Sum(name) for name in COUNT_FIELDS})
        .order_by()
    )
    for week in weeks:
        point = _point_of(trends[week["academy_id"]], max(week["week_start"], start))
        point.counts = point.counts + counts_of(week)

    links = negative_links(start, end).filter(academy_id__in=ids)
    for incidents in (
        links.annotate(month=TruncMonth("date"))
        .values("academy_id", "month")
        .annotate(incidents=Count("incident_id", distinct=True))
        .order_by()
    ):
        point = _point_of(trends[incidents["academy_id"]], _as_date(incidents["month"]))
        point.negative_incidents += incidents["incidents"]

    suspensions = counted_suspensions(start, end).filter(academy_id__in=ids)
    for suspended in (
        suspensions.annotate(month=TruncMonth("start_date"))
        .values("academy_id", "month")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        point = _point_of(trends[suspended["academy_id"]], _as_date(suspended["month"]))
        point.suspensions += suspended["count"]

    months = trends[ids[0]]
    rolls = (
        _overlapping(start, end)
        .filter(academy_id__in=ids)
        .values("academy_id")
        .annotate(
            **{
                f"month_{index}": Count("pupil_id", distinct=True, filter=active_on(month.end))
                for index, month in enumerate(months)
            }
        )
        .order_by()
    )
    for roll in rolls:
        values: dict[str, Any] = dict(roll)
        for index, point in enumerate(trends[values["academy_id"]]):
            point.on_roll = int(values[f"month_{index}"] or 0)
    return trends
