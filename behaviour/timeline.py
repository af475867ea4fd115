"""Reads behind the pupil behaviour timeline and the follow-ups page.

Every read starts from behaviour.access: a pupil's incidents through
visible_links, follow-ups through visible_incidents or their owner. The
content of a sensitive incident the user may not read is left out of the
rows (the row shows "Restricted entry"), but its points still count in the
totals, which come from points_totals over the same links.
"""

import datetime
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from pupils.models import Enrolment, Pupil
from staff.models import Role
from trust.access import scope_for
from trust.clock import LONDON

from .access import can_read_content, visible_incidents, visible_links
from .models import Action, FollowUp, IncidentPupil, Polarity
from .selectors import Period, PointsTotals, points_totals, year_and_term

RESTRICTED = "Restricted entry"
# Resolved follow-ups stay on the follow-ups page for this many days.
RESOLVED_SHOWN_DAYS = 30
# Roles that may list every follow-up of the incidents they can see, not only their own.
FOLLOW_UP_OVERSEERS = {
    Role.TRUST_LEADER,
    Role.HEADTEACHER,
    Role.ACADEMY_LEADER,
    Role.HEAD_OF_YEAR,
    Role.SAFEGUARDING_LEAD,
}


# Totals ----------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodTotals:
    period: Period
    totals: PointsTotals


def pupil_trust_id(pupil: Pupil) -> int | None:
    """Return the trust of the pupil's latest enrolment, or None if they have none."""
    return (
        Enrolment.objects.filter(pupil=pupil)
        .order_by("-start_date", "-pk")
        .values_list("academy__trust_id", flat=True)
        .first()
    )


def pupil_totals(
    user: Any, pupil: Pupil, day: datetime.date
) -> tuple[PeriodTotals | None, PeriodTotals | None]:
    """Return the pupil's points totals for the term and the academic year containing `day`.

    Either is None when the calendar has no such period. Sensitive incidents
    count whether or not the user may read them.
    """
    trust_id = pupil_trust_id(pupil)
    if trust_id is None:
        return None, None
    year, term = year_and_term(trust_id, day)
    links = visible_links(user, day).filter(pupil=pupil)
    term_totals = PeriodTotals(term, points_totals(links, term.start, term.end)) if term else None
    year_totals = PeriodTotals(year, points_totals(links, year.start, year.end)) if year else None
    return term_totals, year_totals


# Timeline rows ---------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFilters:
    start: datetime.date | None = None
    end: datetime.date | None = None
    polarity: str = ""


@dataclass
class TimelineRow:
    """One incident on a pupil's timeline. Every field but the date, time
    and points is blank when `restricted` is set."""

    incident_id: int
    occurred_at: datetime.datetime
    restricted: bool
    points: int
    polarity: str = ""
    category: str = ""
    role: str = ""
    location: str = ""
    reporter: str = ""
    description: str = ""
    actions: list[str] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    overdue: bool = False

    @property
    def date(self) -> datetime.date:
        return self.occurred_at.date()


def describe_action(action: Action) -> str:
    """Return one action as a sentence fragment, dates dd/mm/yyyy and times 24-hour."""
    kind = action.get_kind_display()
    if action.kind in (Action.Kind.DETENTION, Action.Kind.ISOLATION):
        parts = [kind]
        if action.date:
            parts.append(f"on {action.date:%d/%m/%Y}")
        if action.duration_minutes:
            parts.append(f"for {action.duration_minutes} minutes")
        if action.attended is None:
            attendance = "attendance not yet recorded"
        else:
            attendance = "attended" if action.attended else "did not attend"
        return " ".join(parts) + f": {attendance}"
    if action.kind == Action.Kind.PARENT_CONTACT:
        parts = [kind]
        if action.contact_method:
            parts.append(f"by {action.get_contact_method_display().lower()}")
        if action.contacted_at:
            local = action.contacted_at.astimezone(LONDON)
            parts.append(f"on {local:%d/%m/%Y} at {local:%H:%M}")
        return " ".join(parts)
    if action.kind == Action.Kind.REFERRAL and action.referred_to is not None:
        return f"Referred to {action.referred_to.full_name}"
    return kind


def describe_follow_up(follow_up: FollowUp, today: datetime.date) -> str:
    """Return a follow-up's status in words: open (and overdue) or resolved, with its date."""
    if follow_up.status == FollowUp.Status.RESOLVED:
        resolved = follow_up.resolved_at.astimezone(LONDON) if follow_up.resolved_at else None
        return f"Resolved on {resolved:%d/%m/%Y}" if resolved else "Resolved"
    state = "Overdue" if follow_up.due_on < today else "Open"
    return f"{state}, due {follow_up.due_on:%d/%m/%Y}, owner {follow_up.owner.full_name}"


def timeline_links(
    user: Any, pupil: Pupil, filters: TimelineFilters, day: datetime.date
) -> QuerySet[IncidentPupil]:
    """Return the pupil's visible links matching `filters`, newest first, with
    everything the rows show fetched in a fixed number of queries."""
    links = visible_links(user, day).filter(pupil=pupil)
    if filters.start:
        links = links.filter(date__gte=filters.start)
    if filters.end:
        links = links.filter(date__lte=filters.end)
    if filters.polarity:
        links = links.filter(polarity=filters.polarity)
    actions = Action.objects.filter(pupil=pupil).select_related("referred_to").order_by("pk")
    follow_ups = FollowUp.objects.select_related("owner").order_by("due_on", "pk")
    return (
        links.select_related("incident", "incident__category", "incident__reported_by")
        .prefetch_related(
            Prefetch("incident__actions", queryset=actions),
            Prefetch("incident__follow_ups", queryset=follow_ups),
        )
        .order_by("-incident__occurred_at", "-incident_id")
    )


def summary_row(user: Any, link: IncidentPupil) -> TimelineRow:
    """Return the row of `link` with its category, polarity and role, or with only
    its date and points when `user` may not read the incident's content."""
    incident = link.incident
    occurred_at = incident.occurred_at.astimezone(LONDON)
    if not can_read_content(user, incident):
        return TimelineRow(
            incident_id=incident.pk,
            occurred_at=occurred_at,
            restricted=True,
            points=link.points,
        )
    return TimelineRow(
        incident_id=incident.pk,
        occurred_at=occurred_at,
        restricted=False,
        points=link.points,
        polarity=Polarity(link.polarity).label,
        category=incident.category.name,
        role=link.get_role_display(),
    )


def timeline_rows(
    user: Any, pupil: Pupil, filters: TimelineFilters, day: datetime.date
) -> list[TimelineRow]:
    """Return the rows of the pupil's timeline, newest first."""
    rows = []
    for link in timeline_links(user, pupil, filters, day):
        row = summary_row(user, link)
        if row.restricted:
            rows.append(row)
            continue
        incident = link.incident
        follow_ups = list(incident.follow_ups.all())
        rows.append(
            replace(
                row,
                location=incident.get_location_display(),
                reporter=incident.reported_by.full_name,
                description=incident.description,
                actions=[describe_action(a) for a in incident.actions.all()],
                follow_ups=[describe_follow_up(f, day) for f in follow_ups],
                overdue=any(
                    f.status == FollowUp.Status.OPEN and f.due_on < day for f in follow_ups
                ),
            )
        )
    return rows


EXPORT_HEADERS = [
    "Date",
    "Time",
    "Category",
    "Positive or negative",
    "Role",
    "Points",
    "Location",
    "Reported by",
    "Actions",
    "Follow-ups",
]


def export_rows(rows: list[TimelineRow]) -> list[list[object]]:
    """Return the timeline as export rows; restricted rows keep only the date and time."""
    result: list[list[object]] = []
    for row in rows:
        when = [row.date, f"{row.occurred_at:%H:%M}"]
        if row.restricted:
            result.append([*when, RESTRICTED, "", "", None, "", "", "", ""])
            continue
        result.append(
            [
                *when,
                row.category,
                row.polarity,
                row.role,
                row.points,
                row.location,
                row.reporter,
                "; ".join(row.actions),
                "; ".join(row.follow_ups),
            ]
        )
    return result


# Follow-ups ------------------------------------------------------------------


def may_see_all_follow_ups(user: Any) -> bool:
    """Return whether the user may list the follow-ups of every incident they can see."""
    return user.is_superuser or scope_for(user).has_role(*FOLLOW_UP_OVERSEERS)


def follow_ups_for(user: Any, *, everyone: bool = False) -> QuerySet[FollowUp]:
    """Return the follow-ups owned by the user, or with `everyone` (for
    overseers) every follow-up of the incidents they can see.

    Each follow-up carries `visible_links`, the links of its incident that
    the user may see, for naming the pupils.
    """
    scope = scope_for(user)
    if everyone:
        follow_ups = FollowUp.objects.filter(incident__in=visible_incidents(user))
    elif scope.staff_id is None:
        follow_ups = FollowUp.objects.none()
    else:
        follow_ups = FollowUp.objects.filter(owner_id=scope.staff_id)
    links = visible_links(user).select_related("pupil").order_by("pupil__legal_surname", "pk")
    return follow_ups.select_related(
        "owner", "incident", "incident__category", "resolved_by"
    ).prefetch_related(Prefetch("incident__pupil_links", queryset=links, to_attr="visible_links"))


@dataclass
class FollowUpRow:
    follow_up: FollowUp
    overdue: bool
    # The incident's category and the note, or None when the user may not read them.
    category: str | None
    note: str | None
    pupils: list[Pupil]


def follow_up_row(user: Any, follow_up: FollowUp, today: datetime.date) -> FollowUpRow:
    """Return a follow-up for display; its owner always reads the note, others
    only when they may read the incident's content."""
    incident = follow_up.incident
    readable = can_read_content(user, incident) or (follow_up.owner_id == scope_for(user).staff_id)
    return FollowUpRow(
        follow_up=follow_up,
        overdue=follow_up.status == FollowUp.Status.OPEN and follow_up.due_on < today,
        category=incident.category.name if can_read_content(user, incident) else None,
        note=follow_up.note if readable else None,
        pupils=[link.pupil for link in getattr(incident, "visible_links", [])],
    )


@dataclass
class FollowUpLists:
    overdue: list[FollowUpRow]
    due: list[FollowUpRow]
    resolved: list[FollowUpRow]


def follow_up_lists(user: Any, today: datetime.date, *, everyone: bool = False) -> FollowUpLists:
    """Return the open follow-ups (overdue, then due, each by due date) and
    those resolved in the last RESOLVED_SHOWN_DAYS days, newest first."""
    follow_ups = follow_ups_for(user, everyone=everyone)
    since = timezone.make_aware(
        datetime.datetime.combine(
            today - datetime.timedelta(days=RESOLVED_SHOWN_DAYS), datetime.time()
        ),
        LONDON,
    )
    open_rows = [
        follow_up_row(user, f, today)
        for f in follow_ups.filter(status=FollowUp.Status.OPEN).order_by("due_on", "pk")
    ]
    resolved = follow_ups.filter(
        Q(status=FollowUp.Status.RESOLVED) & Q(resolved_at__gte=since)
    ).order_by("-resolved_at", "-pk")
    return FollowUpLists(
        overdue=[row for row in open_rows if row.overdue],
        due=[row for row in open_rows if not row.overdue],
        resolved=[follow_up_row(user, f, today) for f in resolved],
    )


def follow_ups_due(
    user: Any, today: datetime.date, limit: int = 5
) -> tuple[int, list[FollowUpRow]]:
    """Return how many follow-ups the user owns that are open, and the first
    `limit` of them, overdue first."""
    open_follow_ups = follow_ups_for(user).filter(status=FollowUp.Status.OPEN)
    count = open_follow_ups.count()
    first = open_follow_ups.order_by("due_on", "pk")[:limit]
    return count, [follow_up_row(user, f, today) for f in first]
