"""Trust targets: reading them for a dashboard, and setting or clearing them.

A target is set per measure and academic year, trust-wide, and an academy
may have its own override that replaces the trust-wide value for it. The
writes check who may act (PermissionDenied) and every input
(ValidationError({"field": ["message"]}) naming the value and what is
allowed) before they write, in one transaction, inside
trust.audit.acting_as(actor) so the audit trail names who changed what.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from academies.models import AcademicYear, Academy
from staff.models import Role
from trust import audit
from trust.access import scope_for

from .models import LOWER_IS_BETTER, Measure, Target

# Measures counted per 100 pupils, which may pass 100; the rest are percentages.
PER_100_MEASURES = frozenset({Measure.NEGATIVE_PER_100, Measure.SUSPENSION_RATE})
PERCENT_MAX = Decimal(100)
PER_100_MAX = Decimal(1000)
# Target.value stores one decimal place.
TARGET_PLACES = Decimal("0.1")

# A (measure, academy id) pair; the academy id is None for the trust-wide target.
TargetKey = tuple[str, int | None]


def can_edit_targets(user: Any) -> bool:
    """Trust leaders and trust administrators (both trust-wide roles) and
    superusers set targets. Everyone who sees a dashboard reads them."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return scope_for(user).has_role(Role.TRUST_LEADER, Role.TRUST_ADMIN)


# Reading ------------------------------------------------------------------------


@dataclass
class TargetBook:
    """The targets of one academic year for a set of academies."""

    academic_year: AcademicYear
    values: dict[TargetKey, Decimal] = field(default_factory=dict)

    def trust_target(self, measure: str) -> Decimal | None:
        return self.values.get((measure, None))

    def override(self, measure: str, academy_id: int) -> Decimal | None:
        """Return the academy's own target, or None where it has none."""
        return self.values.get((measure, academy_id))

    def target(self, measure: str, academy_id: int | None = None) -> Decimal | None:
        """Return the academy's override, else the trust-wide target, else None."""
        if academy_id is not None:
            own = self.values.get((measure, academy_id))
            if own is not None:
                return own
        return self.values.get((measure, None))

    def meets(
        self, measure: str, value: float | Decimal | None, academy_id: int | None = None
    ) -> bool | None:
        """Return whether `value` meets the target: at or below it for measures where
        lower is better, at or above it otherwise. None when either is unknown."""
        goal = self.target(measure, academy_id)
        if goal is None or value is None:
            return None
        figure = Decimal(str(value))
        if measure in LOWER_IS_BETTER:
            return figure <= goal
        return figure >= goal


def target_book(academic_year: AcademicYear, academies: Iterable[Academy] | None) -> TargetBook:
    """Read the targets of `academic_year`: trust-wide ones and the overrides of
    `academies` (every academy's when None), in one query."""
    rows = Target.objects.filter(academic_year=academic_year)
    if academies is not None:
        ids = [a.pk for a in academies]
        rows = rows.filter(Q(academy__isnull=True) | Q(academy_id__in=ids))
    book = TargetBook(academic_year=academic_year)
    for measure, academy_id, value in rows.values_list("measure", "academy_id", "value"):
        book.values[(measure, academy_id)] = value
    return book


# Validation ---------------------------------------------------------------------


def allowed_range(measure: str) -> tuple[Decimal, Decimal]:
    """Return the lowest and highest target allowed for `measure`."""
    high = PER_100_MAX if measure in PER_100_MEASURES else PERCENT_MAX
    return Decimal(0), high


def range_text(measure: str) -> str:
    low, high = allowed_range(measure)
    unit = "per 100 pupils" if measure in PER_100_MEASURES else "a percentage"
    return f"a number from {low} to {high} ({unit}) with at most one decimal place"


def measure_error(measure: object) -> str | None:
    if measure in Measure.values:
        return None
    shown = str(measure)[:40]
    return f"Measure '{shown}' is not valid; use one of: {', '.join(Measure.values)}."


def parse_value(measure: str, raw: object, field_name: str = "value") -> Decimal:
    """Read a target value for `measure` from a number or text.

    Raise ValidationError({field_name: [...]}) naming the value and the range.
    """
    label = Measure(measure).label
    text = str(raw).strip() if raw is not None else ""
    shown = text if len(text) <= 40 else text[:40] + "…"
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValidationError(
            {field_name: [f"'{shown}' is not a number. {label} takes {range_text(measure)}."]}
        )
    low, high = allowed_range(measure)
    if not low <= value <= high:
        raise ValidationError(
            {field_name: [f"{shown} is out of range. {label} takes {range_text(measure)}."]}
        )
    if value != value.quantize(TARGET_PLACES):
        raise ValidationError(
            {
                field_name: [
                    f"{shown} has more than one decimal place. {label} takes "
                    f"{range_text(measure)}, for example {value.quantize(TARGET_PLACES)}."
                ]
            }
        )
    return value.quantize(TARGET_PLACES)


def _check(actor: Any, measure: str, academic_year: AcademicYear, academy: Academy | None) -> None:
    if not can_edit_targets(actor):
        raise PermissionDenied("Only trust leaders and trust administrators set targets.")
    error = measure_error(measure)
    if error:
        raise ValidationError({"measure": [error]})
    if academy is not None and academy.trust_id != academic_year.trust_id:
        raise ValidationError(
            {"academy": [f"{academy.name} is not an academy of the trust of {academic_year}."]}
        )


# Writing ------------------------------------------------------------------------


def _lookup(measure: str, academic_year: AcademicYear, academy: Academy | None) -> dict[str, Any]:
    return {"measure": measure, "academic_year": academic_year, "academy": academy}


def _write(
    actor: Any,
    measure: str,
    academic_year: AcademicYear,
    academy: Academy | None,
    value: Decimal | None,
) -> Target | None:
    """Set (or with None, clear) one target. Call inside a transaction and acting_as."""
    lookup = _lookup(measure, academic_year, academy)
    existing = Target.objects.select_for_update().filter(**lookup).order_by().first()
    if value is None:
        if existing is not None:
            existing.delete()
        return None
    if existing is not None:
        if existing.value != value:
            existing.value = value
            existing.updated_by = actor
            existing.save()
        return existing
    try:
        # A savepoint, so a target created by someone else a moment ago
        # turns into an update instead of failing the outer transaction.
        with transaction.atomic():
            return Target.objects.create(**lookup, value=value, updated_by=actor)
    except IntegrityError:
        existing = Target.objects.select_for_update().order_by().get(**lookup)
        existing.value = value
        existing.updated_by = actor
        existing.save()
        return existing


@transaction.atomic
def set_target(
    *,
    actor: Any,
    measure: str,
    academic_year: AcademicYear,
    academy: Academy | None,
    value: object,
) -> Target:
    """Set the target for `measure` in `academic_year`: trust-wide when `academy`
    is None, otherwise that academy's override. `value` may be text or a number."""
    _check(actor, measure, academic_year, academy)
    parsed = parse_value(measure, value)
    with audit.acting_as(actor):
        target = _write(actor, measure, academic_year, academy, parsed)
    assert target is not None
    return target


@transaction.atomic
def clear_target(
    *,
    actor: Any,
    measure: str,
    academic_year: AcademicYear,
    academy: Academy | None,
) -> bool:
    """Remove a target; an academy without an override then follows the
    trust-wide one. Return whether there was one to remove."""
    _check(actor, measure, academic_year, academy)
    with audit.acting_as(actor):
        existing = Target.objects.filter(**_lookup(measure, academic_year, academy)).first()
        if existing is None:
            return False
        existing.delete()
    return True


def cell_label(measure: str, academy: Academy | None) -> str:
    return f"{Measure(measure).label}, {academy.name if academy else 'trust-wide'}"


def _shown(value: Decimal | None) -> str:
    return "no target" if value is None else str(value)


@transaction.atomic
def save_targets(
    *,
    actor: Any,
    academic_year: AcademicYear,
    academies: Mapping[int, Academy],
    values: Mapping[TargetKey, Decimal | None],
    previous: Mapping[TargetKey, Decimal | None] | None = None,
) -> int:
    """Set or clear many targets of one year at once (the page's grid): None
    clears a target. Return the number of targets changed.

    The values must be parsed already (parse_value), and each academy id in
    `values` must be a key of `academies`. `previous` contains the values the
    editor saw. A target changed by someone else since then is not
    overwritten: the call raises ValidationError({"targets": [...]}) naming
    each such target, and writes nothing.
    """
    if not can_edit_targets(actor):
        raise PermissionDenied("Only trust leaders and trust administrators set targets.")
    for measure, academy_id in values:
        academy = academies[academy_id] if academy_id is not None else None
        _check(actor, measure, academic_year, academy)
    # Locks the year's targets, so two saves of the grid run one after the other.
    locked = Target.objects.select_for_update().filter(academic_year=academic_year).order_by()
    current: dict[TargetKey, Decimal] = {
        (measure, academy_id): value
        for measure, academy_id, value in locked.values_list("measure", "academy_id", "value")
    }
    conflicts = []
    for key, value in values.items():
        now = current.get(key)
        if previous is None or key not in previous or now in (previous[key], value):
            continue
        academy = academies[key[1]] if key[1] is not None else None
        conflicts.append(
            f"{cell_label(key[0], academy)} was changed to {_shown(now)} by someone else "
            f"after you opened the page, so your {_shown(value)} was not saved. "
            "Check the value and save again to replace it."
        )
    if conflicts:
        raise ValidationError({"targets": conflicts})

    changed = 0
    with audit.acting_as(actor):
        for (measure, academy_id), value in values.items():
            if current.get((measure, academy_id)) == value:
                continue
            academy = academies[academy_id] if academy_id is not None else None
            _write(actor, measure, academic_year, academy, value)
            changed += 1
    return changed
