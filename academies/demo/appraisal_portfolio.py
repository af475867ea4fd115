"""Demo CPD: the trust's offer of events with bookings and attendance, and
each member of staff's portfolio.

Events that ended before today have their attendance marked, and each
attended booking has its portfolio entry, as marking attendance does in
the product. Some of last year's development needs are met by an entry
this year; the rest stay as suggestions. Everyone gets two to six entries,
some linked to this year's objectives and their standards.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from academies.models import Academy
from appraisal.models import (
    CpdBooking,
    CpdEvent,
    CpdKind,
    DevelopmentNeed,
    Objective,
    PortfolioEntry,
    Standard,
)
from progress.models import Subject
from staff.models import PostType, Role, StaffMember

from . import appraisal_text as text
from .attendance import _insert
from .staffing import PlannedStaff
from .structure import BATCH_SIZE, DemoContext

LONDON = ZoneInfo("Europe/London")
# A member of staff is booked on at most this many events, unless an event
# would otherwise have no bookings from its audience.
MAX_BOOKINGS = 2
ATTENDED_SHARE = 0.88
CANCELLED_SHARE = 0.05
# Share of last year's development needs met by an entry this year.
NEED_MET_SHARE = 0.5
OBJECTIVE_LINK_SHARE = 0.5


@dataclass(frozen=True)
class PortfolioCounts:
    events: int
    bookings: int
    entries: int


@dataclass
class _Entry:
    entry: PortfolioEntry
    objectives: list[Objective]
    standards: list[Standard]


def load_portfolio(
    ctx: DemoContext,
    *,
    people: list[PlannedStaff],
    objectives: dict[int, list[tuple[Objective, list[Standard]]]],
    needs: dict[int, list[DevelopmentNeed]],
) -> PortfolioCounts:
    """Write the CPD offer with its bookings, then every portfolio entry.

    `objectives` are this year's objectives with their standards and
    `needs` last year's development needs, both keyed by staff id.
    """
    assert ctx.trust is not None
    rng = ctx.rng
    subjects = {subject.code: subject for subject in Subject.objects.filter(trust=ctx.trust)}
    events = _plan_events(ctx, subjects)
    CpdEvent.objects.bulk_create([event for event, _audience in events])
    bookings, booked_at = _plan_bookings(rng, ctx.today, people, events)
    CpdBooking.objects.bulk_create(bookings, batch_size=BATCH_SIZE)
    # bulk_create stamps booked_at with the time of the seed.
    for booking, moment in zip(bookings, booked_at, strict=True):
        booking.booked_at = moment
    CpdBooking.objects.bulk_update(bookings, ["booked_at"], batch_size=BATCH_SIZE)

    attended: dict[int, list[CpdBooking]] = {}
    for booking in bookings:
        if booking.attendance == CpdBooking.Attendance.ATTENDED:
            attended.setdefault(booking.staff.pk, []).append(booking)
    academies = [plan.academy for plan in ctx.plans]
    entries: list[_Entry] = []
    for person in people:
        staff_id = person.member.pk
        entries += _plan_entries(
            ctx,
            person,
            attended.get(staff_id, []),
            needs.get(staff_id, []),
            objectives.get(staff_id, []),
            academies,
        )
    _save_entries(entries)
    return PortfolioCounts(events=len(events), bookings=len(bookings), entries=len(entries))


# The CPD offer ----------------------------------------------------------------------


def _event_day(ctx: DemoContext, when: tuple[int, int, int]) -> datetime.date:
    """Return the date of (academic year offset, month, day), moved back to the
    Friday when it falls at a weekend."""
    offset, month, day = when
    start = ctx.current_start_year + offset
    found = datetime.date(start if month >= 9 else start + 1, month, day)
    return found - datetime.timedelta(days=max(0, found.weekday() - 4))


def _plan_events(ctx: DemoContext, subjects: dict[str, Subject]) -> list[tuple[CpdEvent, str]]:
    """Plan the offer's events, each with its audience (see EventText)."""
    secondary = [plan.academy for plan in ctx.plans if plan.is_secondary]
    flagship = ctx.flagship.academy
    planned = []
    for index, wording in enumerate(text.CPD_EVENTS):
        subject = subjects.get(wording.subject) if wording.subject else None
        if subject is not None and secondary:
            host: Academy | None = secondary[index % len(secondary)]
        elif wording.kind == CpdKind.QUALIFICATION:
            host = None
        else:
            host = flagship
        starts = _event_day(ctx, wording.when)
        event = CpdEvent(
            title=wording.title,
            description=f"Part of the {text.CPD_PROVIDER} CPD offer, open to staff of every "
            "academy.",
            kind=wording.kind,
            provider=text.CPD_PROVIDER,
            subject=subject,
            host_academy=host,
            venue=host.name if host else "Online and at the trust office",
            starts_on=starts,
            ends_on=starts + datetime.timedelta(days=wording.days - 1),
            hours=Decimal(wording.hours),
            cost_per_place=Decimal(wording.cost),
            places=wording.places,
        )
        planned.append((event, wording.audience))
    return planned


def _in_audience(person: PlannedStaff, audience: str) -> bool:
    member = person.member
    if audience == "safeguarding":
        return any(role == Role.SAFEGUARDING_LEAD for role, _target in person.roles)
    if audience == "middle_leader":
        return member.job_title.startswith("Head of ")
    if audience in PostType.values:
        return member.post_type == audience and member.academy_id is not None
    return member.job_title in (f"Teacher of {audience}", f"Head of {audience}")


def _plan_bookings(
    rng: random.Random,
    today: datetime.date,
    people: list[PlannedStaff],
    events: list[tuple[CpdEvent, str]],
) -> tuple[list[CpdBooking], list[datetime.datetime]]:
    """Book up to each event's places from its audience, and mark attendance
    on events that ended before today. Return the bookings and when each was made."""
    booked_count: dict[int, int] = {}
    bookings = []
    booked_at = []
    yesterday = today - datetime.timedelta(days=1)
    for event, audience in events:
        # Staff book at least a week ahead, so only those in post by then can.
        latest_start = min(event.starts_on, today) - datetime.timedelta(days=7)
        audience_members = [
            person
            for person in people
            if _in_audience(person, audience)
            and (person.member.started_on is None or person.member.started_on <= latest_start)
        ]
        eligible = [
            person
            for person in audience_members
            if booked_count.get(person.member.pk, 0) < MAX_BOOKINGS
        ]
        # A small trust may run out of staff under the limit, so the limit gives way.
        eligible = eligible or audience_members
        place_count = min(len(eligible), rng.randint(event.places // 2, event.places))
        for person in rng.sample(eligible, place_count):
            booked_count[person.member.pk] = booked_count.get(person.member.pk, 0) + 1
            booking = CpdBooking(event=event, staff=person.member)
            booked_on = event.starts_on - datetime.timedelta(days=rng.randint(7, 40))
            if person.member.started_on is not None:
                booked_on = max(booked_on, person.member.started_on)
            booked_on = min(booked_on, yesterday)
            booked_at.append(datetime.datetime.combine(booked_on, datetime.time(9), tzinfo=LONDON))
            if rng.random() < CANCELLED_SHARE:
                booking.status = CpdBooking.Status.CANCELLED
            elif event.ends_on < today:
                booking.attendance = (
                    CpdBooking.Attendance.ATTENDED
                    if rng.random() < ATTENDED_SHARE
                    else CpdBooking.Attendance.ABSENT
                )
            bookings.append(booking)
    return bookings, booked_at


# Portfolio entries -------------------------------------------------------------------


def _day(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    if last <= first:
        return last
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


def _plan_entries(
    ctx: DemoContext,
    person: PlannedStaff,
    attended: list[CpdBooking],
    needs: list[DevelopmentNeed],
    objectives: list[tuple[Objective, list[Standard]]],
    academies: list[Academy],
) -> list[_Entry]:
    assert ctx.current_year is not None
    assert ctx.last_year is not None
    rng = ctx.rng
    member = person.member
    yesterday = ctx.today - datetime.timedelta(days=1)
    entry_count = rng.randint(2, 6)
    entries = [_booking_entry(booking) for booking in attended]

    for need in needs:
        if len(entries) >= entry_count or rng.random() >= NEED_MET_SHARE:
            continue
        # The need is found at the final review, so the entry starts after it.
        reviewed = need.appraisal.final_reviewed_at
        if reviewed is None or reviewed.date() >= yesterday:
            continue
        first = max(ctx.current_year.start_date, reviewed.date() + datetime.timedelta(days=1))
        started = _day(rng, first, yesterday)
        kind = need.suggested_kind or CpdKind.COURSE
        entry = PortfolioEntry(
            staff=member,
            kind=kind,
            title=f"{CpdKind(kind).label}: {need.description.lower()}",
            provider=member.workplace,
            started_on=started,
            ended_on=started,
            hours=Decimal(rng.randint(2, 6)),
            reflection=text.NEED_REFLECTION,
            development_need=need,
        )
        entries.append(_Entry(entry, [], []))

    teaching = member.post_type in (PostType.TEACHER, PostType.LEADERSHIP)
    pool: list[text.EntryText | None] = list(
        text.TEACHER_ENTRIES if teaching else text.SUPPORT_ENTRIES
    )
    if teaching and len(academies) > 1:
        pool.append(None)  # a peer visit to another academy
    earliest = max(ctx.last_year.start_date, member.started_on or ctx.last_year.start_date)
    for wording in rng.sample(pool, max(0, min(entry_count - len(entries), len(pool)))):
        started = _day(rng, earliest, yesterday)
        if wording is None:
            entries.append(_peer_visit(rng, member, started, academies))
            continue
        ended: datetime.date | None = started + datetime.timedelta(days=wording.days)
        if ended is not None and ended > yesterday:
            ended = None  # still under way
        entry = PortfolioEntry(
            staff=member,
            kind=wording.kind,
            title=wording.title,
            provider=wording.provider or member.workplace,
            started_on=started,
            ended_on=ended,
            hours=Decimal(rng.randint(*wording.hours)),
            cost=Decimal(rng.choice(wording.costs)),
            reflection=wording.reflection,
        )
        linked: list[Objective] = []
        standards: list[Standard] = []
        this_year = started >= ctx.current_year.start_date
        if objectives and this_year and rng.random() < OBJECTIVE_LINK_SHARE:
            objective, objective_standards = rng.choice(objectives)
            linked = [objective]
            standards = objective_standards[:2]
        entries.append(_Entry(entry, linked, standards))
    return entries


def _booking_entry(booking: CpdBooking) -> _Entry:
    event = booking.event
    entry = PortfolioEntry(
        staff=booking.staff,
        kind=event.kind,
        title=event.title,
        provider=event.provider,
        started_on=event.starts_on,
        ended_on=event.ends_on,
        hours=event.hours,
        cost=event.cost_per_place,
        reflection=text.BOOKING_REFLECTION,
        booking=booking,
    )
    return _Entry(entry, [], [])


def _peer_visit(
    rng: random.Random, member: StaffMember, started: datetime.date, academies: list[Academy]
) -> _Entry:
    host = rng.choice([academy for academy in academies if academy.pk != member.academy_id])
    entry = PortfolioEntry(
        staff=member,
        kind=CpdKind.PEER_VISIT,
        title=f"Peer visit to {host.name}",
        provider=host.name,
        started_on=started,
        ended_on=started,
        hours=Decimal(rng.randint(3, 5)),
        reflection=text.PEER_VISIT_REFLECTION,
    )
    return _Entry(entry, [], [])


def _save_entries(entries: list[_Entry]) -> None:
    PortfolioEntry.objects.bulk_create([e.entry for e in entries], batch_size=BATCH_SIZE)
    _insert(
        PortfolioEntry.objectives.through,
        ("portfolioentry", "objective"),
        ((e.entry.pk, objective.pk) for e in entries for objective in e.objectives),
    )
    _insert(
        PortfolioEntry.standards.through,
        ("portfolioentry", "standard"),
        ((e.entry.pk, standard.pk) for e in entries for standard in e.standards),
    )
