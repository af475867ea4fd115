"""Read a staff file and plan what importing it would do, without writing.

Staff are matched by email address, compared without regard to case, so
importing the same file twice adds no one. A line manager is named by email
and may be a colleague already stored or one who appears anywhere in the
same file, before or after the row that names them.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower

from academies.models import Academy
from trust.access import scope_for
from trust.tabular import (
    Cell,
    CellError,
    FileRejected,
    Row,
    Table,
    choice_value,
    date_value,
    read_table,
    text_value,
)

from .models import PostType, Role, StaffMember

STAFF_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("Title", "Salutation"),
    "first_name": ("First Name", "Forename", "Legal Forename", "Given Name", "Firstname"),
    "last_name": ("Last Name", "Surname", "Legal Surname", "Family Name", "Lastname"),
    "email": ("Email", "Email Address", "E-mail", "Work Email", "School Email"),
    "job_title": ("Job Title", "Position", "Job"),
    "post_type": ("Post Type", "Post", "Staff Type", "Staff Category", "Category"),
    "academy": ("Academy", "School", "Academy URN", "URN", "Workplace", "Base"),
    "line_manager": (
        "Line Manager",
        "Line Manager Email",
        "Manager",
        "Manager Email",
        "Reports To",
    ),
    "started_on": ("Start Date", "Started On", "Started", "Date Started", "Employment Start"),
}
STAFF_LABELS: dict[str, str] = {
    "title": "Title",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "job_title": "Job title",
    "post_type": "Post type",
    "academy": "Academy",
    "line_manager": "Line manager",
    "started_on": "Start date",
}
REQUIRED_COLUMNS = ("first_name", "last_name", "email", "job_title", "post_type", "academy")
TEXT_LIMITS = {"title": 10, "first_name": 100, "last_name": 100, "job_title": 120}

POST_TYPE_CHOICES: dict[str, str] = {
    "teacher": PostType.TEACHER,
    "teaching": PostType.TEACHER,
    "teaching assistant": PostType.TEACHING_ASSISTANT,
    "ta": PostType.TEACHING_ASSISTANT,
    "support": PostType.SUPPORT,
    "support staff": PostType.SUPPORT,
    "pastoral": PostType.PASTORAL,
    "leadership": PostType.LEADERSHIP,
    "senior leadership": PostType.LEADERSHIP,
    "slt": PostType.LEADERSHIP,
}
POST_TYPE_ALLOWED = "Teacher, Teaching assistant (TA), Support staff, Pastoral, Leadership (SLT)"
CENTRAL_NAMES = {"central", "central team", "trust", "trust central team", "head office"}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class PlannedStaff:
    line: int
    email: str
    values: dict[str, Any]
    manager_email: str | None = None
    staff: StaffMember | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def is_new(self) -> bool:
        return self.staff is None

    @property
    def name(self) -> str:
        return f"{self.values['first_name']} {self.values['last_name']}"


@dataclass
class StaffImportPlan:
    description: str = ""
    file_error: str | None = None
    errors: list[RowError] = field(default_factory=list)
    rows: list[PlannedStaff] = field(default_factory=list)
    row_count: int = 0
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.file_error is None and not self.errors

    @property
    def new_rows(self) -> list[PlannedStaff]:
        return [r for r in self.rows if r.is_new]

    @property
    def updated_rows(self) -> list[PlannedStaff]:
        return [r for r in self.rows if not r.is_new and r.changes]

    @property
    def unchanged_rows(self) -> list[PlannedStaff]:
        return [r for r in self.rows if not r.is_new and not r.changes]

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.row_count,
            "errors": len(self.errors),
            "new": len(self.new_rows),
            "updated": len(self.updated_rows),
            "unchanged": len(self.unchanged_rows),
        }


def can_import_staff(user: Any) -> bool:
    """Return whether `user` may import staff (trust administrators only)."""
    return bool(user.is_superuser or scope_for(user).has_role(Role.TRUST_ADMIN))


def _academy_lookup(academies: Iterable[Academy]) -> dict[str, Academy]:
    lookup: dict[str, Academy] = {}
    for academy in academies:
        lookup[academy.urn] = academy
        lookup[academy.name.casefold()] = academy
        if academy.short_name:
            lookup.setdefault(academy.short_name.casefold(), academy)
    return lookup


class _RowReader:
    def __init__(self, table: Table, academies: dict[str, Academy]) -> None:
        self.table = table
        self.academies = academies
        self.errors: list[RowError] = []
        self.row: Row | None = None

    def error(self, name: str, value: Cell, reason: str) -> None:
        assert self.row is not None
        column = self.table.header(name) if name in self.table.headers else STAFF_LABELS[name]
        self.errors.append(RowError(self.row.line, column, str(value), reason))

    def read(self, row: Row) -> PlannedStaff | None:
        self.row = row
        values: dict[str, Any] = {}

        for name, limit in TEXT_LIMITS.items():
            if name not in self.table.headers:
                continue
            text = self._text(name)
            if text is None:
                continue
            if not text and name != "title":
                self.error(name, text, f"{STAFF_LABELS[name]} is missing.")
            elif len(text) > limit:
                self.error(name, text, f"Too long: {len(text)} characters, at most {limit}.")
            elif text:
                values[name] = text

        email = self._email("email", required=True)
        manager = self._email("line_manager", required=False)
        if email and manager and email == manager:
            self.error("line_manager", manager, "A staff member cannot line-manage themselves.")
        self._post_type(values)
        self._academy(values)
        self._started_on(values)

        if email is None and manager is None:
            return None
        if email is not None:
            values["email"] = email
        # A row with invalid cells is still returned, so the checks across rows
        # (unknown line managers, duplicates, loops) report its other problems in
        # the same preview. build_staff_plan drops every row that has an error.
        return PlannedStaff(line=row.line, email=email or "", values=values, manager_email=manager)

    def _text(self, name: str) -> str | None:
        assert self.row is not None
        cell = self.row.get(name)
        try:
            return text_value(cell)
        except CellError as problem:
            self.error(name, cell, str(problem))
            return None

    def _email(self, name: str, *, required: bool) -> str | None:
        if name not in self.table.headers:
            return None
        text = self._text(name)
        if text is None:
            return None
        if not text:
            if required:
                self.error(name, text, "The email address is missing; staff are matched by it.")
            return None
        try:
            validate_email(text)
        except ValidationError:
            self.error(name, text, f"{text!r} is not a valid email address.")
            return None
        return text.lower()

    def _post_type(self, values: dict[str, Any]) -> None:
        assert self.row is not None
        cell = self.row.get("post_type")
        if cell == "":
            self.error("post_type", cell, f"The post type is missing; use {POST_TYPE_ALLOWED}.")
            return
        try:
            values["post_type"] = choice_value(cell, POST_TYPE_CHOICES, POST_TYPE_ALLOWED)
        except CellError as problem:
            self.error("post_type", cell, str(problem))

    def _academy(self, values: dict[str, Any]) -> None:
        text = self._text("academy")
        if text is None:
            return
        if text.casefold() in CENTRAL_NAMES:
            values["academy"] = None
            return
        academy = self.academies.get(text) or self.academies.get(text.casefold())
        if academy is None:
            reason = (
                "The academy is missing"
                if not text
                else f"No academy of the trust has the URN or name {text!r}"
            )
            self.error("academy", text, f"{reason}; use a URN, an academy's name, or Central team.")
            return
        values["academy"] = academy

    def _started_on(self, values: dict[str, Any]) -> None:
        assert self.row is not None
        if "started_on" not in self.table.headers:
            return
        cell = self.row.get("started_on")
        if cell == "":
            return
        try:
            values["started_on"] = date_value(cell)
        except CellError as problem:
            self.error("started_on", cell, str(problem))


def read_staff_table(content: bytes, filename: str) -> Table:
    return read_table(
        content, filename, STAFF_COLUMNS, required=REQUIRED_COLUMNS, labels=STAFF_LABELS
    )


def build_staff_plan(
    *, content: bytes, filename: str, academies: Iterable[Academy]
) -> StaffImportPlan:
    """Read and check a staff file and plan its import; writes nothing.

    `academies` are those a row may name (by URN or name).
    """
    try:
        table = read_staff_table(content, filename)
    except FileRejected as rejected:
        return StaffImportPlan(file_error=rejected.message)
    plan = StaffImportPlan(
        description=table.description,
        row_count=len(table.rows),
        ignored_headers=table.ignored_headers,
    )
    reader = _RowReader(table, _academy_lookup(academies))
    rows = [planned for row in table.rows if (planned := reader.read(row)) is not None]
    plan.errors.extend(reader.errors)
    _report_unknown_managers(plan, table, rows)
    rows = _without_duplicates(plan, table, [r for r in rows if r.email])
    _match(plan, table, rows)
    plan.errors.sort(key=lambda e: (e.line, e.column))
    error_lines = {e.line for e in plan.errors}
    plan.rows = [r for r in rows if r.line not in error_lines]
    return plan


def _column(table: Table, name: str) -> str:
    return table.header(name) if name in table.headers else STAFF_LABELS[name]


def _without_duplicates(
    plan: StaffImportPlan, table: Table, rows: list[PlannedStaff]
) -> list[PlannedStaff]:
    counts = Counter(r.email for r in rows)
    for row in rows:
        if counts[row.email] > 1:
            others = ", ".join(
                str(r.line) for r in rows if r.email == row.email and r.line != row.line
            )
            plan.errors.append(
                RowError(
                    row.line,
                    _column(table, "email"),
                    row.email,
                    f"{row.email} appears more than once in the file (also on line {others}); "
                    "neither row is imported.",
                )
            )
    return [r for r in rows if counts[r.email] == 1]


def _stored_by_email(emails: set[str]) -> dict[str, StaffMember]:
    """Return the stored staff members whose email, ignoring case, is in `emails`."""
    return {
        s.email_lower: s
        for s in StaffMember.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=emails
        )
    }


def _report_unknown_managers(plan: StaffImportPlan, table: Table, rows: list[PlannedStaff]) -> None:
    """Report line managers neither in the file nor stored, on every row that names one.

    A manager whose own row has errors still counts as in the file, because
    correcting that row is enough for the import to go through.
    """
    in_file = {r.email for r in rows if r.email}
    outside_file = {r.manager_email for r in rows if r.manager_email} - in_file
    stored = _stored_by_email(outside_file) if outside_file else {}
    for row in rows:
        if row.manager_email and row.manager_email not in in_file | stored.keys():
            plan.errors.append(
                RowError(
                    row.line,
                    _column(table, "line_manager"),
                    row.manager_email,
                    f"No staff member has the email {row.manager_email}, in the file or "
                    "already stored; add the line manager's row or correct the address.",
                )
            )


def _match(plan: StaffImportPlan, table: Table, rows: list[PlannedStaff]) -> None:
    emails = {r.email for r in rows} | {r.manager_email for r in rows if r.manager_email}
    stored = _stored_by_email(emails)
    for row in rows:
        row.staff = stored.get(row.email)
        if row.staff is None:
            continue
        staff = row.staff
        for name, value in row.values.items():
            current = staff.academy if name == "academy" else getattr(staff, name)
            if name == "email" and staff.email.lower() == value:
                continue
            if current != value:
                row.changes[name] = (current, value)
        manager = stored.get(row.manager_email) if row.manager_email else None
        if row.manager_email and (manager is None or manager.pk != staff.line_manager_id):
            row.changes["line_manager"] = (staff.line_manager_id, row.manager_email)
    _report_loops(plan, table, rows)


def _report_loops(
    plan: StaffImportPlan,
    table: Table,
    rows: list[PlannedStaff],
) -> None:
    """Report rows whose chain of line managers leads back to themselves."""
    managers = {r.email: r.manager_email for r in rows if r.manager_email}
    for row in rows:
        seen = {row.email}
        current = managers.get(row.email)
        while current and current not in seen:
            seen.add(current)
            current = managers.get(current)
        if current == row.email and row.manager_email != row.email:
            plan.errors.append(
                RowError(
                    row.line,
                    _column(table, "line_manager"),
                    row.manager_email or "",
                    "The line managers named in the file form a loop back to this person.",
                )
            )
