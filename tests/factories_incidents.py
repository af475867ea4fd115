"""Categories and incidents for the behaviour logging tests, built on the personas."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from behaviour.models import BehaviourCategory, Incident, Polarity
from behaviour.services import PupilEntry, incident_log
from trust import clock

from .factories_behaviour import CategoryFactory, PositiveCategoryFactory
from .personas import Personas

# Half past nine on the personas' day (before TODAY), as an aware London time.
LOGGED_AT = datetime.datetime(2026, 12, 4, 9, 30, tzinfo=clock.LONDON)


@dataclass
class Categories:
    merit: BehaviourCategory
    disruption: BehaviourCategory
    safeguarding: BehaviourCategory
    oak_merit: BehaviourCategory
    elm_merit: BehaviourCategory


def build_categories(world: Personas) -> Categories:
    """Create trust categories and one academy category each for Oak and Elm.

    Merit allows +1 to +3 (default +1) and Disruption -1 to -3 (default -1).
    """
    trust = world.academies["oak"].trust
    merit = PositiveCategoryFactory(
        trust=trust, name="Merit", default_points=1, min_points=1, max_points=3
    )
    disruption = CategoryFactory(
        trust=trust, name="Disruption", default_points=-1, min_points=-3, max_points=-1
    )
    safeguarding = CategoryFactory(
        trust=trust,
        name="Safeguarding concern",
        polarity=Polarity.NEGATIVE,
        default_points=0,
        min_points=0,
        max_points=0,
        sensitive=True,
    )
    oak_merit = PositiveCategoryFactory(
        trust=trust,
        academy=world.academies["oak"],
        parent=merit,
        name="Oak star",
        default_points=2,
        min_points=1,
        max_points=3,
    )
    elm_merit = PositiveCategoryFactory(
        trust=trust,
        academy=world.academies["elm"],
        parent=merit,
        name="Elm leaf",
        default_points=1,
        min_points=1,
        max_points=3,
    )
    return Categories(merit, disruption, safeguarding, oak_merit, elm_merit)


def log_incident(
    world: Personas,
    actor_key: str,
    category: BehaviourCategory,
    pupil_keys: Sequence[str],
    *,
    points: int | None = None,
    academy_key: str = "oak",
    **kwargs: Any,
) -> Incident:
    """Log an incident through the service as one persona, reported by that persona."""
    fields: dict[str, Any] = {
        "occurred_at": LOGGED_AT,
        "reported_by_id": world.staff[actor_key].pk,
        **kwargs,
    }
    return incident_log(
        actor=world.users[actor_key],
        academy_id=world.academies[academy_key].pk,
        category_id=category.pk,
        pupils=[PupilEntry(pupil_id=world.pupils[key].pk, points=points) for key in pupil_keys],
        **fields,
    )
