"""Behaviour figures of an academy, a year group, a tutor group or the trust,
and their breakdowns by category, day, time of day, location and the
member of staff who reported.

Every figure reads IncidentPupil, which carries the incident's date,
polarity and trust category and the pupil's enrolment, so each table is one
grouped query whatever the number of incidents or pupils.

Users who see pupils count the links of behaviour.access.visible_links.
Users who see no pupil (trustees, staff with no pupil scope) get counts
only: every link at the academies they may open, with no staff names and
any group of fewer than five pupils suppressed.
"""

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractHour, ExtractIsoWeekDay, ExtractMinute

from academies.models import Academy, TutorGroup, YearGroup, year_group_name
from academies.selectors import visible_academies
from pupils.models import Enrolment, Pupil, active_on
from pupils.selectors import prepare_rows, pupils_with_list_fields, visible_pupils
from staff.models import StaffMember
from trust import clock
from trust.access import scope_for

from .access import hidden_content_q, visible_links, visible_suspensions
from .models import (
    BehaviourCategory,
    IncidentPupil,
    Location,
    Polarity,
    PupilRole,
    Suspension,
    SuspensionSession,
)

# A group with at least one and fewer than this many pupils is not shown
# to counts-only users, so no pupil can be picked out.
SUPPRESS_BELOW = 5
RESTRICTED = "Restricted"
# Group keys that stand for "content hidden from this user". Database ids
# start at 1, so 0 never collides with a real category or member of staff.
RESTRICTED_ID = 0
RESTRICTED_TEXT = "~restricted"
TOP_NEGATIVE_DAYS = 14
# Roles that take no points for their part, so the top-negative list leaves them out.
BYSTANDER_ROLES = (PupilRole.TARGET, PupilRole.WITNESS)

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Session bands by minute of the day (Europe/London), start inclusive and
# end exclusive. NOTE: these are one timetable for the whole trust, because
# academies record only their registration times (SessionTimes), not break
# and lunch. At an academy with another day, some incidents fall in the
# neighbouring band.
SESSION_BANDS: tuple[tuple[str, str], ...] = (
    ("before", "Before school (before 08:45)"),
    ("am", "AM lessons (08:45 to 10:40 and 11:00 to 12:20)"),
    ("break", "Break (10:40 to 11:00)"),
    ("lunch", "Lunch (12:20 to 13:05)"),
    ("pm", "PM lessons (13:05 to 15:15)"),
    ("after", "After school (from 15:15)"),
)
SESSION_RANGES: tuple[tuple[int, int, str], ...] = (
    (0, 8 * 60 + 45, "before"),
    (8 * 60 + 45, 10 * 60 + 40, "am"),
    (10 * 60 + 40, 11 * 60, "break"),
    (11 * 60, 12 * 60 + 20, "am"),
    (12 * 60 + 20, 13 * 60 + 5, "lunch"),
    (13 * 60 + 5, 15 * 60 + 15, "pm"),
    (15 * 60 + 15, 24 * 60, "after"),
)
# Hours always listed in the hour breakdown, so the whole school day shows.
# Other hours appear only when they have an incident.
SCHOOL_HOURS = range(7, 19)


# Counting ----------------------------------------------------------------------


def _points(condition: Q) -> Coalesce:
    return Coalesce(Sum("points", filter=condition), Value(0), output_field=IntegerField())


TALLY_AGGREGATES: dict[str, Any] = {
    "incidents": Count("incident_id", distinct=True),
    "positive_incidents": Count("incident_id", distinct=True, filter=Q(polarity="positive")),
    "negative_incidents": Count("incident_id", distinct=True, filter=Q(polarity="negative")),
    "positive_points": _points(Q(points__gt=0)),
    "negative_points": _points(Q(points__lt=0)),
    "pupils": Count("pupil_id", distinct=True),
    "positive_pupils": Count("pupil_id", distinct=True, filter=Q(polarity="positive")),
    "negative_pupils": Count("pupil_id", distinct=True, filter=Q(polarity="negative")),
}


def _small(count: int | None) -> bool:
    return count is not None and 0 < count < SUPPRESS_BELOW


@dataclass(frozen=True)
class Tally:
    """Counts of one group of incident links. Negative points are a negative
    number. A value is None where it is suppressed."""

    incidents: int | None = 0
    positive_incidents: int | None = 0
    negative_incidents: int | None = 0
    positive_points: int | None = 0
    negative_points: int | None = 0
    pupils: int | None = 0
    positive_pupils: int | None = 0
    negative_pupils: int | None = 0
    on_roll: int | None = None
    suppressed: bool = False

    @property
    def net_points(self) -> int | None:
        if self.positive_points is None or self.negative_points is None:
            return None
        return self.positive_points + self.negative_points

    @property
    def negative_per_100(self) -> float | None:
        """Negative incidents per 100 pupils on roll, to one decimal place."""
        if not self.on_roll or self.negative_incidents is None:
            return None
        return round(100 * self.negative_incidents / self.on_roll, 1)

    def suppress_small(self) -> "Tally":
        """Return a copy with each figure that rests on 1 to 4 pupils set to None.

        Totals that would let a reader subtract back to a suppressed figure
        go too.
        """
        polarities = [p for p in POLARITIES if _small(getattr(self, f"{p}_pupils"))]
        if _small(self.pupils):
            polarities = list(POLARITIES)
        result = self
        for polarity in polarities:
            result = result.suppress(polarity)
        return result

    def suppress(self, polarity: str) -> "Tally":
        """Return a copy without the figures of `polarity` and the totals that include them."""
        changes: dict[str, Any] = {
            "suppressed": True,
            "incidents": None,
            "pupils": None,
            f"{polarity}_incidents": None,
            f"{polarity}_points": None,
            f"{polarity}_pupils": None,
        }
        return replace(self, **changes)


POLARITIES = ("positive", "negative")


def protect(tallies: list[Tally]) -> list[Tally]:
    """Suppress small groups, then a second row wherever one row alone is suppressed.

    A single suppressed row could be worked out from the total and the other
    rows, so the smallest other row with figures of that polarity is
    suppressed as well.
    """
    result = [tally.suppress_small() for tally in tallies]
    for polarity in POLARITIES:
        hidden = [t for t in result if getattr(t, f"{polarity}_points") is None]
        if len(hidden) != 1:
            continue
        shown = [
            (getattr(t, f"{polarity}_pupils"), index)
            for index, t in enumerate(result)
            if getattr(t, f"{polarity}_points") is not None and getattr(t, f"{polarity}_pupils")
        ]
        if shown:
            _, index = min(shown)
            result[index] = result[index].suppress(polarity)
    return result


def _tally(values: dict[str, Any], on_roll: int | None = None) -> Tally:
    def count(name: str) -> int:
        return int(values.get(name) or 0)

    return Tally(
        incidents=count("incidents"),
        positive_incidents=count("positive_incidents"),
        negative_incidents=count("negative_incidents"),
        positive_points=count("positive_points"),
        negative_points=count("negative_points"),
        pupils=count("pupils"),
        positive_pupils=count("positive_pupils"),
        negative_pupils=count("negative_pupils"),
        on_roll=on_roll,
    )


# Viewers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """A user's view of the analysis: the links counted and what is shown."""

    user: Any
    links: QuerySet[IncidentPupil]
    counts_only: bool
    # Links of incidents whose category, location and reporter the user may not read.
    hidden: Q
    # Whether the links are limited to the pupils the user sees (so figures
    # cover part of a group).
    partial: bool

    @property
    def sees_staff(self) -> bool:
        return not self.counts_only

    @property
    def sees_pupils(self) -> bool:
        return not self.counts_only

    def finish(self, tally: Tally) -> Tally:
        return tally.suppress_small() if self.counts_only else tally

    def finish_rows(self, rows: list[Any]) -> list[Any]:
        """Return `rows` (each with a `tally`) protected by `protect` for counts-only users."""
        if not self.counts_only:
            return rows
        tallies = protect([row.tally for row in rows])
        return [replace(row, tally=tally) for row, tally in zip(rows, tallies, strict=True)]

    def on_roll(self, day: datetime.date) -> QuerySet[Enrolment]:
        """Return the enrolments on roll on `day` that count towards the figures."""
        enrolments = Enrolment.objects.filter(active_on(day))
        if self.counts_only:
            return enrolments.filter(academy_id__in=visible_academies(self.user).values("pk"))
        if scope_for(self.user).all_pupils:
            return enrolments
        return enrolments.filter(pupil_id__in=visible_pupils(self.user, day).values("pk"))

    def suspensions(self) -> QuerySet[Suspension]:
        if self.counts_only:
            return Suspension.objects.filter(
                academy_id__in=visible_academies(self.user).values("pk")
            )
        return visible_suspensions(self.user)


def viewer_for(user: Any) -> Viewer:
    """Return how `user` reads the analysis (see the module docstring)."""
    scope = scope_for(user)
    counts_only = scope.is_trustee_only or not scope.sees_any_pupil()
    if counts_only:
        links = IncidentPupil.objects.filter(academy_id__in=visible_academies(user).values("pk"))
    else:
        links = visible_links(user)
    return Viewer(
        user=user,
        links=links,
        counts_only=counts_only,
        hidden=hidden_content_q(user, "incident__"),
        partial=not counts_only and not scope.all_pupils,
    )


def partial_for(viewer: Viewer, academy_id: int) -> bool:
    """Return whether `viewer` counts only some of the pupils of `academy_id`."""
    if not viewer.partial:
        return False
    return academy_id not in scope_for(viewer.user).pupil_academy_ids


# Filters -----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    start: datetime.date
    end: datetime.date
    polarity: str = ""

    def apply(self, links: QuerySet[IncidentPupil]) -> QuerySet[IncidentPupil]:
        links = links.filter(date__gte=self.start, date__lte=self.end)
        if self.polarity:
            links = links.filter(polarity=self.polarity)
        return links


@dataclass(frozen=True)
class Target:
    """The group the figures are of: one academy, one year group, one tutor
    group, or (all three empty) every academy the user may open."""

    academy: Academy | None = None
    year_group: YearGroup | None = None
    tutor_group: TutorGroup | None = None

    @property
    def academy_id(self) -> int | None:
        for group in (self.tutor_group, self.year_group):
            if group is not None:
                return group.academy_id
        return self.academy.pk if self.academy is not None else None

    def links(self, links: QuerySet[IncidentPupil]) -> QuerySet[IncidentPupil]:
        # A group's figures count only incidents at its academy, so a pupil
        # who moved keeps their earlier incidents at the academy they left.
        if self.tutor_group is not None:
            return links.filter(
                tutor_group_id=self.tutor_group.pk, academy_id=self.tutor_group.academy_id
            )
        if self.year_group is not None:
            return links.filter(year_group_id=self.year_group.pk)
        if self.academy is not None:
            return links.filter(academy_id=self.academy.pk)
        return links

    def enrolments(self, enrolments: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
        if self.tutor_group is not None:
            return enrolments.filter(tutor_group_id=self.tutor_group.pk)
        if self.year_group is not None:
            return enrolments.filter(year_group_id=self.year_group.pk)
        if self.academy is not None:
            return enrolments.filter(academy_id=self.academy.pk)
        return enrolments


def _links(viewer: Viewer, target: Target, filters: Filters) -> QuerySet[IncidentPupil]:
    return filters.apply(target.links(viewer.links))


# Figures -----------------------------------------------------------------------


def group_figures(viewer: Viewer, target: Target, filters: Filters) -> Tally:
    """Return the figures of one group over the filters' range, in two queries."""
    values = _links(viewer, target, filters).aggregate(**TALLY_AGGREGATES)
    on_roll = (
        target.enrolments(viewer.on_roll(filters.end))
        .aggregate(count=Count("pupil_id", distinct=True))
        .get("count")
    )
    return viewer.finish(_tally(values, on_roll or 0))


@dataclass(frozen=True)
class AcademyRow:
    academy: Academy
    tally: Tally


def academy_rows(
    viewer: Viewer, academies: Sequence[Academy], filters: Filters
) -> tuple[list[AcademyRow], Tally]:
    """Return one row per academy and the total of all of them, in three queries.

    The total is counted, never averaged: incidents and points add up, a
    pupil who moved is one pupil, and the rate per 100 pupils is the total
    of negative incidents over the total on roll.
    """
    ids = [a.pk for a in academies]
    links = filters.apply(viewer.links).filter(academy_id__in=ids)
    per_academy: dict[int, dict[str, Any]] = {
        row["academy_id"]: dict(row)
        for row in links.values("academy_id").annotate(**TALLY_AGGREGATES).order_by()
    }
    rolls = {
        row["academy_id"]: row["count"]
        for row in viewer.on_roll(filters.end)
        .filter(academy_id__in=ids)
        .values("academy_id")
        .annotate(count=Count("pupil_id", distinct=True))
        .order_by()
    }
    rows = [AcademyRow(a, _tally(per_academy.get(a.pk, {}), rolls.get(a.pk, 0))) for a in academies]
    rows = viewer.finish_rows(rows)
    total = _tally(links.aggregate(**TALLY_AGGREGATES), sum(rolls.values()))
    return rows, viewer.finish(total)


# Breakdowns --------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: Any
    label: str
    tally: Tally


@dataclass
class Breakdown:
    """One breakdown table: its rows, what it is by, and its export key."""

    key: str
    title: str
    heading: str
    rows: list[Row] = field(default_factory=list)


def _hidden_or(viewer: Viewer, hidden_value: Any, default: Any) -> Case:
    """Return `default`, or `hidden_value` for links whose content the viewer may not read."""
    output = CharField() if isinstance(hidden_value, str) else BigIntegerField()
    return Case(When(viewer.hidden, then=Value(hidden_value)), default=default, output_field=output)


def _grouped(links: QuerySet[IncidentPupil], key: Any) -> list[dict[str, Any]]:
    rows = links.annotate(group_key=key).values("group_key").annotate(**TALLY_AGGREGATES)
    return [dict(row) for row in rows.order_by()]


def _rows(
    viewer: Viewer,
    grouped: Iterable[dict[str, Any]],
    label: Callable[[Any], str],
    order: Callable[[Row], Any],
) -> list[Row]:
    rows = [Row(item["group_key"], label(item["group_key"]), _tally(item)) for item in grouped]
    rows = viewer.finish_rows(rows)
    return sorted(rows, key=order)


def _by_count(row: Row) -> tuple:
    restricted = row.label == RESTRICTED
    return (restricted, -(row.tally.incidents or 0), row.label.lower())


def by_trust_category(viewer: Viewer, target: Target, filters: Filters) -> Breakdown:
    """Return incidents by trust category; an academy's own categories count
    as the trust category they name. Two queries."""
    links = _links(viewer, target, filters)
    key = _hidden_or(viewer, RESTRICTED_ID, F("trust_category_id"))
    grouped = _grouped(links, key)
    names = dict(
        BehaviourCategory.objects.filter(
            pk__in=[g["group_key"] for g in grouped if g["group_key"] != RESTRICTED_ID]
        ).values_list("pk", "name")
    )
    rows = _rows(
        viewer,
        grouped,
        lambda k: RESTRICTED if k == RESTRICTED_ID else names.get(k, "Unknown category"),
        _by_count,
    )
    return Breakdown("category", "Incidents by trust category", "Trust category", rows)


def by_own_category(viewer: Viewer, target: Target, filters: Filters) -> Breakdown:
    """Return incidents by the category chosen when logging, naming the trust
    category each academy category counts as. Two queries."""
    links = _links(viewer, target, filters)
    key = _hidden_or(viewer, RESTRICTED_ID, F("incident__category_id"))
    grouped = _grouped(links, key)
    categories = {
        c.pk: c
        for c in BehaviourCategory.objects.filter(
            pk__in=[g["group_key"] for g in grouped if g["group_key"] != RESTRICTED_ID]
        ).select_related("parent")
    }

    def label(k: int) -> str:
        if k == RESTRICTED_ID:
            return RESTRICTED
        category = categories.get(k)
        if category is None:
            return "Unknown category"
        if category.parent is not None:
            return f"{category.name} (counts as {category.parent.name})"
        return category.name

    rows = _rows(viewer, grouped, label, _by_count)
    return Breakdown("own-category", "Incidents by category as logged", "Category as logged", rows)


def by_day(viewer: Viewer, target: Target, filters: Filters) -> Breakdown:
    """Return incidents by day of the week, Monday to Friday always listed. One query."""
    grouped = {
        g["group_key"]: g
        for g in _grouped(_links(viewer, target, filters), ExtractIsoWeekDay("date"))
    }
    rows = []
    for number, name in enumerate(DAY_NAMES, start=1):
        if number <= 5 or number in grouped:
            rows.append(Row(number, name, _tally(grouped.get(number, {}))))
    return Breakdown("day", "Incidents by day of the week", "Day", viewer.finish_rows(rows))


def by_hour(viewer: Viewer, target: Target, filters: Filters) -> Breakdown:
    """Return incidents by hour of the day (Europe/London). One query."""
    hour = ExtractHour("incident__occurred_at")
    grouped = {g["group_key"]: g for g in _grouped(_links(viewer, target, filters), hour)}
    hours = sorted(set(SCHOOL_HOURS) | set(grouped))
    rows = [Row(h, f"{h:02d}:00 to {h:02d}:59", _tally(grouped.get(h, {}))) for h in hours]
    rows = viewer.finish_rows(rows)
    return Breakdown("hour", "Incidents by hour of the day", "Hour", rows)


def _minute_of_day() -> Any:
    return ExtractHour("incident__occurred_at") * 60 + ExtractMinute("incident__occurred_at")


def _session_band() -> Case:
    """Return the band key of the annotation minute_of_day."""
    return Case(
        *[
            When(Q(minute_of_day__gte=start, minute_of_day__lt=end), then=Value(band))
            for start, end, band in SESSION_RANGES
        ],
        default=Value("after"),
    )


def by_session(viewer: Viewer, target: Target, filters: Filters) -> Breakdown:
    """Return incidents by part of the school day (see SESSION_BANDS). One query."""
    links = _links(viewer, target, filters).annotate(minute_of_day=_minute_of_day())
    grouped = {g["group_key"]: g for g in _grouped(links, _session_band())}
    rows = [Row(key, label, _tally(grouped.get(key, {}))) for key, label in SESSION_BANDS]
    rows = viewer.finish_rows(rows)
    return Breakdown("session", "Incidents by part of the school day", "Part of the day", rows)


def by_location(viewer: Viewer, target: Target, filters: Filters) -> Breakdown:
    """Return incidents by where they happened. One query."""
    key = _hidden_or(viewer, RESTRICTED_TEXT, F("incident__location"))
    grouped = _grouped(_links(viewer, target, filters), key)
    labels = dict(Location.choices)

    def label(k: str) -> str:
        if k == RESTRICTED_TEXT:
            return RESTRICTED
        return str(labels.get(k, "Not recorded")) if k else "Not recorded"

    return Breakdown(
        "location", "Incidents by location", "Location", _rows(viewer, grouped, label, _by_count)
    )


def by_staff(viewer: Viewer, target: Target, filters: Filters) -> Breakdown:
    """Return incidents by the member of staff who reported them. Two queries.

    Counts-only users get no rows, because the table names staff.
    """
    if not viewer.sees_staff:
        return Breakdown("staff", "Incidents by reporting member of staff", "Reported by")
    key = _hidden_or(viewer, RESTRICTED_ID, F("incident__reported_by_id"))
    grouped = _grouped(_links(viewer, target, filters), key)
    names = {
        s.pk: s.full_name
        for s in StaffMember.objects.filter(
            pk__in=[g["group_key"] for g in grouped if g["group_key"] != RESTRICTED_ID]
        )
    }
    rows = _rows(
        viewer,
        grouped,
        lambda k: RESTRICTED if k == RESTRICTED_ID else names.get(k, "Unknown member of staff"),
        _by_count,
    )
    return Breakdown("staff", "Incidents by reporting member of staff", "Reported by", rows)


def breakdowns(
    viewer: Viewer, target: Target, filters: Filters, *, own_categories: bool = False
) -> list[Breakdown]:
    """Return every breakdown of the target, in a fixed number of queries."""
    result = [by_trust_category(viewer, target, filters)]
    if own_categories:
        result.append(by_own_category(viewer, target, filters))
    result += [
        by_day(viewer, target, filters),
        by_session(viewer, target, filters),
        by_hour(viewer, target, filters),
        by_location(viewer, target, filters),
    ]
    if viewer.sees_staff:
        result.append(by_staff(viewer, target, filters))
    return result


# Top negative ------------------------------------------------------------------


@dataclass(frozen=True)
class TopNegativeRow:
    pupil: Pupil
    negative_points: int
    incidents: int


def top_negative_window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """Return the last 14 days, today included."""
    end = today or clock.today()
    return end - datetime.timedelta(days=TOP_NEGATIVE_DAYS - 1), end


def top_negative(
    user: Any, target: Target, today: datetime.date | None = None
) -> list[TopNegativeRow]:
    """Return the pupils with the most negative points at the target in the
    last 14 days, most negative first, in three queries.

    Targets and witnesses of an incident are left out, because they take no
    points for it, and so are links without negative points: a safeguarding
    concern (0 points) must not put a child on a list of poor behaviour.
    Restricted incidents with negative points count, as in the pupil's totals.
    """
    start, end = top_negative_window(today)
    links = (
        target.links(visible_links(user, end))
        .filter(polarity=Polarity.NEGATIVE, points__lt=0, date__gte=start, date__lte=end)
        .exclude(role__in=BYSTANDER_ROLES)
    )
    totals = {
        row["pupil_id"]: row
        for row in links.values("pupil_id")
        .annotate(points=Sum("points"), incidents=Count("incident_id", distinct=True))
        .order_by()
    }
    if not totals:
        return []
    pupils = prepare_rows(
        user, pupils_with_list_fields(Pupil.objects.filter(pk__in=list(totals)), end)
    )
    for pupil in pupils:
        nc_year = getattr(pupil, "current_nc_year", None)
        pupil.current_year_name = year_group_name(nc_year) if nc_year is not None else ""  # type: ignore[attr-defined]
    rows = [
        TopNegativeRow(pupil, int(totals[pupil.pk]["points"] or 0), totals[pupil.pk]["incidents"])
        for pupil in pupils
    ]
    rows.sort(key=lambda r: (r.negative_points, -r.incidents, r.pupil.surname.lower(), r.pupil.pk))
    return rows


# Suspension days ----------------------------------------------------------------

SUSPENSION_KINDS = (Suspension.Kind.SUSPENSION, Suspension.Kind.LUNCHTIME)


def _session_days(sessions: QuerySet[SuspensionSession]) -> Decimal:
    # Each session, a lunchtime included, counts as half a school day.
    return Decimal(sessions.count()) / 2


def group_suspension_days(viewer: Viewer, target: Target, filters: Filters) -> Decimal:
    """Return the school days of suspension (kinds suspension and lunchtime,
    in force) of the target's pupils with session dates in range. One query."""
    sessions = SuspensionSession.objects.filter(
        suspension__in=viewer.suspensions().filter(
            kind__in=SUSPENSION_KINDS, status=Suspension.Status.ACTIVE
        ),
        date__gte=filters.start,
        date__lte=filters.end,
    )
    if target.tutor_group is not None:
        # Suspensions carry no tutor group, so a session counts when the
        # pupil was in the group on its date.
        in_group = Enrolment.objects.filter(
            tutor_group_id=target.tutor_group.pk,
            pupil_id=OuterRef("pupil_id"),
            start_date__lte=OuterRef("date"),
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("date")))
        sessions = sessions.filter(Exists(in_group), academy_id=target.tutor_group.academy_id)
    elif target.year_group is not None:
        sessions = sessions.filter(suspension__year_group_id=target.year_group.pk)
    elif target.academy is not None:
        sessions = sessions.filter(academy_id=target.academy.pk)
    return _session_days(sessions)
