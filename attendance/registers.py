"""Reads behind the register pages and the head of year's morning view."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q

from academies.models import Closure, TutorGroup
from pupils.models import Contact, Pupil
from pupils.selectors import on_roll_in, register_order, visible_pupils
from trust import clock

from .access import registers_visible
from .codes import code_on
from .models import AttendanceMark, FirstDayCall, Register, RegisterCover, Session
from .services import CLOSURE_CODES, DEFAULT_SESSION_TIMES, closure_sessions


@dataclass
class RegisterRow:
    pupil: Pupil
    mark: AttendanceMark | None

    @property
    def category_class(self) -> str:
        if self.mark is None:
            return "cat-missing"
        return "cat-" + self.mark.category.replace("_", "-")


@dataclass
class RegisterView:
    tutor_group: TutorGroup
    day: datetime.date
    session: str
    rows: list[RegisterRow]
    closure: Closure | None
    register: Register | None
    # True when the user reaches the register only as its cover teacher.
    covering: bool = False

    @property
    def closure_code(self) -> str:
        return CLOSURE_CODES[self.closure.kind] if self.closure else ""

    @property
    def marked(self) -> int:
        return sum(1 for row in self.rows if row.mark is not None)

    @property
    def unmarked(self) -> int:
        return len(self.rows) - self.marked

    @property
    def present(self) -> int:
        return sum(1 for row in self.rows if row.mark and row.mark.category == "present")


def session_closure(academy_id: int, day: datetime.date, session: str) -> Closure | None:
    """Return the closure covering this session of `day` at the academy, if any."""
    closure = Closure.objects.filter(academy_id=academy_id, date=day).first()
    if closure and session in closure_sessions(closure):
        return closure
    return None


def register_roll(
    user: Any, tutor_group: TutorGroup, day: datetime.date, *, covering: bool = False
) -> list[Pupil]:
    """Return the pupils on the group's roll on `day`, in register order.

    The roll comes from the enrolments active that day, so a pupil who left
    before `day` or joined after it is not listed. A cover teacher gets the
    roll of the register they cover although their own scope has no pupils.
    """
    pupils = Pupil.objects.all() if covering else visible_pupils(user, day)
    return list(register_order(pupils.filter(on_roll_in("tutor_group_id", [tutor_group.pk], day))))


def register_for(
    user: Any, tutor_group: TutorGroup, day: datetime.date, session: str, *, covering: bool = False
) -> RegisterView:
    """Return the roll of one register with each pupil's mark and version."""
    pupils = register_roll(user, tutor_group, day, covering=covering)
    marks = {
        m.pupil_id: m
        for m in AttendanceMark.objects.filter(
            pupil_id__in=[p.pk for p in pupils], date=day, session=session
        ).select_related("entered_by", "changed_by")
    }
    return RegisterView(
        tutor_group=tutor_group,
        day=day,
        session=session,
        rows=[RegisterRow(pupil=p, mark=marks.get(p.pk)) for p in pupils],
        closure=session_closure(tutor_group.academy_id, day, session),
        register=Register.objects.filter(tutor_group=tutor_group, date=day, session=session)
        .select_related("taken_by", "last_saved_by")
        .first(),
        covering=covering,
    )


@dataclass
class RegisterStatus:
    tutor_group: TutorGroup
    sessions: list[dict[str, Any]] = field(default_factory=list)


def registers_on(user: Any, day: datetime.date) -> list[RegisterStatus]:
    """Return the registers `user` may open on `day`, each session marked as
    taken, not taken or closed. Four queries whatever the number of groups."""
    groups = list(
        registers_visible(user, day).order_by("academy__name", "year_group__nc_year", "name")
    )
    ids = [g.pk for g in groups]
    taken = {
        (r.tutor_group_id, r.session): r
        for r in Register.objects.filter(tutor_group_id__in=ids, date=day).select_related(
            "taken_by"
        )
    }
    closures = {
        c.academy_id: c
        for c in Closure.objects.filter(academy_id__in={g.academy_id for g in groups}, date=day)
    }
    result = []
    for group in groups:
        status = RegisterStatus(tutor_group=group)
        closure = closures.get(group.academy_id)
        for session in Session.values:
            closed = closure if closure and session in closure_sessions(closure) else None
            status.sessions.append(
                {
                    "session": session,
                    "register": taken.get((group.pk, session)),
                    "closure": closed,
                }
            )
        result.append(status)
    return result


def is_weekend(day: datetime.date) -> bool:
    return day.weekday() >= 5


@dataclass
class MorningView:
    day: datetime.date
    not_taken: list[dict[str, Any]]
    absent: list[Pupil]


def morning_view(user: Any, year_group_ids: list[int]) -> MorningView:
    """Return today's registers not yet taken in the year groups, and the
    pupils marked N today with their contacts and the calls logged.

    A register counts as not taken only once its session has started. The
    number of queries does not grow with the number of pupils.
    """
    now = clock.now()
    day = now.date()
    if not year_group_ids or is_weekend(day):
        return MorningView(day=day, not_taken=[], absent=[])
    groups = list(
        TutorGroup.objects.filter(
            year_group_id__in=year_group_ids,
            academic_year__start_date__lte=day,
            academic_year__end_date__gte=day,
        )
        .select_related("academy", "year_group", "tutor", "academy__session_times")
        .order_by("year_group__nc_year", "name")
    )
    taken = set(
        Register.objects.filter(tutor_group__in=groups, date=day).values_list(
            "tutor_group_id", "session"
        )
    )
    closures = {
        c.academy_id: c
        for c in Closure.objects.filter(academy_id__in={g.academy_id for g in groups}, date=day)
    }
    not_taken = []
    for group in groups:
        times = getattr(group.academy, "session_times", None) or DEFAULT_SESSION_TIMES
        closure = closures.get(group.academy_id)
        for session in Session.values:
            if closure and session in closure_sessions(closure):
                continue
            if now.time() < times.start_of(session) or (group.pk, session) in taken:
                continue
            not_taken.append({"tutor_group": group, "session": session})

    calls_today = FirstDayCall.objects.filter(date=day).select_related("called_by")
    absent = list(
        register_order(
            visible_pupils(user, day).filter(
                marked_n_filter(day, year_group_ids),
            )
        ).prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("priority", "pk")),
            Prefetch("first_day_calls", queryset=calls_today, to_attr="calls_today"),
        )
    )
    return MorningView(day=day, not_taken=not_taken, absent=absent)


def marked_n_filter(day: datetime.date, year_group_ids: list[int]) -> Q:
    """Filter for pupils marked N (no reason yet) in either session of `day`."""
    return Q(
        pk__in=AttendanceMark.objects.filter(
            date=day, code="N", year_group_id__in=year_group_ids
        ).values("pupil_id")
    )


def covers_on(day: datetime.date, tutor_group: TutorGroup) -> list[RegisterCover]:
    return list(
        RegisterCover.objects.filter(tutor_group=tutor_group, date=day).select_related(
            "staff", "assigned_by"
        )
    )


def present_code(session: str) -> str:
    return "/" if session == Session.AM else "\\"


def code_is_known(code: str, day: datetime.date) -> bool:
    return code_on(code, day) is not None
