"""Reads of cross-cutting records: the audit trail."""

import datetime
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import DateField, DateTimeField, ForeignObjectRel, Model, QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from staff.models import Role

from .access import scope_for
from .clock import LONDON
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


# Fields of no use to a reader of a summarised trail: keys, row versions and
# save times.
_INTERNAL_FIELDS = frozenset({"id", "version", "created_at", "updated_at"})


def _readable_value(value: Any, field: Any, names: dict[tuple[type[Model], str], str]) -> Any:
    """Label a stored value: related rows by name, dates as dd/mm/yyyy, choices by label."""
    if value is None or field is None:
        return value
    related = getattr(field, "related_model", None)
    if getattr(field, "many_to_one", False) and related is not None:
        return names.get((related, str(value)), value)
    if isinstance(field, DateTimeField) and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = moment.astimezone(LONDON)
        return moment.strftime("%d/%m/%Y %H:%M")
    if isinstance(field, DateField) and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return _value_label(value, field)


def _related_names(
    events: list[AuditEvent],
    namers: Mapping[type[Model], Callable[[Any], str]],
) -> dict[tuple[type[Model], str], str]:
    """Look up the names of the related rows the events point at.

    Runs one query per model in `namers` that the events refer to, however
    many events there are. Rows deleted since keep their raw id.
    """
    wanted: dict[type[Model], set[str]] = {}
    for event in events:
        if event.action == AuditEvent.Action.VIEW_SENSITIVE:
            continue
        fields = _fields_by_name(_model_for(event.model))
        for name, values in (event.changes or {}).items():
            field = fields.get(name)
            related = getattr(field, "related_model", None)
            if related is None or not getattr(field, "many_to_one", False):
                continue
            if related not in namers:
                continue
            pair = values if isinstance(values, list) and len(values) == 2 else [None, values]
            wanted.setdefault(related, set()).update(str(v) for v in pair if v is not None)
    names = {}
    for related, ids in wanted.items():
        for row in related._default_manager.filter(pk__in=ids):
            names[(related, str(row.pk))] = namers[related](row)
    return names


def summarised_audit_rows(
    events: Iterable[AuditEvent],
    *,
    hidden_fields: Mapping[str, Collection[str]],
    namers: Mapping[type[Model], Callable[[Any], str]],
) -> list[AuditRow]:
    """Turn audit events into short rows for a page that shows one record and its parts.

    Unlike audit_rows, a create or delete becomes one row listing the
    values as "Field: value" pairs. Ids, versions and save times are left
    out, as are the fields `hidden_fields` lists per model label. Foreign
    keys to a model in `namers` show the name it returns. Dates read dd/mm/yyyy and
    times are Europe/London. An update whose every change is hidden gets no
    row.
    """
    events = list(events)
    names = _related_names(events, namers)
    rows = []
    for event in events:
        model = _model_for(event.model)
        fields = _fields_by_name(model)
        record = _record_label(event, model)
        if event.action == AuditEvent.Action.VIEW_SENSITIVE:
            rows.extend(audit_rows([event]))
            continue

        hidden = _INTERNAL_FIELDS | set(hidden_fields.get(event.model, ()))
        shown = []
        for name, values in (event.changes or {}).items():
            field = fields.get(name)
            if name in hidden or getattr(field, "name", None) in hidden:
                continue
            pair = values if isinstance(values, list) and len(values) == 2 else [None, values]
            shown.append((name, field, pair))
        order = {name: index for index, name in enumerate(fields)}
        shown.sort(key=lambda item: (order.get(item[0], len(order)), item[0]))

        if event.action in (AuditEvent.Action.CREATE, AuditEvent.Action.DELETE):
            side = 1 if event.action == AuditEvent.Action.CREATE else 0
            parts = []
            for name, field, pair in shown:
                value = _readable_value(pair[side], field, names)
                if value is None or value == "":
                    continue
                parts.append(f"{_field_label(name, field)}: {value}")
            summary = "; ".join(parts) or None
            before, after = (None, summary) if side else (summary, None)
            rows.append(AuditRow(event, record, "", before, after))
            continue

        if not event.changes:
            rows.append(AuditRow(event, record, "", None, None))
        for name, field, pair in shown:
            rows.append(
                AuditRow(
                    event,
                    record,
                    _field_label(name, field),
                    _readable_value(pair[0], field, names),
                    _readable_value(pair[1], field, names),
                )
            )
    return rows
