"""The professional development (CPD) portfolio: entries, their evidence
files, and the suggested entries that development needs from appraisal
reviews become.

Services change state. Each runs in one transaction, checks through
appraisal.access whether the actor may act (PermissionDenied if not), checks every field
before writing and raises ValidationError({field: [message]}) naming the
value and the rule, so a rejected call writes nothing. Selectors read.

Evidence files are read and written through models.evidence_storage() at
call time, not through the file field's storage, because Django builds
that storage once at import. A test's STORAGES override then applies too.
"""

import datetime
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Sum

from staff.models import StaffMember
from trust import audit, clock
from trust.access import scope_for
from trust.charts import Chart, bar_chart

from . import evidence as evidence_types
from .access import can_edit_portfolio, visible_portfolio_staff
from .models import (
    CpdKind,
    DevelopmentNeed,
    EvidenceFile,
    Objective,
    PortfolioEntry,
    Standard,
    evidence_path,
    evidence_storage,
)
from .portfolio_checks import (
    ENTRY_FIELDS,
    Errors,
    check_entry,
    current_fields,
    shown,
)

logger = logging.getLogger(__name__)

MAX_EVIDENCE_PER_ENTRY = 20


# Services -----------------------------------------------------------------------------------


def _require_editor(actor: Any, staff_id: int) -> None:
    if not can_edit_portfolio(actor, staff_id):
        raise PermissionDenied("Only the owner of a portfolio or trust HR may change it.")


@transaction.atomic
def entry_save(
    actor: Any, *, staff: StaffMember, entry: PortfolioEntry | None = None, **fields: Any
) -> PortfolioEntry:
    """Create an entry in `staff`'s portfolio, or change `entry`.

    `fields` are the names in ENTRY_FIELDS. When changing an entry, a field
    left out keeps its value. Objectives and development needs must come
    from `staff`'s own appraisals.
    """
    unknown = sorted(set(fields) - ENTRY_FIELDS)
    if unknown:
        raise TypeError(f"entry_save() got unknown fields: {', '.join(unknown)}")
    _require_editor(actor, staff.pk)
    if entry is not None and entry.staff_id != staff.pk:
        raise PermissionDenied("The entry belongs to another member of staff's portfolio.")
    values = check_entry(staff, entry, {**current_fields(entry), **fields})

    target = entry or PortfolioEntry(staff=staff)
    target.kind = values.kind
    target.title = values.title
    target.provider = values.provider
    assert values.started_on is not None
    target.started_on = values.started_on
    target.ended_on = values.ended_on
    target.hours = values.hours
    target.cost = values.cost
    target.reflection = values.reflection
    target.development_need_id = values.development_need_id
    target.booking_id = values.booking_id
    with audit.acting_as(actor):
        target.save()
        target.objectives.set(values.objective_ids)
        target.standards.set(values.standard_ids)
    return target


def _delete_stored_files(names: list[str]) -> None:
    """Delete evidence files once the transaction that removed their rows commits,
    so a rolled-back delete keeps its files."""

    def delete() -> None:
        storage = evidence_storage()
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Failed to delete evidence file %s from storage", name)

    transaction.on_commit(delete)


def _insert_evidence(actor: Any, evidence: EvidenceFile) -> None:
    with audit.acting_as(actor):
        evidence.save()


def _remove_evidence(actor: Any, rows: list[EvidenceFile]) -> None:
    """Delete evidence rows one by one, so each deletion is audited."""
    with audit.acting_as(actor):
        for row in rows:
            row.delete()


@transaction.atomic
def entry_delete(actor: Any, entry: PortfolioEntry) -> None:
    """Delete `entry` with its evidence records and, after commit, their files."""
    _require_editor(actor, entry.staff_id)
    rows = list(entry.evidence.all())
    _remove_evidence(actor, rows)
    with audit.acting_as(actor):
        entry.delete()
    _delete_stored_files([row.file.name for row in rows if row.file.name])


def _size_message(shown_name: str, size: int, limit: int) -> str:
    return (
        f"The file “{shown_name}” is {evidence_types.megabytes(size)} MB ({size:,} bytes), "
        f"over the limit of {evidence_types.megabytes(limit)} MB ({limit:,} bytes); "
        "upload a smaller file, such as a PDF saved at a lower image quality."
    )


@transaction.atomic
def evidence_add(actor: Any, entry: PortfolioEntry, uploaded_file: File) -> EvidenceFile:
    """Store `uploaded_file` as evidence on `entry` after checking its size and,
    by content, its type.

    The file is saved under a generated token with the extension of the
    detected type. The uploaded name is kept only as display text.
    """
    _require_editor(actor, entry.staff_id)
    raw_name = str(uploaded_file.name or "")
    shown_name = shown(raw_name.replace("\\", "/").rsplit("/", 1)[-1]) or "(no name)"
    size = int(uploaded_file.size or 0)
    limit = int(settings.EVIDENCE_MAX_BYTES)
    errors = Errors()
    file_type = None
    if size == 0:
        errors.add("file", f"The file “{shown_name}” is empty; choose a file with content.")
    elif size > limit:
        errors.add("file", _size_message(shown_name, size, limit))
    else:
        file_type = evidence_types.detect_type(uploaded_file)  # type: ignore[arg-type]
        if file_type is None:
            errors.add(
                "file",
                f"The file “{shown_name}” is not an allowed type by its content, whatever its "
                f"name; allowed: {evidence_types.ALLOWED_DESCRIPTION}.",
            )
    if entry.evidence.count() >= MAX_EVIDENCE_PER_ENTRY:
        errors.add(
            "file",
            f"The entry “{shown(entry.title)}” already has {MAX_EVIDENCE_PER_ENTRY} files, "
            "the maximum; delete one before adding another.",
        )
    errors.raise_if_any()
    assert file_type is not None

    evidence = EvidenceFile(
        entry=entry,
        token=secrets.token_hex(16),
        extension=file_type.extension,
        original_name=evidence_types.clean_name(raw_name, file_type),
        content_type=file_type.content_type,
        size=size,
        uploaded_by_id=scope_for(actor).staff_id,
    )
    storage = evidence_storage()
    uploaded_file.seek(0)
    stored_name = storage.save(evidence_path(evidence, ""), uploaded_file)
    evidence.file.name = stored_name
    try:
        _insert_evidence(actor, evidence)
    except Exception:
        storage.delete(stored_name)
        raise
    # NOTE: a caller's enclosing transaction that rolls back after this
    # returns leaves the stored file without a row.
    return evidence


@transaction.atomic
def evidence_delete(actor: Any, evidence: EvidenceFile) -> None:
    """Delete an evidence record and, after commit, its file."""
    _require_editor(actor, evidence.entry.staff_id)
    name = evidence.file.name
    _remove_evidence(actor, [evidence])
    if name:
        _delete_stored_files([name])


@transaction.atomic
def need_dismiss(actor: Any, need: DevelopmentNeed) -> DevelopmentNeed:
    """Hide a development need from the appraisee's suggested entries."""
    _require_editor(actor, need.appraisal.appraisee_id)
    if not need.dismissed:
        need.dismissed = True
        with audit.acting_as(actor):
            need.save(update_fields=["dismissed"])
    return need


# Selectors ----------------------------------------------------------------------------------


def suggested_entries(staff: StaffMember) -> list[DevelopmentNeed]:
    """Return the development needs from `staff`'s appraisals that are neither
    dismissed nor linked to a portfolio entry, newest cycle first."""
    addressed = PortfolioEntry.objects.filter(development_need_id=OuterRef("pk"))
    return list(
        DevelopmentNeed.objects.filter(appraisal__appraisee=staff, dismissed=False)
        .exclude(Exists(addressed))
        .select_related("appraisal__cycle__academic_year")
        .order_by("-appraisal__cycle__academic_year__start_year", "pk")
    )


def portfolio_entries(staff: StaffMember) -> QuerySet[PortfolioEntry]:
    """Return `staff`'s entries, newest first, with what the portfolio page shows."""
    return (
        PortfolioEntry.objects.filter(staff=staff)
        .select_related("development_need")
        .prefetch_related(
            Prefetch(
                "objectives",
                queryset=Objective.objects.select_related("appraisal__cycle__academic_year"),
            ),
            Prefetch("standards", queryset=Standard.objects.order_by("position", "code")),
            "evidence",
        )
        .order_by("-started_on", "-pk")
    )


@dataclass(frozen=True)
class KindTotal:
    kind: str
    label: str
    entries: int
    hours: Decimal
    cost: Decimal


@dataclass(frozen=True)
class YearTotals:
    """Hours and cost of the entries starting in one academic year, by kind."""

    start: datetime.date
    end: datetime.date
    rows: list[KindTotal]

    @property
    def name(self) -> str:
        return f"{self.start.year}/{str(self.end.year)[-2:]}"

    @property
    def entries(self) -> int:
        return sum(row.entries for row in self.rows)

    @property
    def hours(self) -> Decimal:
        return sum((row.hours for row in self.rows), Decimal("0"))

    @property
    def cost(self) -> Decimal:
        return sum((row.cost for row in self.rows), Decimal("0"))


def academic_year_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Return the first and last day of the English academic year (1 September
    to 31 August) containing `today`."""
    start_year = clock.academic_year_start(today)
    return datetime.date(start_year, 9, 1), datetime.date(start_year + 1, 8, 31)


def year_totals(staff: StaffMember, today: datetime.date) -> YearTotals:
    """Total `staff`'s entries starting this academic year by kind, planned
    entries dated later in the year included."""
    start, end = academic_year_bounds(today)
    sums = {
        row["kind"]: row
        for row in PortfolioEntry.objects.filter(
            staff=staff, started_on__gte=start, started_on__lte=end
        )
        .values("kind")
        .annotate(entries=Count("pk"), hours=Sum("hours"), cost=Sum("cost"))
    }
    rows = [
        KindTotal(
            kind=kind,
            label=label,
            entries=sums[kind]["entries"],
            hours=sums[kind]["hours"] or Decimal("0"),
            cost=sums[kind]["cost"] or Decimal("0"),
        )
        for kind, label in CpdKind.choices
        if kind in sums
    ]
    return YearTotals(start=start, end=end, rows=rows)


def totals_chart(totals: YearTotals) -> Chart:
    """Chart the hours of each kind of CPD in `totals`."""
    return bar_chart(
        title=f"CPD hours by kind, {totals.name}",
        labels=[row.label for row in totals.rows],
        series={"Hours": [float(row.hours) for row in totals.rows]},
        y_title="Hours",
        x_title="Kind of CPD",
    )


def objective_choices(staff: StaffMember) -> QuerySet[Objective]:
    """Return the objectives an entry of `staff` may link to: those of their own appraisals."""
    return (
        Objective.objects.filter(appraisal__appraisee=staff)
        .select_related("appraisal__cycle__academic_year")
        .order_by("-appraisal__cycle__academic_year__start_year", "position", "pk")
    )


def standard_choices() -> QuerySet[Standard]:
    return (
        Standard.objects.filter(standard_set__is_active=True)
        .select_related("standard_set")
        .order_by("standard_set__name", "position", "code")
    )


def need_choices(staff: StaffMember) -> QuerySet[DevelopmentNeed]:
    """Return the development needs of `staff`'s appraisals, for linking an entry."""
    return (
        DevelopmentNeed.objects.filter(appraisal__appraisee=staff)
        .select_related("appraisal__cycle__academic_year")
        .order_by("-appraisal__cycle__academic_year__start_year", "pk")
    )


def visible_evidence(user: Any) -> QuerySet[EvidenceFile]:
    """Return the evidence files `user` may download: those of the portfolios they may read."""
    return EvidenceFile.objects.select_related("entry").filter(
        entry__staff__in=visible_portfolio_staff(user)
    )


def evidence_open(user: Any, evidence: EvidenceFile) -> IO[bytes]:
    """Open the stored file of `evidence` for reading, if `user` may read it.

    Raises PermissionDenied when the owner's portfolio is not visible to
    `user`, and FileNotFoundError when storage has lost the file.
    """
    if not visible_portfolio_staff(user).filter(pk=evidence.entry.staff_id).exists():
        raise PermissionDenied("This evidence belongs to a portfolio you may not read.")
    if not evidence.file.name:
        raise FileNotFoundError(f"Evidence {evidence.pk} has no stored file name.")
    return evidence_storage().open(evidence.file.name, "rb")
