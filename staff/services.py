"""Writes to staff records: applying a staff import.

The import runs in one transaction and attributes its audit records to the
acting user it is given.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from academies.models import Academy
from trust.audit import acting_as, record_bulk, snapshot
from trust.models import AuditEvent

from .imports import StaffImportPlan, build_staff_plan
from .models import StaffMember

BATCH_SIZE = 1000


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
    *, content: bytes, filename: str, user: Any, academies: Iterable[Academy]
) -> StaffImportResult:
    """Check the file again and apply it in full, or raise StaffImportInvalid and write nothing.

    `academies` are those a row may name.
    """
    plan = build_staff_plan(content=content, filename=filename, academies=academies)
    if not plan.is_valid:
        raise StaffImportInvalid(plan)
    with acting_as(user, reason=f"Staff import: {filename}"[:300]):
        return _apply(plan)


def _apply(plan: StaffImportPlan) -> StaffImportResult:
    new_rows = plan.new_rows
    updated_rows = plan.updated_rows
    unchanged = len(plan.unchanged_rows)
    created = [StaffMember(**row.values) for row in new_rows]
    StaffMember.objects.bulk_create(created, batch_size=BATCH_SIZE)
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
    return StaffImportResult(created=len(created), updated=len(changed), unchanged=unchanged)
