"""Staff absence: recording spells, days lost, absence rates and the
Bradford factor, and who may see or record a person's spells.

Working days. Staff at an academy are contracted for the days the academy
is open to pupils (academies.services.school_days) plus its whole-day INSET
closures, because staff work on INSET days. Holidays, weekends and other
whole-day closures are not working days. Staff of the trust's central team
have no academy calendar, so every Monday to Friday counts for them.

Days lost count working days only: a spell over a weekend loses the weekdays
either side. A first day taken as "afternoon only" or a last day taken as
"morning only" counts half a day. Days lost are not scaled by FTE; rates
weight both days lost and contracted days by FTE.
"""

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from academies.calendar import weekdays_between
from academies.models import AcademicYear, Academy, Closure, Term

# _term_periods is the calendar rule school_days uses; calling it here keeps
# one rule for term time while reading the calendar once for many academies.
from academies.services import _term_periods
from staff.models import Role, RoleAssignment, ScopeKind, StaffMember
from trust import audit, clock
from trust.access import scope_for

from .models import StaffAbsence

Part = StaffAbsence.Part
Reason = StaffAbsence.Reason

# The Bradford factor looks back over 52 weeks and counts unplanned absence.
BRADFORD_WEEKS = 52
BRADFORD_REASONS = (Reason.SICKNESS, Reason.UNAUTHORISED)
# Employees in the UK may self-certify sickness for up to 7 calendar days.
# A longer spell needs a fit note, so a manager or HR records it.
SELF_CERTIFIED_MAX_DAYS = 7
MAX_NOTES = 2000

_PART_SESSIONS = {
    Part.FULL: frozenset({"am", "pm"}),
    Part.AM: frozenset({"am"}),
    Part.PM: frozenset({"pm"}),
}


def _dmy(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


# Working days ---------------------------------------------------------------


class WorkingDays:
    """A set of working days that also counts the days in a range quickly."""

    def __init__(self, days: Iterable[datetime.date] = ()) -> None:
        self.ordered = sorted(set(days))
        self._days = frozenset(self.ordered)

    def __contains__(self, day: object) -> bool:
        return day in self._days

    def __iter__(self) -> Iterator[datetime.date]:
        return iter(self.ordered)

    def __len__(self) -> int:
        return len(self.ordered)

    def count(self, first: datetime.date, last: datetime.date) -> int:
        """Return how many of the days fall from `first` to `last` inclusive."""
        if first > last:
            return 0
        return bisect.bisect_right(self.ordered, last) - bisect.bisect_left(self.ordered, first)


NO_DAYS = WorkingDays()


def weekdays(start: datetime.date, end: datetime.date) -> WorkingDays:
    """Return Monday to Friday from `start` to `end`: the central team's working days."""
    # NOTE: bank holidays count as working days here, because the trust
    # calendar records no bank holidays outside academies' closures.
    return WorkingDays(weekdays_between(start, end)) if start <= end else NO_DAYS


def working_days_by_academy(
    academies: Iterable[Academy], start: datetime.date, end: datetime.date
) -> dict[int, WorkingDays]:
    """Return each academy's staff working days from `start` to `end`.

    Reads each trust's calendar once and every closure in one query, so the
    number of queries grows with the number of trusts, not academies.
    """
    academies = list(academies)
    if start > end or not academies:
        return {a.pk: NO_DAYS for a in academies}
    term_days: dict[int, set[datetime.date]] = {}
    for trust_id in {a.trust_id for a in academies}:
        days: set[datetime.date] = set()
        for period_start, period_end in _term_periods(trust_id, start, end):
            days.update(weekdays_between(max(start, period_start), min(end, period_end)))
        term_days[trust_id] = days

    closed: dict[int, set[datetime.date]] = defaultdict(set)
    inset: dict[int, set[datetime.date]] = defaultdict(set)
    closures = Closure.objects.filter(
        academy__in=academies, date__range=(start, end), sessions=Closure.Sessions.BOTH
    ).values_list("academy_id", "date", "kind")
    for academy_id, day, kind in closures:
        (inset if kind == Closure.Kind.INSET else closed)[academy_id].add(day)

    result = {}
    for academy in academies:
        days = (term_days[academy.trust_id] - closed[academy.pk]) | {
            day for day in inset[academy.pk] if day.weekday() < 5
        }
        if academy.closed_on is not None:
            days = {day for day in days if day < academy.closed_on}
        result[academy.pk] = WorkingDays(days)
    return result


def working_days(staff: StaffMember, start: datetime.date, end: datetime.date) -> WorkingDays:
    """Return the days from `start` to `end` that `staff` is contracted to work."""
    if staff.academy_id is None or staff.academy is None:
        return weekdays(start, end)
    return working_days_by_academy([staff.academy], start, end)[staff.academy_id]


class Employed(Protocol):
    @property
    def started_on(self) -> datetime.date | None: ...

    @property
    def left_on(self) -> datetime.date | None: ...


def _employment_bounds(
    staff: Employed, start: datetime.date, end: datetime.date
) -> tuple[datetime.date, datetime.date]:
    first = max(start, staff.started_on) if staff.started_on else start
    # left_on is the last day of employment.
    last = min(end, staff.left_on) if staff.left_on else end
    return first, last


# Days lost ------------------------------------------------------------------


def absent_sessions(
    start_date: datetime.date, start_part: str, end_date: datetime.date, end_part: str
) -> frozenset[str] | None:
    """Return the sessions absent on a one-day spell, or None when the
    parts exclude each other (an afternoon start with a morning end)."""
    sessions = _PART_SESSIONS[Part(start_part)] & _PART_SESSIONS[Part(end_part)]
    return sessions or None


class SpellDates(Protocol):
    """The fields of a spell that days lost depend on."""

    @property
    def start_date(self) -> datetime.date: ...

    @property
    def start_part(self) -> str: ...

    @property
    def end_date(self) -> datetime.date: ...

    @property
    def end_part(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SpellRow:
    """A spell read as plain values, for figures over many spells."""

    staff_id: int
    start_date: datetime.date
    start_part: str
    end_date: datetime.date
    end_part: str
    reason: str


@dataclass(frozen=True, slots=True)
class StaffRow:
    """A staff member read as plain values, for figures over many people."""

    pk: int
    academy_id: int | None
    fte: Decimal
    started_on: datetime.date | None
    left_on: datetime.date | None


def days_lost_between(
    absence: SpellDates,
    days: WorkingDays,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Decimal:
    """Count the working days in `days` that `absence` takes, within `start`
    to `end` when given. A half-day part counts only when its day is inside."""
    first = max(absence.start_date, start) if start else absence.start_date
    last = min(absence.end_date, end) if end else absence.end_date
    if first > last:
        return Decimal(0)
    whole = days.count(first, last)
    total = Decimal(whole)
    if absence.start_date == absence.end_date:
        sessions = absent_sessions(
            absence.start_date, absence.start_part, absence.end_date, absence.end_part
        )
        if whole and sessions is not None and len(sessions) == 1:
            total -= Decimal("0.5")
        return total
    if (
        absence.start_part != Part.FULL
        and absence.start_date >= first
        and absence.start_date in days
    ):
        total -= Decimal("0.5")
    if absence.end_part != Part.FULL and absence.end_date <= last and absence.end_date in days:
        total -= Decimal("0.5")
    return total


def days_lost(absence: StaffAbsence) -> Decimal:
    """Return the working days a spell takes, a half day counting 0.5."""
    return days_lost_between(
        absence, working_days(absence.staff, absence.start_date, absence.end_date)
    )


# Bradford factor ------------------------------------------------------------


@dataclass(frozen=True)
class BradfordFactor:
    spells: int
    days: Decimal
    window_start: datetime.date
    window_end: datetime.date

    @property
    def score(self) -> Decimal:
        return Decimal(self.spells * self.spells) * self.days


def bradford_factor(staff: StaffMember, to: datetime.date | None = None) -> BradfordFactor:
    """Compute S² × D over the 52 weeks to `to` (today by default): S is the
    number of sickness or unauthorised spells in that window and D the
    working days they take inside it."""
    to = to or clock.today()
    window_start = to - datetime.timedelta(weeks=BRADFORD_WEEKS) + datetime.timedelta(days=1)
    spells = list(
        StaffAbsence.objects.filter(
            staff=staff,
            reason__in=BRADFORD_REASONS,
            start_date__lte=to,
            end_date__gte=window_start,
        )
    )
    days = working_days(staff, window_start, to)
    total = sum((days_lost_between(s, days, window_start, to) for s in spells), Decimal(0))
    counted = [s for s in spells if days_lost_between(s, days, window_start, to) > 0]
    return BradfordFactor(spells=len(counted), days=total, window_start=window_start, window_end=to)


# Access ---------------------------------------------------------------------


def user_staff_id(user: Any) -> int | None:
    return scope_for(user).staff_id


def headteacher_academy_ids(user: Any) -> frozenset[int]:
    scope = scope_for(user)
    if not scope.has_role(Role.HEADTEACHER) or scope.staff_id is None:
        return frozenset()
    cached = getattr(user, "_staff_absence_head_academies", None)
    if cached is not None:
        return cached
    today = clock.today()
    ids = frozenset(
        RoleAssignment.objects.filter(
            staff_id=scope.staff_id, role=Role.HEADTEACHER, scope=ScopeKind.ACADEMY
        )
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values_list("academy_id", flat=True)
    )
    user._staff_absence_head_academies = ids
    return ids


def is_trust_hr(user: Any) -> bool:
    return scope_for(user).has_role(Role.TRUST_HR)


def can_see_person(user: Any, staff: StaffMember) -> bool:
    """Return whether `user` may see the spells of `staff`: the person themself,
    their line manager, the headteacher of their academy, or trust HR."""
    staff_id = user_staff_id(user)
    if staff_id is not None and staff_id in (staff.pk, staff.line_manager_id):
        return True
    if is_trust_hr(user):
        return True
    return staff.academy_id is not None and staff.academy_id in headteacher_academy_ids(user)


def can_manage_person(user: Any, staff: StaffMember) -> bool:
    """Return whether `user` may record any kind of spell for `staff`: line manager,
    headteacher or trust HR. A person records only their own sickness."""
    if staff.line_manager_id is not None and staff.line_manager_id == user_staff_id(user):
        return True
    if is_trust_hr(user):
        return True
    return staff.academy_id is not None and staff.academy_id in headteacher_academy_ids(user)


def is_self(user: Any, staff: StaffMember) -> bool:
    return user_staff_id(user) == staff.pk


def visible_absence_people(user: Any) -> Any:
    """Return the staff whose spells `user` may see, as a queryset."""
    staff = StaffMember.objects.select_related("academy", "line_manager")
    if is_trust_hr(user):
        return staff.all()
    staff_id = user_staff_id(user)
    condition = Q(pk__in=[])
    if staff_id is not None:
        condition |= Q(pk=staff_id) | Q(line_manager_id=staff_id)
    heads = headteacher_academy_ids(user)
    if heads:
        condition |= Q(academy_id__in=heads)
    return staff.filter(condition)


def visible_absences(user: Any) -> Any:
    """Return the spells `user` may open. Pages return 404 for any other spell."""
    return StaffAbsence.objects.select_related(
        "staff", "staff__academy", "staff__line_manager", "recorded_by"
    ).filter(staff__in=visible_absence_people(user))


def aggregate_academy_ids(user: Any) -> tuple[bool, frozenset[int]]:
    """Return whether `user` sees the whole trust's absence rates, and else
    the academies whose rates they see: trust leaders and HR see every
    academy, headteachers their own."""
    scope = scope_for(user)
    if scope.has_role(Role.TRUST_LEADER, Role.TRUST_HR):
        return True, frozenset()
    return False, headteacher_academy_ids(user)


# Recording ------------------------------------------------------------------


@dataclass(frozen=True)
class SpellInput:
    start_date: datetime.date
    end_date: datetime.date
    reason: str
    start_part: str = Part.FULL
    end_part: str = Part.FULL
    sickness_category: str = ""
    cover_needed: bool = False
    notes: str = ""


def _choice_error(field_name: str, value: str, choices: Sequence[str]) -> ValidationError:
    allowed = ", ".join(f"“{c}”" for c in choices)
    return ValidationError({field_name: f"“{value}” is not a valid choice; allowed: {allowed}."})


def _check_shape(spell: SpellInput) -> None:
    if spell.reason not in Reason.values:
        raise _choice_error("reason", spell.reason, Reason.values)
    for name in ("start_part", "end_part"):
        if getattr(spell, name) not in Part.values:
            raise _choice_error(name, getattr(spell, name), Part.values)
    if spell.end_date < spell.start_date:
        raise ValidationError(
            {
                "end_date": f"The end date {_dmy(spell.end_date)} is before the start date "
                f"{_dmy(spell.start_date)}; it must be on or after the start date."
            }
        )
    if spell.reason == Reason.SICKNESS and not spell.sickness_category:
        raise ValidationError(
            {"sickness_category": "A sickness category is required when the reason is sickness."}
        )
    if spell.reason == Reason.SICKNESS and spell.sickness_category not in (
        StaffAbsence.SicknessCategory.values
    ):
        raise _choice_error(
            "sickness_category", spell.sickness_category, StaffAbsence.SicknessCategory.values
        )
    if spell.reason != Reason.SICKNESS and spell.sickness_category:
        label = Reason(spell.reason).label
        raise ValidationError(
            {
                "sickness_category": f"A sickness category is only for sickness, but the reason "
                f"is “{label}”; leave the category empty or choose sickness."
            }
        )
    if len(spell.notes) > MAX_NOTES:
        raise ValidationError(
            {"notes": f"Notes have {len(spell.notes)} characters; at most {MAX_NOTES} are allowed."}
        )
    _check_parts(spell)


def _check_parts(spell: SpellInput) -> None:
    start_label = Part(spell.start_part).label.lower()
    end_label = Part(spell.end_part).label.lower()
    if spell.start_date == spell.end_date:
        if absent_sessions(spell.start_date, spell.start_part, spell.end_date, spell.end_part):
            return
        raise ValidationError(
            {
                "end_part": f"On a one-day spell on {_dmy(spell.start_date)} the start is "
                f"“{start_label}” and the end “{end_label}”, which leaves no session absent; "
                "choose the same part for both, or whole day."
            }
        )
    # A first day of "morning only" or a last day of "afternoon only" would
    # leave a gap inside the spell, so it is two spells.
    if spell.start_part == Part.AM:
        raise ValidationError(
            {
                "start_part": "The first day of a spell over several days cannot be “morning "
                "only”; choose whole day or afternoon only, or record the morning as its own spell."
            }
        )
    if spell.end_part == Part.PM:
        raise ValidationError(
            {
                "end_part": "The last day of a spell over several days cannot be “afternoon "
                "only”; choose whole day or morning only, or record the afternoon as its own spell."
            }
        )


def _check_against_record(
    *, staff: StaffMember, spell: SpellInput, actor: Any, existing: StaffAbsence | None
) -> None:
    today = clock.today()
    if staff.started_on and spell.start_date < staff.started_on:
        raise ValidationError(
            {
                "start_date": f"The start date {_dmy(spell.start_date)} is before "
                f"{staff.full_name} started on {_dmy(staff.started_on)}."
            }
        )
    if staff.left_on and spell.end_date > staff.left_on:
        raise ValidationError(
            {
                "end_date": f"The end date {_dmy(spell.end_date)} is after {staff.full_name} "
                f"left on {_dmy(staff.left_on)}."
            }
        )
    if spell.reason in BRADFORD_REASONS and spell.start_date > today:
        label = Reason(spell.reason).label.lower()
        raise ValidationError(
            {
                "start_date": f"The start date {_dmy(spell.start_date)} is in the future; "
                f"{label} can be recorded from today ({_dmy(today)}) back."
            }
        )
    if is_self(actor, staff) and not can_manage_person(actor, staff):
        if spell.reason != Reason.SICKNESS:
            label = Reason(spell.reason).label.lower()
            raise ValidationError(
                {
                    "reason": f"You can record your own sickness only, not “{label}”; "
                    "ask your line manager to record it."
                }
            )
        length = (spell.end_date - spell.start_date).days + 1
        if length > SELF_CERTIFIED_MAX_DAYS:
            raise ValidationError(
                {
                    "end_date": f"The spell lasts {length} calendar days; you can self-certify "
                    f"at most {SELF_CERTIFIED_MAX_DAYS}. A longer spell needs a fit note, and "
                    "your line manager or HR records it."
                }
            )
    overlapping = StaffAbsence.objects.filter(
        staff=staff, start_date__lte=spell.end_date, end_date__gte=spell.start_date
    )
    if existing is not None:
        overlapping = overlapping.exclude(pk=existing.pk)
    clash = overlapping.order_by("start_date").first()
    if clash is not None:
        raise ValidationError(
            {
                "start_date": f"The spell overlaps the spell already recorded from "
                f"{_dmy(clash.start_date)} to {_dmy(clash.end_date)} "
                f"({clash.get_reason_display().lower()}); change that spell instead."
            }
        )
    working = working_days(staff, spell.start_date, spell.end_date)
    if not working:
        raise ValidationError(
            {
                "start_date": f"No day from {_dmy(spell.start_date)} to {_dmy(spell.end_date)} "
                f"is a working day for {staff.full_name}; weekends, holidays and closures are "
                "not absence."
            }
        )


def _apply(absence: StaffAbsence, spell: SpellInput) -> None:
    absence.start_date = spell.start_date
    absence.start_part = spell.start_part
    absence.end_date = spell.end_date
    absence.end_part = spell.end_part
    absence.reason = spell.reason
    absence.sickness_category = spell.sickness_category
    absence.cover_needed = spell.cover_needed
    absence.notes = spell.notes


def absence_record(*, actor: Any, staff: StaffMember, spell: SpellInput) -> StaffAbsence:
    """Record a spell for `staff`, after checking that `actor` may and that
    the spell is valid. Raises ValidationError naming the field and value.
    The audit record comes from the model's audit registration."""
    if not (can_manage_person(actor, staff) or is_self(actor, staff)):
        raise PermissionError("The user may not record absence for this staff member.")
    _check_shape(spell)
    with transaction.atomic():
        # Lock the person so two overlapping spells cannot both pass the check.
        StaffMember.objects.select_for_update().filter(pk=staff.pk).first()
        _check_against_record(staff=staff, spell=spell, actor=actor, existing=None)
        absence = StaffAbsence(staff=staff, recorded_by=actor)
        _apply(absence, spell)
        with audit.acting_as(actor):
            absence.save()
    return absence


def can_change_absence(user: Any, absence: StaffAbsence) -> bool:
    """Return whether `user` may change or delete `absence`. Managers may
    change any spell of their people, and a person the spells they recorded."""
    if can_manage_person(user, absence.staff):
        return True
    return is_self(user, absence.staff) and absence.recorded_by_id == getattr(user, "pk", None)


def absence_change(*, actor: Any, absence: StaffAbsence, spell: SpellInput) -> StaffAbsence:
    """Change a spell's dates, parts, reason or notes."""
    if not can_change_absence(actor, absence):
        raise PermissionError("The user may not change this spell.")
    _check_shape(spell)
    with transaction.atomic():
        StaffMember.objects.select_for_update().filter(pk=absence.staff_id).first()
        _check_against_record(staff=absence.staff, spell=spell, actor=actor, existing=absence)
        _apply(absence, spell)
        with audit.acting_as(actor):
            absence.save()
    return absence


def absence_delete(*, actor: Any, absence: StaffAbsence) -> None:
    """Delete a spell recorded in error."""
    if not can_change_absence(actor, absence):
        raise PermissionError("The user may not delete this spell.")
    with transaction.atomic(), audit.acting_as(actor):
        absence.delete()


# Rates ----------------------------------------------------------------------


@dataclass
class RateCell:
    """FTE-weighted days lost against FTE-weighted contracted days."""

    contracted: Decimal = Decimal(0)
    lost: Decimal = Decimal(0)
    lost_by_reason: dict[str, Decimal] = field(default_factory=dict)
    staff_count: int = 0

    @property
    def rate(self) -> float | None:
        return percentage(self.lost, self.contracted)

    def reason_rate(self, reason: str) -> float | None:
        return percentage(self.lost_by_reason.get(reason, Decimal(0)), self.contracted)

    @property
    def reason_rates(self) -> list[float | None]:
        return [self.reason_rate(reason) for reason in Reason.values]


def percentage(part: Decimal, whole: Decimal) -> float | None:
    """Return `part` as a percentage of `whole` with one decimal, half up."""
    if not whole:
        return None
    value = (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(value)


@dataclass
class RateRow:
    label: str
    academy_id: int | None
    terms: list[RateCell]
    year: RateCell


@dataclass
class RateTable:
    academic_year: AcademicYear
    term_labels: list[str]
    rows: list[RateRow]
    total: RateRow


def _terms_of(year: AcademicYear) -> list[tuple[str, datetime.date, datetime.date]]:
    terms = Term.objects.filter(academic_year=year, parent__isnull=True).order_by("start_date")
    found = [(t.get_season_display(), t.start_date, t.end_date) for t in terms]
    return found or [("Whole year", year.start_date, year.end_date)]


def absence_rates(
    *, academies: Sequence[Academy], year: AcademicYear, include_central: bool, to: datetime.date
) -> RateTable:
    """Compute staff absence rates by academy and term of `year`, up to `to`.

    Contracted days are, per staff member on roll, FTE × working days while
    employed; days lost are FTE × working days each spell takes. The query
    count does not depend on the number of staff or spells.
    """
    end = min(year.end_date, to)
    terms = [(label, s, min(e, end)) for label, s, e in _terms_of(year) if s <= end]
    academies = list(academies)
    days_by_academy = working_days_by_academy(academies, year.start_date, end)
    central_days = weekdays(year.start_date, end)

    staff_filter = Q(academy__in=academies)
    if include_central:
        staff_filter |= Q(academy__isnull=True)
    on_roll = (
        StaffMember.objects.filter(staff_filter)
        .filter(Q(started_on__isnull=True) | Q(started_on__lte=end))
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=year.start_date))
    )
    # Plain values rather than model instances, because a large trust has
    # thousands of staff and spells to read on every request.
    staff_rows = [
        StaffRow(*values)
        for values in on_roll.values_list("id", "academy_id", "fte", "started_on", "left_on")
    ]
    spells_by_staff: dict[int, list[SpellRow]] = defaultdict(list)
    spells = StaffAbsence.objects.filter(
        staff__in=on_roll.values("id"), start_date__lte=end, end_date__gte=year.start_date
    ).values_list("staff_id", "start_date", "start_part", "end_date", "end_part", "reason")
    for values in spells:
        spells_by_staff[values[0]].append(SpellRow(*values))

    rows: dict[int | None, RateRow] = {}
    for academy in sorted(academies, key=lambda a: a.name):
        rows[academy.pk] = RateRow(
            academy.name, academy.pk, [RateCell() for _ in terms], RateCell()
        )
    if include_central:
        rows[None] = RateRow("Central team", None, [RateCell() for _ in terms], RateCell())
    total = RateRow("All", None, [RateCell() for _ in terms], RateCell())

    for member in staff_rows:
        days = (
            days_by_academy.get(member.academy_id, NO_DAYS) if member.academy_id else central_days
        )
        row = rows[member.academy_id]
        first, last = _employment_bounds(member, year.start_date, end)
        for index, (_label, term_start, term_end) in enumerate(terms):
            start = max(first, term_start)
            stop = min(last, term_end)
            if start > stop:
                continue
            contracted = member.fte * days.count(start, stop)
            lost_by_reason: dict[str, Decimal] = defaultdict(Decimal)
            for spell in spells_by_staff.get(member.pk, []):
                lost_by_reason[spell.reason] += member.fte * days_lost_between(
                    spell, days, start, stop
                )
            for cell in (row.terms[index], row.year, total.terms[index], total.year):
                _add(cell, contracted, lost_by_reason)
        row.year.staff_count += 1
        total.year.staff_count += 1
    return RateTable(
        academic_year=year,
        term_labels=[label for label, _s, _e in terms],
        rows=list(rows.values()),
        total=total,
    )


def _add(cell: RateCell, contracted: Decimal, lost_by_reason: dict[str, Decimal]) -> None:
    cell.contracted += contracted
    for reason, days in lost_by_reason.items():
        cell.lost += days
        cell.lost_by_reason[reason] = cell.lost_by_reason.get(reason, Decimal(0)) + days


# Lists for pages ------------------------------------------------------------


@dataclass(frozen=True)
class PersonSummary:
    staff: StaffMember
    days_this_year: Decimal
    spells_this_year: int
    bradford: BradfordFactor


def people_summaries(
    staff: Sequence[StaffMember], year: AcademicYear | None, to: datetime.date
) -> list[PersonSummary]:
    """Summarise each person's spells this academic year and their Bradford
    factor to `to`, reading spells and calendars once for the whole list."""
    staff = list(staff)
    if not staff:
        return []
    window_start = to - datetime.timedelta(weeks=BRADFORD_WEEKS) + datetime.timedelta(days=1)
    year_start = year.start_date if year else to
    start = min(window_start, year_start)
    academies = {s.academy_id: s.academy for s in staff if s.academy_id and s.academy}
    days_by_academy = working_days_by_academy(academies.values(), start, to)
    central = weekdays(start, to)
    spells_by_staff: dict[int, list[StaffAbsence]] = defaultdict(list)
    for spell in StaffAbsence.objects.filter(
        staff__in=[s.pk for s in staff], start_date__lte=to, end_date__gte=start
    ):
        spells_by_staff[spell.staff_id].append(spell)

    summaries = []
    for member in staff:
        days = days_by_academy.get(member.academy_id, NO_DAYS) if member.academy_id else central
        spells = spells_by_staff.get(member.pk, [])
        year_days = [days_lost_between(s, days, year_start, to) for s in spells]
        unplanned = [
            days_lost_between(s, days, window_start, to)
            for s in spells
            if s.reason in BRADFORD_REASONS
        ]
        unplanned = [d for d in unplanned if d > 0]
        summaries.append(
            PersonSummary(
                staff=member,
                days_this_year=sum(year_days, Decimal(0)),
                spells_this_year=sum(1 for d in year_days if d > 0),
                bradford=BradfordFactor(
                    spells=len(unplanned),
                    days=sum(unplanned, Decimal(0)),
                    window_start=window_start,
                    window_end=to,
                ),
            )
        )
    return summaries


def highest_bradford(
    people: QuerySet[StaffMember], to: datetime.date, limit: int
) -> list[PersonSummary]:
    """Return up to `limit` of `people` with the highest Bradford factors to
    `to`, highest first, leaving out people with no unplanned absence.

    Reads spells as plain values and loads only the people listed, so a
    trust-wide list stays fast with thousands of staff.
    """
    window_start = to - datetime.timedelta(weeks=BRADFORD_WEEKS) + datetime.timedelta(days=1)
    spells = StaffAbsence.objects.filter(
        staff__in=people.values("id"),
        reason__in=BRADFORD_REASONS,
        start_date__lte=to,
        end_date__gte=window_start,
    ).values_list(
        "staff_id",
        "start_date",
        "start_part",
        "end_date",
        "end_part",
        "reason",
        "staff__academy_id",
    )
    spells_by_staff: dict[int, list[SpellRow]] = defaultdict(list)
    academy_of: dict[int, int | None] = {}
    for staff_id, start_date, start_part, end_date, end_part, reason, academy_id in spells:
        spells_by_staff[staff_id].append(
            SpellRow(staff_id, start_date, start_part, end_date, end_part, reason)
        )
        academy_of[staff_id] = academy_id
    if not spells_by_staff:
        return []

    academies = Academy.objects.filter(pk__in={a for a in academy_of.values() if a})
    days_by_academy = working_days_by_academy(academies, window_start, to)
    central = weekdays(window_start, to)
    scores: list[tuple[Decimal, int, BradfordFactor]] = []
    for staff_id, rows in spells_by_staff.items():
        workplace = academy_of[staff_id]
        days = central if workplace is None else days_by_academy.get(workplace, NO_DAYS)
        lost = [days_lost_between(row, days, window_start, to) for row in rows]
        lost = [value for value in lost if value > 0]
        if not lost:
            continue
        factor = BradfordFactor(
            spells=len(lost), days=sum(lost, Decimal(0)), window_start=window_start, window_end=to
        )
        scores.append((factor.score, staff_id, factor))

    scores.sort(key=lambda item: (-item[0], item[1]))
    chosen = scores[:limit]
    members = StaffMember.objects.select_related("academy").in_bulk([s for _score, s, _f in chosen])
    return [
        PersonSummary(
            staff=members[staff_id],
            days_this_year=Decimal(0),
            spells_this_year=0,
            bradford=factor,
        )
        for _score, staff_id, factor in chosen
    ]
