"""The demo trust's shape: academies, Ofsted history, calendar, year and
tutor groups. Rows are written with bulk_create, so no audit records."""

import datetime
import random
from dataclasses import dataclass, field

from academies import services
from academies.calendar import early_may_bank_holiday
from academies.models import (
    AcademicYear,
    Academy,
    Closure,
    OfstedGrade,
    OfstedInspection,
    Phase,
    Term,
    Trust,
    TutorGroup,
    YearGroup,
    key_stage_for,
)

from .names import LOCAL_AUTHORITIES, PLACE_NAMES

BATCH_SIZE = 5000
TRUST_NAME = "Severn Valley Learning Trust"
# Ofsted inspected under the report card framework from 10 November 2025.
REPORT_CARD_START = datetime.date(2025, 11, 10)
REPORT_CARD_LEVELS = (
    "Exceptional",
    "Strong standard",
    "Expected standard",
    "Needs attention",
    "Urgent improvement",
)
# Tutor group letters used by the demo academies, one set per academy.
GROUP_LETTERS = "ABCDEFGHJKLMNPRSTW"
# Relative size of each year group's cohort; Nursery and the sixth form are smaller.
COHORT_WEIGHTS = {-1: 0.6, 12: 0.55, 13: 0.5}


@dataclass
class AcademyPlan:
    """An academy with the facts the other seed steps need."""

    academy: Academy
    kind: str
    letters: str
    year_groups: dict[int, YearGroup] = field(default_factory=dict)
    cohort_sizes: dict[int, int] = field(default_factory=dict)
    # Tutor groups by NC year, for the current and the previous academic year.
    tutor_groups: dict[int, list[TutorGroup]] = field(default_factory=dict)
    last_year_groups: dict[int, list[TutorGroup]] = field(default_factory=dict)

    @property
    def nc_years(self) -> list[int]:
        return sorted(self.year_groups)

    @property
    def is_secondary(self) -> bool:
        return self.kind in {"all_through", "secondary", "secondary_sixth"}

    @property
    def la_code(self) -> str:
        return self.academy.la_code

    @property
    def establishment_number(self) -> str:
        return self.academy.establishment_number


@dataclass
class DemoContext:
    rng: random.Random
    today: datetime.date
    current_start_year: int
    trust: Trust | None = None
    current_year: AcademicYear | None = None
    last_year: AcademicYear | None = None
    plans: list[AcademyPlan] = field(default_factory=list)

    @property
    def flagship(self) -> AcademyPlan:
        return self.plans[0]


# The mix of academies after the flagship, repeated as far as needed.
_KIND_CYCLE = ("primary", "secondary_sixth", "primary", "secondary", "primary")
_KIND_FACTS = {
    # kind: (phase, youngest age, oldest age, name ending)
    "all_through": (Phase.ALL_THROUGH, 3, 18, "Academy"),
    "primary": (Phase.PRIMARY, 4, 11, "Primary Academy"),
    "secondary": (Phase.SECONDARY, 11, 16, "Academy"),
    "secondary_sixth": (Phase.SECONDARY, 11, 18, "High School"),
}


def create_trust(ctx: DemoContext) -> Trust:
    trust = Trust.objects.create(
        name=TRUST_NAME, companies_house_number=f"{ctx.rng.randint(7_000_000, 9_999_999):08d}"
    )
    ctx.trust = trust
    return trust


def create_calendar(ctx: DemoContext) -> None:
    """Create last year and the current academic year with default terms."""
    assert ctx.trust is not None
    ctx.last_year = services.academic_year_create(
        trust=ctx.trust, start_year=ctx.current_start_year - 1, actor=None
    )
    ctx.current_year = services.academic_year_create(
        trust=ctx.trust, start_year=ctx.current_start_year, actor=None
    )


def _unique_names(rng: random.Random, count: int) -> list[str]:
    places = rng.sample(PLACE_NAMES, min(count, len(PLACE_NAMES)))
    while len(places) < count:
        # More academies than place names: reuse places with a compass point.
        index = len(places)
        places.append(f"{PLACE_NAMES[index % len(PLACE_NAMES)]} {('North', 'South')[index % 2]}")
    return places


def create_academies(ctx: DemoContext, count: int) -> None:
    """Create the flagship and `count - 1` academies that joined it later."""
    assert ctx.trust is not None
    rng = ctx.rng
    places = _unique_names(rng, count)
    urns = rng.sample(range(136_000, 150_000), count)
    used_numbers: set[str] = set()
    academies = []
    kinds = []
    for index in range(count):
        kind = "all_through" if index == 0 else _KIND_CYCLE[(index - 1) % len(_KIND_CYCLE)]
        phase, low, high, ending = _KIND_FACTS[kind]
        la_code = LOCAL_AUTHORITIES[0][0] if index == 0 else rng.choice(LOCAL_AUTHORITIES)[0]
        # Primary establishment numbers are in the 2000s, secondary in the 4000s.
        first = 2000 if kind == "primary" else 4000
        while True:
            dfe_number = f"{la_code}/{rng.randint(first, first + 999):04d}"
            if dfe_number not in used_numbers:
                used_numbers.add(dfe_number)
                break
        joined = (
            datetime.date(ctx.current_start_year - 14, 9, 1)
            if index == 0
            else datetime.date(ctx.current_start_year - rng.randint(2, 11), rng.choice((4, 9)), 1)
        )
        name = f"{places[index]} {ending}"
        academies.append(
            Academy(
                trust=ctx.trust,
                name=name,
                short_name=places[index],
                urn=f"{urns[index]:06d}",
                dfe_number=dfe_number,
                phase=phase,
                age_range_low=low,
                age_range_high=high,
                joined_trust_on=joined,
            )
        )
        kinds.append(kind)
    Academy.objects.bulk_create(academies, batch_size=BATCH_SIZE)
    for academy, kind in zip(academies, kinds, strict=True):
        letters = "".join(sorted(rng.sample(GROUP_LETTERS, 6)))
        ctx.plans.append(AcademyPlan(academy=academy, kind=kind, letters=letters))


def _report_card(rng: random.Random, academy: Academy, grade: int) -> dict[str, object]:
    """Return report card evaluations near the standard an old grade implies."""
    areas = [
        "Inclusion",
        "Curriculum and teaching",
        "Achievement",
        "Attendance and behaviour",
        "Personal development and well-being",
        "Leadership and governance",
    ]
    if academy.age_range_low <= 4:
        areas.append("Early years")
    if academy.age_range_high >= 18:
        areas.append("Sixth form")
    # Grade 1 centres on "Strong standard", 2 on "Expected standard" and so on.
    centre = max(1, min(grade, 4))
    evaluations = {}
    for area in areas:
        level = min(len(REPORT_CARD_LEVELS) - 1, max(0, centre + rng.choice((-1, 0, 0, 0, 1)) - 1))
        evaluations[area] = REPORT_CARD_LEVELS[level]
    return {"safeguarding": "Met", "evaluations": evaluations}


def _inspection(
    ctx: DemoContext, academy: Academy, day: datetime.date, grade: int, special: bool = False
) -> OfstedInspection | None:
    if day >= ctx.today:
        return None
    if day >= REPORT_CARD_START:
        return OfstedInspection(
            academy=academy,
            inspected_on=day,
            report_card=_report_card(ctx.rng, academy, grade),
            notes="Inspected under the report card framework.",
        )
    return OfstedInspection(
        academy=academy,
        inspected_on=day,
        overall_grade=grade,
        special_measures=special,
        notes="Placed in special measures before joining the trust." if special else "",
    )


def _years_later(day: datetime.date, years: int, month: int, dom: int) -> datetime.date:
    return datetime.date(day.year + years, month, dom)


def create_inspections(ctx: DemoContext) -> None:
    """Create each academy's Ofsted history.

    About a third of the academies that joined later, and always the third
    academy, came from special measures: Inadequate before joining,
    Requires improvement about two years on, then Good. Inspections from
    10 November 2025 are report cards.
    """
    rng = ctx.rng
    inspections: list[OfstedInspection | None] = []
    for index, plan in enumerate(ctx.plans):
        academy = plan.academy
        joined = academy.joined_trust_on
        if plan.kind == "all_through":
            inspections.append(
                _inspection(ctx, academy, _years_later(joined, 1, 3, 12), OfstedGrade.OUTSTANDING)
            )
            inspections.append(
                _inspection(ctx, academy, _years_later(joined, 6, 5, 20), OfstedGrade.GOOD)
            )
            inspections.append(
                _inspection(ctx, academy, datetime.date(2026, 3, 4), OfstedGrade.GOOD)
            )
            continue
        if rng.random() < 0.3 or index == 2:
            inspections.append(
                _inspection(
                    ctx,
                    academy,
                    _years_later(joined, -1, 6, 9),
                    OfstedGrade.INADEQUATE,
                    special=True,
                )
            )
            inspections.append(
                _inspection(
                    ctx, academy, _years_later(joined, 2, 2, 3), OfstedGrade.REQUIRES_IMPROVEMENT
                )
            )
            inspections.append(
                _inspection(ctx, academy, _years_later(joined, 4, 11, 18), OfstedGrade.GOOD)
            )
            continue
        inspections.append(
            _inspection(
                ctx, academy, _years_later(joined, -2, rng.randint(1, 6), 14), OfstedGrade.GOOD
            )
        )
        inspections.append(
            _inspection(
                ctx,
                academy,
                _years_later(joined, 3, rng.randint(1, 11), 21),
                rng.choice((OfstedGrade.GOOD, OfstedGrade.GOOD, OfstedGrade.REQUIRES_IMPROVEMENT)),
            )
        )
    OfstedInspection.objects.bulk_create(
        [i for i in inspections if i is not None], batch_size=BATCH_SIZE
    )


def _distribute(total: int, weights: dict[int, float]) -> dict[int, int]:
    """Split `total` over the keys in proportion to the weights, by largest
    remainder, so the sizes add up exactly."""
    weight_sum = sum(weights.values())
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    sizes = {key: int(value) for key, value in exact.items()}
    short = total - sum(sizes.values())
    by_remainder = sorted(weights, key=lambda key: (sizes[key] - exact[key], key))
    for key in by_remainder[:short]:
        sizes[key] += 1
    return sizes


def create_year_groups(ctx: DemoContext, pupils_per_academy: int) -> None:
    rows = []
    for plan in ctx.plans:
        first = services.entry_nc_year(plan.academy)
        last = services.final_nc_year(plan.academy)
        for nc_year in range(first, last + 1):
            group = YearGroup(
                academy=plan.academy, nc_year=nc_year, key_stage=key_stage_for(nc_year)
            )
            plan.year_groups[nc_year] = group
            rows.append(group)
        weights = {nc: COHORT_WEIGHTS.get(nc, 1.0) for nc in plan.year_groups}
        plan.cohort_sizes = _distribute(pupils_per_academy, weights)
    YearGroup.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def tutor_group_count(cohort_size: int) -> int:
    """Return how many tutor groups a cohort has: about 28 pupils each, from 2 to 6."""
    return max(2, min(6, round(cohort_size / 28)))


def plan_tutor_groups(ctx: DemoContext) -> None:
    """Build (unsaved) tutor groups for this year and last; tutors come later.

    Last year's groups are this year's one year group down, so a class and
    its tutor move up together, as the rollover does.
    """
    assert ctx.current_year is not None and ctx.last_year is not None
    for plan in ctx.plans:
        entry = services.entry_nc_year(plan.academy)
        for nc_year in plan.nc_years:
            count = tutor_group_count(plan.cohort_sizes[nc_year])
            prefix = services.year_prefix(nc_year)
            plan.tutor_groups[nc_year] = [
                TutorGroup(
                    academy=plan.academy,
                    academic_year=ctx.current_year,
                    year_group=plan.year_groups[nc_year],
                    name=f"{prefix}{letter}",
                    room=f"{prefix}{letter}" if nc_year <= 6 else f"R{ctx.rng.randint(1, 60):02d}",
                )
                for letter in plan.letters[:count]
            ]
            if nc_year > entry:
                previous = services.year_prefix(nc_year - 1)
                plan.last_year_groups[nc_year - 1] = [
                    TutorGroup(
                        academy=plan.academy,
                        academic_year=ctx.last_year,
                        year_group=plan.year_groups[nc_year - 1],
                        name=f"{previous}{group.name[len(prefix) :]}",
                        room=group.room,
                    )
                    for group in plan.tutor_groups[nc_year]
                ]


def save_tutor_groups(ctx: DemoContext) -> None:
    """Write the tutor groups once their tutors have ids."""
    rows: list[TutorGroup] = []
    for plan in ctx.plans:
        for nc_year in plan.nc_years:
            rows.extend(plan.tutor_groups[nc_year])
            rows.extend(plan.last_year_groups.get(nc_year, []))
    TutorGroup.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def create_closures(ctx: DemoContext) -> None:
    """Create INSET days (the first day of the autumn and spring terms, plus
    the second autumn day in secondaries) and the early May bank holiday."""
    assert ctx.current_year is not None and ctx.last_year is not None
    rows = []
    for year in (ctx.last_year, ctx.current_year):
        halves = {
            (t.season, t.half): t
            for t in Term.objects.filter(academic_year=year, half__isnull=False)
        }
        autumn_start = halves[("autumn", 1)].start_date
        spring_start = halves[("spring", 1)].start_date
        may_day = early_may_bank_holiday(year.start_year + 1)
        for plan in ctx.plans:
            inset = [autumn_start, spring_start]
            if plan.is_secondary:
                inset.insert(1, autumn_start + datetime.timedelta(days=1))
            for day in inset:
                if day.weekday() < 5:
                    rows.append(
                        Closure(
                            academy=plan.academy,
                            date=day,
                            kind=Closure.Kind.INSET,
                            reason="Staff training day",
                        )
                    )
            rows.append(
                Closure(
                    academy=plan.academy,
                    date=may_day,
                    kind=Closure.Kind.PLANNED,
                    reason="Early May bank holiday",
                )
            )
    Closure.objects.bulk_create(rows, batch_size=BATCH_SIZE)
