"""Reads of cross-cutting records: the audit trail."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from staff.models import Role

from .access import scope_for
from .models import AuditEvent


def audit_trail(**refs: int) -> QuerySet[AuditEvent]:
    """Return the audit events of one pupil or staff member, newest first.

    `refs` is pupil_ref=id or staff_ref=id. Only trust administrators and
    superusers reach the pages that call this.
    """
    return AuditEvent.objects.filter(**refs).select_related("actor").order_by("-at", "-pk")


def can_read_audit(user: Any) -> bool:
    return bool(user.is_superuser) or scope_for(user).has_role(Role.TRUST_ADMIN)


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    field: str
    before: Any
    after: Any


def audit_rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """Flatten audit events into one row per changed field, as the trail pages list them."""
    rows = []
    for event in events:
        if event.action == AuditEvent.Action.VIEW_SENSITIVE:
            fields = ", ".join(str(f) for f in event.changes.get("fields", []))
            rows.append(AuditRow(event, fields, None, None))
            continue
        changes = event.changes or {}
        if not changes:
            rows.append(AuditRow(event, "", None, None))
        for name, values in sorted(changes.items()):
            pair = values if isinstance(values, list) and len(values) == 2 else [None, values]
            rows.append(AuditRow(event, name, pair[0], pair[1]))
    return rows
