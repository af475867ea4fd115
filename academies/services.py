"""Writes to the academic calendar: academic years, terms, closures and the
September rollover that moves pupils up a year group."""

import datetime
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from pupils.models import Enrolment, active_on
from staff.models import Role, RoleAssignment
from trust import clock
from trust.audit import acting_as, record_bulk, snapshot
from trust.models import AuditEvent

from .calendar import HALF_TERMS, HalfTermDates, default_half_terms, weekdays_between
from .models import (
    NURSERY,
    RECEPTION,
    AcademicYear,
    Academy,
    Closure,
    Term,
    Trust,
    TutorGroup,
    YearGroup,
    key_stage_for,
    year_group_name,
)

logger = logging.getLogger(__name__)

FIRST_START_YEAR = 2000
LAST_START_YEAR = 2100
BULK_BATCH_SIZE = 5000


def _dmy(day: datetime.date) -> str:
    return f"{day:%d/%m/%Y}"


def _academic_year_name(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


# Academic years and terms ---------------------------------------------------


def _check_start_year(start_year: int, field: str) -> None:
    if not FIRST_START_YEAR <= start_year <= LAST_START_YEAR:
        raise ValidationError(
            {
                field: f"Academic year start {start_year} is out of range; use a year from "
                f"{FIRST_START_YEAR} to {LAST_START_YEAR}."
            }
        )


def _check_half_terms(start_year: int, half_terms: Sequence[HalfTermDates]) -> None:
    if len(half_terms) != len(HALF_TERMS):
        raise ValidationError(
            {
                "half_terms": f"{len(half_terms)} half terms given; an academic year has "
                f"{len(HALF_TERMS)}: Autumn 1 and 2, Spring 1 and 2, Summer 1 and 2."
            }
        )
    year_start = datetime.date(start_year, 9, 1)
    year_end = datetime.date(start_year + 1, 8, 31)
    errors: dict[str, str] = {}
    previous: tuple[str, HalfTermDates] | None = None
    for (key, _season, _half, label), dates in zip(HALF_TERMS, half_terms, strict=True):
        if dates.start > dates.end:
            errors[key] = (
                f"{label} ends on {_dmy(dates.end)}, before it starts on {_dmy(dates.start)}."
            )
        elif dates.start < year_start or dates.end > year_end:
            errors[key] = (
                f"{label} runs from {_dmy(dates.start)} to {_dmy(dates.end)}, outside academic "
                f"year {_academic_year_name(start_year)} "
                f"({_dmy(year_start)} to {_dmy(year_end)})."
            )
        elif previous and dates.start <= previous[1].end:
            errors[key] = (
                f"{label} starts on {_dmy(dates.start)}, on or before the end of "
                f"{previous[0]} ({_dmy(previous[1].end)}); half terms must follow each other "
                "without overlapping."
            )
        previous = (label, dates)
    if errors:
        raise ValidationError(errors)


def _create_year_with_terms(
    trust: Trust, start_year: int, half_terms: Sequence[HalfTermDates]
) -> AcademicYear:
    year = AcademicYear.objects.create(
        trust=trust,
        start_year=start_year,
        start_date=datetime.date(start_year, 9, 1),
        end_date=datetime.date(start_year + 1, 8, 31),
    )
    pairs = list(zip(HALF_TERMS, half_terms, strict=True))
    for index in range(0, len(pairs), 2):
        (_, season, _, _), first = pairs[index]
        second = pairs[index + 1][1]
        term = Term.objects.create(
            academic_year=year, season=season, start_date=first.start, end_date=second.end
        )
        Term.objects.bulk_create(
            [
                Term(
                    academic_year=year,
                    parent=term,
                    season=season,
                    half=half,
                    start_date=dates.start,
                    end_date=dates.end,
                )
                for half, dates in ((1, first), (2, second))
            ]
        )
    return year


def academic_year_create(
    *,
    trust: Trust,
    start_year: int,
    actor: Any,
    half_terms: Sequence[HalfTermDates] | None = None,
) -> AcademicYear:
    """Create an academic year with its three terms and six half terms.

    `half_terms` gives the dates of Autumn 1 to Summer 2 in that order; by
    default they follow calendar.default_half_terms(). Each term runs from
    the start of its first half term to the end of its second.
    """
    _check_start_year(start_year, "start_year")
    dates = list(half_terms) if half_terms is not None else default_half_terms(start_year)
    _check_half_terms(start_year, dates)

    with transaction.atomic():
        if AcademicYear.objects.filter(trust=trust, start_year=start_year).exists():
            raise ValidationError(
                {
                    "start_year": f"Academic year {_academic_year_name(start_year)} already "
                    f"exists for {trust.name}."
                }
            )
        year = _create_year_with_terms(trust, start_year, dates)
    logger.info(
        "academic year created trust=%s start_year=%s actor=%s",
        trust.pk,
        start_year,
        getattr(actor, "pk", None),
    )
    return year


def academic_year_get_or_create(*, trust: Trust, start_year: int, actor: Any) -> AcademicYear:
    """Return the trust's academic year starting in `start_year`, creating it
    with the default term dates when it is missing."""
    existing = AcademicYear.objects.filter(trust=trust, start_year=start_year).first()
    if existing:
        return existing
    return academic_year_create(trust=trust, start_year=start_year, actor=actor)


# Closures and school days ---------------------------------------------------


def closure_add(
    *,
    academy: Academy,
    date: datetime.date,
    kind: str,
    actor: Any,
    sessions: str = Closure.Sessions.BOTH,
    reason: str = "",
) -> Closure:
    """Record a day (or one session) in term on which `academy` is closed."""
    if kind not in Closure.Kind.values:
        allowed = ", ".join(Closure.Kind.values)
        raise ValidationError({"kind": f"Closure kind {kind!r} is invalid; use one of {allowed}."})
    if sessions not in Closure.Sessions.values:
        allowed = ", ".join(Closure.Sessions.values)
        raise ValidationError(
            {"sessions": f"Sessions {sessions!r} is invalid; use one of {allowed}."}
        )
    if date.weekday() >= 5:
        raise ValidationError(
            {"date": f"{_dmy(date)} is a {date:%A}; a closure must be on a weekday."}
        )
    if not _term_periods(academy.trust_id, date, date):
        raise ValidationError(
            {"date": f"{_dmy(date)} is not in term; closures can only be recorded in term time."}
        )
    if len(reason) > 200:
        raise ValidationError(
            {"reason": f"The reason has {len(reason)} characters; at most 200 are allowed."}
        )

    with transaction.atomic():
        if Closure.objects.filter(academy=academy, date=date).exists():
            raise ValidationError(
                {"date": f"{academy.name} already has a closure on {_dmy(date)}."}
            )
        closure = Closure.objects.create(
            academy=academy, date=date, kind=kind, sessions=sessions, reason=reason
        )
        # Every pupil needs a code for every session: # or Y4, written in the
        # same transaction so a closure never exists without its marks.
        from attendance.services import closure_marks_write

        written = closure_marks_write(closure=closure, actor=actor)
    logger.info(
        "closure added academy=%s date=%s kind=%s marks=%s actor=%s",
        academy.pk,
        date.isoformat(),
        kind,
        written,
        getattr(actor, "pk", None),
    )
    return closure


def _term_periods(
    trust_id: int, start: datetime.date, end: datetime.date
) -> list[tuple[datetime.date, datetime.date]]:
    """Return the (start, end) of each half term overlapping `start` to `end`.

    A term recorded without half terms counts whole; a term with half terms
    counts only through them, so the half-term break is not term time.
    """
    terms = list(
        Term.objects.filter(
            academic_year__trust_id=trust_id, start_date__lte=end, end_date__gte=start
        ).values("id", "parent_id", "start_date", "end_date")
    )
    parents_with_halves = set(
        Term.objects.filter(academic_year__trust_id=trust_id, parent__isnull=False).values_list(
            "parent_id", flat=True
        )
    )
    return [
        (t["start_date"], t["end_date"])
        for t in terms
        if t["parent_id"] or t["id"] not in parents_with_halves
    ]


def school_days(academy: Academy, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Return the days from `start` to `end` on which `academy` is open for
    pupils: in a half term of the trust's calendar, Monday to Friday, not a
    whole-day closure, and before the academy's closing date.

    A morning-only or afternoon-only closure still leaves a school day.
    A bank holiday in term is a school day unless it is recorded as a closure.
    """
    if start > end:
        return []
    periods = _term_periods(academy.trust_id, start, end)
    closed = set(
        Closure.objects.filter(
            academy=academy, date__range=(start, end), sessions=Closure.Sessions.BOTH
        ).values_list("date", flat=True)
    )
    days: set[datetime.date] = set()
    for period_start, period_end in periods:
        first = max(start, period_start)
        last = min(end, period_end)
        days.update(weekdays_between(first, last))
    return sorted(
        day
        for day in days
        if day not in closed and (academy.closed_on is None or day < academy.closed_on)
    )


# Rollover -------------------------------------------------------------------

_GROUP_PREFIX = re.compile(r"^(N|R|\d{1,2})(.*)$")


def year_prefix(nc_year: int) -> str:
    """Return how tutor group names start for `nc_year`: "N", "R" or the number."""
    if nc_year == NURSERY:
        return "N"
    if nc_year == RECEPTION:
        return "R"
    return str(nc_year)


def next_tutor_group_name(name: str, nc_year: int, next_nc_year: int) -> str:
    """Return the name a tutor group takes in the next year: "9C" in Year 9
    becomes "10C", "RB" in Reception becomes "1B". A name that does not start
    with its year ("Oak") is kept."""
    match = _GROUP_PREFIX.match(name)
    if not match or match.group(1) != year_prefix(nc_year):
        return name
    return year_prefix(next_nc_year) + match.group(2)


def final_nc_year(academy: Academy) -> int:
    """Return the last NC year of `academy`: 18 at the top of the age range
    means Year 13, 16 means Year 11, 11 means Year 6."""
    return academy.age_range_high - 5


def entry_nc_year(academy: Academy) -> int:
    """Return the first NC year of `academy`: 3 at the bottom of the age range
    means Nursery, 4 Reception, 11 Year 7."""
    return academy.age_range_low - 4


@dataclass
class RolloverResult:
    to_start_year: int
    academic_year_created: bool = False
    moved_up: int = 0
    kept_back: int = 0
    leavers: int = 0
    already_enrolled: int = 0
    tutor_groups_created: int = 0
    academies_skipped: int = 0

    def summary(self) -> str:
        return (
            f"Rollover to {_academic_year_name(self.to_start_year)}: {self.moved_up} moved up, "
            f"{self.kept_back} kept back, {self.leavers} left, {self.already_enrolled} already "
            f"enrolled for the new year, {self.tutor_groups_created} tutor groups created, "
            f"{self.academies_skipped} closed academies skipped."
        )


def rollover(*, to_start_year: int, actor: Any) -> RolloverResult:
    """Move every trust's pupils into the academic year starting on
    1 September `to_start_year`.

    Each enrolment on roll on 31 August ends that day. Pupils in their
    academy's final year group leave, and so do pupils whose enrolment
    already ends on 31 August. Pupils marked kept_back stay in their year
    group. The rest start the new year on 1 September in the next year
    group and in the tutor group that follows theirs ("9C" becomes "10C",
    same tutor).
    Academies closed on or before 1 September are left alone. A pupil who
    already has an enrolment starting on or after 1 September (a transfer
    arranged in advance, or an earlier run) is not enrolled again, so a
    second run changes nothing.
    """
    _check_start_year(to_start_year, "to_start_year")
    current = clock.academic_year_start(clock.today())
    if to_start_year > current + 1:
        raise ValidationError(
            {
                "to_start_year": f"Cannot roll over to {_academic_year_name(to_start_year)}: the "
                f"current academic year is {_academic_year_name(current)}, so the latest "
                f"rollover is to {_academic_year_name(current + 1)}."
            }
        )
    trusts = list(Trust.objects.filter(academic_years__start_year=to_start_year - 1).order_by("pk"))
    if not trusts:
        raise ValidationError(
            {
                "to_start_year": f"Cannot roll over to {_academic_year_name(to_start_year)}: no "
                f"trust has academic year {_academic_year_name(to_start_year - 1)} to move "
                "pupils from."
            }
        )

    result = RolloverResult(to_start_year=to_start_year)
    reason = f"Rollover to {_academic_year_name(to_start_year)}"
    with acting_as(actor, reason=reason), transaction.atomic():
        for trust in trusts:
            # Locking the trust row makes a second rollover started at the
            # same time wait and then find nothing left to do.
            Trust.objects.select_for_update().get(pk=trust.pk)
            _rollover_trust(trust, to_start_year, result)
    logger.info(
        "rollover done to_start_year=%s actor=%s moved_up=%s kept_back=%s leavers=%s",
        to_start_year,
        getattr(actor, "pk", None),
        result.moved_up,
        result.kept_back,
        result.leavers,
    )
    return result


def _rollover_trust(trust: Trust, to_start_year: int, result: RolloverResult) -> None:
    last_day = datetime.date(to_start_year, 8, 31)
    first_day = datetime.date(to_start_year, 9, 1)
    old_year = AcademicYear.objects.get(trust=trust, start_year=to_start_year - 1)
    new_year = AcademicYear.objects.filter(trust=trust, start_year=to_start_year).first()
    if new_year is None:
        new_year = _create_year_with_terms(trust, to_start_year, default_half_terms(to_start_year))
        result.academic_year_created = True

    academies = {
        a.pk: a
        for a in Academy.objects.filter(trust=trust).filter(
            Q(closed_on__isnull=True) | Q(closed_on__gt=first_day)
        )
    }
    result.academies_skipped += Academy.objects.filter(
        trust=trust, closed_on__lte=first_day
    ).count()

    year_groups = {
        (g.academy_id, g.nc_year): g for g in YearGroup.objects.filter(academy__trust=trust)
    }
    new_groups = _roll_tutor_groups(old_year, new_year, academies, year_groups, result)

    enrolments = list(
        Enrolment.objects.filter(active_on(last_day), academy_id__in=list(academies))
        .select_related("year_group", "tutor_group")
        .order_by("pupil_id", "start_date", "pk")
    )
    enrolled_for_new_year = set(
        Enrolment.objects.filter(start_date__gte=first_day, academy__trust=trust).values_list(
            "pupil_id", flat=True
        )
    )

    changed: list[Enrolment] = []
    before: dict[int, dict[str, Any]] = {}
    created: list[Enrolment] = []
    # When a pupil has two enrolments on roll on 31 August, the later one
    # decides where they go next.
    latest: dict[int, Enrolment] = {}
    for enrolment in enrolments:
        latest[enrolment.pupil_id] = enrolment

    for enrolment in enrolments:
        academy = academies[enrolment.academy_id]
        nc_year = enrolment.year_group.nc_year
        is_latest = latest[enrolment.pupil_id] is enrolment
        already_enrolled = enrolment.pupil_id in enrolled_for_new_year
        # An enrolment ending on 31 August is a leaver's, unless the pupil
        # already has next year's enrolment (a transfer, or an earlier run).
        leaves = not already_enrolled and (
            (nc_year >= final_nc_year(academy) and not enrolment.kept_back)
            or enrolment.end_date == last_day
        )

        new_end, new_reason = _end_values(enrolment, leaves, last_day)
        # A leaving date already set for next year moves to the new enrolment.
        carried_end = (
            enrolment.end_date if not leaves and _ends_after(enrolment, last_day) else None
        )
        carried_reason = enrolment.leaving_reason if carried_end else ""
        if enrolment.end_date != new_end or enrolment.leaving_reason != new_reason:
            before[enrolment.pk] = snapshot(enrolment)
            enrolment.end_date = new_end
            enrolment.leaving_reason = new_reason
            changed.append(enrolment)

        if not is_latest:
            continue
        if already_enrolled:
            result.already_enrolled += 1
            continue
        if leaves:
            result.leavers += 1
            continue

        next_nc = nc_year if enrolment.kept_back else nc_year + 1
        year_group = _year_group(academy, next_nc, year_groups)
        tutor_group = _next_tutor_group(enrolment, year_group, new_year, new_groups, result)
        created.append(
            Enrolment(
                pupil_id=enrolment.pupil_id,
                academy_id=academy.pk,
                academic_year=new_year,
                year_group=year_group,
                tutor_group=tutor_group,
                start_date=first_day,
                end_date=carried_end,
                leaving_reason=carried_reason,
            )
        )
        if enrolment.kept_back:
            result.kept_back += 1
        else:
            result.moved_up += 1

    _save_enrolment_ends(changed)
    record_bulk(changed, AuditEvent.Action.UPDATE, before=before)
    Enrolment.objects.bulk_create(created, batch_size=BULK_BATCH_SIZE)
    record_bulk(created, AuditEvent.Action.CREATE)


def _ends_after(enrolment: Enrolment, day: datetime.date) -> bool:
    return enrolment.end_date is not None and enrolment.end_date > day


def _end_values(
    enrolment: Enrolment, leaves: bool, last_day: datetime.date
) -> tuple[datetime.date, str]:
    """Return the end date and leaving reason the old enrolment gets.

    A leaver keeps a leaving date already set. Everyone else ends on
    31 August with the reason unchanged.
    """
    if not leaves:
        return last_day, enrolment.leaving_reason
    if enrolment.leaving_reason:
        reason = enrolment.leaving_reason
    elif enrolment.end_date is None:
        reason = f"Completed {year_group_name(enrolment.year_group.nc_year)}"
    else:
        reason = "Left at the end of the academic year"
    return enrolment.end_date or last_day, reason


def _next_tutor_group(
    enrolment: Enrolment,
    year_group: YearGroup,
    new_year: AcademicYear,
    new_groups: dict[tuple[int, str], TutorGroup],
    result: "RolloverResult",
) -> TutorGroup | None:
    """Return the new-year tutor group for a pupil staying on roll.

    A pupil moving up goes to the group that follows theirs. A kept-back
    pupil goes to the new group of the same name in their year group, else
    to the first of that year group's new groups. When the year group has
    none, a group of the old name is created with no tutor, because the
    old tutor has moved up with the rest of the group.
    """
    old_group = enrolment.tutor_group
    if old_group is None:
        return None
    old_nc_year = enrolment.year_group.nc_year
    if enrolment.kept_back:
        name = old_group.name
    else:
        name = next_tutor_group_name(old_group.name, old_nc_year, year_group.nc_year)
    key = (enrolment.academy_id, name)
    group = new_groups.get(key)
    # A group of that name in another year group (a name kept unchanged,
    # such as "Oak") is not the pupil's group.
    if group is not None and group.year_group_id != year_group.pk:
        group = None
    if group is not None or not enrolment.kept_back:
        return group

    same_year = sorted(
        (g for g in new_groups.values() if g.year_group_id == year_group.pk),
        key=lambda g: g.name,
    )
    if same_year:
        return same_year[0]
    if key in new_groups:
        return None
    group = TutorGroup.objects.create(
        academy_id=enrolment.academy_id,
        academic_year=new_year,
        year_group=year_group,
        name=name,
        room=old_group.room,
    )
    new_groups[key] = group
    result.tutor_groups_created += 1
    return group


def _save_enrolment_ends(enrolments: list[Enrolment]) -> None:
    """Write new end dates and leaving reasons with one UPDATE per distinct
    pair of values, not bulk_update's CASE expression per row, because
    nearly every row gets the same pair (31 August, reason unchanged)."""
    by_values: dict[tuple[datetime.date | None, str], list[int]] = {}
    for enrolment in enrolments:
        key = (enrolment.end_date, enrolment.leaving_reason)
        by_values.setdefault(key, []).append(enrolment.pk)
    for (end_date, leaving_reason), ids in by_values.items():
        for index in range(0, len(ids), BULK_BATCH_SIZE):
            Enrolment.objects.filter(pk__in=ids[index : index + BULK_BATCH_SIZE]).update(
                end_date=end_date, leaving_reason=leaving_reason
            )


def _year_group(
    academy: Academy, nc_year: int, year_groups: dict[tuple[int, int], YearGroup]
) -> YearGroup:
    group = year_groups.get((academy.pk, nc_year))
    if group is None:
        group = YearGroup.objects.create(
            academy=academy, nc_year=nc_year, key_stage=key_stage_for(nc_year)
        )
        year_groups[(academy.pk, nc_year)] = group
    return group


def _roll_tutor_groups(
    old_year: AcademicYear,
    new_year: AcademicYear,
    academies: dict[int, Academy],
    year_groups: dict[tuple[int, int], YearGroup],
    result: RolloverResult,
) -> dict[tuple[int, str], TutorGroup]:
    """Create next year's tutor groups from last year's and return every
    tutor group of the new year by (academy id, name).

    Groups move up with their tutor, and tutor role assignments move with
    them. The intake year keeps its group names with no tutor, ready for
    the new pupils.
    """
    existing = {
        (g.academy_id, g.name): g
        for g in TutorGroup.objects.filter(academic_year=new_year, academy_id__in=list(academies))
    }
    old_groups = (
        TutorGroup.objects.filter(academic_year=old_year, academy_id__in=list(academies))
        .select_related("year_group")
        .order_by("academy_id", "year_group__nc_year", "name")
    )
    to_create: list[TutorGroup] = []
    moved: list[tuple[int, TutorGroup]] = []
    for group in old_groups:
        academy = academies[group.academy_id]
        nc_year = group.year_group.nc_year
        plans = []
        if nc_year < final_nc_year(academy):
            next_name = next_tutor_group_name(group.name, nc_year, nc_year + 1)
            plans.append((next_name, nc_year + 1, group.tutor_id, True))
        if nc_year == entry_nc_year(academy):
            plans.append((group.name, nc_year, None, False))
        for name, target_nc, tutor_id, moves_up in plans:
            key = (academy.pk, name)
            if key in existing:
                continue
            new_group = TutorGroup(
                academy_id=academy.pk,
                academic_year=new_year,
                year_group=_year_group(academy, target_nc, year_groups),
                name=name,
                tutor_id=tutor_id,
                room=group.room,
            )
            existing[key] = new_group
            to_create.append(new_group)
            if moves_up:
                moved.append((group.pk, new_group))
    TutorGroup.objects.bulk_create(to_create, batch_size=BULK_BATCH_SIZE)
    result.tutor_groups_created += len(to_create)
    _move_tutor_roles(moved, old_year, new_year)
    return existing


def _move_tutor_roles(
    moved: list[tuple[int, TutorGroup]], old_year: AcademicYear, new_year: AcademicYear
) -> None:
    """End each tutor role on a group that moved up on 31 August and give
    the same staff member that role on the new group from 1 September."""
    new_by_old = dict(moved)
    roles = list(
        RoleAssignment.objects.filter(role=Role.TUTOR, tutor_group_id__in=list(new_by_old))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=old_year.end_date))
        .order_by("pk")
    )
    before = {role.pk: snapshot(role) for role in roles}
    created = [
        RoleAssignment(
            staff_id=role.staff_id,
            role=role.role,
            scope=role.scope,
            academy_id=role.academy_id,
            tutor_group=new_by_old[role.tutor_group_id],
            acting=role.acting,
            starts_on=new_year.start_date,
            ends_on=role.ends_on,
        )
        for role in roles
        if role.tutor_group_id is not None
    ]
    for role in roles:
        role.ends_on = old_year.end_date
    RoleAssignment.objects.filter(pk__in=[role.pk for role in roles]).update(
        ends_on=old_year.end_date
    )
    RoleAssignment.objects.bulk_create(created, batch_size=BULK_BATCH_SIZE)
    record_bulk(roles, AuditEvent.Action.UPDATE, before=before)
    record_bulk(created, AuditEvent.Action.CREATE)
