"""The trust's behaviour categories: the default taxonomy, who may change
categories, the services that add, change and retire them, and the
categories an incident may use.

The trust keeps one taxonomy. An academy may add its own categories, each
mapped to a trust category of the same polarity, so analysis still groups
by the trust category. A category is never deleted: retiring it stops its
use for new incidents from the retirement date, and incidents already
logged keep showing it.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from academies.models import Academy, Trust
from staff.models import Role, RoleAssignment, ScopeKind
from trust import audit, clock
from trust.access import scope_for
from trust.models import AuditEvent

from .models import BehaviourCategory, Polarity

# Roles that change the trust taxonomy (and, being trust-wide, any
# academy's own categories).
TRUST_EDITOR_ROLES = (Role.TRUST_LEADER, Role.TRUST_ADMIN)
# Roles that change the own categories of the academy they hold the role at.
ACADEMY_EDITOR_ROLES = (Role.HEADTEACHER, Role.ACADEMY_LEADER)

MAX_NAME = 80
# Points a single incident may carry, either way. An estimate of what a
# points system needs; BehaviourCategory stores a small integer.
MAX_POINTS = 100
SEVERITIES = range(1, 6)
MAX_POSITION = 32_767
EDITABLE_FIELDS = {
    "name",
    "polarity",
    "severity",
    "default_points",
    "min_points",
    "max_points",
    "sensitive",
    "position",
    "parent_id",
}


@dataclass(frozen=True)
class DefaultCategory:
    name: str
    polarity: str
    severity: int | None
    default_points: int
    min_points: int
    max_points: int
    sensitive: bool = False


def _positive(name: str, default: int, low: int, high: int) -> DefaultCategory:
    return DefaultCategory(name, Polarity.POSITIVE, None, default, low, high)


def _negative(
    name: str, severity: int, default: int, low: int, sensitive: bool = False
) -> DefaultCategory:
    return DefaultCategory(name, Polarity.NEGATIVE, severity, default, low, 0, sensitive)


# The taxonomy every trust starts with, in the order pages list it.
# Severity runs from 1 (low-level) to 5 (most serious). A safeguarding
# concern is recorded for follow-up, not as misbehaviour, so it carries no
# points.
DEFAULT_TAXONOMY: tuple[DefaultCategory, ...] = (
    _positive("Praise", 1, 0, 2),
    _positive("Excellent work", 2, 1, 3),
    _positive("Effort", 1, 0, 2),
    _positive("Achievement", 2, 1, 5),
    _positive("Helping others", 1, 0, 3),
    _positive("Leadership", 2, 1, 3),
    _positive("Representing the school", 3, 1, 5),
    _negative("Low-level disruption", 1, -1, -2),
    _negative("No homework", 1, -1, -2),
    _negative("Lateness to lesson", 1, -1, -2),
    _negative("Uniform", 1, -1, -1),
    _negative("Mobile phone", 2, -2, -3),
    _negative("Defiance", 3, -3, -5),
    _negative("Disrespect to staff", 3, -3, -5),
    _negative("Truancy from lesson", 3, -3, -5),
    _negative("Smoking or vaping", 3, -4, -6),
    _negative("Damage to property", 3, -4, -8),
    _negative("Theft", 4, -5, -10),
    _negative("Fighting", 4, -5, -10),
    _negative("Threatening behaviour", 4, -5, -10),
    _negative("Bullying", 4, -5, -10, sensitive=True),
    _negative("Prejudice-related incident", 5, -8, -10, sensitive=True),
    DefaultCategory("Safeguarding concern", Polarity.NEGATIVE, 3, 0, 0, 0, sensitive=True),
)
POSITION_STEP = 10


@dataclass(frozen=True)
class CategoryInput:
    """A category as entered. `parent_id` is the trust category an academy
    category counts as; a trust category has none."""

    name: str
    polarity: str
    severity: int | None
    default_points: int
    min_points: int
    max_points: int
    sensitive: bool = False
    position: int = 0
    parent_id: int | None = None


# Permissions -----------------------------------------------------------------


def can_edit_trust_categories(user: Any) -> bool:
    """Return whether `user` may add, change and retire trust categories."""
    if user.is_superuser:
        return True
    return scope_for(user).has_role(*TRUST_EDITOR_ROLES)


def editable_academy_ids(user: Any) -> frozenset[int] | None:
    """Return the academies whose own categories `user` may change, or None
    for every academy (trust editors).

    The set is read from the user's role assignments once and kept on the
    user object for the rest of the request.
    """
    if can_edit_trust_categories(user):
        return None
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_category_academy_ids", None)
    if cached is not None:
        return cached
    today = clock.today()
    assignments = RoleAssignment.objects.filter(
        staff__user=user,
        role__in=ACADEMY_EDITOR_ROLES,
        scope=ScopeKind.ACADEMY,
        academy__isnull=False,
    ).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
    )
    ids = frozenset(assignments.values_list("academy_id", flat=True))
    user._category_academy_ids = ids
    return ids


def can_edit_academy_categories(user: Any, academy_id: int) -> bool:
    """Return whether `user` may add, change and retire `academy_id`'s own categories."""
    allowed = editable_academy_ids(user)
    return allowed is None or academy_id in allowed


def can_edit_category(user: Any, category: BehaviourCategory) -> bool:
    if category.academy_id is None:
        return can_edit_trust_categories(user)
    return can_edit_academy_categories(user, category.academy_id)


def can_read_categories(user: Any) -> bool:
    """Return whether `user` may see the taxonomy: staff who see pupils or
    hold a role at an academy (teachers log incidents), and those who may
    change categories. Trustees, HR and staff without a role may not."""
    if user.is_superuser:
        return True
    scope = scope_for(user)
    if scope.sees_any_pupil() or scope.academy_ids or can_edit_trust_categories(user):
        return True
    return bool(editable_academy_ids(user))


# Selectors -------------------------------------------------------------------


def visible_academy_ids(user: Any) -> frozenset[int] | None:
    """Return the academies whose own categories `user` may see, or None for all."""
    scope = scope_for(user)
    if user.is_superuser or scope.all_academies:
        return None
    return scope.academy_ids | scope.pupil_academy_ids


def visible_categories(user: Any) -> QuerySet[BehaviourCategory]:
    """Return the categories `user` may see: the trust taxonomy of the trusts
    of the academies they see, and those academies' own categories."""
    if not can_read_categories(user):
        return BehaviourCategory.objects.none()
    academy_ids = visible_academy_ids(user)
    if academy_ids is None:
        return BehaviourCategory.objects.all()
    trust_ids = Academy.objects.filter(pk__in=academy_ids).values("trust_id")
    return BehaviourCategory.objects.filter(
        Q(academy__isnull=True, trust_id__in=trust_ids) | Q(academy_id__in=academy_ids)
    )


def trust_for(user: Any) -> Trust | None:
    """Return the trust whose taxonomy `user` works with: the trust of the
    first academy they see, or the first trust for a trust-wide role."""
    academy_ids = visible_academy_ids(user)
    academies = Academy.objects.order_by("pk")
    if academy_ids is not None:
        academies = academies.filter(pk__in=academy_ids)
    first = academies.select_related("trust").first()
    if first is not None:
        return first.trust
    if academy_ids is None:
        return Trust.objects.order_by("pk").first()
    return None


def in_use_q(day: datetime.date, prefix: str = "") -> Q:
    """Return a filter matching categories not retired on `day`, whose trust
    category (for an academy category) is not retired either."""
    not_retired = Q(**{f"{prefix}retired_on__isnull": True}) | Q(**{f"{prefix}retired_on__gt": day})
    parent_ok = (
        Q(**{f"{prefix}parent__isnull": True})
        | Q(**{f"{prefix}parent__retired_on__isnull": True})
        | Q(**{f"{prefix}parent__retired_on__gt": day})
    )
    return not_retired & parent_ok


@dataclass(frozen=True)
class CategoryChoices:
    """The categories an incident at one academy may use on one day, by polarity."""

    positive: list[BehaviourCategory] = field(default_factory=list)
    negative: list[BehaviourCategory] = field(default_factory=list)

    def all(self) -> list[BehaviourCategory]:
        return [*self.positive, *self.negative]

    def ids(self) -> set[int]:
        return {category.pk for category in self.all()}

    def groups(self) -> list[tuple[str, list[BehaviourCategory]]]:
        """Return (label, categories) pairs for a select element's option groups."""
        return [
            (Polarity.POSITIVE.label, self.positive),
            (Polarity.NEGATIVE.label, self.negative),
        ]


def categories_for(academy: Academy | int, day: datetime.date) -> CategoryChoices:
    """Return the categories a user may choose for an incident at `academy`
    on `day`: the trust categories and the academy's own, less those retired.

    One query. Each academy category comes with its parent loaded; within a
    polarity, categories are ordered by position and name.
    """
    if isinstance(academy, Academy):
        academy_id = academy.pk
        trust_q = Q(trust_id=academy.trust_id)
    else:
        academy_id = academy
        trust_q = Q(trust_id__in=Academy.objects.filter(pk=academy).values("trust_id"))
    rows = (
        BehaviourCategory.objects.filter(
            (trust_q & Q(academy__isnull=True)) | Q(academy_id=academy_id)
        )
        .filter(in_use_q(day))
        .select_related("parent")
        .order_by("position", "name", "pk")
    )
    choices = CategoryChoices()
    for category in rows:
        target = choices.positive if category.polarity == Polarity.POSITIVE else choices.negative
        target.append(category)
    return choices


def category_usable_error(
    category: BehaviourCategory, academy_id: int, day: datetime.date
) -> str | None:
    """Return why `category` cannot be used for a new incident at
    `academy_id` on `day`, or None when it can. `category.parent` is read
    for an academy category."""
    if category.academy_id is not None and category.academy_id != academy_id:
        return (
            f"Category {category.pk} ({category.name}) belongs to another academy; choose a "
            "trust category or one of this academy's own."
        )
    if (
        category.academy_id is None
        and not Academy.objects.filter(pk=academy_id, trust_id=category.trust_id).exists()
    ):
        return f"Category {category.pk} ({category.name}) belongs to another trust."
    if category.retired(day):
        return (
            f"Category {category.name} was retired on {category.retired_on:%d/%m/%Y}; choose a "
            "category still in use."
        )
    parent = category.parent if category.parent_id else None
    if parent is not None and parent.retired(day):
        return (
            f"Category {category.name} counts as {parent.name}, which was retired on "
            f"{parent.retired_on:%d/%m/%Y}; choose a category still in use."
        )
    return None


# Validation ------------------------------------------------------------------


def _check_points(data: CategoryInput, errors: dict[str, list[str]]) -> None:
    values = {
        "default_points": data.default_points,
        "min_points": data.min_points,
        "max_points": data.max_points,
    }
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            errors.setdefault(name, []).append(
                f"{name.replace('_', ' ').capitalize()} {value!r} is not a whole number."
            )
        elif not -MAX_POINTS <= value <= MAX_POINTS:
            errors.setdefault(name, []).append(
                f"{name.replace('_', ' ').capitalize()} {value} is out of range; use "
                f"{-MAX_POINTS} to {MAX_POINTS}."
            )
    if any(name in errors for name in values):
        return
    if data.polarity == Polarity.POSITIVE and data.min_points < 0:
        errors.setdefault("min_points", []).append(
            f"Minimum points {data.min_points} is below 0; a positive category allows 0 or "
            "more points."
        )
    if data.polarity == Polarity.NEGATIVE and data.max_points > 0:
        errors.setdefault("max_points", []).append(
            f"Maximum points {data.max_points} is above 0; a negative category allows 0 or "
            "fewer points."
        )
    if data.min_points > data.max_points:
        errors.setdefault("min_points", []).append(
            f"Minimum points {data.min_points} is above the maximum {data.max_points}; the "
            "minimum must be at most the maximum."
        )
    elif not data.min_points <= data.default_points <= data.max_points:
        errors.setdefault("default_points", []).append(
            f"Default points {data.default_points} is outside the range {data.min_points} to "
            f"{data.max_points}; choose a default within the range."
        )


def _check_fields(data: CategoryInput, errors: dict[str, list[str]]) -> None:
    name = data.name.strip()
    if not name:
        errors["name"] = ["The name is missing; enter a name such as 'Lateness to lesson'."]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"The name has {len(name)} characters; use at most {MAX_NAME}."]

    if data.polarity not in Polarity.values:
        errors["polarity"] = [
            f"Polarity {data.polarity!r} is not valid; choose positive or negative."
        ]
        return
    if data.polarity == Polarity.POSITIVE and data.severity is not None:
        errors["severity"] = [
            f"Severity {data.severity} is set on a positive category; only negative "
            "categories have a severity, so leave it empty."
        ]
    if data.polarity == Polarity.NEGATIVE and data.severity not in SEVERITIES:
        shown = "missing" if data.severity is None else f"{data.severity!r}"
        errors["severity"] = [
            f"Severity {shown} is not allowed; a negative category needs a severity from "
            "1 (low-level) to 5 (most serious)."
        ]
    if not isinstance(data.position, int) or not 0 <= data.position <= MAX_POSITION:
        errors["position"] = [
            f"Position {data.position!r} is out of range; use a whole number from 0 to "
            f"{MAX_POSITION}."
        ]
    _check_points(data, errors)


def _check_name_unique(
    trust_id: int,
    academy_id: int | None,
    name: str,
    exclude_pk: int | None,
    errors: dict[str, list[str]],
) -> None:
    level = Q(academy__isnull=True) if academy_id is None else Q(academy_id=academy_id)
    same = BehaviourCategory.objects.filter(level, trust_id=trust_id, name__iexact=name)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        where = "this academy" if academy_id else "the trust taxonomy"
        errors.setdefault("name", []).append(
            f"The name {name!r} is already used in {where}; choose another name."
        )
        return
    if academy_id is not None:
        clash = BehaviourCategory.objects.filter(
            trust_id=trust_id, academy__isnull=True, name__iexact=name
        ).exists()
        if clash:
            errors.setdefault("name", []).append(
                f"The name {name!r} is already a trust category; use the trust category or "
                "choose another name."
            )


def _check_parent(
    trust_id: int,
    academy_id: int | None,
    data: CategoryInput,
    day: datetime.date,
    errors: dict[str, list[str]],
    current_parent_id: int | None = None,
) -> None:
    if academy_id is None:
        if data.parent_id is not None:
            errors["parent"] = [
                f"Parent {data.parent_id} is set on a trust category; only an academy's own "
                "categories map to a trust category, so leave it empty."
            ]
        return
    if data.parent_id is None:
        errors["parent"] = [
            "The trust category is missing; an academy category must count as a trust "
            "category of the same polarity."
        ]
        return
    parent = BehaviourCategory.objects.filter(
        pk=data.parent_id, trust_id=trust_id, academy__isnull=True
    ).first()
    if parent is None:
        errors["parent"] = [
            f"Parent {data.parent_id} is not a trust category of this trust; choose one of "
            "the trust taxonomy."
        ]
        return
    if "polarity" not in errors and parent.polarity != data.polarity:
        errors["parent"] = [
            f"Trust category {parent.name} is {parent.get_polarity_display().lower()}, but "
            f"this category is {data.polarity}; choose a trust category of the same polarity."
        ]
    # An academy category may keep its mapping after the parent retires, but
    # a new mapping must be to a category still in use.
    if parent.retired(day) and parent.pk != current_parent_id:
        errors["parent"] = [
            f"Trust category {parent.name} was retired on {parent.retired_on:%d/%m/%Y}, so "
            "no new academy category may map to it; choose a trust category still in use."
        ]


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _check_editor(actor: Any, academy_id: int | None) -> None:
    allowed = (
        can_edit_trust_categories(actor)
        if academy_id is None
        else can_edit_academy_categories(actor, academy_id)
    )
    if not allowed:
        what = "the trust taxonomy" if academy_id is None else "this academy's own categories"
        raise PermissionDenied(f"You may read but not change {what}.")


# Services --------------------------------------------------------------------


def _values(data: CategoryInput) -> dict[str, Any]:
    return {
        "name": data.name.strip(),
        "polarity": data.polarity,
        "severity": data.severity,
        "default_points": data.default_points,
        "min_points": data.min_points,
        "max_points": data.max_points,
        "sensitive": data.sensitive,
        "position": data.position,
        "parent_id": data.parent_id,
    }


@transaction.atomic
def category_create(
    *, actor: Any, trust: Trust, data: CategoryInput, academy: Academy | None = None
) -> BehaviourCategory:
    """Add a trust category, or with `academy` an academy's own category.

    Raise PermissionDenied unless `actor` may change that level, and
    ValidationError, keyed by field, for invalid input.
    """
    academy_id = academy.pk if academy is not None else None
    _check_editor(actor, academy_id)
    errors: dict[str, list[str]] = {}
    if academy is not None and academy.trust_id != trust.pk:
        errors["academy"] = [f"Academy {academy.pk} is not an academy of {trust.name}."]
    _check_fields(data, errors)
    if "name" not in errors:
        _check_name_unique(trust.pk, academy_id, data.name.strip(), None, errors)
    _check_parent(trust.pk, academy_id, data, clock.today(), errors)
    _raise_if(errors)
    with audit.acting_as(actor, "Behaviour category added"):
        return BehaviourCategory.objects.create(trust=trust, academy_id=academy_id, **_values(data))


def _input_of(category: BehaviourCategory) -> dict[str, Any]:
    return {name: getattr(category, name) for name in EDITABLE_FIELDS}


@transaction.atomic
def category_update(*, actor: Any, category: BehaviourCategory, **fields: Any) -> BehaviourCategory:
    """Change some of `category`'s name, severity, points, sensitive flag,
    position or (for an academy category) trust category.

    The polarity cannot change, because logged incidents copy it: retire the
    category and add another instead. Raise ValidationError, keyed by field,
    and change nothing if any value is invalid.
    """
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"category_update() got unknown fields: {', '.join(sorted(unknown))}")
    _check_editor(actor, category.academy_id)
    data = CategoryInput(**{**_input_of(category), **fields})
    errors: dict[str, list[str]] = {}
    if data.polarity != category.polarity:
        errors["polarity"] = [
            f"Polarity cannot change from {category.polarity} to {data.polarity!r}, because "
            "incidents already logged keep it; retire this category and add a new one."
        ]
    _check_fields(data, errors)
    if "name" not in errors and data.name.strip().lower() != category.name.lower():
        _check_name_unique(
            category.trust_id, category.academy_id, data.name.strip(), category.pk, errors
        )
    _check_parent(
        category.trust_id,
        category.academy_id,
        data,
        clock.today(),
        errors,
        current_parent_id=category.parent_id,
    )
    _raise_if(errors)
    changed = False
    for name, value in _values(data).items():
        if getattr(category, name) != value:
            setattr(category, name, value)
            changed = True
    if changed:
        with audit.acting_as(actor, "Behaviour category changed"):
            category.save()
    return category


@transaction.atomic
def category_retire(
    *, actor: Any, category: BehaviourCategory, on: datetime.date | None = None
) -> BehaviourCategory:
    """Retire `category` from `on` (today by default): from that day it cannot
    be chosen for a new incident, while incidents already logged keep it.

    Retiring a trust category also retires, from the same day, the academy
    categories that count as it and are still in use then.
    """
    _check_editor(actor, category.academy_id)
    day = on or clock.today()
    if category.retired_on is not None:
        raise ValidationError(
            {
                "retired_on": [
                    f"{category.name} is already retired from {category.retired_on:%d/%m/%Y}; "
                    "reinstate it first to choose another date."
                ]
            }
        )
    with audit.acting_as(actor, "Behaviour category retired"):
        category.retired_on = day
        category.save(update_fields=["retired_on"])
        if category.academy_id is None:
            children = category.academy_categories.filter(
                Q(retired_on__isnull=True) | Q(retired_on__gt=day)
            )
            for child in children:
                child.retired_on = day
                child.save(update_fields=["retired_on"])
    return category


@transaction.atomic
def category_reinstate(*, actor: Any, category: BehaviourCategory) -> BehaviourCategory:
    """Put a retired category back in use. An academy category whose trust
    category is retired cannot come back until that one does."""
    _check_editor(actor, category.academy_id)
    if category.retired_on is None:
        raise ValidationError(
            {"retired_on": [f"{category.name} is not retired, so there is nothing to reinstate."]}
        )
    parent = category.parent
    if parent is not None and parent.retired_on is not None:
        raise ValidationError(
            {
                "retired_on": [
                    f"{category.name} counts as {parent.name}, which is retired from "
                    f"{parent.retired_on:%d/%m/%Y}; reinstate {parent.name} first."
                ]
            }
        )
    with audit.acting_as(actor, "Behaviour category reinstated"):
        category.retired_on = None
        category.save(update_fields=["retired_on"])
    return category


@transaction.atomic
def default_taxonomy_ensure(trust: Trust, *, actor: Any = None) -> list[BehaviourCategory]:
    """Add the default categories that `trust` lacks and return the taxonomy.

    A default whose name the trust already uses (retired or not, in any
    letter case) is left as it is, so running this again changes nothing
    and keeps edits made since. Rows are bulk-written; with `actor` they
    are audited in their name, without it (the demo seed) they are not.
    """
    existing = {
        name.lower()
        for name in BehaviourCategory.objects.filter(trust=trust, academy__isnull=True).values_list(
            "name", flat=True
        )
    }
    missing = [
        BehaviourCategory(
            trust=trust,
            name=default.name,
            polarity=default.polarity,
            severity=default.severity,
            default_points=default.default_points,
            min_points=default.min_points,
            max_points=default.max_points,
            sensitive=default.sensitive,
            position=index * POSITION_STEP,
        )
        for index, default in enumerate(DEFAULT_TAXONOMY)
        if default.name.lower() not in existing
    ]
    if missing:
        created = BehaviourCategory.objects.bulk_create(missing)
        if actor is not None:
            with audit.acting_as(actor, "Default behaviour taxonomy added"):
                audit.record_bulk(created, AuditEvent.Action.CREATE)
    return list(BehaviourCategory.objects.filter(trust=trust, academy__isnull=True))


def trust_categories_by_name(trust: Trust) -> dict[str, BehaviourCategory]:
    return {
        category.name: category
        for category in BehaviourCategory.objects.filter(trust=trust, academy__isnull=True)
    }
