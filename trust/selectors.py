"""Reads of cross-cutting records: the audit trail."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import ForeignObjectRel, Model, QuerySet
from django.utils.text import capfirst

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
    """One line of an audit trail page, with labels a reader understands."""

    event: AuditEvent
    record: str
    field: str
    before: Any
    after: Any


def _model_for(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        # A model removed since the event was written keeps its raw label.
        return None


def _fields_by_name(model: type[Model] | None) -> dict[str, Any]:
    """Map attribute names, column names and reverse accessors to their fields."""
    if model is None:
        return {}
    fields: dict[str, Any] = {}
    for field in model._meta.get_fields():
        if isinstance(field, ForeignObjectRel):
            accessor = field.get_accessor_name()
            if accessor:
                fields[accessor] = field
            continue
        fields[field.name] = field
        fields[getattr(field, "attname", field.name)] = field
    return fields


# Labels for reverse relations whose model's verbose name Django derives
# from the class name, which loses the acronym ("sen needs").
# NOTE: a verbose_name_plural on SenNeed.Meta would make this entry unnecessary.
_RELATION_LABELS = {"sen_needs": "SEN needs"}


def _field_label(name: str, field: Any) -> str:
    if field is None:
        return name
    if isinstance(field, ForeignObjectRel):
        # A reverse relation such as pupil.sen_needs is named by the related model.
        if name in _RELATION_LABELS:
            return _RELATION_LABELS[name]
        return capfirst(str(field.related_model._meta.verbose_name_plural))
    return capfirst(str(field.verbose_name))


def _value_label(value: Any, field: Any) -> Any:
    if value is None or field is None:
        return value
    if getattr(field, "choices", None):
        choices = {str(key): label for key, label in field.flatchoices}
        return choices.get(str(value), value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


def _record_label(event: AuditEvent, model: type[Model] | None) -> str:
    if model is None:
        return f"{event.model} {event.object_id}"
    kind = capfirst(str(model._meta.verbose_name))
    return f"{kind}: {event.object_repr}" if event.object_repr else f"{kind} {event.object_id}"


def audit_rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """Flatten audit events into one row per changed field, as the trail pages list them.

    Rows name the record by its model's verbose name and description, fields
    by their verbose names, and choice values by their labels.
    """
    rows = []
    for event in events:
        model = _model_for(event.model)
        fields = _fields_by_name(model)
        record = _record_label(event, model)
        changes = event.changes or {}

        if event.action == AuditEvent.Action.VIEW_SENSITIVE:
            names = [str(name) for name in changes.get("fields", [])]
            opened = ", ".join(_field_label(name, fields.get(name)) for name in names)
            rows.append(AuditRow(event, record, opened, None, None))
            continue

        if not changes:
            rows.append(AuditRow(event, record, "", None, None))
        for name, values in sorted(changes.items()):
            pair = values if isinstance(values, list) and len(values) == 2 else [None, values]
            field = fields.get(name)
            rows.append(
                AuditRow(
                    event,
                    record,
                    _field_label(name, field),
                    _value_label(pair[0], field),
                    _value_label(pair[1], field),
                )
            )
    return rows
