"""The audit trail for pupil and staff data.

Audited models are registered once (in their app's ready()); signals then
record every create, change and delete made through the ORM, whichever code
makes it: a service, the admin site or an import. The acting user comes from a
context variable that the middleware, management commands and tasks set.
Bulk writes skip signals, so code that bulk-writes audited rows calls
record_bulk() itself.
"""

import contextvars
import datetime
import decimal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import HttpRequest, HttpResponse

from .models import AuditEvent

_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("audit_actor", default=None)
_reason: contextvars.ContextVar[str] = contextvars.ContextVar("audit_reason", default="")
_registry: dict[type[models.Model], dict[str, str | None]] = {}

# Fields that change on every save and carry no fact about the person.
_IGNORED = {"updated_at", "created_at", "search_name"}


@contextmanager
def acting_as(user: Any, reason: str = "") -> Iterator[None]:
    """Attribute audit records written inside the block to `user`."""
    actor_token = _actor.set(user if user is not None and user.is_authenticated else None)
    reason_token = _reason.set(reason)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _reason.reset(reason_token)


def current_actor() -> Any:
    return _actor.get()


def current_reason() -> str:
    return _reason.get()


class AuditActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(getattr(request, "user", None)):
            return self.get_response(request)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        # The stored name, not the file: the trail records which file it was.
        return value.name or ""
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Return the audited field values of `instance` as JSON-ready data."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in _IGNORED:
            continue
        data[field.attname] = _plain(getattr(instance, field.attname))
    return data


def _refs(instance: models.Model) -> dict[str, int | None]:
    options = _registry[type(instance)]
    refs: dict[str, int | None] = {"pupil_ref": None, "staff_ref": None}
    if options.get("pupil_field"):
        refs["pupil_ref"] = getattr(instance, options["pupil_field"])  # type: ignore[arg-type]
    if options.get("staff_field"):
        refs["staff_ref"] = getattr(instance, options["staff_field"])  # type: ignore[arg-type]
    return refs


def _event(instance: models.Model, action: str, changes: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        actor=current_actor(),
        action=action,
        model=instance._meta.label,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes,
        reason=_reason.get()[:300],
        **_refs(instance),
    )


def _before_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if instance.pk is None or kwargs.get("raw"):
        instance._audit_before = None  # type: ignore[attr-defined]
        return
    previous = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(previous) if previous else None  # type: ignore[attr-defined]


def _after_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    after = snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if kwargs.get("created") or before is None:
        _event(instance, AuditEvent.Action.CREATE, {k: [None, v] for k, v in after.items()}).save()
        return
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if changes:
        _event(instance, AuditEvent.Action.UPDATE, changes).save()


def _after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    before = snapshot(instance)
    _event(instance, AuditEvent.Action.DELETE, {k: [v, None] for k, v in before.items()}).save()


def _m2m_ids(instance: models.Model, field_name: str) -> list[Any]:
    return sorted(getattr(instance, field_name).values_list("pk", flat=True))


def _m2m_changed(sender: Any, instance: models.Model, action: str, **kwargs: Any) -> None:
    """Record a change to a registered model's many-to-many links as one update
    with the linked ids before and after. Only the side that declares the field
    is recorded, so a change made from the other side is not in the trail."""
    if kwargs.get("reverse") or type(instance) not in _registry:
        return
    names = [
        field.name
        for field in instance._meta.many_to_many
        if field.remote_field.through is sender  # type: ignore[union-attr]
    ]
    if not names:
        return
    name = names[0]
    store = instance.__dict__.setdefault("_audit_m2m_before", {})
    if action in {"pre_add", "pre_remove", "pre_clear"}:
        store[name] = _m2m_ids(instance, name)
        return
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    before = store.pop(name, None)
    after = _m2m_ids(instance, name)
    if before is not None and before != after:
        _event(instance, AuditEvent.Action.UPDATE, {name: [before, after]}).save()


def register(
    model: type[models.Model], *, pupil_field: str | None = None, staff_field: str | None = None
) -> None:
    """Audit every ORM save and delete of `model`, and changes to its
    many-to-many links.

    `pupil_field` or `staff_field` names the attribute holding the id of the
    pupil or staff member whose trail the record joins.
    """
    _registry[model] = {"pupil_field": pupil_field, "staff_field": staff_field}
    uid = f"audit-{model._meta.label}"
    pre_save.connect(_before_save, sender=model, dispatch_uid=uid + "-pre")
    post_save.connect(_after_save, sender=model, dispatch_uid=uid + "-post")
    post_delete.connect(_after_delete, sender=model, dispatch_uid=uid + "-delete")
    for field in model._meta.many_to_many:
        through = field.remote_field.through  # type: ignore[union-attr]
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{uid}-{field.name}")


def record_bulk(
    instances: Sequence[models.Model],
    action: str,
    *,
    before: dict[Any, dict[str, Any]] | None = None,
) -> None:
    """Write audit records for rows saved with bulk_create or bulk_update.

    For updates, `before` maps each primary key to its snapshot taken before
    the change; rows whose audited fields did not change get no record.
    """
    events = []
    for instance in instances:
        after = snapshot(instance)
        if action == AuditEvent.Action.CREATE:
            events.append(_event(instance, action, {k: [None, v] for k, v in after.items()}))
            continue
        old = (before or {}).get(instance.pk, {})
        changes = {k: [old.get(k), v] for k, v in after.items() if old.get(k) != v}
        if changes:
            events.append(_event(instance, action, changes))
    AuditEvent.objects.bulk_create(events, batch_size=2000)


def record_sensitive_view(
    user: Any, instance: models.Model, fields: Sequence[str], *, reason: str = ""
) -> None:
    """Log that `user` opened the sensitive fields of `instance`.

    `reason` says where they were shown, so a printed copy reads differently
    from a screen view in the trail.
    """
    with acting_as(user, reason):
        _event(instance, AuditEvent.Action.VIEW_SENSITIVE, {"fields": list(fields)}).save()
