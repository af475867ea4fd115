"""Suspensions, lunchtime suspensions and permanent exclusions: recording,
changes and withdrawal, the E marks they put in the register, and the
totals and flags that the DfE guidance (models.GUIDANCE_EDITION) sets.

Every session a suspension covers is a SuspensionSession row. A session
counts as half a school day, and so does a lunchtime, so a pupil's school
days of suspension are their active sessions divided by two.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404

from academies.models import AcademicYear, Academy, Closure, Term
from academies.services import school_days
from attendance.services import MarkInput, marks_save
from pupils.models import Enrolment, Pupil, active_on
from pupils.selectors import visible_pupils
from staff.models import Role, RoleAssignment, ScopeKind, StaffMember
from trust import audit, clock
from trust.access import scope_for

from . import codes
from .access import visible_suspensions
from .models import GUIDANCE_EDITION, Incident, Suspension, SuspensionSession

logger = logging.getLogger(__name__)

Kind = Suspension.Kind
Status = Suspension.Status
LUNCHTIME = SuspensionSession.LUNCHTIME
# Kinds whose sessions count towards the school days of suspension.
COUNTED_KINDS = (Kind.SUSPENSION, Kind.LUNCHTIME)
# Order of the sessions of one day: morning, lunchtime, afternoon.
SESSION_ORDER = {"AM": 0, LUNCHTIME: 1, "PM": 2}

# Limits and thresholds of the DfE guidance, in school days per academy.
MAX_DAYS_PER_YEAR = Decimal(45)
NOTIFY_DAYS_PER_TERM = Decimal(5)
NOTIFY_LUNCHTIMES_PER_TERM = 10
REINSTATEMENT_DAYS_PER_TERM = Decimal(15)
# From the sixth school day of a suspension the pupil must have suitable
# full-time education: sessions 11 onwards.
PROVISION_FROM_SESSION = 11
MAX_SESSIONS = int(MAX_DAYS_PER_YEAR * 2)
LEAVING_REASON = "Permanently excluded"
# Roles that may record a suspension for any pupil of their academy. A head
# of year may record one for a pupil of their year group.
RECORDING_ROLES = {
    Role.HEADTEACHER,
    Role.ACADEMY_LEADER,
    Role.ATTENDANCE_OFFICER,
    Role.SAFEGUARDING_LEAD,
}
WITHDRAWING_ROLES = {Role.HEADTEACHER, Role.ACADEMY_LEADER}
UPDATABLE_FIELDS = {
    "parents_notified_on",
    "governors_notified_on",
    "local_authority_notified_on",
    "reintegration_meeting_on",
    "reintegration_notes",
    "alternative_provision_details",
    "end_date",
}


def _dmy(day: datetime.date) -> str:
    return f"{day:%d/%m/%Y}"


def days_text(days: Decimal) -> str:
    """Return a number of school days as "5", "5.5"."""
    return f"{days.normalize():f}"


# Who may do what --------------------------------------------------------------


def can_record(user: Any, academy_id: int, year_group_id: int | None) -> bool:
    """Return whether `user` may record a suspension for a pupil of that
    academy: trust leaders and administrators, and the headteacher, academy
    leaders and attendance officers there, who enter the headteacher's
    decision. Heads of year propose a suspension but do not record one, so
    no one below the leadership writes a decision in the head's name."""
    if user.is_superuser:
        return True
    scope = scope_for(user)
    if scope.all_pupils:
        return True
    return scope.has_role(*RECORDING_ROLES) and (
        academy_id in scope.pupil_academy_ids or academy_id in scope.safeguarding_academy_ids
    )


def can_record_anywhere(user: Any) -> bool:
    """Return whether `user` may record a suspension for some pupil."""
    if user.is_superuser:
        return True
    scope = scope_for(user)
    return bool(
        scope.all_pupils
        or (
            scope.has_role(*RECORDING_ROLES)
            and (scope.pupil_academy_ids or scope.safeguarding_academy_ids)
        )
    )


def can_withdraw(user: Any, suspension: Suspension) -> bool:
    """Return whether `user` may withdraw the suspension: the headteacher or
    a leader of its academy, or a trust leader."""
    if user.is_superuser:
        return True
    scope = scope_for(user)
    if scope.has_role(Role.TRUST_LEADER) and scope.all_pupils:
        return True
    return scope.has_role(*WITHDRAWING_ROLES) and suspension.academy_id in scope.pupil_academy_ids


def headteachers(academy_id: int, on: datetime.date) -> list[StaffMember]:
    """Return the staff who hold the headteacher role (acting or not) over
    the academy, or over the whole trust, on `on`."""
    return list(
        StaffMember.objects.filter(
            roles__in=_headteacher_roles(academy_id, on),
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def _headteacher_roles(academy_id: int, on: datetime.date) -> Any:
    return RoleAssignment.objects.filter(
        Q(scope=ScopeKind.ACADEMY, academy_id=academy_id) | Q(scope=ScopeKind.TRUST),
        Q(starts_on__isnull=True) | Q(starts_on__lte=on),
        Q(ends_on__isnull=True) | Q(ends_on__gte=on),
        role=Role.HEADTEACHER,
    )


# School sessions ----------------------------------------------------------------


def school_sessions(
    academy: Academy,
    start: datetime.date,
    start_session: str,
    *,
    end: datetime.date | None = None,
    count: int | None = None,
    lunchtime: bool = False,
) -> list[tuple[datetime.date, str]]:
    """Return the academy's school sessions from `start` (`start_session`
    onwards) up to `end`, or the first `count` of them.

    School days come from academies.services.school_days, so weekends,
    holidays and whole-day closures are skipped; a morning-only or
    afternoon-only closure removes that session. With `lunchtime` each school
    day gives one LN session instead of AM and PM. Without `end`, sessions
    are looked for up to a year after `start`.
    """
    last = end if end is not None else start + datetime.timedelta(days=366)
    days = school_days(academy, start, last)
    half_closed = {
        (c.date, c.sessions.upper())
        for c in Closure.objects.filter(
            academy=academy,
            date__range=(start, last),
            sessions__in=[Closure.Sessions.AM, Closure.Sessions.PM],
        )
    }
    sessions: list[tuple[datetime.date, str]] = []
    for day in days:
        names = [LUNCHTIME] if lunchtime else ["AM", "PM"]
        for name in names:
            if day == start and name == "AM" and start_session == "PM":
                continue
            if (day, name) in half_closed:
                continue
            sessions.append((day, name))
            if count is not None and len(sessions) == count:
                return sessions
    return sessions


# Recording --------------------------------------------------------------------


def _check_reasons(reasons: Sequence[str], start_date: datetime.date) -> list[str]:
    cleaned = [code.strip().upper() for code in reasons if code and code.strip()]
    errors = []
    if not cleaned:
        errors.append(
            f"At least one reason is required; give 1 to {codes.MAX_REASONS} DfE reason codes."
        )
    if len(cleaned) > codes.MAX_REASONS:
        errors.append(
            f"{len(cleaned)} reasons given ({', '.join(cleaned)}); at most "
            f"{codes.MAX_REASONS} may be recorded."
        )
    repeated = sorted({code for code in cleaned if cleaned.count(code) > 1})
    if repeated:
        errors.append(f"Reason {', '.join(repeated)} is given twice; give each reason once.")
    for code in dict.fromkeys(cleaned):
        problem = codes.reason_error(code, start_date)
        if problem:
            errors.append(problem)
    if errors:
        raise ValidationError({"reasons": errors})
    return cleaned


def _check_decided_by(
    decided_by_id: int, academy: Academy, decided_on: datetime.date
) -> StaffMember:
    person = StaffMember.objects.filter(pk=decided_by_id).first()
    if person is None:
        raise ValidationError(
            {"decided_by": [f"Staff member {decided_by_id} was not found; choose the headteacher."]}
        )
    if not _headteacher_roles(academy.pk, decided_on).filter(staff=person).exists():
        raise ValidationError(
            {
                "decided_by": [
                    f"{person.full_name} was not the headteacher or acting headteacher of "
                    f"{academy.name} on {_dmy(decided_on)}; only the headteacher or acting "
                    "headteacher may suspend or exclude a pupil."
                ]
            }
        )
    return person


def _enrolment_on(pupil: Pupil, day: datetime.date) -> Enrolment:
    enrolment = (
        pupil.enrolments.filter(active_on(day))
        .select_related("academy", "year_group")
        .order_by("-start_date", "-pk")
        .first()
    )
    if enrolment is None:
        raise ValidationError(
            {
                "start_date": [
                    f"{pupil.display_name} is not on roll at any academy on {_dmy(day)}; a "
                    "suspension must start on a day the pupil is on roll."
                ]
            }
        )
    return enrolment


def _plan_sessions(
    *,
    kind: str,
    academy: Academy,
    start_date: datetime.date,
    start_session: str,
    sessions: int | None,
    end_date: datetime.date | None,
) -> list[tuple[datetime.date, str]]:
    """Return the sessions a new suspension covers, or raise ValidationError."""
    if end_date is not None and end_date < start_date:
        raise ValidationError(
            {
                "end_date": [
                    f"The end date {_dmy(end_date)} is before the start date "
                    f"{_dmy(start_date)}; give an end date on or after the start."
                ]
            }
        )
    if kind == Kind.PERMANENT:
        if sessions is not None:
            raise ValidationError(
                {
                    "sessions": [
                        f"A permanent exclusion has no number of sessions ({sessions} given); "
                        "give the last day on roll as the end date instead, or leave both empty."
                    ]
                }
            )
        if end_date is None:
            # The pupil stays on roll, marked E, until the last day on roll is
            # known: sessions up to today now, later ones by the daily task.
            return school_sessions(academy, start_date, start_session, end=clock.today())
        return school_sessions(academy, start_date, start_session, end=end_date)

    noun = "lunchtimes" if kind == Kind.LUNCHTIME else "sessions"
    if sessions is None and end_date is None:
        raise ValidationError(
            {"sessions": [f"Give the number of {noun} or the end date of the suspension."]}
        )
    if sessions is not None and end_date is not None:
        raise ValidationError(
            {
                "sessions": [
                    f"Both {sessions} {noun} and the end date {_dmy(end_date)} were given; "
                    "give one of them."
                ]
            }
        )
    if sessions is not None and not 1 <= sessions <= MAX_SESSIONS:
        raise ValidationError(
            {
                "sessions": [
                    f"{sessions} {noun} is not allowed; give 1 to {MAX_SESSIONS} (a school "
                    f"day is {'one lunchtime' if kind == Kind.LUNCHTIME else 'two sessions'})."
                ]
            }
        )
    lunchtime = kind == Kind.LUNCHTIME
    planned = school_sessions(
        academy, start_date, start_session, end=end_date, count=sessions, lunchtime=lunchtime
    )
    first_ok = planned and planned[0][0] == start_date
    if not first_ok:
        session_text = "" if lunchtime else f" ({start_session})"
        raise ValidationError(
            {
                "start_date": [
                    f"{_dmy(start_date)}{session_text} is not a school session at "
                    f"{academy.name} (a weekend, holiday or closure); start the suspension "
                    "on a school day."
                ]
            }
        )
    if sessions is not None and len(planned) < sessions:
        raise ValidationError(
            {
                "sessions": [
                    f"{academy.name} has only {len(planned)} school {noun} recorded in the "
                    f"year from {_dmy(start_date)}, fewer than the {sessions} given; record "
                    "the term dates first or give fewer."
                ]
            }
        )
    return planned


def _clashes(a: str, b: str) -> bool:
    return a == b or LUNCHTIME in (a, b)


def _check_overlap(
    pupil: Pupil, planned: list[tuple[datetime.date, str]], exclude_id: int | None = None
) -> None:
    if not planned:
        return
    existing = SuspensionSession.objects.filter(
        pupil=pupil,
        date__in={day for day, _ in planned},
        suspension__status=Status.ACTIVE,
    ).select_related("suspension")
    if exclude_id is not None:
        existing = existing.exclude(suspension_id=exclude_id)
    by_day: dict[datetime.date, list[SuspensionSession]] = defaultdict(list)
    for row in existing:
        by_day[row.date].append(row)
    for day, name in planned:
        for row in by_day.get(day, []):
            if _clashes(name, row.session):
                other = row.suspension
                other_kind = other.get_kind_display().lower()
                raise ValidationError(
                    {
                        "start_date": [
                            f"{pupil.display_name} already has a {other_kind} "
                            f"(from {_dmy(other.start_date)}) covering {_dmy(day)} {row.session}; "
                            "suspensions of one pupil may not overlap. Withdraw the other "
                            "first or choose other dates."
                        ]
                    }
                )


def _year_of(day: datetime.date, years: Sequence[AcademicYear]) -> AcademicYear | None:
    for year in years:
        if year.start_date <= day <= year.end_date:
            return year
    return None


def _check_year_cap(
    pupil: Pupil,
    academy: Academy,
    planned: list[tuple[datetime.date, str]],
    exclude_id: int | None = None,
) -> None:
    """Reject sessions that take the pupil's school days of suspension at the
    academy over 45 in any academic year."""
    if not planned:
        return
    years = list(
        AcademicYear.objects.filter(
            trust_id=academy.trust_id,
            start_date__lte=planned[-1][0],
            end_date__gte=planned[0][0],
        )
    )
    new_by_year: dict[int, int] = defaultdict(int)
    for day, _ in planned:
        year = _year_of(day, years)
        if year is not None:
            new_by_year[year.pk] += 1
    for year in years:
        if not new_by_year.get(year.pk):
            continue
        existing = _counted_sessions().filter(
            pupil=pupil, academy=academy, date__range=(year.start_date, year.end_date)
        )
        if exclude_id is not None:
            existing = existing.exclude(suspension_id=exclude_id)
        current = Decimal(existing.count()) / 2
        total = current + Decimal(new_by_year[year.pk]) / 2
        if total > MAX_DAYS_PER_YEAR:
            raise ValidationError(
                {
                    "sessions": [
                        f"{pupil.display_name} already has {days_text(current)} school days of "
                        f"suspension at {academy.name} in {year.name}; this one would bring the "
                        f"total to {days_text(total)}, over the legal maximum of "
                        f"{days_text(MAX_DAYS_PER_YEAR)} school days in an academic year."
                    ]
                }
            )


def _counted_sessions() -> Any:
    return SuspensionSession.objects.filter(
        suspension__status=Status.ACTIVE, suspension__kind__in=COUNTED_KINDS
    )


def _end_enrolment(
    pupil: Pupil, academy: Academy, last_day: datetime.date, *, field_name: str = "end_date"
) -> None:
    """End the pupil's enrolment at `academy` on `last_day` as permanently excluded."""
    later = (
        Enrolment.objects.filter(pupil=pupil, academy=academy, start_date__gt=last_day)
        .order_by("start_date")
        .first()
    )
    if later is not None:
        raise ValidationError(
            {
                field_name: [
                    f"{pupil.display_name} has an enrolment at {academy.name} starting "
                    f"{_dmy(later.start_date)}, after the last day on roll {_dmy(last_day)}; "
                    "end or remove that enrolment first."
                ]
            }
        )
    enrolment = (
        Enrolment.objects.filter(active_on(last_day), pupil=pupil, academy=academy)
        .order_by("-start_date")
        .first()
    )
    if enrolment is None:
        raise ValidationError(
            {
                field_name: [
                    f"{pupil.display_name} is not on roll at {academy.name} on "
                    f"{_dmy(last_day)}; the last day on roll must be a day on roll."
                ]
            }
        )
    enrolment.end_date = last_day
    enrolment.leaving_reason = LEAVING_REASON
    enrolment.save(update_fields=["end_date", "leaving_reason"])


def _check_on_roll_until(
    pupil: Pupil, academy: Academy, planned: list[tuple[datetime.date, str]]
) -> None:
    """Reject sessions on days the pupil is no longer on roll at the academy."""
    if not planned:
        return
    last = planned[-1][0]
    covered = Enrolment.objects.filter(active_on(last), pupil=pupil, academy=academy).exists()
    if not covered:
        raise ValidationError(
            {
                "end_date": [
                    f"The suspension runs to {_dmy(last)}, but {pupil.display_name} is not on "
                    f"roll at {academy.name} that day; end it on or before the last day on roll."
                ]
            }
        )


def _check_not_future(name: str, label: str, value: datetime.date | None) -> None:
    if value is not None and value > clock.today():
        raise ValidationError(
            {
                name: [
                    f"The {label} {_dmy(value)} is in the future; give today "
                    f"({_dmy(clock.today())}) or an earlier date."
                ]
            }
        )


@transaction.atomic
def suspension_record(
    *,
    actor: Any,
    pupil_id: int,
    kind: str,
    start_date: datetime.date,
    start_session: str = "AM",
    sessions: int | None = None,
    end_date: datetime.date | None = None,
    reasons: Sequence[str],
    decided_by_id: int,
    decided_on: datetime.date | None = None,
    details: str = "",
    incident_id: int | None = None,
    alternative_provision: bool = False,
    alternative_provision_details: str = "",
    misses_public_exam: bool = False,
    parents_notified_on: datetime.date | None = None,
) -> Suspension:
    """Record a suspension, lunchtime suspension or permanent exclusion, with
    its sessions and the E marks of those up to today.

    A suspension gives `sessions` (two a day) or `end_date`; a lunchtime
    suspension gives the number of lunchtimes or the last day. A permanent
    exclusion may give the last day on roll as `end_date`, which ends the
    pupil's enrolment. `decided_on` defaults to the start date, or today if
    the start is later.

    Raise Http404 for a pupil the actor cannot see, and PermissionDenied
    when the actor may not record suspensions for the pupil. Raise
    ValidationError naming the field for invalid input. Nothing is written
    when any of them is raised.
    """
    pupil = visible_pupils(actor).filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404("No pupil found.")
    if kind not in Kind.values:
        allowed = ", ".join(Kind.values)
        raise ValidationError({"kind": [f"Kind {kind!r} is invalid; use one of {allowed}."]})
    if start_session not in ("AM", "PM"):
        raise ValidationError(
            {"start_session": [f"Start session {start_session!r} is invalid; use AM or PM."]}
        )
    if kind == Kind.LUNCHTIME:
        # A lunchtime suspension covers lunchtimes only, so it has no start session.
        start_session = "AM"
    enrolment = _enrolment_on(pupil, start_date)
    academy = enrolment.academy
    if not can_record(actor, academy.pk, enrolment.year_group_id):
        raise PermissionDenied(
            f"You may not record suspensions for pupils of {enrolment.year_group} at "
            f"{academy.name}."
        )

    today = clock.today()
    decided = decided_on or min(start_date, today)
    _check_not_future("decided_on", "decision date", decided)
    if decided > start_date:
        raise ValidationError(
            {
                "decided_on": [
                    f"The decision date {_dmy(decided)} is after the start date "
                    f"{_dmy(start_date)}; a suspension is decided on or before its first day."
                ]
            }
        )
    _check_not_future("parents_notified_on", "date parents were told", parents_notified_on)
    reason_codes = _check_reasons(reasons, start_date)
    _check_decided_by(decided_by_id, academy, decided)
    if incident_id is not None and not Incident.objects.filter(pk=incident_id).exists():
        raise ValidationError({"incident": [f"Incident {incident_id} was not found."]})
    if len(alternative_provision_details) > 300:
        raise ValidationError(
            {
                "alternative_provision_details": [
                    f"The details have {len(alternative_provision_details)} characters; "
                    "at most 300 are allowed."
                ]
            }
        )

    planned = _plan_sessions(
        kind=kind,
        academy=academy,
        start_date=start_date,
        start_session=start_session,
        sessions=sessions,
        end_date=end_date,
    )
    _check_overlap(pupil, planned)
    if kind != Kind.PERMANENT:
        _check_on_roll_until(pupil, academy, planned)
        _check_year_cap(pupil, academy, planned)

    label = Kind(kind).label
    with audit.acting_as(actor, f"{label} recorded from {_dmy(start_date)}"):
        suspension = Suspension.objects.create(
            pupil=pupil,
            academy=academy,
            academic_year_id=enrolment.academic_year_id,
            year_group_id=enrolment.year_group_id,
            incident_id=incident_id,
            kind=kind,
            start_date=start_date,
            start_session=start_session,
            sessions=None if kind == Kind.PERMANENT else len(planned),
            end_date=end_date if kind == Kind.PERMANENT else planned[-1][0],
            reason_1=reason_codes[0],
            reason_2=reason_codes[1] if len(reason_codes) > 1 else "",
            reason_3=reason_codes[2] if len(reason_codes) > 2 else "",
            details=details,
            decided_by_id=decided_by_id,
            decided_on=decided,
            alternative_provision=alternative_provision,
            alternative_provision_details=alternative_provision_details,
            misses_public_exam=misses_public_exam,
            parents_notified_on=parents_notified_on,
            guidance_edition=GUIDANCE_EDITION,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _add_sessions(suspension, planned)
        if kind == Kind.PERMANENT and end_date is not None:
            _end_enrolment(pupil, academy, end_date)
        _write_own_marks(suspension, today)
    logger.info(
        "suspension recorded id=%s pupil=%s academy=%s kind=%s sessions=%s actor=%s",
        suspension.pk,
        pupil.pk,
        academy.pk,
        kind,
        len(planned),
        getattr(actor, "pk", None),
    )
    return suspension


def _add_sessions(suspension: Suspension, planned: Iterable[tuple[datetime.date, str]]) -> None:
    SuspensionSession.objects.bulk_create(
        [
            SuspensionSession(
                suspension=suspension,
                pupil_id=suspension.pupil_id,
                academy_id=suspension.academy_id,
                date=day,
                session=name,
            )
            for day, name in planned
        ]
    )


def _writes_marks(suspension: Suspension) -> bool:
    return suspension.kind != Kind.LUNCHTIME and not suspension.alternative_provision


def _write_own_marks(suspension: Suspension, today: datetime.date) -> None:
    """Write E for the suspension's sessions up to `today` that have no E yet."""
    if not _writes_marks(suspension):
        return
    due = list(
        SuspensionSession.objects.filter(
            suspension=suspension, date__lte=today, mark_written=False
        ).exclude(session=LUNCHTIME)
    )
    reason = (
        f"Suspension recorded: {suspension.get_kind_display().lower()} {suspension.pk} "
        f"from {_dmy(suspension.start_date)}"
    )
    for row in due:
        marks_save(
            actor=None,
            day=row.date,
            session=row.session,
            marks=[MarkInput(pupil_id=row.pupil_id, code="E", comment=_mark_comment(suspension))],
            system=True,
            overwrite=True,
            reason=reason,
        )
    SuspensionSession.objects.filter(pk__in=[row.pk for row in due]).update(mark_written=True)


def _mark_comment(suspension: Suspension) -> str:
    return suspension.get_kind_display()


# Marks written later -------------------------------------------------------------


def _extend_open_exclusions(up_to: datetime.date, academy_id: int | None) -> None:
    """Add the sessions up to `up_to` of permanent exclusions whose last day
    on roll is not set yet, so their E marks continue day by day."""
    exclusions = Suspension.objects.filter(
        kind=Kind.PERMANENT, status=Status.ACTIVE, end_date__isnull=True
    ).select_related("academy")
    if academy_id is not None:
        exclusions = exclusions.filter(academy_id=academy_id)
    for exclusion in exclusions:
        last = exclusion.days.order_by("-date", "-session").first()
        if last is None:
            start, session = exclusion.start_date, exclusion.start_session
        elif last.session == "AM":
            start, session = last.date, "PM"
        else:
            start, session = last.date + datetime.timedelta(days=1), "AM"
        if start > up_to:
            continue
        with transaction.atomic():
            _add_sessions(exclusion, school_sessions(exclusion.academy, start, session, end=up_to))


def suspension_marks_write(
    *,
    up_to: datetime.date,
    start: datetime.date | None = None,
    academy_id: int | None = None,
) -> int:
    """Write E for every session of an active suspension, from `start` (or
    any earlier day) to `up_to`, whose mark is not written yet. Return the
    number of sessions written.

    The daily task calls this for the day, and the register page for the
    day it shows, so marks of sessions after the day of recording appear.
    Each (day, session) is saved in its own transaction; a session that
    cannot be saved (the pupil left the roll) is logged and left unwritten.
    """
    if up_to > clock.today():
        up_to = clock.today()
    _extend_open_exclusions(up_to, academy_id)
    due = (
        SuspensionSession.objects.filter(
            mark_written=False,
            date__lte=up_to,
            suspension__status=Status.ACTIVE,
            suspension__alternative_provision=False,
        )
        .exclude(session=LUNCHTIME)
        .exclude(suspension__kind=Kind.LUNCHTIME)
        .select_related("suspension")
        .order_by("date", "session", "pk")
    )
    if start is not None:
        due = due.filter(date__gte=start)
    if academy_id is not None:
        due = due.filter(academy_id=academy_id)
    groups: dict[tuple[datetime.date, str], list[SuspensionSession]] = defaultdict(list)
    for row in due:
        groups[(row.date, row.session)].append(row)

    written = 0
    for (day, session), rows in groups.items():
        try:
            with transaction.atomic():
                marks_save(
                    actor=None,
                    day=day,
                    session=session,
                    marks=[
                        MarkInput(
                            pupil_id=row.pupil_id, code="E", comment=_mark_comment(row.suspension)
                        )
                        for row in rows
                    ],
                    system=True,
                    overwrite=True,
                    reason=f"Suspension recorded: E for {_dmy(day)} {session}",
                )
                SuspensionSession.objects.filter(pk__in=[row.pk for row in rows]).update(
                    mark_written=True
                )
            written += len(rows)
        except ValidationError as error:
            logger.error(
                "suspension marks not written date=%s session=%s suspensions=%s error=%s",
                day,
                session,
                [row.suspension_id for row in rows],
                error.messages,
            )
    if written:
        logger.info("suspension marks written up_to=%s sessions=%s", up_to, written)
    return written


# Changes and withdrawal ---------------------------------------------------------


@transaction.atomic
def suspension_update(*, actor: Any, suspension: Suspension, **fields: Any) -> Suspension:
    """Record notifications, the reintegration meeting, provision details,
    or the last day on roll of a permanent exclusion that has none yet.

    Raise PermissionDenied when the actor may not record suspensions for the
    pupil and ValidationError naming the field for an invalid value.
    """
    unknown = sorted(set(fields) - UPDATABLE_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(UPDATABLE_FIELDS))
        raise ValidationError(
            {unknown[0]: [f"{unknown[0]} cannot be changed here; these can: {allowed}."]}
        )
    if not visible_suspensions(actor).filter(pk=suspension.pk).exists():
        raise Http404("No suspension found.")
    if not can_record(actor, suspension.academy_id, suspension.year_group_id):
        raise PermissionDenied("You may not change suspensions of this pupil.")
    if suspension.status != Status.ACTIVE:
        raise ValidationError(
            {"status": ["This suspension was withdrawn, so it can no longer be changed."]}
        )
    labels = {
        "parents_notified_on": "date parents were told",
        "governors_notified_on": "date the governing board was told",
        "local_authority_notified_on": "date the local authority was told",
    }
    for name, label in labels.items():
        value = fields.get(name)
        _check_not_future(name, label, value)
        if value is not None and value < suspension.decided_on:
            raise ValidationError(
                {
                    name: [
                        f"The {label} {_dmy(value)} is before the decision on "
                        f"{_dmy(suspension.decided_on)}; give a date on or after it."
                    ]
                }
            )
    meeting = fields.get("reintegration_meeting_on")
    if meeting is not None and meeting < suspension.decided_on:
        raise ValidationError(
            {
                "reintegration_meeting_on": [
                    f"The reintegration meeting date {_dmy(meeting)} is before the decision on "
                    f"{_dmy(suspension.decided_on)}; give a date on or after it."
                ]
            }
        )
    if len(fields.get("alternative_provision_details") or "") > 300:
        raise ValidationError(
            {"alternative_provision_details": ["The details may have at most 300 characters."]}
        )

    new_end = fields.pop("end_date", suspension.end_date)
    changes_end = new_end != suspension.end_date
    if changes_end:
        _check_new_end(suspension, new_end)

    with audit.acting_as(actor, "Suspension details updated"):
        for name, value in fields.items():
            text_field = name in ("reintegration_notes", "alternative_provision_details")
            setattr(suspension, name, "" if value is None and text_field else value)
        if changes_end:
            pupil = suspension.pupil
            planned = school_sessions(
                suspension.academy, suspension.start_date, suspension.start_session, end=new_end
            )
            _check_overlap(pupil, planned, exclude_id=suspension.pk)
            suspension.end_date = new_end
            _end_enrolment(pupil, suspension.academy, new_end)
            existing = set(suspension.days.values_list("date", "session"))
            suspension.days.filter(date__gt=new_end).delete()
            _add_sessions(suspension, [item for item in planned if item not in existing])
        suspension.save()
        if changes_end:
            _write_own_marks(suspension, clock.today())
    return suspension


def _check_new_end(suspension: Suspension, new_end: datetime.date | None) -> None:
    if suspension.kind != Kind.PERMANENT or suspension.end_date is not None:
        raise ValidationError(
            {
                "end_date": [
                    "Only the last day on roll of a permanent exclusion that has none yet can "
                    "be set; to shorten a suspension, withdraw it and record a new one."
                ]
            }
        )
    if new_end is None or new_end < suspension.start_date:
        shown = _dmy(new_end) if new_end else "empty"
        raise ValidationError(
            {
                "end_date": [
                    f"The last day on roll ({shown}) must be on or after the start date "
                    f"{_dmy(suspension.start_date)}."
                ]
            }
        )


@transaction.atomic
def suspension_withdraw(*, actor: Any, suspension: Suspension, reason: str) -> Suspension:
    """Withdraw a suspension: it no longer counts, and its sessions after
    today are removed. Sessions up to today, and their E marks, stay on
    record. A permanent exclusion whose last day on roll is not yet past
    puts the pupil back on roll.
    """
    if not visible_suspensions(actor).filter(pk=suspension.pk).exists():
        raise Http404("No suspension found.")
    if not can_withdraw(actor, suspension):
        raise PermissionDenied("Only the headteacher or a leader may withdraw a suspension.")
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"withdrawn_reason": ["A reason is required, for example 'Overturned on review'."]}
        )
    if len(reason) > 300:
        raise ValidationError(
            {"withdrawn_reason": [f"The reason has {len(reason)} characters; at most 300."]}
        )
    if suspension.status == Status.WITHDRAWN:
        raise ValidationError({"status": ["This suspension is already withdrawn."]})

    today = clock.today()
    with audit.acting_as(actor, f"Suspension withdrawn: {reason}"):
        removed, _ = SuspensionSession.objects.filter(
            suspension=suspension, date__gt=today
        ).delete()
        suspension.status = Status.WITHDRAWN
        suspension.withdrawn_reason = reason
        suspension.save()
        if suspension.kind == Kind.PERMANENT and suspension.end_date is not None:
            _restore_enrolment(suspension, today)

    logger.info(
        "suspension withdrawn id=%s sessions_removed=%s actor=%s",
        suspension.pk,
        removed,
        getattr(actor, "pk", None),
    )
    return suspension


def _restore_enrolment(suspension: Suspension, today: datetime.date) -> None:
    end = suspension.end_date
    if end is None or end < today:
        return
    enrolment = Enrolment.objects.filter(
        pupil_id=suspension.pupil_id,
        academy_id=suspension.academy_id,
        end_date=end,
        leaving_reason=LEAVING_REASON,
    ).first()
    if enrolment is not None:
        enrolment.end_date = None
        enrolment.leaving_reason = ""
        enrolment.save(update_fields=["end_date", "leaving_reason"])


# Totals and flags ------------------------------------------------------------------


def suspension_days(
    pupil_id: int,
    start: datetime.date,
    end: datetime.date,
    academy_id: int | None = None,
) -> Decimal:
    """Return the school days of suspension (active suspensions and lunchtime
    suspensions, half a day per session) with session dates from `start` to
    `end`, at one academy or all."""
    rows = _counted_sessions().filter(pupil_id=pupil_id, date__range=(start, end))
    if academy_id is not None:
        rows = rows.filter(academy_id=academy_id)
    return Decimal(rows.count()) / 2


@dataclass(frozen=True)
class SuspensionFlag:
    """An action the guidance requires of the school, or a limit being reached.

    `notified` lists what is recorded about telling the governing board and
    the local authority, for flags that require it.
    """

    kind: str
    message: str
    urgent: bool = True
    notified: tuple[str, ...] = ()
    suspension_id: int | None = None
    # What the flag is about, for example "Suspension from 07/12/2026".
    subject: str = ""


@dataclass
class AcademyTotals:
    """A pupil's school days of suspension at one academy."""

    academy: Academy
    term_days: Decimal = Decimal(0)
    year_days: Decimal = Decimal(0)
    term_lunchtimes: int = 0

    @property
    def year_days_left(self) -> Decimal:
        return max(MAX_DAYS_PER_YEAR - self.year_days, Decimal(0))


@dataclass
class SuspensionSummary:
    """A pupil's suspensions as one user sees them, for the pupil's pages.

    `can_record` is whether the user may record a new suspension for the
    pupil at the academy where they are on roll on the summary's day.
    """

    pupil: Pupil
    term_days: Decimal
    year_days: Decimal
    term_lunchtimes: int
    flags: list[SuspensionFlag]
    suspensions: list[Suspension]
    academies: list[AcademyTotals] = field(default_factory=list)
    can_record: bool = False
    term_label: str = ""
    year_label: str = ""
    guidance_edition: str = GUIDANCE_EDITION
    max_days: Decimal = MAX_DAYS_PER_YEAR


def _notified(suspension: Suspension) -> tuple[str, ...]:
    board = suspension.governors_notified_on
    authority = suspension.local_authority_notified_on
    return (
        f"Governing board told on {_dmy(board)}" if board else "Governing board: not recorded",
        f"Local authority told on {_dmy(authority)}"
        if authority
        else "Local authority: not recorded",
    )


def _whole_terms(trust_ids: Iterable[int]) -> list[Term]:
    return list(
        Term.objects.filter(academic_year__trust_id__in=set(trust_ids), parent__isnull=True)
        .select_related("academic_year")
        .order_by("start_date")
    )


def _term_of(day: datetime.date, trust_id: int, terms: Sequence[Term]) -> Term | None:
    for term in terms:
        if term.academic_year.trust_id == trust_id and term.start_date <= day <= term.end_date:
            return term
    return None


def suspension_flags(suspensions: Sequence[Suspension]) -> dict[int, list[SuspensionFlag]]:
    """Return the flags of each suspension by id, in a fixed number of queries.

    The term thresholds count every active session of the pupil at the
    academy in that term (lunchtimes as half days), in date order, so a
    suspension is flagged when it takes the term total over 5 or 15 school
    days. `suspensions` need their academy loaded.
    """
    flags: dict[int, list[SuspensionFlag]] = {s.pk: [] for s in suspensions}
    if not suspensions:
        return flags
    terms = _whole_terms(s.academy.trust_id for s in suspensions)
    pupil_ids = {s.pupil_id for s in suspensions}
    first = min(s.start_date for s in suspensions)
    starts = [t.start_date for t in terms if t.start_date <= first]
    rows = (
        _counted_sessions()
        .filter(pupil_id__in=pupil_ids, date__gte=max(starts) if starts else first)
        .values_list("suspension_id", "pupil_id", "academy_id", "date", "session")
    )
    trust_of = {s.academy_id: s.academy.trust_id for s in suspensions}
    # Running term totals in half days, in session order.
    ordered = sorted(rows, key=lambda r: (r[3], SESSION_ORDER.get(r[4], 0), r[0]))
    running: dict[tuple[int, int, int], int] = defaultdict(int)
    peak: dict[tuple[int, int], int] = defaultdict(int)
    for suspension_id, pupil_id, academy_id, day, _session in ordered:
        trust_id = trust_of.get(academy_id)
        if trust_id is None:
            continue
        term = _term_of(day, trust_id, terms)
        if term is None:
            continue
        key = (pupil_id, academy_id, term.pk)
        running[key] += 1
        peak[(suspension_id, term.pk)] = max(peak[(suspension_id, term.pk)], running[key])

    for suspension in suspensions:
        found = flags[suspension.pk]
        if suspension.status != Status.ACTIVE:
            continue
        notified = _notified(suspension)
        subject = f"{suspension.get_kind_display()} from {_dmy(suspension.start_date)}"
        if suspension.kind == Kind.PERMANENT:
            found.append(
                SuspensionFlag(
                    "permanent",
                    "Permanent exclusion: tell the governing board and the local authority "
                    "without delay. From the sixth school day the local authority must arrange "
                    "suitable full-time education.",
                    notified=notified,
                    suspension_id=suspension.pk,
                    subject=subject,
                )
            )
            continue
        half_days = max(
            (value for (sid, _), value in peak.items() if sid == suspension.pk), default=0
        )
        term_days = Decimal(half_days) / 2
        if term_days > NOTIFY_DAYS_PER_TERM:
            found.append(
                SuspensionFlag(
                    "notify",
                    f"This takes the pupil's suspensions in the term to {days_text(term_days)} "
                    f"school days, more than {days_text(NOTIFY_DAYS_PER_TERM)} (or "
                    f"{NOTIFY_LUNCHTIMES_PER_TERM} lunchtimes): tell the governing board and the "
                    "local authority without delay.",
                    notified=notified,
                    suspension_id=suspension.pk,
                    subject=subject,
                )
            )
        if term_days > REINSTATEMENT_DAYS_PER_TERM:
            found.append(
                SuspensionFlag(
                    "reinstatement",
                    f"More than {days_text(REINSTATEMENT_DAYS_PER_TERM)} school days in the "
                    "term: the governing board must consider reinstatement.",
                    suspension_id=suspension.pk,
                    subject=subject,
                )
            )
        if suspension.misses_public_exam:
            found.append(
                SuspensionFlag(
                    "exam",
                    "The pupil misses a public exam or national curriculum test: tell the "
                    "governing board and the local authority without delay.",
                    notified=notified,
                    suspension_id=suspension.pk,
                    subject=subject,
                )
            )
        if suspension.kind == Kind.SUSPENSION and (suspension.sessions or 0) >= (
            PROVISION_FROM_SESSION
        ):
            arranged = (
                f"Recorded: {suspension.alternative_provision_details}"
                if suspension.alternative_provision_details
                else "Provision recorded"
                if suspension.alternative_provision
                else "No provision recorded"
            )
            found.append(
                SuspensionFlag(
                    "provision",
                    "The suspension is longer than 5 school days: from day 6 the school must "
                    f"arrange suitable full-time education. {arranged}.",
                    urgent=not suspension.alternative_provision,
                    suspension_id=suspension.pk,
                    subject=subject,
                )
            )
    return flags


def _trust_id_for(
    pupil: Pupil, day: datetime.date, suspensions: Sequence[Suspension]
) -> int | None:
    enrolment = (
        pupil.enrolments.filter(start_date__lte=day)
        .select_related("academy")
        .order_by("-start_date")
        .first()
    )
    if enrolment is not None:
        return enrolment.academy.trust_id
    if suspensions:
        return suspensions[0].academy.trust_id
    return None


def pupil_suspension_summary(user: Any, pupil: Pupil, day: datetime.date) -> SuspensionSummary:
    """Return the pupil's suspensions that `user` may see, their school days
    in the term and academic year around `day` (per academy and in total),
    and the flags of the guidance."""
    suspensions = list(
        visible_suspensions(user)
        .filter(pupil=pupil)
        .select_related("academy", "decided_by", "academic_year")
        .order_by("-start_date", "-pk")
    )
    current = pupil.enrolments.filter(active_on(day)).order_by("-start_date").first()
    summary = SuspensionSummary(
        pupil=pupil,
        can_record=current is not None
        and can_record(user, current.academy_id, current.year_group_id),
        term_days=Decimal(0),
        year_days=Decimal(0),
        term_lunchtimes=0,
        flags=[],
        suspensions=suspensions,
    )
    trust_id = _trust_id_for(pupil, day, suspensions)
    if not suspensions or trust_id is None:
        return summary

    year = AcademicYear.objects.filter(
        trust_id=trust_id, start_date__lte=day, end_date__gte=day
    ).first()
    if year is None:
        return summary
    terms = [t for t in _whole_terms([trust_id]) if t.academic_year_id == year.pk]
    started = [t for t in terms if t.start_date <= day]
    term = max(started, key=lambda t: t.start_date) if started else None
    summary.year_label = year.name
    summary.term_label = f"{term.name} {year.name}" if term else ""

    visible_ids = [s.pk for s in suspensions]
    academies = {s.academy_id: s.academy for s in suspensions}
    rows = _counted_sessions().filter(
        suspension_id__in=visible_ids, date__range=(year.start_date, year.end_date)
    )
    totals: dict[int, AcademyTotals] = {}
    for academy_id, day_of, session in rows.values_list("academy_id", "date", "session"):
        entry = totals.setdefault(academy_id, AcademyTotals(academy=academies[academy_id]))
        half = Decimal(1) / 2
        entry.year_days += half
        if term and term.start_date <= day_of <= term.end_date:
            entry.term_days += half
            if session == LUNCHTIME:
                entry.term_lunchtimes += 1
    summary.academies = sorted(totals.values(), key=lambda t: t.academy.name)
    summary.term_days = sum((t.term_days for t in summary.academies), Decimal(0))
    summary.year_days = sum((t.year_days for t in summary.academies), Decimal(0))
    summary.term_lunchtimes = sum(t.term_lunchtimes for t in summary.academies)

    for totals_row in summary.academies:
        name = totals_row.academy.name
        if totals_row.term_days > REINSTATEMENT_DAYS_PER_TERM:
            summary.flags.append(
                SuspensionFlag(
                    "reinstatement",
                    f"{days_text(totals_row.term_days)} school days of suspension at {name} "
                    f"this term, more than {days_text(REINSTATEMENT_DAYS_PER_TERM)}: the "
                    "governing board must consider reinstatement.",
                )
            )
        summary.flags.append(
            SuspensionFlag(
                "year_total",
                f"{days_text(totals_row.year_days)} of the maximum "
                f"{days_text(MAX_DAYS_PER_YEAR)} school days of suspension used at {name} in "
                f"{year.name}; {days_text(totals_row.year_days_left)} remain.",
                urgent=totals_row.year_days_left <= 5,
            )
        )

    in_year = [
        s
        for s in suspensions
        if s.start_date <= year.end_date
        and (s.end_date or s.start_date) >= year.start_date
        and s.status == Status.ACTIVE
    ]
    per_suspension = suspension_flags(in_year)
    for suspension in in_year:
        for flag in per_suspension[suspension.pk]:
            if flag.kind == "reinstatement":
                continue
            summary.flags.append(flag)
    return summary
