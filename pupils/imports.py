"""Read a pupil file from a school's MIS export and plan what importing it would do.

build_plan() reads the file, checks every row and compares the valid rows
with the database, without writing anything. The preview shows the plan;
pupils.services.pupil_import_apply() builds it again inside its transaction
and applies it only when no row has an error.

Rules the plan follows:
- Pupils are matched by UPN across the whole trust. A UPN held by a pupil who
  was never on roll at the importing academy but is at another one is a move
  when the dates of birth agree, and goes to the review list when they differ.
- A blank cell keeps what is stored. A pupil without a year group takes the
  year of their current enrolment here, or else the national curriculum year
  given by their age: age on 31 August before the academic year starts, minus 4.
- Pupils missing from the file are left alone; an import never deletes.
"""

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.text import capfirst

from academies.models import AcademicYear, Academy, TutorGroup, YearGroup, parse_nc_year
from academies.models import year_group_name as nc_year_name
from academies.selectors import visible_academies
from staff.models import Role, RoleAssignment, ScopeKind
from trust import clock
from trust.access import scope_for
from trust.tabular import (
    YES_NO,
    YES_NO_ALLOWED,
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

from .models import Enrolment, FsmPeriod, Pupil, PupilReview, SenStatus, Sex
from .upn import normalise_upn, upn_error

# Column name -> headers accepted for it, including the usual variants in MIS
# exports. Matching ignores case and punctuation.
PUPIL_COLUMNS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN"),
    "former_upn": ("Former UPN", "Previous UPN", "Old UPN"),
    "legal_surname": ("Surname", "Legal Surname", "Last Name", "Family Name", "Legal Last Name"),
    "legal_forename": (
        "Forename",
        "Legal Forename",
        "First Name",
        "Given Name",
        "Legal First Name",
        "Firstname",
    ),
    "middle_names": ("Middle Names", "Middle Name", "Middle Name(s)"),
    "preferred_forename": (
        "Preferred Forename",
        "Preferred First Name",
        "Preferred Name",
        "Known As",
        "Chosen Forename",
    ),
    "preferred_surname": ("Preferred Surname", "Preferred Last Name", "Chosen Surname"),
    "date_of_birth": ("DOB", "Date of Birth", "Birth Date", "Birthdate"),
    "sex": ("Sex", "Gender", "Legal Sex"),
    "year": ("Year", "Year Group", "NC Year", "National Curriculum Year", "Curriculum Year"),
    "tutor_group": (
        "Tutor Group",
        "Reg Group",
        "Reg",
        "Registration Group",
        "Form",
        "Form Group",
        "Reg Form",
    ),
    "sen": ("SEN", "SEN Status", "SEN Provision", "SEND", "SEND Status"),
    "fsm": ("FSM", "FSM Eligible", "FSM Eligibility", "Free School Meals", "Eligible for FSM"),
    "eal": ("EAL", "English as an Additional Language"),
    "looked_after": ("Looked After", "LAC", "CLA", "In Care", "Child Looked After"),
    "previously_looked_after": ("Previously Looked After", "PLAC", "PLA", "Post LAC"),
    "service_child": ("Service Child", "Service Children", "Service Premium", "Service Family"),
}
PUPIL_LABELS: dict[str, str] = {
    "upn": "UPN",
    "former_upn": "Former UPN",
    "legal_surname": "Surname",
    "legal_forename": "Forename",
    "middle_names": "Middle names",
    "preferred_forename": "Preferred forename",
    "preferred_surname": "Preferred surname",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "year": "Year",
    "tutor_group": "Tutor group",
    "sen": "SEN status",
    "fsm": "FSM",
    "eal": "EAL",
    "looked_after": "Looked after",
    "previously_looked_after": "Previously looked after",
    "service_child": "Service child",
}
REQUIRED_COLUMNS = ("upn", "legal_surname", "legal_forename", "date_of_birth")

SEX_CHOICES = {"m": Sex.MALE, "male": Sex.MALE, "f": Sex.FEMALE, "female": Sex.FEMALE}
SEX_ALLOWED = "M, F, Male, Female"
SEN_CHOICES = {
    "n": SenStatus.NONE,
    "none": SenStatus.NONE,
    "no sen": SenStatus.NONE,
    "no special educational needs": SenStatus.NONE,
    "k": SenStatus.SEN_SUPPORT,
    "sen support": SenStatus.SEN_SUPPORT,
    "e": SenStatus.EHC_PLAN,
    "ehc plan": SenStatus.EHC_PLAN,
    "ehcp": SenStatus.EHC_PLAN,
    "education, health and care plan": SenStatus.EHC_PLAN,
}
SEN_ALLOWED = "N (No SEN), K (SEN support), E (EHC plan)"
FSM_CHOICES = {**YES_NO, "eligible": True, "not eligible": False}
FSM_ALLOWED = "Yes, Y, TRUE, 1, Eligible, No, N, FALSE, 0, Not eligible, or blank to keep"

NAME_LIMITS = {
    "legal_forename": 100,
    "legal_surname": 100,
    "middle_names": 200,
    "preferred_forename": 100,
    "preferred_surname": 100,
}
FLAG_FIELDS = ("eal", "looked_after", "previously_looked_after", "service_child")
YEAR_ALLOWED = "N, R, Reception, 1 to 13, Year 9 or Y9"
# A pupil's age on the import date must be within these bounds (inclusive).
MIN_AGE, MAX_AGE = 2, 25


class RowKind:
    NEW = "new"
    UPDATE = "update"
    MOVE = "move"
    REVIEW = "review"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class PlannedRow:
    line: int
    upn: str
    raw: dict[str, str]
    former_upn: str | None
    # Pupil fields the row sets: present in the file and not blank (names
    # that are optional may be set to "" by a present, blank cell).
    values: dict[str, Any]
    nc_year: int | None = None
    tutor_group: str | None = None
    fsm: bool | None = None
    kind: str = RowKind.NEW
    pupil: Pupil | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # The enrolment on roll here on the import date, if any.
    current: Enrolment | None = None
    enrolment_changes: bool = False
    # Enrolments at other academies that the move ends.
    ends_elsewhere: list[Enrolment] = field(default_factory=list)
    fsm_open: bool = False
    fsm_close: FsmPeriod | None = None
    review: PupilReview | None = None

    @property
    def change_list(self) -> list[tuple[str, str, str]]:
        """Return each changed field as (label, value before, value after) for display."""
        shown = []
        for name, (before, after) in self.changes.items():
            model_field: Any = Pupil._meta.get_field(name)
            shown.append((capfirst(str(model_field.verbose_name)), _shown(before), _shown(after)))
        return shown

    @property
    def year_name(self) -> str:
        return nc_year_name(self.nc_year) if self.nc_year is not None else ""

    @property
    def writes(self) -> bool:
        return bool(
            self.kind in (RowKind.NEW, RowKind.REVIEW)
            or self.changes
            or self.enrolment_changes
            or self.ends_elsewhere
            or self.fsm_open
            or self.fsm_close
        )


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    return str(value) if value not in (None, "") else "blank"


@dataclass
class PupilImportPlan:
    academy: Academy
    import_date: datetime.date
    description: str = ""
    file_error: str | None = None
    errors: list[RowError] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    row_count: int = 0
    ignored_headers: list[str] = field(default_factory=list)
    academic_year: AcademicYear | None = None
    academic_year_start: int = 0
    year_groups: dict[int, YearGroup] = field(default_factory=dict)
    new_year_groups: list[int] = field(default_factory=list)
    tutor_groups: dict[str, TutorGroup] = field(default_factory=dict)
    # Tutor group name -> national curriculum year, for groups the import creates.
    new_tutor_groups: dict[str, int] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return self.file_error is None and not self.errors

    def of_kind(self, *kinds: str) -> list[PlannedRow]:
        return [r for r in self.rows if r.kind in kinds]

    @property
    def new_rows(self) -> list[PlannedRow]:
        return self.of_kind(RowKind.NEW)

    @property
    def updated_rows(self) -> list[PlannedRow]:
        return [r for r in self.of_kind(RowKind.UPDATE, RowKind.MOVE) if r.writes]

    @property
    def unchanged_rows(self) -> list[PlannedRow]:
        return [r for r in self.of_kind(RowKind.UPDATE, RowKind.MOVE) if not r.writes]

    @property
    def moved_rows(self) -> list[PlannedRow]:
        return self.of_kind(RowKind.MOVE)

    @property
    def review_rows(self) -> list[PlannedRow]:
        return self.of_kind(RowKind.REVIEW)

    @property
    def new_tutor_group_list(self) -> list[tuple[str, str]]:
        return [(name, nc_year_name(year)) for name, year in sorted(self.new_tutor_groups.items())]

    @property
    def new_year_group_names(self) -> list[str]:
        return [nc_year_name(y) for y in sorted(self.new_year_groups)]

    @property
    def academic_year_name(self) -> str:
        start = self.academic_year_start
        return f"{start}/{(start + 1) % 100:02d}"

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.row_count,
            # One row can have several invalid cells, so rows and problems differ.
            "error_rows": len({error.line for error in self.errors}),
            "errors": len(self.errors),
            "new": len(self.new_rows),
            "updated": len(self.updated_rows),
            "unchanged": len(self.unchanged_rows),
            "moved": len(self.moved_rows),
            "reviews": len(self.review_rows),
            "new_tutor_groups": len(self.new_tutor_groups),
        }


# Who may import -------------------------------------------------------------

IMPORT_ROLES = (Role.HEADTEACHER, Role.ACADEMY_LEADER)


def importable_academies(user: Any) -> QuerySet[Academy]:
    """Return the academies `user` may import pupils into: every visible academy
    for trust administrators, and the academies where they are headteacher or
    academy leader for everyone else."""
    scope = scope_for(user)
    academies = visible_academies(user)
    if user.is_superuser or scope.has_role(Role.TRUST_ADMIN):
        return academies
    if not scope.staff_id or not scope.has_role(*IMPORT_ROLES):
        return academies.none()
    today = clock.today()
    led = RoleAssignment.objects.filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        staff_id=scope.staff_id,
        role__in=IMPORT_ROLES,
        scope=ScopeKind.ACADEMY,
    ).values("academy_id")
    return academies.filter(pk__in=led)


def can_review(user: Any) -> bool:
    """Return whether `user` may resolve the pupil review list (trust administrators)."""
    return bool(user.is_superuser or scope_for(user).has_role(Role.TRUST_ADMIN))


# Reading one row ------------------------------------------------------------


def nc_year_by_age(date_of_birth: datetime.date, academic_year_start: int) -> int:
    """Return the national curriculum year for a pupil of this birth date in the
    academic year starting in September of `academic_year_start`: the age on the
    31 August before it, minus 4."""
    cutoff = datetime.date(academic_year_start, 8, 31)
    age = cutoff.year - date_of_birth.year
    if (date_of_birth.month, date_of_birth.day) > (cutoff.month, cutoff.day):
        age -= 1
    return age - 4


def age_on(date_of_birth: datetime.date, day: datetime.date) -> int:
    age = day.year - date_of_birth.year
    if (date_of_birth.month, date_of_birth.day) > (day.month, day.day):
        age -= 1
    return age


def _academy_teaches(academy: Academy, nc_year: int) -> bool:
    # Pupils in year N are N + 4 at the start of the year and N + 5 at its end.
    return academy.age_range_low <= nc_year + 4 and nc_year + 5 <= academy.age_range_high


class _RowReader:
    """Reader of table rows: each becomes a PlannedRow, or an error per bad cell."""

    def __init__(self, table: Table, import_date: datetime.date) -> None:
        self.table = table
        self.import_date = import_date
        self.errors: list[RowError] = []
        self.row: Row | None = None

    def error(self, name: str, value: Cell | str, reason: str) -> None:
        assert self.row is not None
        column = self.table.header(name) if name in self.table.headers else PUPIL_LABELS[name]
        text = value if isinstance(value, str) else text_or_display(value)
        self.errors.append(RowError(self.row.line, column, text, reason))

    def read(self, row: Row) -> PlannedRow | None:
        self.row = row
        before = len(self.errors)
        if row.extra_cells:
            self.errors.append(
                RowError(
                    row.line,
                    "(whole row)",
                    "",
                    f"The row has {row.extra_cells} filled cell(s) beyond the last header; "
                    "check for a stray delimiter or a missing header.",
                )
            )

        upn = self._upn("upn", required=True)
        former = self._upn("former_upn", required=False)

        values: dict[str, Any] = {}
        for name, limit in NAME_LIMITS.items():
            if name not in self.table.headers:
                continue
            text = self._text(name)
            if text is None:
                continue
            if not text and name in ("legal_forename", "legal_surname"):
                self.error(name, text, f"{PUPIL_LABELS[name]} is missing; every pupil needs one.")
            elif len(text) > limit:
                self.error(name, text, f"Too long: {len(text)} characters, at most {limit}.")
            else:
                values[name] = text

        dob = self._date_of_birth()
        if dob is not None:
            values["date_of_birth"] = dob
        # A new pupil with no Sex cell gets the model default, "Not known".
        self._choice(values, "sex", "sex", SEX_CHOICES, SEX_ALLOWED)
        self._choice(values, "sen", "sen_status", SEN_CHOICES, SEN_ALLOWED)
        for name in FLAG_FIELDS:
            self._choice(values, name, name, YES_NO, YES_NO_ALLOWED)
        fsm_values: dict[str, Any] = {}
        self._choice(fsm_values, "fsm", "fsm", FSM_CHOICES, FSM_ALLOWED)

        nc_year = self._year()
        tutor_group = self._text("tutor_group")
        if tutor_group and len(tutor_group) > 20:
            self.error("tutor_group", tutor_group, "Too long: a tutor group name has at most 20.")
        if len(self.errors) > before or upn is None:
            return None

        planned = PlannedRow(
            line=row.line,
            upn=upn,
            raw=row.raw(),
            former_upn=former if former and former != upn else None,
            values=values,
            nc_year=nc_year,
            tutor_group=tutor_group or None,
            fsm=fsm_values.get("fsm"),
        )
        return planned

    def _text(self, name: str) -> str | None:
        assert self.row is not None
        cell = self.row.get(name)
        try:
            return text_value(cell)
        except CellError as error:
            self.error(name, cell, str(error))
            return None

    def _upn(self, name: str, *, required: bool) -> str | None:
        text = self._text(name) if name in self.table.headers else ""
        if text is None:
            return None
        upn = normalise_upn(text)
        if not upn:
            if required:
                self.error(name, text, "The UPN is missing; every pupil needs one.")
            return None
        problem = upn_error(upn)
        if problem:
            self.error(name, text, problem)
            return None
        return upn

    def _date_of_birth(self) -> datetime.date | None:
        assert self.row is not None
        cell = self.row.get("date_of_birth")
        if cell == "":
            self.error("date_of_birth", "", "The date of birth is missing; use dd/mm/yyyy.")
            return None
        try:
            dob = date_value(cell)
        except CellError as error:
            self.error("date_of_birth", cell, str(error))
            return None
        age = age_on(dob, self.import_date)
        if not MIN_AGE <= age <= MAX_AGE:
            self.error(
                "date_of_birth",
                f"{dob:%d/%m/%Y}",
                f"Gives an age of {age} on {self.import_date:%d/%m/%Y}; "
                f"pupils are aged {MIN_AGE} to {MAX_AGE}. Check the day and month order.",
            )
            return None
        return dob

    def _choice(
        self,
        values: dict[str, Any],
        name: str,
        target: str,
        choices: dict[str, Any],
        allowed: str,
    ) -> None:
        assert self.row is not None
        if name not in self.table.headers:
            return
        cell = self.row.get(name)
        if cell == "" or (isinstance(cell, str) and not cell.strip()):
            return
        try:
            values[target] = choice_value(cell, choices, allowed)
        except CellError as error:
            self.error(name, cell, str(error))

    def _year(self) -> int | None:
        if "year" not in self.table.headers:
            return None
        text = self._text("year")
        if not text:
            return None
        nc_year = parse_nc_year(text)
        if nc_year is None:
            self.error("year", text, f"Not a year group; use {YEAR_ALLOWED}.")
        return nc_year


def text_or_display(cell: Cell) -> str:
    try:
        return text_value(cell)
    except CellError:
        return str(cell)


# Building the plan ------------------------------------------------------------


def read_pupil_table(content: bytes, filename: str) -> Table:
    return read_table(
        content, filename, PUPIL_COLUMNS, required=REQUIRED_COLUMNS, labels=PUPIL_LABELS
    )


def build_plan(
    *,
    academy: Academy,
    content: bytes,
    filename: str,
    import_date: datetime.date | None = None,
) -> PupilImportPlan:
    """Read and check a pupil file for `academy` and plan its import; writes nothing."""
    day = import_date or clock.today()
    try:
        table = read_pupil_table(content, filename)
    except FileRejected as rejected:
        return PupilImportPlan(academy=academy, import_date=day, file_error=rejected.message)
    return plan_table(academy=academy, table=table, import_date=day)


def plan_table(
    *,
    academy: Academy,
    table: Table,
    import_date: datetime.date,
    merge_pupil_ids: Iterable[int] = (),
) -> PupilImportPlan:
    """Plan the import of an already read table.

    `merge_pupil_ids` lists pupils an administrator has confirmed are the
    pupil in the row, so a differing date of birth updates them instead of
    opening a review.
    """
    plan = PupilImportPlan(
        academy=academy,
        import_date=import_date,
        description=table.description,
        row_count=len(table.rows),
        ignored_headers=table.ignored_headers,
    )
    reader = _RowReader(table, import_date)
    read_rows = [(row, reader.read(row)) for row in table.rows]
    plan.errors.extend(reader.errors)
    _report_duplicates(plan, table, read_rows)
    rows = [planned for _, planned in read_rows if planned is not None]
    _load_calendar(plan)
    _match(plan, table, rows, set(merge_pupil_ids))
    plan.errors.sort(key=lambda e: (e.line, e.column))
    return plan


def _report_duplicates(
    plan: PupilImportPlan, table: Table, read_rows: list[tuple[Row, PlannedRow | None]]
) -> None:
    """Report every row whose UPN appears more than once; none of them is imported."""
    upns: dict[int, str] = {}
    for row, _ in read_rows:
        try:
            upn = normalise_upn(text_value(row.get("upn")))
        except CellError:
            continue
        if upn:
            upns[row.line] = upn
    counts = Counter(upns.values())
    lines_by_upn: dict[str, list[int]] = defaultdict(list)
    for line, upn in upns.items():
        lines_by_upn[upn].append(line)
    for index, (row, planned) in enumerate(read_rows):
        duplicate = upns.get(row.line)
        if duplicate and counts[duplicate] > 1:
            others = ", ".join(str(n) for n in lines_by_upn[duplicate] if n != row.line)
            plan.errors.append(
                RowError(
                    row.line,
                    table.header("upn"),
                    duplicate,
                    f"UPN {duplicate} appears more than once in the file "
                    f"(also on line {others}); neither row is imported.",
                )
            )
            if planned is not None:
                read_rows[index] = (row, None)


def _load_calendar(plan: PupilImportPlan) -> None:
    academy = plan.academy
    start = clock.academic_year_start(plan.import_date)
    plan.academic_year_start = start
    plan.academic_year = AcademicYear.objects.filter(
        trust_id=academy.trust_id, start_year=start
    ).first()
    plan.year_groups = {yg.nc_year: yg for yg in YearGroup.objects.filter(academy=academy)}
    if plan.academic_year is not None:
        groups = TutorGroup.objects.filter(
            academy=academy, academic_year=plan.academic_year
        ).select_related("year_group")
        plan.tutor_groups = {tg.name.casefold(): tg for tg in groups}


def _match(
    plan: PupilImportPlan, table: Table, rows: list[PlannedRow], merge_ids: set[int]
) -> None:
    academy = plan.academy
    lookup = {r.upn for r in rows} | {r.former_upn for r in rows if r.former_upn}
    pupils = {p.upn: p for p in Pupil.objects.filter(upn__in=lookup)}
    pupil_ids = [p.pk for p in pupils.values()]
    enrolments: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in Enrolment.objects.filter(pupil_id__in=pupil_ids).select_related(
        "year_group", "tutor_group"
    ):
        enrolments[enrolment.pupil_id].append(enrolment)
    # A period still running on the import date counts as open, even with an end date.
    running = FsmPeriod.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=plan.import_date),
        pupil_id__in=pupil_ids,
        start_date__lte=plan.import_date,
    )
    open_fsm: dict[int, FsmPeriod] = {period.pupil_id: period for period in running}
    reviews = {
        review.existing_pupil_id: review
        for review in PupilReview.objects.filter(
            academy=academy, existing_pupil_id__in=pupil_ids, status=PupilReview.Status.OPEN
        )
    }

    for row in rows:
        before = len(plan.errors)
        # A former UPN that matches no pupil is ignored, and the row matches by its UPN.
        former = row.former_upn
        pupil = pupils.get(former) if former else None
        holder = pupils.get(row.upn)
        if pupil is not None and holder is not None and holder.pk != pupil.pk:
            _row_error(
                plan,
                table,
                row,
                "upn",
                row.upn,
                f"UPN {row.upn} already belongs to another pupil, so the pupil with "
                f"former UPN {former} cannot take it.",
            )
            continue
        pupil = pupil or holder
        row.pupil = pupil
        history = enrolments.get(pupil.pk, []) if pupil else []
        if pupil is not None:
            ever_here = any(e.academy_id == academy.pk for e in history)
            elsewhere = any(e.academy_id != academy.pk for e in history)
            dob = row.values.get("date_of_birth")
            moving = not ever_here and elsewhere
            if moving and dob != pupil.date_of_birth and pupil.pk not in merge_ids:
                row.kind = RowKind.REVIEW
                row.review = reviews.get(pupil.pk)
                continue
            row.kind = RowKind.MOVE if moving else RowKind.UPDATE
            if pupil.upn != row.upn:
                row.values["upn"] = row.upn
        _plan_enrolment(plan, table, row, history)
        if len(plan.errors) > before:
            continue
        if pupil is None:
            row.kind = RowKind.NEW
            row.fsm_open = bool(row.fsm)
            continue
        row.changes = {
            name: (getattr(pupil, name), value)
            for name, value in row.values.items()
            if getattr(pupil, name) != value
        }
        period = open_fsm.get(pupil.pk)
        row.fsm_open = row.fsm is True and period is None
        row.fsm_close = period if row.fsm is False else None
    error_lines = {e.line for e in plan.errors}
    plan.rows = [r for r in rows if r.line not in error_lines]


def _row_error(
    plan: PupilImportPlan, table: Table, row: PlannedRow, name: str, value: str, reason: str
) -> None:
    column = table.header(name) if name in table.headers else PUPIL_LABELS[name]
    plan.errors.append(RowError(row.line, column, value, reason))


def _plan_enrolment(
    plan: PupilImportPlan, table: Table, row: PlannedRow, history: list[Enrolment]
) -> None:
    """Decide the row's year and tutor group and whether its enrolment changes."""
    academy = plan.academy
    day = plan.import_date
    active = [e for e in history if e.is_active_on(day)]
    current = next((e for e in active if e.academy_id == academy.pk), None)
    row.current = current
    row.ends_elsewhere = [e for e in active if e.academy_id != academy.pk]
    this_year = plan.academic_year is not None and (
        current is not None and current.academic_year_id == plan.academic_year.pk
    )

    nc_year = row.nc_year
    if nc_year is None and current is not None and this_year:
        nc_year = current.year_group.nc_year
    if nc_year is None:
        dob = row.values.get("date_of_birth") or (row.pupil.date_of_birth if row.pupil else None)
        if dob is None:
            return
        nc_year = nc_year_by_age(dob, plan.academic_year_start)
        if nc_year not in plan.year_groups and not _academy_teaches(academy, nc_year):
            _row_error(
                plan,
                table,
                row,
                "year",
                "",
                f"No year group given, and the date of birth gives {nc_year_name(nc_year)}, "
                f"which {academy.name} (ages {academy.age_range}) does not teach. "
                "Add the year group to the file.",
            )
            return
    if nc_year not in plan.year_groups:
        if not _academy_teaches(academy, nc_year):
            _row_error(
                plan,
                table,
                row,
                "year",
                row.raw.get("year", ""),
                f"{nc_year_name(nc_year)} is not a year group of {academy.name}, whose age "
                f"range is {academy.age_range}.",
            )
            return
        if nc_year not in plan.new_year_groups:
            plan.new_year_groups.append(nc_year)
    row.nc_year = nc_year

    tutor = row.tutor_group
    if tutor is None and current is not None and this_year and current.tutor_group_id:
        assert current.tutor_group is not None
        if current.year_group.nc_year == nc_year:
            tutor = current.tutor_group.name
    if tutor is not None:
        existing = plan.tutor_groups.get(tutor.casefold())
        if existing is not None:
            tutor = existing.name
            if existing.year_group.nc_year != nc_year:
                _row_error(
                    plan,
                    table,
                    row,
                    "tutor_group",
                    tutor,
                    f"Tutor group {tutor} is in {existing.year_group.name}, "
                    f"but the row gives {nc_year_name(nc_year)}.",
                )
                return
        else:
            planned_year = plan.new_tutor_groups.setdefault(tutor, nc_year)
            if planned_year != nc_year:
                _row_error(
                    plan,
                    table,
                    row,
                    "tutor_group",
                    tutor,
                    f"New tutor group {tutor} is given as {nc_year_name(planned_year)} on an "
                    f"earlier row and as {nc_year_name(nc_year)} here.",
                )
                return
    row.tutor_group = tutor

    if current is None or not this_year:
        row.enrolment_changes = True
        return
    current_tutor = current.tutor_group.name if current.tutor_group else None
    row.enrolment_changes = current.year_group.nc_year != nc_year or current_tutor != tutor
