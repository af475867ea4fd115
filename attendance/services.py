"""Writes of attendance marks: registers, corrections and closure marks.

marks_save() is the one write path: the register page, the API, the
historical import and closures all call it. It validates every mark,
writes them, records corrections in the audit trail and rebuilds the
summaries, in one transaction and a fixed number of queries.
"""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from academies.models import Closure, Term, TutorGroup
from pupils.models import Enrolment, active_on
from trust import audit, clock
from trust.models import AuditEvent

from . import summaries
from .codes import PRESENT_CODES, code_error, code_on, normalise_code
from .models import AttendanceMark, Register, Session, SessionTimes, week_start

logger = logging.getLogger(__name__)

CLOSURE_CODES: dict[str, str] = {
    Closure.Kind.INSET: "#",
    Closure.Kind.PLANNED: "#",
    Closure.Kind.UNEXPECTED: "Y4",
}
DEFAULT_SESSION_TIMES = SessionTimes()


@dataclass(frozen=True)
class MarkInput:
    """A mark as submitted. `seen_version` is the version of the pupil's mark
    when the form was opened, or None if there was no mark then."""

    pupil_id: int
    code: str
    minutes_late: int | None = None
    comment: str = ""
    seen_version: int | None = None


@dataclass(frozen=True)
class MarkConflict:
    """A mark that someone else saved after the form was opened."""

    pupil_id: int
    submitted_code: str
    current_code: str
    current_version: int
    changed_by: str
    changed_at: datetime.datetime


@dataclass
class SaveResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    conflicts: list[MarkConflict] = field(default_factory=list)

    @property
    def saved(self) -> int:
        return self.created + self.changed


def session_times(academy_id: int) -> SessionTimes:
    return SessionTimes.objects.filter(academy_id=academy_id).first() or DEFAULT_SESSION_TIMES


def late_code(times: SessionTimes, minutes_late: int) -> str:
    """Return L for an arrival while the register is open, U after it closed."""
    return "L" if minutes_late <= times.open_minutes else "U"


def closure_sessions(closure: Closure) -> list[str]:
    if closure.sessions == Closure.Sessions.AM:
        return [Session.AM]
    if closure.sessions == Closure.Sessions.PM:
        return [Session.PM]
    return [Session.AM, Session.PM]


def _who(user: Any) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def _validate(
    marks: Sequence[MarkInput],
    day: datetime.date,
    session: str,
    enrolments: dict[int, Enrolment],
    closures: dict[int, Closure],
    *,
    system: bool,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(pupil_id: int, message: str) -> None:
        errors.setdefault(f"pupil_{pupil_id}", []).append(message)

    seen: set[int] = set()
    for mark in marks:
        if mark.pupil_id in seen:
            add(mark.pupil_id, "The pupil appears twice in one save; send one mark per pupil.")
        seen.add(mark.pupil_id)
        code = normalise_code(mark.code)
        problem = code_error(code, day)
        if problem:
            add(mark.pupil_id, problem)
        enrolment = enrolments.get(mark.pupil_id)
        if enrolment is None:
            add(
                mark.pupil_id,
                f"Pupil {mark.pupil_id} is not on roll on {day:%d/%m/%Y}, so no mark can be "
                "recorded for that day.",
            )
            continue
        closure = closures.get(enrolment.academy_id)
        if closure and session in closure_sessions(closure) and not system:
            add(
                mark.pupil_id,
                f"{enrolment.academy.name} is closed on {day:%d/%m/%Y} "
                f"({closure.get_kind_display()}{': ' + closure.reason if closure.reason else ''}); "
                f"the register shows {CLOSURE_CODES[closure.kind]} for this session and takes "
                "no other mark.",
            )
        if mark.minutes_late is not None:
            if code not in {"L", "U"}:
                add(mark.pupil_id, f"Minutes late ({mark.minutes_late}) go with code L or U only.")
            elif not 1 <= mark.minutes_late <= 600:
                add(
                    mark.pupil_id,
                    f"Minutes late {mark.minutes_late} is not allowed; use 1 to 600.",
                )
        if len(mark.comment) > 500:
            add(mark.pupil_id, f"The comment has {len(mark.comment)} characters; at most 500.")
    return errors


def _school_day_error(day: datetime.date, academic_year_ids: set[int]) -> str | None:
    """Return why no register can be taken on `day`, or None when it can.

    Registers are taken on weekdays in term, up to today. The term check
    applies once the academic year has its half terms recorded.
    """
    shown = f"{day:%d/%m/%Y}"
    if day > clock.today():
        return f"{shown} is in the future; marks are recorded on or after the day itself."
    if day.weekday() >= 5:
        return f"{shown} is a {day:%A}; registers are taken on school days."
    half_terms = list(
        Term.objects.filter(academic_year_id__in=academic_year_ids, half__isnull=False)
    )
    if half_terms and not any(t.start_date <= day <= t.end_date for t in half_terms):
        return f"{shown} is outside term, so no register is taken that day."
    return None


@transaction.atomic
def marks_save(
    *,
    actor: Any,
    day: datetime.date,
    session: str,
    marks: Sequence[MarkInput],
    tutor_group: TutorGroup | None = None,
    can_correct: bool = False,
    reason: str = "",
    system: bool = False,
    overwrite: bool = False,
) -> SaveResult:
    """Save the marks of one session and return what was written.

    A mark that changed since the form was opened (its version differs from
    `seen_version`) is not overwritten unless `overwrite` is set: it is
    returned as a conflict for the user to decide. Changing a mark that
    already exists is a correction, which needs `can_correct` (or the same
    user correcting their own mark on the same day) and a `reason`. Raise
    ValidationError, keyed by pupil, and write nothing if any mark is invalid.
    """
    if session not in Session.values:
        raise ValidationError({"session": f"Session {session!r} is not AM or PM."})
    pupil_ids = [m.pupil_id for m in marks]

    enrolments = {
        e.pupil_id: e
        for e in Enrolment.objects.filter(active_on(day), pupil_id__in=pupil_ids)
        .select_related("academy")
        .order_by("start_date")
    }
    academy_ids = {e.academy_id for e in enrolments.values()}
    closures = {
        c.academy_id: c for c in Closure.objects.filter(academy_id__in=academy_ids, date=day)
    }
    times = {t.academy_id: t for t in SessionTimes.objects.filter(academy_id__in=academy_ids)}

    errors = _validate(marks, day, session, enrolments, closures, system=system)
    if not system:
        problem = _school_day_error(day, {e.academic_year_id for e in enrolments.values()})
        if problem:
            errors = {"date": [problem], **errors}
    if errors:
        raise ValidationError(errors)

    existing = {
        m.pupil_id: m
        for m in AttendanceMark.objects.select_for_update(of=("self",))
        .filter(pupil_id__in=pupil_ids, date=day, session=session)
        .select_related("changed_by", "entered_by")
    }
    now = timezone.now()
    result = SaveResult()
    new: list[AttendanceMark] = []
    changed: list[AttendanceMark] = []
    before: dict[int, dict[str, Any]] = {}

    for mark in marks:
        enrolment = enrolments[mark.pupil_id]
        code = normalise_code(mark.code)
        if code in {"L", "U"} and mark.minutes_late is not None:
            code = late_code(
                times.get(enrolment.academy_id, DEFAULT_SESSION_TIMES), mark.minutes_late
            )
        if code in PRESENT_CODES:
            # "/" and "\" are the same mark; keep the one of the session.
            code = "/" if session == Session.AM else "\\"
        definition = code_on(code, day)
        assert definition is not None  # _validate checked every code
        minutes = mark.minutes_late if code in {"L", "U"} else None
        current = existing.get(mark.pupil_id)

        if current is None:
            new.append(
                AttendanceMark(
                    pupil_id=mark.pupil_id,
                    date=day,
                    session=session,
                    code=code,
                    category=definition.category,
                    minutes_late=minutes,
                    comment=mark.comment.strip(),
                    academy_id=enrolment.academy_id,
                    academic_year_id=enrolment.academic_year_id,
                    year_group_id=enrolment.year_group_id,
                    tutor_group_id=enrolment.tutor_group_id,
                    week_start=week_start(day),
                    entered_by=actor,
                    entered_at=now,
                )
            )
            continue

        same = (
            current.code == code
            and current.minutes_late == minutes
            and current.comment == mark.comment.strip()
        )
        if same:
            result.unchanged += 1
            continue
        if not overwrite and mark.seen_version != current.version:
            result.conflicts.append(
                MarkConflict(
                    pupil_id=mark.pupil_id,
                    submitted_code=code,
                    current_code=current.code,
                    current_version=current.version,
                    changed_by=_who(current.changed_by or current.entered_by),
                    changed_at=current.changed_at or current.entered_at,
                )
            )
            continue
        # A user may fix their own slip the same day without a reason, unless
        # someone else has changed the mark since.
        actor_id = getattr(actor, "pk", None)
        own_same_day = (
            actor is not None
            and current.entered_by_id == actor_id
            and current.changed_by_id in (None, actor_id)
            and timezone.localdate(current.entered_at) == timezone.localdate(now)
        )
        if not (system or can_correct or own_same_day):
            raise ValidationError(
                {
                    f"pupil_{mark.pupil_id}": [
                        f"The mark {current.code} was saved by {_who(current.entered_by)}; "
                        "only heads of year, attendance officers and leaders may correct it."
                    ]
                }
            )
        if not (system or own_same_day) and not reason.strip():
            raise ValidationError(
                {"reason": ["A correction needs a reason, for example 'Parent rang: illness'."]}
            )
        before[current.pk] = audit.snapshot(current)
        current.code = code
        current.category = definition.category
        current.minutes_late = minutes
        current.comment = mark.comment.strip()
        current.changed_by = actor
        current.changed_at = now
        current.version += 1
        changed.append(current)

    AttendanceMark.objects.bulk_create(new)
    if changed:
        AttendanceMark.objects.bulk_update(
            changed,
            ["code", "category", "minutes_late", "comment", "changed_by", "changed_at", "version"],
        )
        with audit.acting_as(actor, reason=reason.strip()):
            _record_corrections(changed, before)
    result.created = len(new)
    result.changed = len(changed)

    if tutor_group is not None and not system:
        _register_touch(tutor_group, day, session, actor, now)

    touched = [m.pupil_id for m in new] + [m.pupil_id for m in changed]
    if touched:
        summaries.rebuild(
            pupil_ids=touched,
            weeks=[week_start(day)],
            academic_year_ids={enrolments[p].academic_year_id for p in touched},
        )
    logger.info(
        "marks saved date=%s session=%s created=%s changed=%s conflicts=%s actor=%s",
        day,
        session,
        result.created,
        result.changed,
        len(result.conflicts),
        getattr(actor, "pk", None),
    )
    return result


def _record_corrections(changed: list[AttendanceMark], before: dict[int, dict[str, Any]]) -> None:
    events = []
    for mark in changed:
        old = before[mark.pk]
        after = audit.snapshot(mark)
        changes = {
            name: [old.get(name), after[name]]
            for name in ("code", "category", "minutes_late", "comment")
            if old.get(name) != after[name]
        }
        events.append(
            AuditEvent(
                actor=audit.current_actor(),
                action=AuditEvent.Action.UPDATE,
                model=AttendanceMark._meta.label,
                object_id=str(mark.pk),
                object_repr=f"{mark.session} mark of {mark.date:%d/%m/%Y}",
                pupil_ref=mark.pupil_id,
                changes=changes,
                reason=audit.current_reason()[:300],
            )
        )
    AuditEvent.objects.bulk_create(events)


def _register_touch(
    tutor_group: TutorGroup, day: datetime.date, session: str, actor: Any, now: datetime.datetime
) -> None:
    register, created = Register.objects.get_or_create(
        tutor_group=tutor_group,
        date=day,
        session=session,
        defaults={"taken_by": actor, "taken_at": now, "last_saved_by": actor, "last_saved_at": now},
    )
    if not created:
        Register.objects.filter(pk=register.pk).update(last_saved_by=actor, last_saved_at=now)


@transaction.atomic
def closure_marks_write(*, closure: Closure, actor: Any = None) -> int:
    """Write # (planned closure or INSET) or Y4 (unexpected closure) for every
    pupil on roll at the academy on the closure's date. Return the marks written.

    Marks already recorded for those sessions are replaced, and the audit
    trail keeps them.
    """
    code = CLOSURE_CODES[closure.kind]
    pupils = list(
        Enrolment.objects.filter(active_on(closure.date), academy_id=closure.academy_id)
        .values_list("pupil_id", flat=True)
        .distinct()
    )
    written = 0
    for session in closure_sessions(closure):
        result = marks_save(
            actor=actor,
            day=closure.date,
            session=session,
            marks=[MarkInput(pupil_id=p, code=code) for p in pupils],
            system=True,
            overwrite=True,
            reason=f"Closure: {closure.get_kind_display()}",
        )
        written += result.saved
    return written
