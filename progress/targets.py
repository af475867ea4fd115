"""Target Minimum Grades (TMGs): estimate tables, generation from KS2 prior
attainment, TMGs set by hand, and who may do each.

Generation rule: a pupil's KS2 reading and maths scaled scores are averaged
and placed in a prior attainment group of the chosen estimate table. The
group's element estimate gives a baseline per qualification: English / 2,
maths / 2, EBacc / 3 and open / 3 (a qualification outside English, maths
and the EBacc uses the open estimate). The baseline plus the academy's
uplift is rounded to two decimals, as shown, then up to a whole grade and
kept between 1 and 9. Generation never replaces a TMG set by hand.
"""

import datetime
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from academies.models import AcademicYear, Trust, YearGroup
from pupils.models import Enrolment, Pupil, active_on
from staff.models import Role, RoleAssignment, StaffMember
from trust import audit, clock
from trust.models import AuditEvent
from trust.tabular import Cell, CellError, FileRejected, read_table, text_value

from .grades import parse_grade, round_points, scale_grades
from .models import (
    ClassMembership,
    EstimateRow,
    EstimateTable,
    Grade,
    GradeScale,
    ProgressSettings,
    Qualification,
    TargetGrade,
)

LOWEST_TMG, HIGHEST_TMG = 1, 9
LEADER_ROLES = {Role.HEADTEACHER, Role.ACADEMY_LEADER}
# Lowering a TMG needs one of these roles (headteacher or academy leader at
# the pupil's academy, or a trust leader).
LOWERING_ROLES = LEADER_ROLES | {Role.TRUST_LEADER}
ESTIMATE_UPLOAD_ROLES = {Role.TRUST_LEADER, Role.TRUST_ADMIN}

ELEMENT_DIVISORS: dict[str, tuple[str, int]] = {
    Qualification.Element.ENGLISH_LANGUAGE: ("english", 2),
    Qualification.Element.ENGLISH_LITERATURE: ("english", 2),
    Qualification.Element.MATHS: ("maths", 2),
    Qualification.Element.EBACC_SCIENCE: ("ebacc", 3),
    Qualification.Element.EBACC_HUMANITIES: ("ebacc", 3),
    Qualification.Element.EBACC_LANGUAGE: ("ebacc", 3),
}
OPEN_DIVISOR = ("open", 3)


class TmgConflict(Exception):
    """The TMG changed after the form was opened, so the change was not saved."""

    def __init__(self, current: TargetGrade | None) -> None:
        shown = current.grade or current.value if current else "none"
        super().__init__(f"The TMG was changed to {shown} by someone else; reload and try again.")
        self.current = current


# Who may do what -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleTargets:
    """The academies and year groups where a user has TMG roles today."""

    trust_leader: bool = False
    trust_upload: bool = False
    leader_academy_ids: frozenset[int] = frozenset()
    head_of_year_ids: frozenset[int] = frozenset()
    staff_id: int | None = None


def role_targets(user: Any) -> RoleTargets:
    """Return where `user` has the roles that TMG pages check, cached on the user."""
    cached = getattr(user, "_tmg_roles", None)
    if cached is not None:
        return cached
    result = RoleTargets()
    if user is not None and user.is_authenticated and user.is_active:
        staff = StaffMember.objects.filter(user=user).only("id").first()
        today = clock.today()
        assignments = []
        if staff is not None:
            assignments = [
                a
                for a in RoleAssignment.objects.filter(staff=staff)
                if (a.starts_on is None or a.starts_on <= today)
                and (a.ends_on is None or today <= a.ends_on)
            ]
        roles = {a.role for a in assignments}
        result = RoleTargets(
            trust_leader=user.is_superuser or Role.TRUST_LEADER in roles,
            trust_upload=user.is_superuser or bool(roles & ESTIMATE_UPLOAD_ROLES),
            leader_academy_ids=frozenset(
                a.academy_id for a in assignments if a.role in LEADER_ROLES and a.academy_id
            ),
            head_of_year_ids=frozenset(
                a.year_group_id
                for a in assignments
                if a.role == Role.HEAD_OF_YEAR and a.year_group_id
            ),
            staff_id=staff.pk if staff else None,
        )
        user._tmg_roles = result
    return result


def can_upload_estimates(user: Any) -> bool:
    return role_targets(user).trust_upload


def can_read_estimates(user: Any) -> bool:
    roles = role_targets(user)
    return bool(
        roles.trust_upload
        or roles.trust_leader
        or roles.leader_academy_ids
        or roles.head_of_year_ids
    )


# KS2 prior attainment sets GCSE targets for Years 7 to 11 only.
GENERATION_NC_YEARS = range(7, 12)


def can_generate(user: Any, year_group: YearGroup) -> bool:
    """Return whether `user` may generate TMGs for `year_group` (Years 7 to
    11): a trust leader, its academy's headteacher or academy leader, or its
    head of year."""
    if year_group.nc_year not in GENERATION_NC_YEARS:
        return False
    roles = role_targets(user)
    if getattr(user, "is_superuser", False) or roles.trust_leader:
        return True
    return (
        year_group.academy_id in roles.leader_academy_ids or year_group.pk in roles.head_of_year_ids
    )


def generatable_year_groups(user: Any) -> QuerySet[YearGroup]:
    roles = role_targets(user)
    groups = YearGroup.objects.select_related("academy").filter(
        nc_year__gte=GENERATION_NC_YEARS.start, nc_year__lt=GENERATION_NC_YEARS.stop
    )
    if getattr(user, "is_superuser", False) or roles.trust_leader:
        return groups.all()
    return groups.filter(
        Q(academy_id__in=roles.leader_academy_ids) | Q(pk__in=roles.head_of_year_ids)
    )


def _enrolments(pupil_id: int, academic_year_id: int) -> list[Enrolment]:
    return list(Enrolment.objects.filter(pupil_id=pupil_id, academic_year_id=academic_year_id))


def can_lower(user: Any, enrolments: Sequence[Enrolment]) -> bool:
    roles = role_targets(user)
    if roles.trust_leader:
        return True
    return any(e.academy_id in roles.leader_academy_ids for e in enrolments)


def can_set_tmg(
    user: Any, enrolments: Sequence[Enrolment], qualification_id: int | None = None
) -> bool:
    """Return whether `user` may set a TMG for the pupil of `enrolments`.

    Leaders of the pupil's academy, trust leaders and the head of year may
    set any. A teacher may set one for a qualification they teach the pupil
    that year, and with no `qualification_id` any class of the pupil's counts.
    """
    if can_lower(user, enrolments):
        return True
    roles = role_targets(user)
    if any(e.year_group_id in roles.head_of_year_ids for e in enrolments):
        return True
    if roles.staff_id is None or not enrolments:
        return False
    classes = ClassMembership.objects.filter(
        pupil_id=enrolments[0].pupil_id,
        group__teachers__id=roles.staff_id,
        group__academic_year_id=enrolments[0].academic_year_id,
    )
    if qualification_id is not None:
        classes = classes.filter(group__qualification_id=qualification_id)
    return classes.exists()


# Estimate tables -----------------------------------------------------------------------------

ESTIMATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "group": ("prior_attainment_group", "Prior attainment group", "PAG", "Group"),
    "ks2_from": ("ks2_average_scaled_score_from", "KS2 from", "From"),
    "ks2_to": ("ks2_average_scaled_score_to", "KS2 to", "To"),
    "attainment8": ("attainment8_estimate", "Attainment 8 estimate", "A8 estimate", "A8"),
    "english": ("english_element", "English element", "English"),
    "maths": ("maths_element", "Maths element", "Mathematics element", "Maths"),
    "ebacc": ("ebacc_element", "EBacc element", "EBacc"),
    "open": ("open_element", "Open element", "Open"),
}
ESTIMATE_LABELS: dict[str, str] = {
    "group": "Prior attainment group",
    "ks2_from": "KS2 average from",
    "ks2_to": "KS2 average to",
    "attainment8": "Attainment 8 estimate",
    "english": "English element",
    "maths": "Maths element",
    "ebacc": "EBacc element",
    "open": "Open element",
}
# Inclusive limits of each number: element maximums are the most points an
# element can hold (English and maths count double, EBacc and open three slots).
ESTIMATE_LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    "ks2_from": (Decimal(0), Decimal(200)),
    "ks2_to": (Decimal(0), Decimal(200)),
    "attainment8": (Decimal(0), Decimal(95)),
    "english": (Decimal(0), Decimal(18)),
    "maths": (Decimal(0), Decimal(18)),
    "ebacc": (Decimal(0), Decimal(27)),
    "open": (Decimal(0), Decimal(27)),
}
MAX_GROUP = 99
MIN_TABLE_YEAR, MAX_TABLE_YEAR = 2000, 2100


@dataclass(frozen=True)
class EstimateError:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        column = f", {self.column}" if self.column else ""
        shown = f" '{self.value}'" if self.value else ""
        return f"Line {self.line}{column}{shown}: {self.reason}"


@dataclass
class EstimatePlan:
    """The rows and errors read from an estimate file, before anything is written."""

    description: str = ""
    file_error: str | None = None
    rows: list[EstimateRow] = field(default_factory=list)
    lines: dict[int, int] = field(default_factory=dict)
    errors: list[EstimateError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.file_error is None and not self.errors and bool(self.rows)


def _number(cell: Cell, name: str) -> Decimal:
    text = text_value(cell).replace(" ", "")
    if not text:
        raise CellError("is missing; enter a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError("is not a number; use digits with a full stop, such as 9.85") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise CellError("must be a number with at most two decimal places")
    low, high = ESTIMATE_LIMITS[name]
    if not low <= value <= high:
        raise CellError(f"must be from {low} to {high}")
    return value


def _group(cell: Cell) -> int:
    text = text_value(cell)
    if not text.isdigit() or not 1 <= int(text) <= MAX_GROUP:
        raise CellError(f"must be a whole number from 1 to {MAX_GROUP}")
    return int(text)


def estimate_plan(content: bytes, filename: str) -> EstimatePlan:
    """Read an estimate file and check every row, listing each problem by line."""
    plan = EstimatePlan()
    try:
        table = read_table(
            content,
            filename,
            ESTIMATE_COLUMNS,
            required=list(ESTIMATE_COLUMNS),
            labels=ESTIMATE_LABELS,
        )
    except FileRejected as rejected:
        plan.file_error = rejected.message
        return plan
    plan.description = table.description

    group_lines: dict[int, int] = {}
    for row in table.rows:
        values: dict[str, Any] = {}
        for name in ESTIMATE_COLUMNS:
            cell = row.get(name)
            try:
                values[name] = _group(cell) if name == "group" else _number(cell, name)
            except CellError as error:
                plan.errors.append(
                    EstimateError(row.line, ESTIMATE_LABELS[name], text_value(cell), str(error))
                )
        if len(values) < len(ESTIMATE_COLUMNS):
            continue
        if values["ks2_from"] > values["ks2_to"]:
            plan.errors.append(
                EstimateError(
                    row.line,
                    ESTIMATE_LABELS["ks2_to"],
                    str(values["ks2_to"]),
                    f"is below the KS2 average from ({values['ks2_from']})",
                )
            )
            continue
        if values["group"] in group_lines:
            plan.errors.append(
                EstimateError(
                    row.line,
                    ESTIMATE_LABELS["group"],
                    str(values["group"]),
                    f"appears again; line {group_lines[values['group']]} has the same group",
                )
            )
            continue
        group_lines[values["group"]] = row.line
        plan.rows.append(EstimateRow(**values))
        plan.lines[values["group"]] = row.line

    _check_ranges(plan)
    if not plan.rows and not plan.errors:
        plan.file_error = "The file has no rows of estimates."
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _check_ranges(plan: EstimatePlan) -> None:
    """Report groups whose KS2 ranges overlap or do not rise with the group number."""
    ordered = sorted(plan.rows, key=lambda r: r.group)
    for previous, row in itertools.pairwise(ordered):
        if row.ks2_from <= previous.ks2_to:
            plan.errors.append(
                EstimateError(
                    plan.lines[row.group],
                    ESTIMATE_LABELS["ks2_from"],
                    str(row.ks2_from),
                    f"overlaps group {previous.group} ({previous.ks2_from} to {previous.ks2_to}); "
                    "each group's range must start above the previous group's",
                )
            )


def _table_fields_errors(name: str, year: Any, source: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Name is missing; enter a name such as 'DfE 2024 estimates'."]
    elif len(name.strip()) > 120:
        errors["name"] = [f"Name has {len(name.strip())} characters; at most 120 are allowed."]
    if not isinstance(year, int) or not MIN_TABLE_YEAR <= year <= MAX_TABLE_YEAR:
        errors["year"] = [
            f"Year '{year}' is invalid; enter the cohort year the estimates describe, "
            f"from {MIN_TABLE_YEAR} to {MAX_TABLE_YEAR}, such as 2024."
        ]
    if not source.strip():
        errors["source"] = [
            "Source is missing; say where the estimates come from, such as "
            "'DfE KS4 ready reckoner, 2024' or 'Trust aspirational table'."
        ]
    elif len(source.strip()) > 300:
        errors["source"] = [
            f"Source has {len(source.strip())} characters; at most 300 are allowed."
        ]
    return errors


def _read(rows_file: Any) -> tuple[bytes, str]:
    if isinstance(rows_file, bytes):
        return rows_file, "estimates.csv"
    content = rows_file.read()
    return content, getattr(rows_file, "name", "estimates.csv") or "estimates.csv"


@transaction.atomic
def estimate_table_import(
    *, actor: Any, trust: Trust, name: str, year: int, source: str, rows_file: Any
) -> EstimateTable:
    """Create an estimate table from a CSV or XLSX file, writing every row or none.

    `rows_file` is the file's bytes or an open file. Raises ValidationError
    naming each bad field, and every bad row with its line number and reason.
    """
    if not can_upload_estimates(actor):
        raise PermissionDenied("Only trust leaders and administrators upload estimate tables.")
    errors = _table_fields_errors(name, year, source)
    content, filename = _read(rows_file)
    plan = estimate_plan(content, filename)
    if plan.file_error:
        errors["rows_file"] = [plan.file_error]
    elif plan.errors:
        errors["rows_file"] = [str(e) for e in plan.errors]
    if errors:
        raise ValidationError(errors)

    reason = f"Estimate table uploaded from {filename}"
    with audit.acting_as(actor, reason):
        table = EstimateTable.objects.create(
            trust=trust,
            name=name.strip(),
            year=year,
            source=source.strip(),
            uploaded_by=actor if actor.is_authenticated else None,
        )
        for row in plan.rows:
            row.table = table
        EstimateRow.objects.bulk_create(plan.rows)
    return table


def table_rows(table: EstimateTable) -> list[EstimateRow]:
    """Return the rows of `table` by upper bound, read once per table object."""
    cached = getattr(table, "_progress_rows", None)
    if cached is None:
        cached = sorted(table.rows.all(), key=lambda r: (r.ks2_to, r.group))
        table._progress_rows = cached  # type: ignore[attr-defined]
    return cached


def ks2_average(ks2_reading: int | None, ks2_maths: int | None) -> Decimal | None:
    if ks2_reading is None or ks2_maths is None:
        return None
    return Decimal(ks2_reading + ks2_maths) / 2


def prior_attainment_group(
    table: EstimateTable, ks2_reading: int | None, ks2_maths: int | None
) -> EstimateRow | None:
    """Return the group of `table` for the mean of the two KS2 scores, or None
    without both scores.

    Groups are matched by their upper bound, as the DfE assigns them: the
    first group whose range ends at or above the mean. Whole scores give
    means in steps of 0.5, and a mean that falls in a gap between two
    ranges goes to the higher group. A mean below every range gets the
    first group and one above every range the last.
    """
    average = ks2_average(ks2_reading, ks2_maths)
    rows = table_rows(table)
    if average is None or not rows:
        return None
    for row in rows:
        if average <= row.ks2_to:
            return row
    return rows[-1]


def tmg_baseline(row: EstimateRow, element: str) -> Decimal:
    """Return the per-qualification baseline of a group's element estimate:
    English / 2, maths / 2, EBacc / 3, otherwise open / 3."""
    column, divisor = ELEMENT_DIVISORS.get(element, OPEN_DIVISOR)
    estimate: Decimal = getattr(row, column)
    return Decimal(estimate) / divisor


def tmg_whole_grade(baseline: Decimal, uplift: Decimal) -> int:
    """Return baseline plus uplift, rounded as shown then up to a whole grade, within 1 to 9."""
    shown = round_points(baseline + uplift)
    whole = int(shown.to_integral_value(rounding=ROUND_CEILING))
    return max(LOWEST_TMG, min(HIGHEST_TMG, whole))


# Generation ------------------------------------------------------------------------------------


class Action:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    KEEP_MANUAL = "keep_manual"


@dataclass
class PlannedTmg:
    pupil: Pupil
    qualification: Qualification
    row: EstimateRow
    baseline: Decimal
    grade: Grade
    action: str
    existing: TargetGrade | None = None

    @property
    def shown_baseline(self) -> Decimal:
        return round_points(self.baseline)

    @property
    def ks2_average(self) -> Decimal | None:
        return ks2_average(self.pupil.ks2_reading, self.pupil.ks2_maths)


@dataclass
class GenerateResult:
    """The outcome of generation, or the plan of it when `saved` is false."""

    year_group: YearGroup
    academic_year: AcademicYear
    table: EstimateTable
    uplift: Decimal
    qualifications: list[Qualification]
    planned: list[PlannedTmg] = field(default_factory=list)
    # Pupils on roll without both KS2 scores: they get no generated TMG.
    missing_ks2: list[Pupil] = field(default_factory=list)
    pupil_count: int = 0
    saved: bool = False

    def of_action(self, action: str) -> list[PlannedTmg]:
        return [p for p in self.planned if p.action == action]

    @property
    def created(self) -> list[PlannedTmg]:
        return self.of_action(Action.CREATE)

    @property
    def updated(self) -> list[PlannedTmg]:
        return self.of_action(Action.UPDATE)

    @property
    def unchanged(self) -> list[PlannedTmg]:
        return self.of_action(Action.UNCHANGED)

    @property
    def kept_manual(self) -> list[PlannedTmg]:
        return self.of_action(Action.KEEP_MANUAL)


def academy_uplift(academy_id: int) -> Decimal:
    settings = ProgressSettings.objects.filter(academy_id=academy_id).first()
    return settings.uplift if settings else Decimal(0)


def roll_day(academic_year: AcademicYear) -> datetime.date:
    """Return the day whose roll counts: today, moved into `academic_year`."""
    return min(max(clock.today(), academic_year.start_date), academic_year.end_date)


def year_group_pupils(year_group: YearGroup, academic_year: AcademicYear) -> list[Pupil]:
    """Return the pupils on roll in `year_group` on roll_day(academic_year), by name."""
    enrolments = Enrolment.objects.filter(
        active_on(roll_day(academic_year)),
        year_group=year_group,
        academic_year=academic_year,
    )
    return list(Pupil.objects.filter(pk__in=enrolments.values("pupil_id")))


def gcse_qualifications(trust: Trust) -> QuerySet[Qualification]:
    """Return the trust's qualifications on a GCSE scale, the ones TMGs are generated for."""
    return (
        Qualification.objects.filter(
            subject__trust=trust, scale__kind=GradeScale.Kind.GCSE, retired=False
        )
        .select_related("subject", "scale")
        .order_by("subject__name", "name")
    )


def taught_qualifications(
    year_group: YearGroup, academic_year: AcademicYear
) -> QuerySet[Qualification]:
    """Return the GCSE qualifications with a class in `year_group` that year."""
    return (
        gcse_qualifications(year_group.academy.trust)
        .filter(
            teaching_groups__year_group=year_group,
            teaching_groups__academic_year=academic_year,
        )
        .distinct()
    )


def _check_generation(
    year_group: YearGroup,
    academic_year: AcademicYear,
    table: EstimateTable,
    qualifications: Sequence[Qualification],
) -> None:
    trust_id = year_group.academy.trust_id
    errors: dict[str, list[str]] = {}
    if academic_year.trust_id != trust_id:
        errors["academic_year"] = [
            f"Academic year {academic_year.name} belongs to another trust; "
            "choose one of this trust's years."
        ]
    if table.trust_id != trust_id:
        errors["table"] = [f"Estimate table '{table}' belongs to another trust; choose another."]
    if not table_rows(table):
        errors["table"] = [f"Estimate table '{table}' has no rows; upload it again."]
    if not qualifications:
        errors["qualifications"] = [
            f"No qualification chosen and none is taught to {year_group.name} in "
            f"{academic_year.name}; choose at least one GCSE qualification."
        ]
    for qualification in qualifications:
        scale = qualification.scale
        if qualification.subject.trust_id != trust_id or scale.kind != GradeScale.Kind.GCSE:
            errors.setdefault("qualifications", []).append(
                f"Qualification '{qualification.name}' is not a GCSE of this trust; "
                "TMGs are generated only for qualifications on a GCSE scale."
            )
            continue
        labels = {g.label for g in scale_grades(scale) if g.is_result and not g.fine}
        missing = [str(n) for n in range(LOWEST_TMG, HIGHEST_TMG + 1) if str(n) not in labels]
        if missing:
            errors.setdefault("qualifications", []).append(
                f"Qualification '{qualification.name}' is graded on {scale.name}, which has no "
                f"grade {', '.join(missing)}; add the whole grades 1 to 9 to that scale."
            )
    if errors:
        raise ValidationError(errors)


def tmg_generate_plan(
    *,
    year_group: YearGroup,
    academic_year: AcademicYear,
    table: EstimateTable,
    qualifications: Sequence[Qualification] | None = None,
    lock: bool = False,
) -> GenerateResult:
    """Work out the TMGs generation would create or change, writing nothing.

    With no `qualifications`, the GCSE qualifications taught to the year
    group that year are used. Raises ValidationError for a table, year or
    qualification that cannot be used.
    """
    chosen = (
        list(qualifications)
        if qualifications is not None
        else list(taught_qualifications(year_group, academic_year))
    )
    _check_generation(year_group, academic_year, table, chosen)
    uplift = academy_uplift(year_group.academy_id)
    result = GenerateResult(
        year_group=year_group,
        academic_year=academic_year,
        table=table,
        uplift=uplift,
        qualifications=chosen,
    )
    pupils = year_group_pupils(year_group, academic_year)
    result.pupil_count = len(pupils)
    existing_rows = TargetGrade.objects.filter(
        academic_year=academic_year,
        pupil__in=[p.pk for p in pupils],
        qualification__in=[q.pk for q in chosen],
    ).select_related("grade")
    if lock:
        existing_rows = existing_rows.select_for_update(of=("self",))
    existing = {(t.pupil_id, t.qualification_id): t for t in existing_rows}

    for pupil in pupils:
        row = prior_attainment_group(table, pupil.ks2_reading, pupil.ks2_maths)
        if row is None:
            result.missing_ks2.append(pupil)
            continue
        for qualification in chosen:
            baseline = tmg_baseline(row, qualification.element)
            label = str(tmg_whole_grade(baseline, uplift))
            grade = next(g for g in scale_grades(qualification.scale) if g.label == label)
            current = existing.get((pupil.pk, qualification.pk))
            result.planned.append(
                PlannedTmg(
                    pupil=pupil,
                    qualification=qualification,
                    row=row,
                    baseline=baseline,
                    grade=grade,
                    action=_action(current, grade, table, uplift),
                    existing=current,
                )
            )
    return result


def _action(
    current: TargetGrade | None, grade: Grade, table: EstimateTable, uplift: Decimal
) -> str:
    if current is None:
        return Action.CREATE
    if current.basis == TargetGrade.Basis.MANUAL:
        return Action.KEEP_MANUAL
    same = (
        current.grade_id == grade.pk
        and current.estimate_table_id == table.pk
        and current.uplift == uplift
    )
    return Action.UNCHANGED if same else Action.UPDATE


def _generated_reason(planned: PlannedTmg, table: EstimateTable, uplift: Decimal) -> str:
    return (
        f"Generated from {table.name} ({table.year}), prior attainment group "
        f"{planned.row.group}, baseline {planned.shown_baseline}, uplift {uplift}"
    )[:300]


@transaction.atomic
def tmg_generate(
    *,
    actor: Any,
    year_group: YearGroup,
    academic_year: AcademicYear,
    table: EstimateTable,
    qualifications: Sequence[Qualification] | None = None,
) -> GenerateResult:
    """Generate the TMGs of a year group in one transaction, audited in bulk.

    Creates missing TMGs and updates generated ones whose grade, table or
    uplift changed. TMGs set by hand are never changed. Pupils without both
    KS2 scores are listed in the result and get none.
    """
    if not can_generate(actor, year_group):
        raise PermissionDenied(
            "Only the headteacher, an academy leader or the head of year generates TMGs."
        )
    result = tmg_generate_plan(
        year_group=year_group,
        academic_year=academic_year,
        table=table,
        qualifications=qualifications,
        lock=True,
    )
    now = clock.now()
    setter = actor if actor.is_authenticated else None
    new_rows: list[TargetGrade] = []
    changed_rows: list[TargetGrade] = []
    before: dict[Any, dict[str, Any]] = {}
    for planned in result.planned:
        reason = _generated_reason(planned, table, result.uplift)
        if planned.action == Action.CREATE:
            new_rows.append(
                TargetGrade(
                    pupil=planned.pupil,
                    qualification=planned.qualification,
                    academic_year=academic_year,
                    grade=planned.grade,
                    basis=TargetGrade.Basis.GENERATED,
                    reason=reason,
                    estimate_table=table,
                    uplift=result.uplift,
                    set_by=setter,
                    set_at=now,
                )
            )
        elif planned.action == Action.UPDATE and planned.existing is not None:
            target = planned.existing
            before[target.pk] = audit.snapshot(target)
            target.grade = planned.grade
            target.value = None
            target.estimate_table = table
            target.uplift = result.uplift
            target.reason = reason
            target.set_by = setter
            target.set_at = now
            target.version += 1
            changed_rows.append(target)

    summary = f"TMGs generated for {year_group} from {table.name} ({table.year})"
    with audit.acting_as(actor, summary):
        if new_rows:
            TargetGrade.objects.bulk_create(new_rows, batch_size=1000)
            audit.record_bulk(new_rows, AuditEvent.Action.CREATE)
        if changed_rows:
            TargetGrade.objects.bulk_update(
                changed_rows,
                [
                    "grade",
                    "value",
                    "estimate_table",
                    "uplift",
                    "reason",
                    "set_by",
                    "set_at",
                    "version",
                ],
                batch_size=1000,
            )
            audit.record_bulk(changed_rows, AuditEvent.Action.UPDATE, before=before)
    result.saved = True
    return result


# Setting one TMG by hand ------------------------------------------------------------------


def _tmg_points(target: TargetGrade) -> Decimal | None:
    if target.grade_id is not None:
        return target.grade.points if target.grade else None
    return target.value


@transaction.atomic
def tmg_set(
    *,
    actor: Any,
    pupil_id: int,
    qualification_id: int,
    academic_year_id: int,
    grade_text: str,
    reason: str,
    seen_version: int | None = None,
) -> TargetGrade:
    """Set a pupil's TMG in one qualification by hand, with a reason.

    `seen_version` is the TMG's version when the form was opened, 0 when
    there was none then, or None to skip the check. A different current
    version raises TmgConflict. Lowering a TMG needs a headteacher or
    academy leader of the pupil's academy or a trust leader, so other users
    get PermissionDenied. The change joins the pupil's audit trail.
    """
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["Reason is missing; say why this TMG is set by hand."]
    elif len(reason) > 300:
        errors["reason"] = [f"Reason has {len(reason)} characters; at most 300 are allowed."]

    pupil = Pupil.objects.filter(pk=pupil_id).first()
    if pupil is None:
        raise ValidationError({"pupil": [f"Pupil {pupil_id} was not found."]})
    academic_year = AcademicYear.objects.filter(pk=academic_year_id).first()
    if academic_year is None:
        raise ValidationError(
            {"academic_year": [f"Academic year {academic_year_id} was not found."]}
        )
    qualification = (
        Qualification.objects.filter(pk=qualification_id, subject__trust_id=academic_year.trust_id)
        .select_related("scale", "subject")
        .first()
    )
    if qualification is None:
        raise ValidationError(
            {"qualification": [f"Qualification {qualification_id} was not found in this trust."]}
        )
    enrolments = _enrolments(pupil.pk, academic_year.pk)
    if not enrolments:
        raise ValidationError(
            {
                "pupil": [
                    f"{pupil.display_name} (UPN {pupil.upn}) is not enrolled at an academy in "
                    f"{academic_year.name}; a TMG can only be set for a year the pupil is on roll."
                ]
            }
        )
    if not can_set_tmg(actor, enrolments, qualification.pk):
        raise PermissionDenied(f"You may not set TMGs for {pupil.display_name}.")

    try:
        parsed = parse_grade(qualification.scale, grade_text, final=True)
    except ValidationError as error:
        errors.update(error.message_dict)
        parsed = None
    if isinstance(parsed, Grade) and not parsed.is_result:
        errors["grade"] = [
            f"Grade '{grade_text.strip()}' is not a result; a TMG must be a grade on "
            f"{qualification.scale.name}."
        ]
    if errors:
        raise ValidationError(errors)

    current = (
        TargetGrade.objects.select_for_update(of=("self",))
        .select_related("grade")
        .filter(pupil=pupil, qualification=qualification, academic_year=academic_year)
        .first()
    )
    if seen_version is not None and (current.version if current else 0) != seen_version:
        raise TmgConflict(current)

    new_points = parsed.points if isinstance(parsed, Grade) else parsed
    old_points = _tmg_points(current) if current else None
    lowering = old_points is not None and new_points is not None and new_points < old_points
    if current is not None and lowering and not can_lower(actor, enrolments):
        raise PermissionDenied(
            f"Lowering the TMG in {qualification.name} from {current.grade or current.value} "
            f"to {grade_text.strip()} needs a headteacher, an academy leader or a trust leader."
        )

    target = current or TargetGrade(
        pupil=pupil, qualification=qualification, academic_year=academic_year, version=0
    )
    target.grade = parsed if isinstance(parsed, Grade) else None
    target.value = parsed if isinstance(parsed, Decimal) else None
    target.basis = TargetGrade.Basis.MANUAL
    target.reason = reason
    target.estimate_table = None
    target.uplift = Decimal(0)
    target.set_by = actor if actor.is_authenticated else None
    target.set_at = clock.now()
    target.version += 1
    with audit.acting_as(actor, reason):
        target.save()
    return target


# Reading TMGs ------------------------------------------------------------------------------------


def current_tmgs(
    pupil_ids: Iterable[int], academic_year_id: int
) -> dict[tuple[int, int], TargetGrade]:
    """Return the TMGs of `pupil_ids` in one academic year, keyed (pupil_id, qualification_id)."""
    rows = TargetGrade.objects.filter(
        pupil_id__in=list(pupil_ids), academic_year_id=academic_year_id
    ).select_related("grade", "estimate_table", "set_by")
    return {(t.pupil_id, t.qualification_id): t for t in rows}


@dataclass(frozen=True)
class TmgChange:
    """One change of a TMG as the history lists it."""

    at: datetime.datetime
    actor: str
    qualification: str
    before: str
    after: str
    basis: str
    reason: str


def tmg_history(pupil_id: int, academic_year_id: int) -> list[TmgChange]:
    """Return the changes of the pupil's TMGs in one academic year, newest first, from
    the audit trail."""
    events = list(
        AuditEvent.objects.filter(model="progress.TargetGrade", pupil_ref=pupil_id)
        .select_related("actor")
        .order_by("-at", "-pk")
    )
    grade_ids: set[int] = set()
    qualification_ids: set[int] = set()
    targets = {
        str(t.pk): t
        for t in TargetGrade.objects.filter(pupil_id=pupil_id).only(
            "pk", "qualification_id", "academic_year_id"
        )
    }
    for event in events:
        changes = event.changes or {}
        for value in changes.get("grade_id", []):
            if value is not None:
                grade_ids.add(value)
        target = targets.get(event.object_id)
        if target is not None:
            qualification_ids.add(target.qualification_id)
    grade_labels = dict(Grade.objects.filter(pk__in=grade_ids).values_list("pk", "label"))
    qualification_names = dict(
        Qualification.objects.filter(pk__in=qualification_ids).values_list("pk", "name")
    )
    basis_labels = dict(TargetGrade.Basis.choices)

    history = []
    for event in events:
        target = targets.get(event.object_id)
        if target is None or target.academic_year_id != academic_year_id:
            continue
        changes = event.changes or {}
        grade_change = changes.get("grade_id")
        value_change = changes.get("value")
        before = after = ""
        if grade_change:
            before = grade_labels.get(grade_change[0], "") if grade_change[0] else ""
            after = grade_labels.get(grade_change[1], "") if grade_change[1] else ""
        elif value_change:
            before, after = str(value_change[0] or ""), str(value_change[1] or "")
        basis = changes.get("basis", [None, None])[1]
        row_reason = changes.get("reason", [None, None])[1]
        history.append(
            TmgChange(
                at=event.at,
                actor=_actor_name(event),
                qualification=qualification_names.get(target.qualification_id, ""),
                before=before,
                after=after,
                basis=basis_labels.get(basis, "") if basis else "",
                reason=row_reason or event.reason,
            )
        )
    return history


def _actor_name(event: AuditEvent) -> str:
    if event.actor is None:
        return "System"
    full = event.actor.get_full_name()
    return full or event.actor.get_username()
