"""Import historical register marks for one academy from a CSV or XLSX file.

build_plan() reads the file (UPN, date, session, code, and optionally
minutes late and a comment), checks every row and reports each invalid row
by its line, without writing anything. marks_import_apply() builds the plan
again inside one transaction and, only when no row has an error, writes the
marks through attendance.services.marks_save, one call per date and session.
An imported mark replaces a mark already recorded for that session, as a
correction whose audit reason names the file.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from academies.models import Academy, Closure
from academies.selectors import visible_academies
from pupils.models import Enrolment, Pupil
from pupils.selectors import visible_pupils
from pupils.upn import normalise_upn
from staff.models import Role, RoleAssignment, ScopeKind
from trust import clock
from trust.access import scope_for
from trust.tabular import CellError, FileRejected, Row, date_value, read_table, text_value

from .codes import CATEGORY_LABELS, Category, code_error, code_on, normalise_code
from .models import AttendanceMark, Session
from .services import CLOSURE_CODES, MarkInput, SaveResult, closure_sessions, marks_save

# Column name -> headers accepted for it, compared without case or punctuation.
MARK_COLUMNS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN"),
    "date": ("Date", "Session Date", "Attendance Date", "Mark Date"),
    "session": ("Session", "AM/PM", "AM PM", "Session (AM/PM)"),
    "code": ("Code", "Mark", "Attendance Code", "Attendance Mark"),
    "minutes_late": ("Minutes Late", "Mins Late", "Late Minutes", "Minutes"),
    "comment": ("Comment", "Comments", "Note", "Notes"),
}
REQUIRED_COLUMNS = ("upn", "date", "session", "code")
COLUMN_LABELS = {
    "upn": "UPN",
    "date": "Date",
    "session": "Session",
    "code": "Code",
    "minutes_late": "Minutes late",
    "comment": "Comment",
}
SESSION_VALUES = {
    "am": Session.AM,
    "morning": Session.AM,
    "pm": Session.PM,
    "afternoon": Session.PM,
}
# Staff who may import marks into their academy; trust administrators may
# import into any academy they can see.
IMPORT_ROLES = (Role.HEADTEACHER, Role.ACADEMY_LEADER, Role.ATTENDANCE_OFFICER)
MAX_MINUTES_LATE = 600
MAX_COMMENT = 500


class ImportRejected(Exception):
    """The file has errors, so nothing was imported."""


@dataclass
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class PlannedMark:
    line: int
    upn: str
    pupil_id: int
    day: datetime.date
    session: str
    code: str
    minutes_late: int | None
    comment: str
    # Set when the session is a closure and the file gives the closure's own code.
    closure_code: bool = False

    @property
    def category(self) -> Category | None:
        definition = code_on(self.code, self.day)
        return definition.category if definition else None

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category] if self.category else ""

    @property
    def css(self) -> str:
        """The class that colours the code by its category, as on the register."""
        return f"cat-{self.category.value.replace('_', '-')}" if self.category else ""


@dataclass
class MarkImportPlan:
    academy: Academy
    filename: str
    description: str = ""
    file_error: str = ""
    rows_read: int = 0
    marks: list[PlannedMark] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    replaced: int = 0

    @property
    def is_valid(self) -> bool:
        return not self.file_error and not self.errors and bool(self.marks)

    @property
    def error_lines(self) -> int:
        return len({e.line for e in self.errors})

    def summary(self) -> dict[str, int]:
        days = {m.day for m in self.marks}
        return {
            "rows": self.rows_read,
            "marks": len(self.marks),
            "new": len(self.marks) - self.replaced,
            "replaced": self.replaced,
            "days": len(days),
            "pupils": len({m.pupil_id for m in self.marks}),
            "error_rows": self.error_lines,
            "errors": len(self.errors),
        }

    @property
    def first_day(self) -> datetime.date | None:
        return min((m.day for m in self.marks), default=None)

    @property
    def last_day(self) -> datetime.date | None:
        return max((m.day for m in self.marks), default=None)


@dataclass
class ImportResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0


def importable_academies(user: Any) -> QuerySet[Academy]:
    """Return the academies `user` may import marks into: every visible academy
    for trust administrators, and the academies where they are headteacher,
    academy leader or attendance officer for everyone else."""
    scope = scope_for(user)
    academies = visible_academies(user)
    if user.is_superuser or scope.has_role(Role.TRUST_ADMIN):
        return academies
    if not scope.staff_id or not scope.has_role(*IMPORT_ROLES):
        return academies.none()
    today = clock.today()
    held = RoleAssignment.objects.filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        staff_id=scope.staff_id,
        role__in=IMPORT_ROLES,
        scope=ScopeKind.ACADEMY,
    ).values("academy_id")
    return academies.filter(pk__in=held)


# Reading and checking -------------------------------------------------------


@dataclass
class _ParsedRow:
    line: int
    upn: str
    day: datetime.date | None
    session: str | None
    code: str
    minutes_late: int | None
    comment: str
    ok: bool


def _parse_row(row: Row, plan: MarkImportPlan, today: datetime.date) -> _ParsedRow:
    errors_before = len(plan.errors)

    def fail(column: str, value: object, reason: str) -> None:
        plan.errors.append(
            RowError(line=row.line, column=COLUMN_LABELS[column], value=str(value), reason=reason)
        )

    upn = ""
    try:
        upn = normalise_upn(text_value(row.get("upn")))
        if not upn:
            fail("upn", "", "The UPN is missing; every row needs the pupil's UPN.")
    except CellError as problem:
        fail("upn", row.raw().get("upn", ""), str(problem))

    day: datetime.date | None = None
    raw_date = row.raw().get("date", "")
    if not str(raw_date).strip():
        fail("date", "", "The date is missing; use dd/mm/yyyy, e.g. 16/07/2025.")
    else:
        try:
            day = date_value(row.get("date"))
        except CellError as problem:
            fail("date", raw_date, str(problem))
    if day is not None and day >= today:
        fail(
            "date",
            f"{day:%d/%m/%Y}",
            f"{day:%d/%m/%Y} is not in the past; the import takes marks up to "
            f"{today - datetime.timedelta(days=1):%d/%m/%Y}. Take today's registers on the "
            "register page.",
        )
        day = None

    session: str | None = None
    raw_session = str(row.raw().get("session", "")).strip()
    session = SESSION_VALUES.get(raw_session.lower())
    if session is None:
        fail("session", raw_session, f"Session {raw_session!r} is not allowed; use AM or PM.")

    code = ""
    raw_code = str(row.raw().get("code", ""))
    if not raw_code.strip():
        fail("code", "", "The attendance code is missing; every row needs one, e.g. / or I.")
    else:
        code = normalise_code(raw_code)
        if day is not None:
            code_problem = code_error(code, day)
            if code_problem:
                fail("code", code, code_problem)

    minutes: int | None = None
    raw_minutes = str(row.raw().get("minutes_late", "")).strip()
    if raw_minutes:
        try:
            minutes = int(float(raw_minutes)) if float(raw_minutes).is_integer() else None
        except ValueError:
            minutes = None
        if minutes is None or not 1 <= minutes <= MAX_MINUTES_LATE:
            fail(
                "minutes_late",
                raw_minutes,
                f"Minutes late {raw_minutes!r} is not allowed; use a whole number from 1 to "
                f"{MAX_MINUTES_LATE}, or leave it blank.",
            )
            minutes = None
        elif code and code not in {"L", "U"}:
            fail(
                "minutes_late",
                raw_minutes,
                f"Minutes late go with code L or U only; this row has code {code}.",
            )

    comment = str(row.raw().get("comment", "")).strip()
    if len(comment) > MAX_COMMENT:
        fail(
            "comment",
            comment[:40] + "…",
            f"The comment has {len(comment)} characters; at most {MAX_COMMENT} are allowed.",
        )

    return _ParsedRow(
        line=row.line,
        upn=upn,
        day=day,
        session=session,
        code=code,
        minutes_late=minutes,
        comment=comment,
        ok=len(plan.errors) == errors_before,
    )


def build_plan(
    *, academy: Academy, content: bytes, filename: str, user: Any = None
) -> MarkImportPlan:
    """Read and check an import file and return the plan; write nothing.

    Pupils are looked up among those `user` may see (all pupils when `user`
    is None, as for the management command).
    """
    plan = MarkImportPlan(academy=academy, filename=filename)
    try:
        table = read_table(
            content, filename, MARK_COLUMNS, required=REQUIRED_COLUMNS, labels=COLUMN_LABELS
        )
    except FileRejected as problem:
        plan.file_error = problem.message
        return plan
    plan.description = table.description
    plan.rows_read = len(table.rows)
    today = clock.today()

    parsed = [_parse_row(row, plan, today) for row in table.rows]
    upns = {p.upn for p in parsed if p.upn}
    pupils_seen = visible_pupils(user) if user is not None else Pupil.objects.all()
    pupil_ids = dict(pupils_seen.filter(upn__in=upns).values_list("upn", "pk"))
    enrolments: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in Enrolment.objects.filter(
        academy=academy, pupil_id__in=pupil_ids.values()
    ).order_by("start_date"):
        enrolments[enrolment.pupil_id].append(enrolment)
    days = {p.day for p in parsed if p.day is not None}
    closures = {c.date: c for c in Closure.objects.filter(academy=academy, date__in=days)}

    first_line: dict[tuple[int, datetime.date, str], int] = {}
    for row in parsed:
        _check_row(row, plan, pupil_ids, enrolments, closures, first_line)

    _count_replaced(plan)
    return plan


def _check_row(
    row: _ParsedRow,
    plan: MarkImportPlan,
    pupil_ids: dict[str, int],
    enrolments: dict[int, list[Enrolment]],
    closures: dict[datetime.date, Closure],
    first_line: dict[tuple[int, datetime.date, str], int],
) -> None:
    """Check a parsed row against the database and the rows before it."""
    academy = plan.academy

    def fail(column: str, value: str, reason: str) -> None:
        plan.errors.append(
            RowError(line=row.line, column=COLUMN_LABELS[column], value=value, reason=reason)
        )

    pupil_id = pupil_ids.get(row.upn) if row.upn else None
    if row.upn and pupil_id is None:
        fail("upn", row.upn, f"No pupil with UPN {row.upn} was found; check the UPN.")
        return
    if row.upn and pupil_id is not None and not enrolments.get(pupil_id):
        fail(
            "upn",
            row.upn,
            f"The pupil with UPN {row.upn} has never been on roll at {academy.name}; "
            "import their marks at the academy they attended.",
        )
        return
    if not row.ok or pupil_id is None or row.day is None or row.session is None:
        return

    day, session = row.day, row.session
    shown = f"{day:%d/%m/%Y}"
    periods = enrolments[pupil_id]
    if not any(e.is_active_on(day) for e in periods):
        spans = ", ".join(
            f"{e.start_date:%d/%m/%Y} to {e.end_date:%d/%m/%Y}"
            if e.end_date
            else f"from {e.start_date:%d/%m/%Y}"
            for e in periods
        )
        fail(
            "date",
            shown,
            f"The pupil with UPN {row.upn} was not on roll at {academy.name} on {shown}; "
            f"they were on roll {spans}.",
        )
        return

    closure_code = False
    closure = closures.get(day)
    if closure is not None and session in closure_sessions(closure):
        expected = CLOSURE_CODES[closure.kind]
        if row.code != expected:
            reason = f": {closure.reason}" if closure.reason else ""
            fail(
                "code",
                row.code,
                f"{academy.name} was closed on {shown} {session} "
                f"({closure.get_kind_display()}{reason}); that session takes code {expected} "
                "only.",
            )
            return
        closure_code = True

    key = (pupil_id, day, session)
    if key in first_line:
        fail(
            "session",
            session,
            f"UPN {row.upn} has a second {session} mark for {shown}; the first is on line "
            f"{first_line[key]}. Keep one row per pupil and session.",
        )
        return
    first_line[key] = row.line
    plan.marks.append(
        PlannedMark(
            line=row.line,
            upn=row.upn,
            pupil_id=pupil_id,
            day=day,
            session=session,
            code=row.code,
            minutes_late=row.minutes_late,
            comment=row.comment,
            closure_code=closure_code,
        )
    )


def _count_replaced(plan: MarkImportPlan) -> None:
    """Count the planned marks that would replace a mark already recorded."""
    if not plan.marks:
        return
    wanted = {(m.pupil_id, m.day, m.session) for m in plan.marks}
    existing = AttendanceMark.objects.filter(
        pupil_id__in={m.pupil_id for m in plan.marks},
        date__range=(plan.first_day, plan.last_day),
    ).values_list("pupil_id", "date", "session")
    plan.replaced = sum(1 for key in existing if key in wanted)


# Applying -------------------------------------------------------------------


def _grouped(
    marks: Iterable[PlannedMark],
) -> dict[tuple[datetime.date, str, bool], list[PlannedMark]]:
    groups: dict[tuple[datetime.date, str, bool], list[PlannedMark]] = defaultdict(list)
    for mark in marks:
        groups[(mark.day, mark.session, mark.closure_code)].append(mark)
    return dict(sorted(groups.items()))


def marks_import_apply(
    *, academy: Academy, content: bytes, filename: str, user: Any
) -> ImportResult:
    """Check the file again and write all of its marks, or none.

    Raise ImportRejected when the file has errors, and ValidationError when
    marks_save rejects a mark; either way nothing is written.
    """
    with transaction.atomic():
        plan = build_plan(academy=academy, content=content, filename=filename, user=user)
        if not plan.is_valid:
            reason = plan.file_error or (
                f"{plan.error_lines} row(s) of {filename} have errors"
                if plan.errors
                else f"{filename} has no marks to import"
            )
            raise ImportRejected(f"Nothing was imported: {reason}.")
        result = ImportResult()
        for (day, session, closure_code), marks in _grouped(plan.marks).items():
            saved: SaveResult = marks_save(
                actor=user,
                day=day,
                session=session,
                marks=[
                    MarkInput(
                        pupil_id=m.pupil_id,
                        code=m.code,
                        minutes_late=m.minutes_late,
                        comment=m.comment,
                    )
                    for m in marks
                ],
                can_correct=True,
                overwrite=True,
                # marks_save takes a mark on a closure session only as a system write,
                # as the closure marks themselves are written.
                system=closure_code,
                reason=f"Import: {filename}"[:300],
            )
            result.created += saved.created
            result.changed += saved.changed
            result.unchanged += saved.unchanged
        return result


def describe_errors(plan: MarkImportPlan) -> list[str]:
    """Return one line of text per invalid row, for the management command."""
    return [f"Line {e.line}, {e.column} {e.value!r}: {e.reason}" for e in plan.errors]
