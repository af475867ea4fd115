"""England's published attendance figures, and the academies' own figures
for the DfE cohort next to them.

The DfE publishes figures for pupils of compulsory school age (5 to 15 on
31 August before the academic year) by phase: primary, secondary, special
and all state-funded schools. Nursery and alternative provision have no
row, so academies of those phases get no comparison. An all-through academy
compares Years 1 to 6 with the primary row and Years 7 to 11 with the
secondary row.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, CharField, Q, Value, When

from academies.models import Academy, Phase
from attendance.selectors import (
    GroupTarget,
    _weeks,
    academic_year_start,
    default_range,
    grouped_figures_sql,
)
from attendance.statistics import Counts, GroupFigures, one_decimal

from .models import NationalFigure, NationalPhase

# The national row each academy phase is compared with. Phases missing here
# (nursery, alternative provision) have none, and all-through academies
# are split into two parts (ALL_THROUGH_PARTS).
PHASE_ROWS: dict[str, str] = {
    Phase.PRIMARY: NationalPhase.PRIMARY,
    Phase.SECONDARY: NationalPhase.SECONDARY,
    Phase.SPECIAL: NationalPhase.SPECIAL,
    NationalPhase.TOTAL: NationalPhase.TOTAL,
}

# The first National Curriculum year of an all-through academy's secondary part.
SECONDARY_FROM_NC_YEAR = 7


@dataclass(frozen=True)
class PhasePart:
    """A part of an academy compared with one national row."""

    phase: str
    label: str


WHOLE = ""
ALL_THROUGH_PARTS = (
    PhasePart(NationalPhase.PRIMARY, "Primary phase (Years 1 to 6)"),
    PhasePart(NationalPhase.SECONDARY, "Secondary phase (Years 7 to 11)"),
)


@dataclass(frozen=True)
class NationalComparison:
    """England's figures for one phase, as shown beside an academy's.

    `is_current_year` is False when the requested academic year has no row
    yet and this is the latest earlier one, so pages label it with its year.
    Rates are percentages, the suspension rate is per 100 pupils; any of
    them is None where the DfE file gives none.
    """

    phase: str
    phase_label: str
    start_year: int
    year_label: str
    is_current_year: bool
    period: str
    source: str
    attendance_rate: Decimal | None
    persistent_absence_rate: Decimal | None
    severe_absence_rate: Decimal | None
    suspension_rate: Decimal | None

    @property
    def heading(self) -> str:
        """The column heading, for example "England 2025/26 (latest published)"."""
        if self.is_current_year:
            return f"England {self.year_label}"
        return f"England {self.year_label} (latest published)"

    @classmethod
    def of(cls, row: NationalFigure, requested_year: int) -> "NationalComparison":
        return cls(
            phase=row.phase,
            phase_label=row.get_phase_display(),
            start_year=row.start_year,
            year_label=row.year_label,
            is_current_year=row.start_year == requested_year,
            period=row.period,
            source=row.source,
            attendance_rate=row.attendance_rate,
            persistent_absence_rate=row.persistent_absence_rate,
            severe_absence_rate=row.severe_absence_rate,
            suspension_rate=row.suspension_rate,
        )


@dataclass(frozen=True)
class PhaseComparison:
    """An academy's (or the trust's) cohort figures next to England's row for
    the same phase. `academy` is None for the trust."""

    academy: Academy | None
    phase: str
    label: str
    figures: GroupFigures
    national: NationalComparison | None
    start: datetime.date
    end: datetime.date

    @property
    def attendance_rate(self) -> float | None:
        return one_decimal(self.figures.counts.attendance_rate)

    @property
    def persistent_absence_rate(self) -> float | None:
        return one_decimal(self.figures.persistent_absence_rate)

    @property
    def severe_absence_rate(self) -> float | None:
        return one_decimal(self.figures.severe_absence_rate)


# National rows ------------------------------------------------------------------


class NationalRows:
    """The national rows of every phase up to one academic year, read in one query."""

    def __init__(self, start_year: int) -> None:
        self.start_year = start_year
        self._latest: dict[str, NationalFigure] = {}
        # Ordered newest first, so the first row of each phase is its latest.
        for row in NationalFigure.objects.filter(start_year__lte=start_year).order_by(
            "-start_year", "phase"
        ):
            self._latest.setdefault(row.phase, row)

    def for_phase(self, phase: str) -> NationalComparison | None:
        """Return England's row for `phase` (an academy Phase or NationalPhase
        value), or None where the DfE publishes no row for it."""
        national_phase = PHASE_ROWS.get(phase)
        if national_phase is None:
            return None
        row = self._latest.get(national_phase)
        return NationalComparison.of(row, self.start_year) if row is not None else None


def national_for(phase: str, start_year: int) -> NationalComparison | None:
    """Return England's figures for `phase` in the academic year starting in
    `start_year`, or the latest earlier year's where that year has none.

    `phase` is an academies Phase value or "total" (all state-funded schools).
    Nursery, alternative provision and all-through have no single row and
    return None.
    """
    if phase not in PHASE_ROWS:
        return None
    return NationalRows(start_year).for_phase(phase)


def national_table() -> list[NationalFigure]:
    """Return every national row, newest year first, for the read-only table."""
    return list(NationalFigure.objects.order_by("-start_year", "phase"))


# Academies' cohort figures --------------------------------------------------------


def parts_of(academy: Academy) -> tuple[PhasePart, ...]:
    """Return the parts of `academy` that have a national row to compare with."""
    if academy.phase == Phase.ALL_THROUGH:
        return ALL_THROUGH_PARTS
    national_phase = PHASE_ROWS.get(academy.phase)
    if national_phase is None:
        return ()
    return (PhasePart(WHOLE, NationalPhase(national_phase).label),)


def cohort_figures_by_part(
    academies: Sequence[Academy], start: datetime.date, end: datetime.date
) -> dict[tuple[int, str], GroupFigures]:
    """Return the DfE cohort's figures keyed by (academy id, part), in one query.

    The part is WHOLE for most academies. For an all-through academy it is
    the national phase of the pupil's year group: primary below Year 7,
    secondary from Year 7. The cohort's ages keep this to Years 1 to 11 for
    pupils taught in their own age group.
    """
    if not academies:
        return {}
    all_through = [a.pk for a in academies if a.phase == Phase.ALL_THROUGH]
    part = Case(
        When(
            Q(academy_id__in=all_through, year_group__nc_year__gte=SECONDARY_FROM_NC_YEAR),
            then=Value(str(NationalPhase.SECONDARY)),
        ),
        When(Q(academy_id__in=all_through), then=Value(str(NationalPhase.PRIMARY))),
        default=Value(WHOLE),
        output_field=CharField(),
    )
    target = GroupTarget(academy_ids=tuple(a.pk for a in academies))
    weeks = _weeks(target, start, end, cohort=True).annotate(part=part)
    return grouped_figures_sql(weeks, ["academy_id", "part"])


def _empty() -> GroupFigures:
    return GroupFigures(
        counts=Counts(), enrolments=0, persistent_absence_count=0, severe_absence_count=0
    )


def _total(figures: Iterable[GroupFigures]) -> GroupFigures:
    items = list(figures)
    counts = Counts()
    for item in items:
        counts = counts + item.counts
    return GroupFigures(
        counts=counts,
        enrolments=sum(f.enrolments for f in items),
        persistent_absence_count=sum(f.persistent_absence_count for f in items),
        severe_absence_count=sum(f.severe_absence_count for f in items),
    )


def comparisons_by_academy(
    academies: Iterable[Academy], today: datetime.date
) -> dict[int, list[PhaseComparison]]:
    """Return each academy's phase comparisons over the academic year to
    `today`, in two queries whatever the number of academies.

    An academy with no national row (nursery, alternative provision) maps
    to an empty list.
    """
    chosen = list(academies)
    start, end = default_range(today)
    rows = NationalRows(academic_year_start(today).year)
    compared = [a for a in chosen if parts_of(a)]
    figures = cohort_figures_by_part(compared, start, end)
    result: dict[int, list[PhaseComparison]] = {}
    for academy in chosen:
        comparisons = []
        for part in parts_of(academy):
            phase = part.phase or PHASE_ROWS[academy.phase]
            comparisons.append(
                PhaseComparison(
                    academy=academy,
                    phase=phase,
                    label=part.label,
                    figures=figures.get((academy.pk, part.phase), _empty()),
                    national=rows.for_phase(phase),
                    start=start,
                    end=end,
                )
            )
        result[academy.pk] = comparisons
    return result


def comparisons_for(academy: Academy, today: datetime.date) -> list[PhaseComparison]:
    """Return `academy`'s cohort figures beside England's, one entry per phase:
    one for a primary, secondary or special academy, two for an all-through
    academy, none for nursery and alternative provision."""
    return comparisons_by_academy([academy], today)[academy.pk]


def trust_comparison(academies: Iterable[Academy], today: datetime.date) -> PhaseComparison:
    """Return the cohort total of `academies` beside England's figures for all
    state-funded schools.

    Every academy's cohort counts, so the figure matches the trust's own
    cohort total. NOTE: the DfE's total row sums primary, secondary and
    special schools only, so a trust with alternative provision compares
    slightly different populations.
    """
    chosen = list(academies)
    start, end = default_range(today)
    figures = cohort_figures_by_part(chosen, start, end)
    national = national_for(NationalPhase.TOTAL, academic_year_start(today).year)
    return PhaseComparison(
        academy=None,
        phase=NationalPhase.TOTAL,
        label="The trust",
        figures=_total(figures.values()),
        national=national,
        start=start,
        end=end,
    )
