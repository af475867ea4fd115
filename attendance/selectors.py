"""Reads of attendance figures: a pupil's counts and missing marks, and the
figures of a tutor group, year group, academy or the trust.

A pupil's figures are counted from their own marks (at most about 380 a
year). Group figures come from PupilWeekSummary, which the write path
keeps in step with the marks, so a group's figures cost a fixed number of
queries whatever the number of pupils. Rates come from statistics.py.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)

from academies.models import (
    AcademicYear,
    Academy,
    Closure,
    TutorGroup,
    YearGroup,
    year_group_name,
)
from academies.services import school_days
from pupils.models import Enrolment, Pupil, SenStatus, Sex
from pupils.selectors import disadvantaged_filter, visible_pupils
from trust import clock
from trust.access import scope_for

from .models import AttendanceMark, PupilWeekSummary, Session, week_start
from .statistics import Counts, GroupFigures, group_figures, one_decimal
from .statistics import total as total_counts
from .summaries import COUNT_EXPRESSIONS, COUNT_FIELDS, counts_of

SESSIONS = (Session.AM.value, Session.PM.value)

# The attendance bands of the interface, compared with the exact rate, not the rounded one.
BANDS = (
    (97.0, "excellent", "Excellent"),
    (95.0, "expected", "Expected"),
)

# Each band takes the colour of the category it is nearest, and is always
# shown with its word.
BAND_CSS = {
    "excellent": "cat-present",
    "expected": "cat-present",
    "at-risk": "cat-authorised",
    "persistent": "cat-unauthorised",
    "severe": "cat-unauthorised",
}


# Dates -----------------------------------------------------------------------


def academic_year_start(day: datetime.date) -> datetime.date:
    """Return 1 September of the academic year containing `day`."""
    year = day.year if day.month >= 9 else day.year - 1
    return datetime.date(year, 9, 1)


def default_range(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """Return the default date range: 1 September of this academic year to today."""
    day = today or clock.today()
    return academic_year_start(day), day


class RangeError(ValueError):
    """A date range parameter that cannot be used; `field` names the parameter."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_range(
    raw_from: str | None, raw_to: str | None, today: datetime.date | None = None
) -> tuple[datetime.date, datetime.date]:
    """Read `from` and `to` as ISO dates (YYYY-MM-DD), each defaulting to the
    default range. Raise RangeError naming the value and the format."""
    start, end = default_range(today)
    values = {}
    for name, raw, fallback in (("from", raw_from, start), ("to", raw_to, end)):
        text = (raw or "").strip()
        if not text:
            values[name] = fallback
            continue
        try:
            if len(text) != 10:
                raise ValueError
            values[name] = datetime.date.fromisoformat(text)
        except ValueError:
            shown = text if len(text) <= 40 else text[:40] + "…"
            raise RangeError(
                name,
                f"{shown!r} is not a valid date for {name!r}. Use the format YYYY-MM-DD, "
                "for example 2025-09-01.",
            ) from None
    if values["from"] > values["to"]:
        raise RangeError(
            "from",
            f"The date range starts on {values['from']:%Y-%m-%d}, after it ends on "
            f"{values['to']:%Y-%m-%d}; 'from' must be on or before 'to'.",
        )
    return values["from"], values["to"]


def band(rate: float | None) -> tuple[str, str]:
    """Return the (CSS key, word) of the attendance band of `rate`.

    The bands: 97 and above excellent, 95 up to 97 expected, above 90 up to
    95 at risk, 90 or below persistent absence, and 50 or below severe absence.
    """
    if rate is None:
        return "none", "No figures yet"
    for threshold, key, word in BANDS:
        if rate >= threshold:
            return key, word
    if rate > 90:
        return "at-risk", "At risk"
    if rate > 50:
        return "persistent", "Persistent absence"
    return "severe", "Severe absence"


# A pupil ---------------------------------------------------------------------


@dataclass(frozen=True)
class MissingMark:
    date: datetime.date
    session: str


@dataclass
class PupilAttendance:
    """A pupil's counts over a range, and the sessions still without a mark."""

    pupil: Pupil
    start: datetime.date
    end: datetime.date
    counts: Counts
    missing: list[MissingMark] = field(default_factory=list)


def _enrolled_days(
    enrolments: Iterable[Enrolment], start: datetime.date, end: datetime.date
) -> dict[int, tuple[Academy, set[datetime.date]]]:
    """Return, per enrolment id, its academy and its school days within the range."""
    result = {}
    for enrolment in enrolments:
        first = max(start, enrolment.start_date)
        last = min(end, enrolment.end_date or end)
        days = set(school_days(enrolment.academy, first, last)) if first <= last else set()
        result[enrolment.pk] = (enrolment.academy, days)
    return result


def pupil_counts(
    pupil: Pupil, start: datetime.date, end: datetime.date, *, today: datetime.date | None = None
) -> PupilAttendance:
    """Return `pupil`'s counts from their marks between `start` and `end`, and
    the sessions on school days while enrolled (up to today) with no mark.

    Closure sessions are never missing: the closure writes their marks.
    """
    marks = AttendanceMark.objects.filter(pupil=pupil, date__range=(start, end))
    counts = counts_of(marks.aggregate(**COUNT_EXPRESSIONS))
    marked = set(marks.values_list("date", "session"))

    last = min(end, today or clock.today())
    enrolments = list(
        pupil.enrolments.filter(start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .select_related("academy")
    )
    per_enrolment = _enrolled_days(enrolments, start, last)
    academy_ids = {e.academy_id for e in enrolments}
    closed: set[tuple[int, datetime.date, str]] = set()
    for closure in Closure.objects.filter(academy_id__in=academy_ids, date__range=(start, last)):
        sessions = {"am": ["AM"], "pm": ["PM"]}.get(closure.sessions, ["AM", "PM"])
        for session in sessions:
            closed.add((closure.academy_id, closure.date, session))

    missing = set()
    for academy, days in per_enrolment.values():
        for day in days:
            for session in SESSIONS:
                if (day, session) in marked or (academy.pk, day, session) in closed:
                    continue
                missing.add(MissingMark(day, session))
    ordered = sorted(missing, key=lambda m: (m.date, m.session))
    return PupilAttendance(pupil=pupil, start=start, end=end, counts=counts, missing=ordered)


def pupil_marks(pupil: Pupil, start: datetime.date, end: datetime.date) -> list[AttendanceMark]:
    """Return `pupil`'s marks between `start` and `end`, in date order."""
    return list(
        AttendanceMark.objects.filter(pupil=pupil, date__range=(start, end)).order_by(
            "date", "session"
        )
    )


def pupil_weekly(
    pupil: Pupil, start: datetime.date, end: datetime.date
) -> list[tuple[datetime.date, Counts]]:
    """Return `pupil`'s counts per week between `start` and `end`."""
    rows = (
        PupilWeekSummary.objects.filter(
            pupil=pupil, week_start__gte=week_start(start), week_start__lte=end
        )
        .values("week_start")
        .annotate(**_sums())
        .order_by("week_start")
    )
    return [(row["week_start"], counts_of(row)) for row in rows]


# Groups ----------------------------------------------------------------------


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in COUNT_FIELDS}


@dataclass(frozen=True)
class GroupTarget:
    """The pupils whose weeks a group's figures count: those of an academy,
    a year group, a tutor group, several academies, or every academy."""

    academy_ids: tuple[int, ...] | None = None
    year_group_id: int | None = None
    tutor_group: TutorGroup | None = None
    label: str = ""

    @classmethod
    def of(cls, target: Academy | YearGroup | TutorGroup | None) -> "GroupTarget":
        if isinstance(target, Academy):
            return cls(academy_ids=(target.pk,), label=target.name)
        if isinstance(target, YearGroup):
            return cls(year_group_id=target.pk, label=str(target))
        if isinstance(target, TutorGroup):
            return cls(tutor_group=target, label=target.name)
        return cls(label="the trust")


def _cohort_filter(start: datetime.date) -> Q:
    """Pupils aged 5 to 15 on 31 August before the academic year of `start`:
    the DfE cohort of compulsory school age."""
    year = academic_year_start(start).year
    return Q(
        pupil__date_of_birth__lte=datetime.date(year - 5, 8, 31),
        pupil__date_of_birth__gte=datetime.date(year - 16, 9, 1),
    )


def _weeks(
    target: GroupTarget, start: datetime.date, end: datetime.date, *, cohort: bool
) -> QuerySet[PupilWeekSummary]:
    weeks = PupilWeekSummary.objects.filter(week_start__gte=week_start(start), week_start__lte=end)
    if target.academy_ids is not None:
        weeks = weeks.filter(academy_id__in=target.academy_ids)
    if target.year_group_id is not None:
        weeks = weeks.filter(year_group_id=target.year_group_id)
    if target.tutor_group is not None:
        # Week summaries carry no tutor group, so a week counts when the
        # pupil was in the group during it.
        in_group = Enrolment.objects.filter(
            tutor_group=target.tutor_group,
            pupil_id=OuterRef("pupil_id"),
            start_date__lte=OuterRef("week_start") + datetime.timedelta(days=6),
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("week_start")))
        weeks = weeks.filter(Exists(in_group), academy_id=target.tutor_group.academy_id)
    if cohort:
        weeks = weeks.filter(_cohort_filter(start))
    return weeks


@dataclass(frozen=True)
class EnrolmentRow:
    """One pupil's counts at one academy over the range, with the facts the
    splits need."""

    pupil_id: int
    academy_id: int
    counts: Counts
    nc_year: int
    sex: str
    sen_status: str
    eal: bool
    disadvantaged: bool


@dataclass
class Split:
    heading: str
    label: str
    figures: GroupFigures


@dataclass
class GroupReport:
    """A group's figures over a range, its splits and its per-enrolment rows."""

    target: GroupTarget
    start: datetime.date
    end: datetime.date
    cohort: bool
    figures: GroupFigures
    rows: list[EnrolmentRow]
    splits: list[Split] = field(default_factory=list)

    def by_academy(self) -> dict[int, GroupFigures]:
        grouped: dict[int, list[Counts]] = defaultdict(list)
        for row in self.rows:
            grouped[row.academy_id].append(row.counts)
        return {academy_id: group_figures(items) for academy_id, items in grouped.items()}


def enrolment_rows(
    target: GroupTarget, start: datetime.date, end: datetime.date, *, cohort: bool = False
) -> list[EnrolmentRow]:
    """Return one row per enrolment (pupil and academy) in one query."""
    disadvantaged = ExpressionWrapper(
        disadvantaged_filter(end, prefix="pupil__"), output_field=BooleanField()
    )
    rows = (
        _weeks(target, start, end, cohort=cohort)
        .values("pupil_id", "academy_id")
        .annotate(
            **_sums(),
            nc_year=Max("year_group__nc_year"),
            sex=Max("pupil__sex"),
            sen_status=Max("pupil__sen_status"),
            eal=F("pupil__eal"),
            disadvantaged=disadvantaged,
        )
        .order_by()
    )
    return [
        EnrolmentRow(
            pupil_id=row["pupil_id"],
            academy_id=row["academy_id"],
            counts=counts_of(row),
            nc_year=row["nc_year"],
            sex=row["sex"],
            sen_status=row["sen_status"],
            eal=bool(row["eal"]),
            disadvantaged=bool(row["disadvantaged"]),
        )
        for row in rows
    ]


SPLITS: tuple[tuple[str, Callable[[EnrolmentRow], bool], str, str], ...] = (
    ("Disadvantaged", lambda r: r.disadvantaged, "Disadvantaged", "Not disadvantaged"),
    (
        "SEN support",
        lambda r: r.sen_status == SenStatus.SEN_SUPPORT,
        "SEN support",
        "No SEN support",
    ),
    ("EHC plan", lambda r: r.sen_status == SenStatus.EHC_PLAN, "EHC plan", "No EHC plan"),
    (
        "English as an additional language",
        lambda r: r.eal,
        "EAL",
        "English first language",
    ),
)


def _splits(rows: Sequence[EnrolmentRow]) -> list[Split]:
    splits = []
    for heading, test, yes, no in SPLITS:
        splits.append(Split(heading, yes, group_figures(r.counts for r in rows if test(r))))
        splits.append(Split(heading, no, group_figures(r.counts for r in rows if not test(r))))
    for value, label in Sex.choices:
        chosen = [r.counts for r in rows if r.sex == value]
        if chosen:
            splits.append(Split("Sex", str(label), group_figures(chosen)))
    for nc_year in sorted({r.nc_year for r in rows}):
        chosen = [r.counts for r in rows if r.nc_year == nc_year]
        splits.append(Split("Year group", year_group_name(nc_year), group_figures(chosen)))
    return splits


def group_report(
    target: Academy | YearGroup | TutorGroup | GroupTarget | None,
    start: datetime.date,
    end: datetime.date,
    *,
    cohort: bool = False,
    with_splits: bool = True,
) -> GroupReport:
    """Return a group's figures between `start` and `end` in one query.

    Counts are summed from whole weeks (the weeks that start between the
    Monday of `start`'s week and `end`), per enrolment, so a pupil who moved
    academy counts once at each. `cohort` keeps only pupils aged 5 to 15 on
    the 31 August before the range, as the DfE's published figures do.
    """
    goal = target if isinstance(target, GroupTarget) else GroupTarget.of(target)
    rows = enrolment_rows(goal, start, end, cohort=cohort)
    report = GroupReport(
        target=goal,
        start=start,
        end=end,
        cohort=cohort,
        figures=group_figures(r.counts for r in rows),
        rows=rows,
    )
    if with_splits:
        report.splits = _splits(rows)
    return report


def group_figures_for(
    target: Academy | YearGroup | TutorGroup | None,
    start: datetime.date,
    end: datetime.date,
    *,
    cohort: bool = False,
) -> GroupFigures:
    return group_report(target, start, end, cohort=cohort, with_splits=False).figures


def weekly_trend(
    target: Academy | YearGroup | TutorGroup | GroupTarget | None,
    start: datetime.date,
    end: datetime.date,
) -> list[tuple[datetime.date, Counts]]:
    """Return the group's counts per week between `start` and `end`, one query."""
    goal = target if isinstance(target, GroupTarget) else GroupTarget.of(target)
    rows = (
        _weeks(goal, start, end, cohort=False)
        .values("week_start")
        .annotate(**_sums())
        .order_by("week_start")
    )
    return [(row["week_start"], counts_of(row)) for row in rows]


def current_year_range(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """Return the current academic year's range up to today, for weekly trends."""
    return default_range(today)


# Absence lists ---------------------------------------------------------------


@dataclass
class AbsenceListRow:
    pupil: Pupil
    counts: Counts

    @property
    def attendance_rate(self) -> float | None:
        return one_decimal(self.counts.attendance_rate)

    @property
    def absence_rate(self) -> float | None:
        return one_decimal(self.counts.absence_rate)


def absence_lists(
    user: Any, report: GroupReport, *, sort: str = "rate"
) -> tuple[list[AbsenceListRow], list[AbsenceListRow]]:
    """Return the persistent and severe absentees of `report` that `user`
    may see, sorted by absence rate (highest first) or by name.

    A pupil who moved academy within the range appears once per academy.
    """
    flagged = [r for r in report.rows if r.counts.possible > 0 and r.counts.persistent_absence]
    if not flagged:
        return [], []
    pupils = {
        p.pk: p
        for p in visible_pupils(user).filter(pk__in=[r.pupil_id for r in flagged]).order_by()
    }
    rows = [AbsenceListRow(pupils[r.pupil_id], r.counts) for r in flagged if r.pupil_id in pupils]
    if sort == "name":
        rows.sort(key=lambda r: (r.pupil.surname.lower(), r.pupil.forename.lower(), r.pupil.pk))
    else:
        rows.sort(
            key=lambda r: (-(r.counts.absence_rate or 0), r.pupil.surname.lower(), r.pupil.pk)
        )
    severe = [r for r in rows if r.counts.severe_absence]
    return rows, severe


def sees_pupil_lists(user: Any) -> bool:
    """Return whether `user` may see named pupils at all (trustees never do)."""
    scope = scope_for(user)
    return scope.sees_any_pupil() and not scope.is_trustee_only


def pupil_years(pupil: Pupil) -> list[AcademicYear]:
    """Return the academic years in which `pupil` was enrolled, newest first."""
    return list(
        AcademicYear.objects.filter(enrolments__pupil=pupil).distinct().order_by("-start_year")
    )


# Figures as the API and the CSV give them ---------------------------------------


def counts_fields(counts: Counts, missing: int | None = None) -> dict[str, Any]:
    """Return the shared field names of a pupil's or a group's figures."""
    data: dict[str, Any] = {
        "possible_sessions": counts.possible,
        "present_sessions": counts.present,
        "approved_activity_sessions": counts.approved_activity,
        "authorised_absence_sessions": counts.authorised,
        "unauthorised_absence_sessions": counts.unauthorised,
        "not_counted_sessions": counts.not_counted,
        "missing_sessions": missing,
        "attendance_rate": one_decimal(counts.attendance_rate),
        "authorised_absence_rate": one_decimal(counts.authorised_rate),
        "unauthorised_absence_rate": one_decimal(counts.unauthorised_rate),
        "overall_absence_rate": one_decimal(counts.absence_rate),
        "persistent_absence": counts.persistent_absence,
        "severe_absence": counts.severe_absence,
    }
    return data


def group_fields(figures: GroupFigures) -> dict[str, Any]:
    data = counts_fields(figures.counts)
    data.update(
        {
            "enrolments": figures.enrolments,
            "persistent_absence_count": figures.persistent_absence_count,
            "persistent_absence_rate": one_decimal(figures.persistent_absence_rate),
            "severe_absence_count": figures.severe_absence_count,
            "severe_absence_rate": one_decimal(figures.severe_absence_rate),
        }
    )
    return data


# Dashboards --------------------------------------------------------------------


@dataclass
class AcademyAttendance:
    academy: Academy | None
    figures: GroupFigures

    @property
    def attendance_rate(self) -> float | None:
        return one_decimal(self.figures.counts.attendance_rate)

    @property
    def persistent_absence_rate(self) -> float | None:
        return one_decimal(self.figures.persistent_absence_rate)

    @property
    def band(self) -> tuple[str, str]:
        return band(self.figures.counts.attendance_rate)

    @property
    def band_css(self) -> str:
        return BAND_CSS.get(self.band[0], "cat-not-counted")


def academy_figures_sql(
    academy_ids: Sequence[int], start: datetime.date, end: datetime.date, *, cohort: bool = False
) -> dict[int, GroupFigures]:
    """Return the figures of each academy in `academy_ids`, added up in the database."""
    if not academy_ids:
        return {}
    target = GroupTarget(academy_ids=tuple(academy_ids))
    weeks = _weeks(target, start, end, cohort=cohort)
    grouped = grouped_figures_sql(weeks, ["academy_id"])
    return {key[0]: figures for key, figures in grouped.items()}


def grouped_figures_sql(
    weeks: QuerySet, group_by: Sequence[str]
) -> dict[tuple[Any, ...], GroupFigures]:
    """Return the figures of `weeks` keyed by the values of the `group_by` columns.

    The per-enrolment sums become a subquery, and the outer query counts
    persistent and severe absentees per group, so a dashboard of a large
    trust reads one row per group instead of one per pupil. `group_by` names
    fields or annotations of `weeks`, never user input, because they go into
    the SQL as they are.
    """
    inner = weeks.values("pupil_id", *group_by).annotate(**_sums()).order_by()
    inner_sql, params = inner.query.sql_with_params()
    possible = "(e.present + e.approved_activity + e.authorised + e.unauthorised)"
    absence = "(e.authorised + e.unauthorised)"
    sums = ", ".join(f"SUM(e.{name})" for name in COUNT_FIELDS)
    columns = ", ".join(f"e.{name}" for name in group_by)
    sql = (
        f"SELECT {columns}, COUNT(*), "
        f"SUM(CASE WHEN {absence} * 10 >= {possible} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {absence} * 2 >= {possible} THEN 1 ELSE 0 END), {sums} "
        f"FROM ({inner_sql}) AS e WHERE {possible} > 0 GROUP BY {columns}"
    )
    result = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            key = tuple(row[: len(group_by)])
            enrolments, persistent, severe, *values = row[len(group_by) :]
            counts = Counts(**{n: int(v or 0) for n, v in zip(COUNT_FIELDS, values, strict=True)})
            result[key] = GroupFigures(
                counts=counts,
                enrolments=int(enrolments),
                persistent_absence_count=int(persistent or 0),
                severe_absence_count=int(severe or 0),
            )
    return result


def academies_attendance(
    academies: Iterable[Academy],
    start: datetime.date,
    end: datetime.date,
    *,
    cohort: bool = False,
) -> tuple[list[AcademyAttendance], GroupFigures]:
    """Return each academy's figures over the range and their total, in one query."""
    chosen = list(academies)
    per_academy = academy_figures_sql([a.pk for a in chosen], start, end, cohort=cohort)
    empty = group_figures([])
    rows = [AcademyAttendance(a, per_academy.get(a.pk, empty)) for a in chosen]
    figures = list(per_academy.values())
    total = GroupFigures(
        counts=total_counts(f.counts for f in figures),
        enrolments=sum(f.enrolments for f in figures),
        persistent_absence_count=sum(f.persistent_absence_count for f in figures),
        severe_absence_count=sum(f.severe_absence_count for f in figures),
    )
    return rows, total
