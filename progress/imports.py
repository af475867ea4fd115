"""Read a grades file (UPN, subject, assessment point, grade), check every row
and write it all or nothing.

build_plan() reads the file and compares each valid row with the stored
grade, without writing. The preview shows the plan; grades_import_apply()
builds it again inside its transaction and writes only when no row has an
error. A row whose grade is already stored is left alone, so importing the
same file twice writes nothing the second time.

Matching:
- Pupils by UPN. A UPN outside the importing user's scope gives the same
  error as an unknown UPN, so the file reveals no one outside it.
- Subjects by the qualification's name, the subject's name or the subject's
  code, ignoring case. A subject with several current qualifications needs
  the qualification's name.
- Assessment points by name among the points of the year groups and
  academic years the pupil was enrolled in. When several match, the one in
  the current academic year is taken.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pupils.imports import importable_academies
from pupils.models import Enrolment, Pupil, active_on
from pupils.services import bulk_update_rows
from pupils.upn import normalise_upn, upn_error
from staff.models import Role, RoleAssignment, ScopeKind
from trust import clock
from trust.access import scope_for
from trust.audit import acting_as, current_actor, current_reason
from trust.models import AuditEvent
from trust.tabular import CellError, FileRejected, Row, Table, display, read_table, text_value

from .grades import parse_grade
from .models import (
    AssessmentPoint,
    ClassMembership,
    Grade,
    GradeEntry,
    GradeScale,
    Qualification,
)

GRADE_COLUMNS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN"),
    "subject": ("Subject", "Qualification", "Subject Code", "Course"),
    "assessment_point": ("Assessment Point", "Assessment", "Data Drop", "Assessment Name"),
    "grade": ("Grade", "Result", "Mark", "Value"),
}
GRADE_LABELS: dict[str, str] = {
    "upn": "UPN",
    "subject": "Subject",
    "assessment_point": "Assessment point",
    "grade": "Grade",
}
REQUIRED_COLUMNS = ("upn", "subject", "assessment_point", "grade")

BATCH_SIZE = 1000
# With a progress callback, rows are written in chunks of this many and
# progress is reported after each chunk.
PROGRESS_ROWS = 200
# How many names an error lists before "and N more".
NAMES_IN_MESSAGE = 8

# Called with the rows processed so far, the total and a short step name.
ProgressCallback = Callable[[int, int, str], None]


class RowKind:
    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class PlannedGrade:
    line: int
    pupil: Pupil
    qualification: Qualification
    point: AssessmentPoint
    enrolment: Enrolment
    text: str
    grade: Grade | None
    value: Decimal | None
    kind: str = RowKind.NEW
    existing: GradeEntry | None = None

    @property
    def previous_label(self) -> str:
        if self.existing is None:
            return ""
        return _entry_label(self.existing.grade, self.existing.value)

    @property
    def label(self) -> str:
        return _entry_label(self.grade, self.value)


def _entry_label(grade: Grade | None, value: Decimal | None) -> str:
    if grade is not None:
        return grade.label
    return f"{value.normalize():f}" if value is not None else ""


@dataclass
class GradeImportPlan:
    import_date: datetime.date
    description: str = ""
    file_error: str | None = None
    errors: list[RowError] = field(default_factory=list)
    rows: list[PlannedGrade] = field(default_factory=list)
    row_count: int = 0
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.file_error is None and not self.errors

    def of_kind(self, kind: str) -> list[PlannedGrade]:
        return [row for row in self.rows if row.kind == kind]

    @property
    def new_rows(self) -> list[PlannedGrade]:
        return self.of_kind(RowKind.NEW)

    @property
    def updated_rows(self) -> list[PlannedGrade]:
        return self.of_kind(RowKind.UPDATE)

    @property
    def unchanged_rows(self) -> list[PlannedGrade]:
        return self.of_kind(RowKind.UNCHANGED)

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.row_count,
            "error_rows": len({error.line for error in self.errors}),
            "errors": len(self.errors),
            "new": len(self.new_rows),
            "updated": len(self.updated_rows),
            "unchanged": len(self.unchanged_rows),
        }


# Who may import -------------------------------------------------------------------


@dataclass(frozen=True)
class ImportScope:
    """The academies, year groups and classes a user may import grades for."""

    all_pupils: bool = False
    # Academies the user leads (headteacher, academy leader) or administers.
    academy_ids: frozenset[int] = frozenset()
    # Year groups the user is head of.
    year_group_ids: frozenset[int] = frozenset()
    # Classes the user teaches this academic year.
    teaching_group_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (
            self.all_pupils or self.academy_ids or self.year_group_ids or self.teaching_group_ids
        )


def import_scope(user: Any) -> ImportScope:
    """Return what `user` may import grades for: trust administrators every
    pupil, headteachers and academy leaders their academies, heads of year
    the pupils now in their year, teachers the pupils now in their classes."""
    if not user or not user.is_authenticated:
        return ImportScope()
    scope = scope_for(user)
    if user.is_superuser or scope.has_role(Role.TRUST_ADMIN):
        return ImportScope(all_pupils=True)
    academies = frozenset(importable_academies(user).values_list("pk", flat=True))
    year_groups: frozenset[int] = frozenset()
    if scope.staff_id and scope.has_role(Role.HEAD_OF_YEAR):
        today = clock.today()
        year_groups = frozenset(
            RoleAssignment.objects.filter(
                Q(starts_on__isnull=True) | Q(starts_on__lte=today),
                Q(ends_on__isnull=True) | Q(ends_on__gte=today),
                staff_id=scope.staff_id,
                role=Role.HEAD_OF_YEAR,
                scope=ScopeKind.YEAR_GROUP,
            ).values_list("year_group_id", flat=True)
        )
    return ImportScope(
        academy_ids=academies,
        year_group_ids=year_groups,
        teaching_group_ids=scope.teaching_group_ids,
    )


def can_import_grades(user: Any) -> bool:
    return not import_scope(user).is_empty


# Reading the file -----------------------------------------------------------------


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_IN_MESSAGE])
    more = len(names) - NAMES_IN_MESSAGE
    return f"{shown} and {more} more" if more > 0 else shown


@dataclass
class _Lookups:
    """Everything the rows refer to, read in a fixed number of queries."""

    pupils: dict[str, Pupil]
    enrolments: dict[int, list[Enrolment]]
    # (trust id, folded name or code) -> qualifications it names.
    qualifications: dict[tuple[int, str], list[Qualification]]
    trust_subjects: dict[int, list[str]]
    # Pupil id -> qualifications of every class the pupil has been in.
    studied: dict[int, set[int]]
    # (year group id, academic year id) -> points by folded name.
    points: dict[tuple[int, int], dict[str, AssessmentPoint]]
    existing: dict[tuple[int, int, int], GradeEntry]
    all_pupils: bool
    # Pupil ids in the user's scope, and those now in a year group they head.
    # `taught` maps each pupil in a class they teach to its qualifications.
    in_scope: set[int]
    headed: set[int]
    taught: dict[int, set[int]]
    led_academies: frozenset[int]


def _read_lookups(table: Table, scope: ImportScope, import_date: datetime.date) -> _Lookups:
    upns = set()
    for row in table.rows:
        try:
            upns.add(normalise_upn(text_value(row.get("upn"))))
        except CellError:
            continue
    pupils = {p.upn: p for p in Pupil.objects.filter(upn__in=upns)}
    pupil_ids = [p.pk for p in pupils.values()]

    enrolments: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in (
        Enrolment.objects.filter(pupil_id__in=pupil_ids)
        .select_related("academy", "academic_year", "year_group")
        .order_by("start_date", "pk")
    ):
        enrolments[enrolment.pupil_id].append(enrolment)

    if scope.all_pupils:
        led, headed, taught = set(pupil_ids), set[int](), dict[int, set[int]]()
    else:
        led, headed, taught = _pupils_in_scope(scope, enrolments, pupil_ids, import_date)

    trust_ids = {e.academy.trust_id for rows in enrolments.values() for e in rows}
    qualifications: dict[tuple[int, str], list[Qualification]] = defaultdict(list)
    trust_subjects: dict[int, list[str]] = defaultdict(list)
    # One scale object per scale, so parse_grade reads each scale's grades once.
    scales: dict[int, GradeScale] = {}
    for qualification in (
        Qualification.objects.filter(subject__trust_id__in=trust_ids, retired=False)
        .select_related("subject", "scale")
        .order_by("subject__name", "name")
    ):
        qualification.scale = scales.setdefault(qualification.scale_id, qualification.scale)
        subject = qualification.subject
        trust_subjects[subject.trust_id].append(qualification.name)
        keys = {_fold(qualification.name), _fold(subject.name), _fold(subject.code)}
        for key in keys:
            qualifications[(subject.trust_id, key)].append(qualification)

    studied: dict[int, set[int]] = defaultdict(set)
    for pupil_id, qualification_id in ClassMembership.objects.filter(
        pupil_id__in=pupil_ids
    ).values_list("pupil_id", "group__qualification_id"):
        studied[pupil_id].add(qualification_id)

    pairs = {(e.year_group_id, e.academic_year_id) for rows in enrolments.values() for e in rows}
    points: dict[tuple[int, int], dict[str, AssessmentPoint]] = defaultdict(dict)
    if pairs:
        for point in AssessmentPoint.objects.filter(
            year_group_id__in={y for y, _ in pairs},
            academic_year_id__in={a for _, a in pairs},
        ).select_related("academy", "academic_year", "year_group"):
            points[(point.year_group_id, point.academic_year_id)][_fold(point.name)] = point

    point_ids = [p.pk for group in points.values() for p in group.values()]
    existing = {
        (e.pupil_id, e.qualification_id, e.assessment_point_id): e
        for e in GradeEntry.objects.filter(
            pupil_id__in=pupil_ids, assessment_point_id__in=point_ids
        ).select_related("grade")
    }
    return _Lookups(
        pupils=pupils,
        enrolments=enrolments,
        qualifications=qualifications,
        trust_subjects=trust_subjects,
        studied=studied,
        points=points,
        existing=existing,
        all_pupils=scope.all_pupils,
        in_scope=led | headed | set(taught),
        headed=headed,
        taught=taught,
        led_academies=scope.academy_ids,
    )


def _pupils_in_scope(
    scope: ImportScope,
    enrolments: dict[int, list[Enrolment]],
    pupil_ids: list[int],
    day: datetime.date,
) -> tuple[set[int], set[int], dict[int, set[int]]]:
    """Return the pupils ever on roll at an academy the user leads, the pupils
    now in a year group they head, and per pupil in a class they teach the
    qualifications of those classes."""
    led: set[int] = set()
    headed: set[int] = set()
    for pupil_id, rows in enrolments.items():
        for enrolment in rows:
            if enrolment.academy_id in scope.academy_ids:
                led.add(pupil_id)
            elif enrolment.year_group_id in scope.year_group_ids and enrolment.is_active_on(day):
                headed.add(pupil_id)
    taught: dict[int, set[int]] = defaultdict(set)
    if scope.teaching_group_ids:
        memberships = ClassMembership.objects.filter(
            active_on(day), group_id__in=scope.teaching_group_ids, pupil_id__in=pupil_ids
        ).values_list("pupil_id", "group__qualification_id")
        for pupil_id, qualification_id in memberships:
            taught[pupil_id].add(qualification_id)
    return led, headed, dict(taught)


class _RowChecker:
    """Checker of one table's rows: each valid row becomes a PlannedGrade."""

    def __init__(self, table: Table, lookups: _Lookups, import_date: datetime.date) -> None:
        self.table = table
        self.lookups = lookups
        self.import_date = import_date
        self.errors: list[RowError] = []
        self.seen: dict[tuple[int, int, int], int] = {}
        self.row: Row | None = None
        # (scale id, text, final) -> the parsed grade or the ValidationError,
        # so a long file reads each scale's grades once per distinct value.
        self.parsed: dict[tuple[int, str, bool], Grade | Decimal | ValidationError] = {}

    def error(self, name: str, value: str, reason: str) -> None:
        assert self.row is not None
        column = self.table.header(name) if name in GRADE_LABELS else name
        self.errors.append(RowError(self.row.line, column, value, reason))

    def check(self, row: Row) -> PlannedGrade | None:
        self.row = row
        if row.extra_cells:
            self.error(
                "(whole row)",
                "",
                f"The row has {row.extra_cells} filled cell(s) beyond the last header; "
                "check for a stray delimiter or a missing header.",
            )
            return None
        pupil = self._pupil()
        if pupil is None:
            return None
        point = self._point(pupil)
        if point is None:
            return None
        qualification = self._qualification(pupil, point)
        if qualification is None:
            return None
        if not self._allowed(pupil, qualification, point):
            return None
        enrolment = self._enrolment(pupil, point)
        if enrolment is None:
            return None
        parsed = self._grade(qualification, point)
        if parsed is None:
            return None
        text, grade, value = parsed
        key = (pupil.pk, qualification.pk, point.pk)
        first_line = self.seen.get(key)
        if first_line is not None:
            self.error(
                "(whole row)",
                "",
                f"Duplicate of line {first_line}: the file gives {pupil.upn} a second "
                f"{qualification.name} grade at {point.name}. Keep one of the two rows.",
            )
            return None
        self.seen[key] = row.line
        planned = PlannedGrade(
            line=row.line,
            pupil=pupil,
            qualification=qualification,
            point=point,
            enrolment=enrolment,
            text=text,
            grade=grade,
            value=value,
            existing=self.lookups.existing.get(key),
        )
        if planned.existing is None:
            planned.kind = RowKind.NEW
        elif planned.existing.grade_id == (grade.pk if grade else None) and _same_value(
            planned.existing.value, value
        ):
            planned.kind = RowKind.UNCHANGED
        else:
            planned.kind = RowKind.UPDATE
        return planned

    def _text(self, name: str) -> str | None:
        assert self.row is not None
        cell = self.row.get(name)
        try:
            text = text_value(cell)
        except CellError as error:
            self.error(name, display(cell), str(error))
            return None
        if not text:
            self.error(name, "", f"{GRADE_LABELS[name]} is missing; every row needs one.")
            return None
        return text

    def _pupil(self) -> Pupil | None:
        text = self._text("upn")
        if text is None:
            return None
        upn = normalise_upn(text)
        problem = upn_error(upn)
        if problem:
            self.error("upn", text, problem)
            return None
        pupil = self.lookups.pupils.get(upn)
        if pupil is None or pupil.pk not in self.lookups.in_scope:
            self.error(
                "upn",
                text,
                f"UPN {upn} is not a pupil you can enter grades for: either no pupil has it "
                "or the pupil is outside your academies, year groups and classes.",
            )
            return None
        return pupil

    def _qualification(self, pupil: Pupil, point: AssessmentPoint) -> Qualification | None:
        text = self._text("subject")
        if text is None:
            return None
        trust_id = point.academy.trust_id
        matches = self.lookups.qualifications.get((trust_id, _fold(text)), [])
        exact = [q for q in matches if _fold(q.name) == _fold(text)]
        if len(exact) == 1:
            return exact[0]
        # A subject name such as "Mathematics" names GCSE, A level and KS2
        # qualifications: take the one the pupil is taught in a class, or
        # else the one whose scale fits the year group.
        studied = self.lookups.studied.get(pupil.pk, set())
        for narrowed in (
            matches,
            [q for q in matches if q.pk in studied],
            [q for q in matches if q.scale.kind in _scale_kinds(point.year_group.nc_year)],
        ):
            if len(narrowed) == 1:
                return narrowed[0]
        if matches:
            names = [q.name for q in matches]
            self.error(
                "subject",
                text,
                f"Subject {text!r} matches several qualifications: {_listed(names)}. "
                "Give the qualification's name.",
            )
            return None
        known = self.lookups.trust_subjects.get(trust_id, [])
        self.error(
            "subject",
            text,
            f"Subject {text!r} is not a qualification, subject name or subject code of this "
            f"trust; known qualifications: {_listed(known) or 'none'}.",
        )
        return None

    def _point(self, pupil: Pupil) -> AssessmentPoint | None:
        text = self._text("assessment_point")
        if text is None:
            return None
        enrolments = self.lookups.enrolments.get(pupil.pk, [])
        pairs = []
        for enrolment in enrolments:
            pair = (enrolment.year_group_id, enrolment.academic_year_id)
            if pair not in pairs:
                pairs.append(pair)
        found = [
            self.lookups.points[pair][_fold(text)]
            for pair in pairs
            if _fold(text) in self.lookups.points.get(pair, {})
        ]
        if len(found) > 1:
            current = [
                p
                for p in found
                if p.academic_year.start_date <= self.import_date <= p.academic_year.end_date
            ]
            if len(current) == 1:
                return current[0]
            described = [f"{p.year_group.name} {p.academic_year.name}" for p in found]
            self.error(
                "assessment_point",
                text,
                f"Assessment point {text!r} exists for several of {pupil.upn}'s years "
                f"({_listed(described)}); rename one of them so the name is unique.",
            )
            return None
        if found:
            return found[0]
        latest = enrolments[-1] if enrolments else None
        if latest is None:
            names: list[str] = []
        else:
            pair = (latest.year_group_id, latest.academic_year_id)
            names = [
                p.name for p in sorted(self.lookups.points.get(pair, {}).values(), key=_by_date)
            ]
        where = f" for {latest.year_group.name} in {latest.academic_year.name}" if latest else ""
        self.error(
            "assessment_point",
            text,
            f"Assessment point {text!r} was not found for {pupil.upn}'s year groups; "
            f"points{where}: {_listed(names) or 'none set up'}.",
        )
        return None

    def _allowed(self, pupil: Pupil, qualification: Qualification, point: AssessmentPoint) -> bool:
        lookups = self.lookups
        if (
            lookups.all_pupils
            or point.academy_id in lookups.led_academies
            or pupil.pk in lookups.headed
            or qualification.pk in lookups.taught.get(pupil.pk, set())
        ):
            return True
        if pupil.pk in lookups.taught:
            self.error(
                "subject",
                qualification.name,
                f"You do not teach {pupil.upn} {qualification.name}, so you cannot enter that "
                "grade; ask their teacher or head of year.",
            )
        else:
            self.error(
                "assessment_point",
                point.name,
                f"{point.name} is an assessment point of {point.academy.name}, which is "
                "not an academy you lead.",
            )
        return False

    def _enrolment(self, pupil: Pupil, point: AssessmentPoint) -> Enrolment | None:
        for enrolment in self.lookups.enrolments.get(pupil.pk, []):
            if (
                enrolment.academy_id == point.academy_id
                and enrolment.year_group_id == point.year_group_id
                and enrolment.academic_year_id == point.academic_year_id
                and enrolment.is_active_on(point.date)
            ):
                return enrolment
        self.error(
            "upn",
            pupil.upn,
            f"{pupil.upn} was not enrolled in {point.year_group.name} at {point.academy.name} "
            f"on {point.date:%d/%m/%Y}, the date of {point.name}, so they cannot have a "
            "grade there.",
        )
        return None

    def _grade(
        self, qualification: Qualification, point: AssessmentPoint
    ) -> tuple[str, Grade | None, Decimal | None] | None:
        text = self._text("grade")
        if text is None:
            return None
        final = point.kind == AssessmentPoint.Kind.FINAL
        key = (qualification.scale_id, text, final)
        if key not in self.parsed:
            try:
                self.parsed[key] = parse_grade(qualification.scale, text, final=final)
            except ValidationError as invalid:
                self.parsed[key] = invalid
        parsed = self.parsed[key]
        if isinstance(parsed, ValidationError):
            self.error("grade", text, f"{qualification.name}: {' '.join(parsed.messages)}")
            return None
        if isinstance(parsed, Grade):
            return text, parsed, None
        return text, None, parsed


def _scale_kinds(nc_year: int) -> set[str]:
    """Return the kinds of scale a year group's grades are usually on."""
    if nc_year <= 6:
        return {GradeScale.Kind.PRIMARY_TA, GradeScale.Kind.SCALED_SCORE}
    if nc_year <= 11:
        return {GradeScale.Kind.GCSE, GradeScale.Kind.VOCATIONAL}
    return {GradeScale.Kind.A_LEVEL, GradeScale.Kind.VOCATIONAL}


def _by_date(point: AssessmentPoint) -> datetime.date:
    return point.date


def _same_value(stored: Decimal | None, new: Decimal | None) -> bool:
    if stored is None or new is None:
        return stored is None and new is None
    return Decimal(stored) == Decimal(new)


def build_plan(
    *, user: Any, content: bytes, filename: str, import_date: datetime.date | None = None
) -> GradeImportPlan:
    """Read and check a grades file for `user`, without writing anything."""
    day = import_date or clock.today()
    plan = GradeImportPlan(import_date=day)
    try:
        table = read_table(
            content,
            filename,
            GRADE_COLUMNS,
            required=REQUIRED_COLUMNS,
            labels=GRADE_LABELS,
        )
    except FileRejected as rejected:
        plan.file_error = rejected.message
        return plan
    plan.description = table.description
    plan.ignored_headers = table.ignored_headers
    plan.row_count = len(table.rows)
    lookups = _read_lookups(table, import_scope(user), day)
    checker = _RowChecker(table, lookups, day)
    for row in table.rows:
        planned = checker.check(row)
        if planned is not None:
            plan.rows.append(planned)
    plan.errors = checker.errors
    error_lines = {error.line for error in plan.errors}
    plan.rows = [row for row in plan.rows if row.line not in error_lines]
    return plan


# Writing ------------------------------------------------------------------------


class ImportInvalid(Exception):
    """The file has errors on re-checking, so nothing was written."""

    def __init__(self, plan: GradeImportPlan) -> None:
        super().__init__("The grades file has errors.")
        self.plan = plan


@dataclass
class GradeImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def describe(self) -> str:
        return f"{self.created} grades added, {self.updated} changed, {self.unchanged} unchanged."


# A grade entry, the audit action and its changes as {field: [before, after]}.
AuditRow = tuple[GradeEntry, str, dict[str, list[str | None]]]


def _chunks(rows: list[PlannedGrade], size: int) -> Iterator[list[PlannedGrade]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


@transaction.atomic
def grades_import_apply(
    *,
    user: Any,
    content: bytes,
    filename: str,
    import_date: datetime.date | None = None,
    progress: ProgressCallback | None = None,
) -> GradeImportResult:
    """Check the file again and write every grade in it, or raise ImportInvalid
    and write nothing.

    New grades are created with bulk_create and changed ones rewritten in
    batches. Each created or changed entry gets one audit record naming
    `user` and the file. `progress`, when given, is called with (rows
    processed, rows to process, step) after each chunk of PROGRESS_ROWS.
    """
    plan = build_plan(user=user, content=content, filename=filename, import_date=import_date)
    if not plan.is_valid:
        raise ImportInvalid(plan)
    result = GradeImportResult(unchanged=len(plan.unchanged_rows))
    new_rows = plan.new_rows
    updated_rows = plan.updated_rows
    total = len(plan.rows)
    processed = result.unchanged
    if progress is not None:
        progress(processed, total, "checked")
    chunk_size = PROGRESS_ROWS if progress is not None else max(total, 1)
    now = timezone.now()
    with acting_as(user, reason=f"Grade import: {filename}"[:300]):
        for chunk in _chunks(new_rows, chunk_size):
            result.created += _create_entries(chunk, user, now)
            processed += len(chunk)
            if progress is not None:
                progress(processed, total, "grades")
        for chunk in _chunks(updated_rows, chunk_size):
            result.updated += _update_entries(chunk, user, now)
            processed += len(chunk)
            if progress is not None:
                progress(processed, total, "grades")
    return result


def _create_entries(rows: list[PlannedGrade], user: Any, now: datetime.datetime) -> int:
    entries = [
        GradeEntry(
            pupil=row.pupil,
            qualification=row.qualification,
            assessment_point=row.point,
            grade=row.grade,
            value=row.value,
            academy_id=row.enrolment.academy_id,
            academic_year_id=row.enrolment.academic_year_id,
            year_group_id=row.enrolment.year_group_id,
            entered_by=user,
            entered_at=now,
        )
        for row in rows
    ]
    GradeEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    # The audit records need primary keys, which Django's bulk_create sets
    # only on PostgreSQL, MariaDB and SQLite 3.35 or later.
    if any(entry.pk is None for entry in entries):
        ids = {
            (e.pupil_id, e.qualification_id, e.assessment_point_id): e.pk
            for e in GradeEntry.objects.filter(
                pupil_id__in={r.pupil.pk for r in rows},
                assessment_point_id__in={r.point.pk for r in rows},
            ).only("pk", "pupil_id", "qualification_id", "assessment_point_id")
        }
        for entry in entries:
            entry.pk = ids[(entry.pupil_id, entry.qualification_id, entry.assessment_point_id)]
    events: list[AuditRow] = [
        (entry, AuditEvent.Action.CREATE, {"grade": [None, row.label]})
        for entry, row in zip(entries, rows, strict=True)
    ]
    _audit(events)
    return len(entries)


def _update_entries(rows: list[PlannedGrade], user: Any, now: datetime.datetime) -> int:
    changed = []
    events: list[AuditRow] = []
    for row in rows:
        entry = row.existing
        assert entry is not None
        before = row.previous_label
        entry.grade = row.grade
        entry.value = row.value
        entry.changed_by = user
        entry.changed_at = now
        entry.version += 1
        changed.append(entry)
        events.append((entry, AuditEvent.Action.UPDATE, {"grade": [before, row.label]}))
    bulk_update_rows(GradeEntry, changed, ["grade", "value", "changed_by", "changed_at", "version"])
    _audit(events)
    return len(changed)


def _audit(events: list[AuditRow]) -> None:
    """Write one audit record per grade entry, in bulk.

    Grade entries are not registered for automatic auditing (see
    progress.apps), so the import writes its records itself.
    """
    actor = current_actor()
    reason = current_reason()[:300]
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                action=action,
                model=GradeEntry._meta.label,
                object_id=str(entry.pk),
                object_repr=str(entry)[:200],
                pupil_ref=entry.pupil_id,
                changes=changes,
                reason=reason,
            )
            for entry, action, changes in events
        ],
        batch_size=2000,
    )
