"""Builders for the suspension tests: personas with a real term calendar,
headteachers for both academies and a shortcut to record a suspension.

The 2026/27 calendar follows academies.calendar.default_half_terms: Autumn 1
runs 01/09/2026 to 23/10/2026, Autumn 2 02/11/2026 to 18/12/2026 and Spring 1
starts 04/01/2027. TODAY (Friday 04/12/2026) is in Autumn 2.
"""

import datetime
from typing import Any

from academies.calendar import HALF_TERMS, default_half_terms
from academies.models import AcademicYear, Term
from academies.services import academic_year_create
from behaviour.models import Suspension
from behaviour.suspensions import suspension_record
from staff.models import Role

from .factories import StaffFactory, UserFactory, grant
from .personas import Personas, build_personas


def add_terms(year: AcademicYear) -> None:
    """Record the default terms and half terms of `year`."""
    dates = default_half_terms(year.start_year)
    pairs = list(zip(HALF_TERMS, dates, strict=True))
    for index in range(0, len(pairs), 2):
        (_, season, _, _), first = pairs[index]
        second = pairs[index + 1][1]
        term = Term.objects.create(
            academic_year=year, season=season, start_date=first.start, end_date=second.end
        )
        for half, half_dates in ((1, first), (2, second)):
            Term.objects.create(
                academic_year=year,
                parent=term,
                season=season,
                half=half,
                start_date=half_dates.start,
                end_date=half_dates.end,
            )


def suspension_world(*, next_year: bool = False) -> Personas:
    """Build the personas with the 2026/27 terms (and 2027/28 when asked)
    and an Elm headteacher with the login "elm.headteacher"."""
    world = build_personas()
    assert world.academic_year is not None
    add_terms(world.academic_year)
    if next_year:
        academic_year_create(trust=world.academic_year.trust, start_year=2027, actor=None)
    elm_head = StaffFactory(
        user=UserFactory(username="elm.headteacher"),
        academy=world.academies["elm"],
        first_name="ElmHead",
        last_name="Persona",
    )
    grant(elm_head, Role.HEADTEACHER, world.academies["elm"])
    world.staff["elm_headteacher"] = elm_head
    world.users["elm_headteacher"] = elm_head.user
    return world


def record(
    world: Personas,
    pupil_key: str,
    *,
    actor: str = "headteacher",
    decided_by: str | None = None,
    **fields: Any,
) -> Suspension:
    """Record a suspension of a persona pupil, decided by their academy's headteacher."""
    pupil = world.pupils[pupil_key]
    head = decided_by or ("elm_headteacher" if pupil_key.startswith("elm") else "headteacher")
    values: dict[str, Any] = {
        "kind": Suspension.Kind.SUSPENSION,
        "start_date": datetime.date(2026, 12, 1),
        "sessions": 2,
        "reasons": ["DB"],
    }
    values.update(fields)
    return suspension_record(
        actor=world.users[actor],
        pupil_id=pupil.pk,
        decided_by_id=world.staff[head].pk,
        **values,
    )
