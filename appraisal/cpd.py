"""The trust's CPD offer: events, bookings, attendance and the CPD summary.

Services change state. Each one checks permission through appraisal.access,
validates every value first and writes in one transaction, so a rejected
call stores nothing. Errors are PermissionDenied, or
ValidationError({"field": ["message"]}) naming the value and the rule.

Selectors read. The offer list, an event's bookings and the summary each
run a fixed number of queries, whatever the number of events, bookings,
academies or portfolio entries.
"""

import datetime
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum

from academies.models import Academy
from progress.models import Subject
from staff.models import PostType, StaffMember
from trust import audit, clock
from trust.access import scope_for

from . import access
from .models import CpdBooking, CpdEvent, CpdKind, EvidenceFile, PortfolioEntry

# Upper limits that keep a typing slip (2000 hours, 50,000 places) out of the offer.
MAX_EVENT_HOURS = Decimal("500")
MAX_COST_PER_PLACE = Decimal("100000")
MAX_PLACES = 5000
MAX_TITLE_LENGTH = 200
MAX_TEXT_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 4000

# Fields event_save accepts. Everything else on CpdEvent is set by the services.
EVENT_FIELDS = (
    "title",
    "description",
    "kind",
    "provider",
    "subject",
    "host_academy",
    "venue",
    "starts_on",
    "ends_on",
    "hours",
    "cost_per_place",
    "places",
)
REQUIRED_EVENT_FIELDS = ("title", "kind", "starts_on", "ends_on", "hours", "places")

BOOKED = CpdBooking.Status.BOOKED
ATTENDED = CpdBooking.Attendance.ATTENDED


class _Errors:
    """Validation messages collected by field and raised together."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.messages.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def _shown(day: datetime.date) -> str:
    return f"{day:%d/%m/%Y}"


def _preview(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text)


def places_left_label(places: int, booked: int) -> str:
    """Return the places left as "3 of 20 places left", or "Full (20 places)"."""
    left = max(places - booked, 0)
    if left == 0:
        return f"Full ({places} place{'' if places == 1 else 's'})"
    return f"{left} of {places} place{'' if places == 1 else 's'} left"


# Reading the offer ---------------------------------------------------------------------


def _with_booking_counts(events: QuerySet[CpdEvent], staff_id: int | None) -> QuerySet[CpdEvent]:
    """Annotate `booked_count` and, for a staff member, `my_booking_id` (their
    live booking, or None)."""
    events = events.annotate(booked_count=Count("bookings", filter=Q(bookings__status=BOOKED)))
    mine = CpdBooking.objects.filter(event=OuterRef("pk"), staff_id=staff_id or 0, status=BOOKED)
    return events.annotate(my_booking_id=Subquery(mine.values("pk")[:1]))


@dataclass(frozen=True)
class OfferFilters:
    past: bool = False
    subject_id: int | None = None
    kind: str = ""


def offer_events(user: Any, filters: OfferFilters) -> QuerySet[CpdEvent]:
    """Return the events of the offer `user` may see: upcoming ones (not yet
    ended) soonest first, or past ones latest first."""
    today = clock.today()
    events = access.visible_cpd_events(user).select_related("subject", "host_academy")
    if filters.past:
        events = events.filter(ends_on__lt=today).order_by("-starts_on", "title", "pk")
    else:
        events = events.filter(ends_on__gte=today).order_by("starts_on", "title", "pk")
    if filters.subject_id is not None:
        events = events.filter(subject_id=filters.subject_id)
    if filters.kind:
        events = events.filter(kind=filters.kind)
    return _with_booking_counts(events, scope_for(user).staff_id)


def offer_subjects(user: Any) -> QuerySet[Subject]:
    """Return the subjects that events of the offer visible to `user` are in."""
    used = access.visible_cpd_events(user).filter(subject__isnull=False).values("subject_id")
    return Subject.objects.filter(pk__in=used).order_by("name")


def event_for(user: Any, pk: int) -> CpdEvent | None:
    """Return the event `pk` with its booking counts, or None when `user` may not see it."""
    events = access.visible_cpd_events(user).select_related("subject", "host_academy")
    return _with_booking_counts(events.filter(pk=pk), scope_for(user).staff_id).first()


def event_bookings(event: CpdEvent) -> list[CpdBooking]:
    """Return the event's live bookings with each staff member, their academy
    and any portfolio entry the booking created, by surname."""
    bookings = (
        CpdBooking.objects.filter(event=event, status=BOOKED)
        .select_related("staff__academy", "portfolio_entry")
        .order_by("staff__last_name", "staff__first_name", "pk")
    )
    return list(bookings)


def hostable_academies(user: Any) -> list[Academy]:
    """Return the academies that `user` may name as the host of an event."""
    return [
        academy
        for academy in Academy.objects.order_by("name")
        if access.can_run_cpd_offer(user, CpdEvent(host_academy=academy))
    ]


def may_host_trust_wide(user: Any) -> bool:
    """Return whether `user` may add an event with no host academy (one the trust runs)."""
    return access.can_run_cpd_offer(user, CpdEvent(host_academy=None))


# Events --------------------------------------------------------------------------------


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _check_text(errors: _Errors, name: str, value: object, limit: int, label: str) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        errors.add(name, f"The {label} has {len(text)} characters; at most {limit} are allowed.")
    elif _has_control_characters(text):
        errors.add(name, f"The {label} contains control characters; type plain text.")
    return text


def _check_event_fields(
    actor: Any, event: CpdEvent | None, values: dict[str, Any], errors: _Errors
) -> None:
    """Validate merged event values in place, converting numbers to Decimal and int."""
    today = clock.today()
    for name in REQUIRED_EVENT_FIELDS:
        if values.get(name) in (None, ""):
            errors.add(name, f"The {name.replace('_', ' ')} is missing. Enter it.")

    values["title"] = _check_text(errors, "title", values.get("title"), MAX_TITLE_LENGTH, "title")
    if "title" not in errors.messages and not values["title"]:
        errors.add("title", "The title is missing. Enter it.")
    values["provider"] = _check_text(
        errors, "provider", values.get("provider"), MAX_TEXT_LENGTH, "provider"
    )
    values["venue"] = _check_text(errors, "venue", values.get("venue"), MAX_TEXT_LENGTH, "venue")
    values["description"] = _check_text(
        errors, "description", values.get("description"), MAX_DESCRIPTION_LENGTH, "description"
    )

    kind = values.get("kind")
    if kind and kind not in CpdKind.values:
        errors.add(
            "kind",
            f"Kind “{_preview(kind)}” is invalid. Choose one of: {', '.join(CpdKind.values)}.",
        )

    starts_on, ends_on = values.get("starts_on"), values.get("ends_on")
    for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if day not in (None, "") and not isinstance(day, datetime.date):
            errors.add(name, f"“{_preview(day)}” is not a date; give a date as dd/mm/yyyy.")
    if (
        isinstance(starts_on, datetime.date)
        and isinstance(ends_on, datetime.date)
        and ends_on < starts_on
    ):
        errors.add(
            "ends_on",
            f"The end date {_shown(ends_on)} is before the start date {_shown(starts_on)}; "
            "it must be on or after it.",
        )
    start_moved = event is None or event.starts_on != starts_on
    if isinstance(starts_on, datetime.date) and start_moved and starts_on < today:
        errors.add(
            "starts_on",
            f"The start date {_shown(starts_on)} is in the past; an event in the offer "
            f"must start today ({_shown(today)}) or later.",
        )

    hours = _decimal(values.get("hours"))
    if values.get("hours") not in (None, ""):
        if hours is None or not hours.is_finite():
            errors.add(
                "hours",
                f"Hours “{_preview(values['hours'])}” is not a number; give hours such as 2.5.",
            )
        elif not Decimal("0") < hours <= MAX_EVENT_HOURS or hours != round(hours, 1):
            errors.add(
                "hours",
                f"Hours {hours} is not allowed; give more than 0 and at most "
                f"{MAX_EVENT_HOURS}, to one decimal place.",
            )
        else:
            values["hours"] = hours

    raw_cost = values.get("cost_per_place")
    cost = _decimal(raw_cost if raw_cost not in (None, "") else "0")
    if cost is None or not cost.is_finite():
        errors.add(
            "cost_per_place",
            f"Cost per place “{_preview(raw_cost)}” is not a number; give pounds such as 45.00.",
        )
    elif not Decimal("0") <= cost <= MAX_COST_PER_PLACE or cost != round(cost, 2):
        errors.add(
            "cost_per_place",
            f"Cost per place £{cost} is not allowed; give £0 to £{MAX_COST_PER_PLACE}, "
            "in pounds and pence.",
        )
    else:
        values["cost_per_place"] = cost

    places = values.get("places")
    if places not in (None, ""):
        if isinstance(places, bool) or not isinstance(places, int):
            errors.add(
                "places",
                f"Places “{_preview(places)}” is not a whole number; give 1 to {MAX_PLACES}.",
            )
        elif not 1 <= places <= MAX_PLACES:
            errors.add("places", f"Places {places} is not allowed; give 1 to {MAX_PLACES}.")
        elif event is not None:
            booked = CpdBooking.objects.filter(event=event, status=BOOKED).count()
            if places < booked:
                errors.add(
                    "places",
                    f"Places {places} is fewer than the {booked} places already booked; "
                    f"give at least {booked}, or cancel bookings first.",
                )

    host = values.get("host_academy")
    if host is not None and not isinstance(host, Academy):
        errors.add("host_academy", f"Host academy “{_preview(host)}” is not an academy.")
    elif not access.can_run_cpd_offer(actor, CpdEvent(host_academy=host)):
        where = host.name if host is not None else "no host academy (a trust event)"
        errors.add(
            "host_academy",
            f"You may not run an event with {where}; choose your own academy as the host.",
        )
    subject = values.get("subject")
    if subject is not None and not isinstance(subject, Subject):
        errors.add("subject", f"Subject “{_preview(subject)}” is not a subject.")
    elif (
        isinstance(subject, Subject)
        and isinstance(host, Academy)
        and subject.trust_id != host.trust_id
    ):
        errors.add("subject", f"Subject {subject.name} belongs to another trust.")


@transaction.atomic
def event_save(actor: Any, *, event: CpdEvent | None = None, **fields: Any) -> CpdEvent:
    """Add an event to the offer, or change `event`, and return it.

    Only the fields in EVENT_FIELDS are accepted. An edit keeps the values
    it is not given. Places cannot go below the places already booked, and a
    cancelled event cannot be changed. Portfolio entries already created
    from attendance keep the title, dates, hours and cost they were created with.
    """
    if event is not None:
        event = CpdEvent.objects.select_for_update().get(pk=event.pk)
    if not access.can_run_cpd_offer(actor, event):
        raise PermissionDenied("Only those who run the CPD offer may add or change its events.")
    unknown = sorted(set(fields) - set(EVENT_FIELDS))
    if unknown:
        raise ValidationError(
            {
                name: [f"{name} cannot be set; the fields are {', '.join(EVENT_FIELDS)}."]
                for name in unknown
            }
        )
    errors = _Errors()
    if event is not None and event.cancelled:
        errors.add("event", f"“{event.title}” is cancelled, so it cannot be changed.")
        errors.raise_if_any()

    values: dict[str, Any] = {}
    for name in EVENT_FIELDS:
        if name in fields:
            values[name] = fields[name]
        elif event is not None:
            values[name] = getattr(event, name)
        else:
            values[name] = None
    _check_event_fields(actor, event, values, errors)
    errors.raise_if_any()

    if values["cost_per_place"] is None:
        values["cost_per_place"] = Decimal("0")
    with audit.acting_as(actor):
        if event is None:
            event = CpdEvent(created_by_id=scope_for(actor).staff_id)
        for name, value in values.items():
            setattr(event, name, value)
        event.save()
    return event


@transaction.atomic
def event_cancel(actor: Any, event: CpdEvent) -> CpdEvent:
    """Cancel an event that has not started. Its bookings are kept, so the
    list of people booked stays, but no new place can be booked."""
    event = CpdEvent.objects.select_for_update().get(pk=event.pk)
    if not access.can_run_cpd_offer(actor, event):
        raise PermissionDenied("Only those who run this event may cancel it.")
    today = clock.today()
    errors = _Errors()
    if event.cancelled:
        errors.add("event", f"“{event.title}” is already cancelled.")
    elif event.starts_on <= today:
        errors.add(
            "event",
            f"“{event.title}” started on {_shown(event.starts_on)}, so it cannot be cancelled; "
            "mark attendance instead.",
        )
    errors.raise_if_any()
    with audit.acting_as(actor):
        event.cancelled = True
        event.save(update_fields=["cancelled"])
    return event


# Bookings ------------------------------------------------------------------------------


@transaction.atomic
def booking_make(actor: Any, event: CpdEvent) -> CpdBooking:
    """Book a place on `event` for the actor's own staff record.

    The event row is locked (SELECT … FOR UPDATE) before the places are
    counted, so two people booking the last place at once are served one
    after the other, and the second gets a ValidationError because the event
    is full. A place
    cancelled earlier is booked again on the same booking row.
    """
    staff_id = scope_for(actor).staff_id
    if staff_id is None:
        raise PermissionDenied("Only members of staff can book a place.")
    if not access.visible_cpd_events(actor).filter(pk=event.pk).exists():
        raise PermissionDenied("This event is not in the CPD offer open to you.")
    event = CpdEvent.objects.select_for_update().get(pk=event.pk)
    existing = CpdBooking.objects.filter(event=event, staff_id=staff_id).first()
    today = clock.today()

    errors = _Errors()
    if event.cancelled:
        errors.add("event", f"“{event.title}” is cancelled, so it cannot be booked.")
    elif event.starts_on < today:
        errors.add(
            "event",
            f"“{event.title}” started on {_shown(event.starts_on)}; places can be booked "
            "up to the day it starts.",
        )
    elif existing is not None and existing.status == BOOKED:
        errors.add("event", f"You already have a place on “{event.title}”.")
    else:
        booked = CpdBooking.objects.filter(event=event, status=BOOKED).count()
        if booked >= event.places:
            places_taken = (
                "its one place is booked"
                if event.places == 1
                else f"all {event.places} places are booked"
            )
            errors.add("event", f"“{event.title}” is full: {places_taken}.")
    errors.raise_if_any()

    with audit.acting_as(actor):
        if existing is None:
            return CpdBooking.objects.create(event=event, staff_id=staff_id)
        existing.status = BOOKED
        existing.attendance = CpdBooking.Attendance.UNKNOWN
        existing.save(update_fields=["status", "attendance"])
    return existing


@transaction.atomic
def booking_cancel(actor: Any, booking: CpdBooking) -> CpdBooking:
    """Give up a place: the booked person, or someone who runs the event,
    may cancel it until the day the event starts, unless attendance is marked."""
    event = CpdEvent.objects.select_for_update().get(pk=booking.event_id)
    booking = CpdBooking.objects.select_for_update().get(pk=booking.pk)
    own = booking.staff_id == scope_for(actor).staff_id
    if not own and not access.can_run_cpd_offer(actor, event):
        raise PermissionDenied("Only the person booked or those who run the event may cancel it.")
    errors = _Errors()
    if booking.status != BOOKED:
        errors.add("booking", f"This place on “{event.title}” is already cancelled.")
    elif booking.attendance:
        errors.add(
            "booking",
            f"Attendance on “{event.title}” is marked, so the place cannot be cancelled.",
        )
    elif event.starts_on < clock.today():
        errors.add(
            "booking",
            f"“{event.title}” started on {_shown(event.starts_on)}; places can be cancelled "
            "up to the day it starts.",
        )
    errors.raise_if_any()
    with audit.acting_as(actor):
        booking.status = CpdBooking.Status.CANCELLED
        booking.save(update_fields=["status"])
    return booking


# Attendance ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceResult:
    """The outcome of attendance_mark: the booking and its portfolio entry."""

    booking: CpdBooking
    entry: PortfolioEntry | None
    entry_created: bool = False
    entry_removed: bool = False
    # The reason un-marking kept the entry, or "" when it did not keep one.
    entry_kept_reason: str = ""


def _entry_provider(event: CpdEvent) -> str:
    if event.provider:
        return event.provider
    if event.host_academy is not None:
        return event.host_academy.name
    return "Trust CPD offer"


def _user_additions(entry: PortfolioEntry) -> list[str]:
    """Name what the staff member added to an automatic entry: removing it
    would lose that work."""
    added = []
    if entry.reflection.strip():
        added.append("a reflection")
    if EvidenceFile.objects.filter(entry=entry).exists():
        added.append("evidence files")
    if entry.objectives.exists():
        added.append("links to objectives")
    if entry.standards.exists():
        added.append("links to standards")
    return added


@transaction.atomic
def attendance_mark(actor: Any, booking: CpdBooking, attendance: str) -> AttendanceResult:
    """Mark a booking attended, did not attend, or not marked ('').

    Marking it attended adds a portfolio entry for the staff member, linked
    to the booking, once only. Un-marking deletes that entry unless the
    staff member has added a reflection, evidence or links to it. Then the
    entry stays, and entry_kept_reason gives the reason.
    """
    event = (
        CpdEvent.objects.select_for_update(of=("self",))
        .select_related("host_academy")
        .get(pk=booking.event_id)
    )
    if not access.can_run_cpd_offer(actor, event):
        raise PermissionDenied("Only those who run this event may mark attendance.")
    booking = CpdBooking.objects.select_for_update().get(pk=booking.pk)

    errors = _Errors()
    if attendance not in CpdBooking.Attendance.values:
        allowed = ", ".join(f"“{value}”" for value in CpdBooking.Attendance.values)
        errors.add(
            "attendance", f"Attendance “{_preview(attendance)}” is invalid. Use one of {allowed}."
        )
    if event.cancelled:
        errors.add("attendance", f"“{event.title}” was cancelled, so it has no attendance.")
    elif event.starts_on > clock.today():
        errors.add(
            "attendance",
            f"“{event.title}” starts on {_shown(event.starts_on)}; attendance can be "
            "marked from that day.",
        )
    if booking.status != BOOKED:
        errors.add("attendance", "This booking was cancelled, so it has no attendance.")
    errors.raise_if_any()

    entry = PortfolioEntry.objects.filter(booking=booking).first()
    with audit.acting_as(actor):
        booking.attendance = attendance
        booking.save(update_fields=["attendance"])
        if attendance == ATTENDED:
            if entry is not None:
                return AttendanceResult(booking=booking, entry=entry)
            entry = PortfolioEntry.objects.create(
                staff_id=booking.staff_id,
                kind=event.kind,
                title=event.title,
                provider=_entry_provider(event),
                started_on=event.starts_on,
                ended_on=event.ends_on,
                hours=event.hours,
                cost=event.cost_per_place,
                booking=booking,
            )
            return AttendanceResult(booking=booking, entry=entry, entry_created=True)
        if entry is None:
            return AttendanceResult(booking=booking, entry=None)
        added = _user_additions(entry)
        if added:
            reason = (
                f"The portfolio entry “{entry.title}” was kept because it has "
                f"{' and '.join(added)}; its owner or trust HR may delete it."
            )
            return AttendanceResult(booking=booking, entry=entry, entry_kept_reason=reason)
        entry.delete()
    return AttendanceResult(booking=booking, entry=None, entry_removed=True)


# The CPD summary -----------------------------------------------------------------------


@dataclass
class Tally:
    """CPD hours and cost by kind for one academy, one staff group or the trust."""

    label: str
    staff_count: int = 0
    entries: int = 0
    hours_by_kind: dict[str, Decimal] = field(default_factory=dict)
    cost_by_kind: dict[str, Decimal] = field(default_factory=dict)

    @property
    def hours(self) -> Decimal:
        return sum(self.hours_by_kind.values(), Decimal("0")).quantize(Decimal("0.1"))

    @property
    def cost(self) -> Decimal:
        return sum(self.cost_by_kind.values(), Decimal("0")).quantize(Decimal("0.01"))

    @property
    def hours_per_head(self) -> Decimal | None:
        if not self.staff_count:
            return None
        return (self.hours / self.staff_count).quantize(Decimal("0.1"))

    @property
    def cost_per_head(self) -> Decimal | None:
        if not self.staff_count:
            return None
        return (self.cost / self.staff_count).quantize(Decimal("0.01"))

    def add(self, kind: str, entries: int, hours: Decimal, cost: Decimal) -> None:
        self.entries += entries
        self.hours_by_kind[kind] = self.hours_by_kind.get(kind, Decimal("0")) + hours
        self.cost_by_kind[kind] = self.cost_by_kind.get(kind, Decimal("0")) + cost

    def merge(self, other: "Tally") -> None:
        self.staff_count += other.staff_count
        for kind in other.hours_by_kind:
            self.add(kind, 0, other.hours_by_kind[kind], other.cost_by_kind[kind])
        self.entries += other.entries


@dataclass
class CpdSummary:
    start: datetime.date
    end: datetime.date
    academies: list[Tally]
    groups: list[Tally]
    total: Tally
    # Kinds with any hours or cost, in the order CpdKind lists them.
    kinds: list[str]

    def kind_label(self, kind: str) -> str:
        return str(CpdKind(kind).label)


# The summary row of staff who work for the trust rather than one academy.
CENTRAL_TEAM_LABEL = "Central team"


def _current_staff(start: datetime.date, end: datetime.date) -> Q:
    """Staff employed at some point between `start` and `end`."""
    return (Q(started_on__isnull=True) | Q(started_on__lte=end)) & (
        Q(left_on__isnull=True) | Q(left_on__gte=start)
    )


def cpd_summary(
    academies: Iterable[Academy],
    start: datetime.date,
    end: datetime.date,
    *,
    central_team: bool = False,
) -> CpdSummary:
    """Sum CPD hours and cost of the portfolio entries started between `start`
    and `end` (inclusive) by the staff of `academies`, per academy and per
    staff group (post type), by kind.

    With `central_team`, staff with no academy get a "Central team" row after
    the academies. The trust total is the sum of those rows, which equals the
    sum of the staff group rows. Staff counts are the staff employed in the
    range. Two queries, whatever the number of academies or entries.
    """
    academy_list = sorted(academies, key=lambda a: a.name)
    ids = [a.pk for a in academy_list]
    by_academy: dict[int | None, Tally] = {a.pk: Tally(label=a.name) for a in academy_list}
    by_group = {value: Tally(label=str(label)) for value, label in PostType.choices}
    staff_in_rows = Q(academy_id__in=ids)
    if central_team:
        by_academy[None] = Tally(label=CENTRAL_TEAM_LABEL)
        staff_in_rows |= Q(academy__isnull=True)

    sums = (
        PortfolioEntry.objects.filter(
            staff__in=StaffMember.objects.filter(staff_in_rows),
            started_on__gte=start,
            started_on__lte=end,
        )
        .values("staff__academy_id", "staff__post_type", "kind")
        .annotate(entries=Count("pk"), hours=Sum("hours"), cost=Sum("cost"))
        .order_by()
    )
    kinds_seen: set[str] = set()
    for row in sums:
        hours = row["hours"] or Decimal("0")
        cost = row["cost"] or Decimal("0")
        kinds_seen.add(row["kind"])
        by_academy[row["staff__academy_id"]].add(row["kind"], row["entries"], hours, cost)
        group = by_group.setdefault(
            row["staff__post_type"], Tally(label=row["staff__post_type"] or "No post type")
        )
        group.add(row["kind"], row["entries"], hours, cost)

    headcounts = (
        StaffMember.objects.filter(_current_staff(start, end), staff_in_rows)
        .values("academy_id", "post_type")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for headcount in headcounts:
        by_academy[headcount["academy_id"]].staff_count += headcount["count"]
        group = by_group.setdefault(
            headcount["post_type"], Tally(label=headcount["post_type"] or "No post type")
        )
        group.staff_count += headcount["count"]

    total = Tally(label="Trust total")
    for tally in by_academy.values():
        total.merge(tally)
    kinds = [kind for kind in CpdKind.values if kind in kinds_seen]
    return CpdSummary(
        start=start,
        end=end,
        academies=list(by_academy.values()),
        groups=[g for g in by_group.values() if g.staff_count or g.entries],
        total=total,
        kinds=kinds,
    )


SUMMARY_EXPORT_HEADERS = [
    "Breakdown",
    "Name",
    "Kind",
    "Staff",
    "Entries",
    "Hours",
    "Cost (£)",
]


def summary_export_rows(summary: CpdSummary) -> list[Sequence[object]]:
    """Return the summary as one row per academy, staff group and trust total
    and kind, with an "All kinds" row for each."""
    rows: list[Sequence[object]] = []
    sections = (
        ("Academy", summary.academies),
        ("Staff group", summary.groups),
        ("Trust", [summary.total]),
    )
    for section, tallies in sections:
        for tally in tallies:
            for kind in summary.kinds:
                rows.append(
                    [
                        section,
                        tally.label,
                        summary.kind_label(kind),
                        None,
                        None,
                        tally.hours_by_kind.get(kind, Decimal("0.0")),
                        tally.cost_by_kind.get(kind, Decimal("0.00")),
                    ]
                )
            rows.append(
                [
                    section,
                    tally.label,
                    "All kinds",
                    tally.staff_count,
                    tally.entries,
                    tally.hours,
                    tally.cost,
                ]
            )
    return rows


OFFER_EXPORT_HEADERS = [
    "Title",
    "Kind",
    "Subject",
    "Host academy",
    "Venue",
    "Starts",
    "Ends",
    "Hours",
    "Cost per place (£)",
    "Places",
    "Booked",
    "Cancelled",
]


def offer_export_rows(events: Iterable[CpdEvent]) -> Iterable[Sequence[object]]:
    """Return one export row per event of an offer_events() queryset."""
    for event in events:
        yield [
            event.title,
            event.get_kind_display(),
            event.subject.name if event.subject else "",
            event.host_academy.name if event.host_academy else "Trust",
            event.venue,
            event.starts_on,
            event.ends_on,
            event.hours,
            event.cost_per_place,
            event.places,
            event.booked_count,  # type: ignore[attr-defined]
            event.cancelled,
        ]
