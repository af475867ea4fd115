"""Writes to staff records: applying a staff import.

The import runs in one transaction and attributes its audit records to the
acting user it is given.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from academies.models import Academy
from pupils.models import ImportRun
from pupils.services import create_import_run, enqueue_run
from trust.audit import acting_as, record_bulk, snapshot
from trust.models import AuditEvent

from .imports import StaffImportPlan, build_staff_plan
from .models import StaffMember

BATCH_SIZE = 1000
# With a progress callback, new staff are written in chunks of this many rows
# and progress is reported after each chunk.
PROGRESS_ROWS = 100

# Called with the rows processed so far, the total and a short step name.
ProgressCallback = Callable[[int, int, str], None]


@transaction.atomic
def queue_staff_import(*, filename: str, stored_name: str, user: Any) -> ImportRun:
    """Record a confirmed staff import and queue its task once the record commits."""
    from .tasks import apply_staff_import

    run = create_import_run(
        kind=ImportRun.Kind.STAFF, user=user, filename=filename, stored_name=stored_name
    )
    transaction.on_commit(partial(enqueue_run, apply_staff_import, run))
    return run


class StaffImportInvalid(Exception):
    """The file or some of its rows are invalid, so nothing was written."""

    def __init__(self, plan: StaffImportPlan) -> None:
        super().__init__(plan.file_error or f"{len(plan.errors)} rows have errors")
        self.plan = plan


@dataclass
class StaffImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@transaction.atomic
def staff_import_apply(
    *,
    content: bytes,
    filename: str,
    user: Any,
    academies: Iterable[Academy],
    progress: ProgressCallback | None = None,
) -> StaffImportResult:
    """Check the file again and apply it in full, or raise StaffImportInvalid and write nothing.

    `academies` are those a row may name. `progress`, when given, is called
    with (rows processed, rows in the file, step) as new staff are written and
    once every row is written.
    """
    plan = build_staff_plan(content=content, filename=filename, academies=academies)
    if not plan.is_valid:
        raise StaffImportInvalid(plan)
    with acting_as(user, reason=f"Staff import: {filename}"[:300]):
        return _apply(plan, progress)


def _apply(plan: StaffImportPlan, progress: ProgressCallback | None = None) -> StaffImportResult:
    new_rows = plan.new_rows
    updated_rows = plan.updated_rows
    unchanged = len(plan.unchanged_rows)
    total = len(plan.rows)
    processed = total - len(new_rows)
    if progress is not None:
        progress(processed, total, "checked")
    created = [StaffMember(**row.values) for row in new_rows]
    chunk_size = PROGRESS_ROWS if progress is not None else max(len(created), 1)
    for start in range(0, len(created), chunk_size):
        chunk = created[start : start + chunk_size]
        StaffMember.objects.bulk_create(chunk, batch_size=BATCH_SIZE)
        processed += len(chunk)
        if progress is not None:
            progress(processed, total, "staff")
    for row, member in zip(new_rows, created, strict=True):
        row.staff = member

    # Line managers are set after the creates because a manager may be a new row.
    by_email: dict[str, StaffMember] = {}
    for row in plan.rows:
        if row.staff is not None:
            by_email[row.email] = row.staff
    missing = {r.manager_email for r in plan.rows if r.manager_email} - by_email.keys()
    if missing:
        stored = StaffMember.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=missing
        )
        by_email.update({s.email_lower: s for s in stored})

    now = timezone.now()
    before: dict[Any, dict[str, Any]] = {}
    fields: set[str] = set()
    for row in updated_rows:
        existing = row.staff
        assert existing is not None
        before[existing.pk] = snapshot(existing)
        for name in row.changes:
            if name != "line_manager":
                setattr(existing, name, row.values[name])
            fields.add(name)
        existing.updated_at = now
        if "line_manager" in row.changes and row.manager_email:
            existing.line_manager = by_email[row.manager_email]

    new_managed: list[StaffMember] = []
    for row, member in zip(new_rows, created, strict=True):
        if row.manager_email:
            member.line_manager = by_email[row.manager_email]
            new_managed.append(member)
    if new_managed:
        StaffMember.objects.bulk_update(new_managed, ["line_manager"], batch_size=BATCH_SIZE)
    changed = [row.staff for row in updated_rows if row.staff is not None]
    if changed:
        fields.add("updated_at")
        StaffMember.objects.bulk_update(changed, sorted(fields), batch_size=BATCH_SIZE)
        record_bulk(changed, AuditEvent.Action.UPDATE, before=before)
    record_bulk(created, AuditEvent.Action.CREATE)
    if progress is not None:
        progress(total, total, "managers")
    return StaffImportResult(created=len(created), updated=len(changed), unchanged=unchanged)


def describe_staff_result(result: StaffImportResult) -> str:
    """Return a one-sentence account of what an applied staff import wrote."""
    return (
        f"{result.created} staff created, {result.updated} updated, {result.unchanged} unchanged."
    )
