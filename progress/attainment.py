"""Attainment 8 and Progress 8 from final results, by the DfE slot rules.

The slots are English, maths, three EBacc slots (sciences, humanities,
languages) and three open slots. English takes the higher of language and
literature and counts twice only when the pupil has results in both. Maths
always counts twice. The open slots take any result left, including the
unused English and EBacc results, and an empty slot scores 0. A
qualification with two slots, such as combined science, gives two results
each worth its grade's DfE points, which for a double award are the mean of
the pair (5-4 gives 4.5 and 4.5).

Only final results on scales that count in Attainment 8, with the grade's
DfE points, are placed. Absences and grades without DfE points are listed
but not scored, and a pupil with no final results has no Attainment 8
rather than 0.

Progress 8 = (Attainment 8 - the estimate for the pupil's prior attainment
group) / 10, where the trust has an estimate table for the results year.
Without one, the table that the pupil's TMGs were generated from that year
is used instead, and the table's year and source are returned either way.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef

from academies.models import AcademicYear, Academy
from pupils.models import Pupil

from .grades import round_points
from .models import (
    AssessmentPoint,
    EstimateRow,
    EstimateTable,
    GradeEntry,
    Qualification,
    TargetGrade,
)
from .targets import ks2_average, prior_attainment_group

ZERO = Decimal(0)
ELEMENT_SCORE_PLACES = Decimal("0.0001")
E = Qualification.Element
EBACC_ELEMENTS = (E.EBACC_SCIENCE, E.EBACC_HUMANITIES, E.EBACC_LANGUAGE)

# Slot element -> (label, number of slots).
SLOT_ELEMENTS: dict[str, tuple[str, int]] = {
    "english": ("English", 1),
    "maths": ("Mathematics", 1),
    "ebacc": ("EBacc", 3),
    "open": ("Open", 3),
}


@dataclass(frozen=True)
class SlotResult:
    """One result that can fill a slot: a final grade, or one half of a double award."""

    entry: GradeEntry
    points: Decimal
    part: int = 1
    parts: int = 1

    @property
    def qualification(self) -> Qualification:
        return self.entry.qualification

    @property
    def label(self) -> str:
        return self.entry.grade.label if self.entry.grade else ""

    @property
    def name(self) -> str:
        if self.parts > 1:
            return f"{self.qualification.name} ({self.part} of {self.parts})"
        return self.qualification.name


@dataclass(frozen=True)
class Slot:
    element: str
    number: int
    weight: int
    result: SlotResult | None

    @property
    def label(self) -> str:
        name, count = SLOT_ELEMENTS[self.element]
        return f"{name} {self.number}" if count > 1 else name

    @property
    def points(self) -> Decimal:
        if self.result is None:
            return ZERO
        return self.result.points * self.weight


@dataclass(frozen=True)
class Progress8:
    """A pupil's Progress 8 against one estimate table."""

    table: EstimateTable
    row: EstimateRow
    ks2_average: Decimal
    # False when the table of the year's generated TMGs is used because the
    # trust has no table for the results year.
    same_year: bool
    progress8: Decimal
    english: Decimal
    maths: Decimal
    ebacc: Decimal
    open: Decimal


@dataclass
class Attainment8:
    pupil: Pupil
    results_year: AcademicYear
    academy_id: int
    slots: list[Slot]
    english_double: bool
    # Results that fit no slot because better ones filled them.
    unplaced: list[SlotResult] = field(default_factory=list)
    # Final entries that cannot count: absences, and grades without DfE points.
    not_counted: list[GradeEntry] = field(default_factory=list)
    progress8: Progress8 | None = None

    def element_total(self, element: str) -> Decimal:
        return sum((s.points for s in self.slots if s.element == element), ZERO)

    @property
    def totals(self) -> dict[str, Decimal]:
        return {element: self.element_total(element) for element in SLOT_ELEMENTS}

    @property
    def attainment8(self) -> Decimal:
        return sum((s.points for s in self.slots), ZERO)

    @property
    def filled_slots(self) -> int:
        return sum(1 for s in self.slots if s.result is not None)


def _latest_by_qualification(entries: Iterable[GradeEntry]) -> list[GradeEntry]:
    """Keep each qualification's latest final entry (a resit replaces the earlier result)."""
    latest: dict[int, GradeEntry] = {}
    for entry in sorted(entries, key=lambda e: (e.assessment_point.date, e.pk)):
        latest[entry.qualification_id] = entry
    return list(latest.values())


def dfe_points(entry: GradeEntry) -> Decimal | None:
    """Return the entry's DfE points per slot, or None when it cannot count."""
    qualification = entry.qualification
    grade = entry.grade
    if qualification.element == E.NONE or not qualification.scale.counts_in_attainment8:
        return None
    if grade is None or not grade.is_result or grade.dfe_points is None:
        return None
    return round_points(grade.dfe_points)


def _best_first(results: Iterable[SlotResult]) -> list[SlotResult]:
    return sorted(results, key=lambda r: (-r.points, r.qualification.name, r.part))


def _fill(element: str, weight: int, chosen: Sequence[SlotResult]) -> list[Slot]:
    count = SLOT_ELEMENTS[element][1]
    return [
        Slot(
            element=element,
            number=i + 1,
            weight=weight,
            result=chosen[i] if i < len(chosen) else None,
        )
        for i in range(count)
    ]


def place_results(
    entries: Iterable[GradeEntry],
) -> tuple[list[Slot], bool, list[SlotResult], list[GradeEntry]]:
    """Place final entries in the Attainment 8 slots.

    Returns the slots, whether English counts double, the results left over
    and the entries that cannot count. Entries need their grade,
    qualification (with scale) and assessment point loaded.
    """
    by_element: dict[str, list[SlotResult]] = {}
    not_counted: list[GradeEntry] = []
    for entry in _latest_by_qualification(entries):
        points = dfe_points(entry)
        if points is None:
            not_counted.append(entry)
            continue
        parts = max(entry.qualification.slots, 1)
        results = by_element.setdefault(entry.qualification.element, [])
        for part in range(1, parts + 1):
            results.append(SlotResult(entry=entry, points=points, part=part, parts=parts))

    spare: list[SlotResult] = []
    language = _best_first(by_element.get(E.ENGLISH_LANGUAGE, []))
    literature = _best_first(by_element.get(E.ENGLISH_LITERATURE, []))
    english_double = bool(language and literature)
    english = _best_first(language + literature)
    english_choice = english[:1]
    spare += english[1:]

    maths = _best_first(by_element.get(E.MATHS, []))
    spare += maths[1:]

    ebacc = _best_first(r for element in EBACC_ELEMENTS for r in by_element.get(element, []))
    spare += ebacc[3:]

    open_pool = _best_first(spare + by_element.get(E.OPEN, []))
    slots = (
        _fill("english", 2 if english_double else 1, english_choice)
        + _fill("maths", 2, maths[:1])
        + _fill("ebacc", 1, ebacc[:3])
        + _fill("open", 1, open_pool[:3])
    )
    not_counted.sort(key=lambda e: e.qualification.name)
    return slots, english_double, open_pool[3:], not_counted


def _element_score(actual: Decimal, estimate: Decimal, divisor: int) -> Decimal:
    return ((actual - estimate) / divisor).quantize(ELEMENT_SCORE_PLACES, rounding=ROUND_HALF_UP)


def progress8_for(
    result: Attainment8, table: EstimateTable, *, same_year: bool
) -> Progress8 | None:
    """Return the pupil's Progress 8 against `table`, or None without both KS2 scores."""
    pupil = result.pupil
    row = prior_attainment_group(table, pupil.ks2_reading, pupil.ks2_maths)
    average = ks2_average(pupil.ks2_reading, pupil.ks2_maths)
    if row is None or average is None:
        return None
    totals = result.totals
    return Progress8(
        table=table,
        row=row,
        ks2_average=average,
        same_year=same_year,
        progress8=_element_score(result.attainment8, row.attainment8, 10),
        english=_element_score(totals["english"], row.english, 2),
        maths=_element_score(totals["maths"], row.maths, 2),
        ebacc=_element_score(totals["ebacc"], row.ebacc, 3),
        open=_element_score(totals["open"], row.open, 3),
    )


# Reading final results -------------------------------------------------------------------


def table_year(academic_year: AcademicYear) -> int:
    """Return the estimate year of results taken in `academic_year`: 2024 for 2023/24."""
    return academic_year.start_year + 1


class EstimateChooser:
    """Pick the estimate table for results: the trust's table for the results
    year (the latest uploaded if several), otherwise the table the pupil's
    TMGs that year were generated from. Reads every table once."""

    def __init__(self, trust_id: int, pupil_ids: Iterable[int]) -> None:
        tables = list(EstimateTable.objects.filter(trust_id=trust_id).prefetch_related("rows"))
        self.tables = {t.pk: t for t in tables}
        self.by_year: dict[int, EstimateTable] = {}
        for table in sorted(tables, key=lambda t: (t.uploaded_at, t.pk)):
            self.by_year[table.year] = table
        self.tmg_tables: dict[tuple[int, int], int] = {}
        if tables:
            generated = TargetGrade.objects.filter(
                pupil_id__in=list(pupil_ids),
                basis=TargetGrade.Basis.GENERATED,
                estimate_table__isnull=False,
            ).values_list("pupil_id", "academic_year_id", "estimate_table_id")
            for pupil_id, year_id, table_id in generated:
                self.tmg_tables.setdefault((pupil_id, year_id), table_id)

    def choose(self, pupil_id: int, results_year: AcademicYear) -> tuple[EstimateTable, bool]:
        table = self.by_year.get(table_year(results_year))
        if table is not None:
            return table, True
        table_id = self.tmg_tables.get((pupil_id, results_year.pk))
        if table_id is not None and table_id in self.tables:
            return self.tables[table_id], False
        raise LookupError(pupil_id)


def _final_entries(pupil_ids: Iterable[int] | None = None) -> "list[GradeEntry]":
    entries = GradeEntry.objects.filter(assessment_point__kind=AssessmentPoint.Kind.FINAL)
    if pupil_ids is not None:
        entries = entries.filter(pupil_id__in=list(pupil_ids))
    return list(
        entries.select_related(
            "grade",
            "qualification__subject",
            "qualification__scale",
            "assessment_point",
            "academic_year",
        )
    )


def attainment8_of(
    pupil: Pupil,
    entries: Sequence[GradeEntry],
    chooser: EstimateChooser | None = None,
) -> Attainment8 | None:
    """Return a pupil's Attainment 8 from their final entries, or None without any."""
    if not entries:
        return None
    latest = max(entries, key=lambda e: (e.assessment_point.date, e.pk))
    slots, english_double, unplaced, not_counted = place_results(entries)
    result = Attainment8(
        pupil=pupil,
        results_year=latest.academic_year,
        academy_id=latest.academy_id,
        slots=slots,
        english_double=english_double,
        unplaced=unplaced,
        not_counted=not_counted,
    )
    if chooser is not None:
        try:
            table, same_year = chooser.choose(pupil.pk, result.results_year)
        except LookupError:
            return result
        result.progress8 = progress8_for(result, table, same_year=same_year)
    return result


def pupil_attainment8(pupil: Pupil) -> Attainment8 | None:
    """Return the pupil's Attainment 8 and, where a table applies, Progress 8."""
    entries = _final_entries([pupil.pk])
    if not entries:
        return None
    chooser = EstimateChooser(entries[0].academic_year.trust_id, [pupil.pk])
    return attainment8_of(pupil, entries, chooser)


# An academy -------------------------------------------------------------------------------------


@dataclass
class YearAttainment:
    """Averages over one results year's pupils at an academy."""

    academic_year: AcademicYear
    results: list[Attainment8]

    @property
    def pupil_count(self) -> int:
        return len(self.results)

    @property
    def average_attainment8(self) -> Decimal:
        total = sum((r.attainment8 for r in self.results), ZERO)
        return round_points(total / len(self.results))

    @property
    def with_progress8(self) -> list[Attainment8]:
        return [r for r in self.results if r.progress8 is not None]

    @property
    def progress8_count(self) -> int:
        return len(self.with_progress8)

    @property
    def average_progress8(self) -> Decimal | None:
        scored = [r.progress8.progress8 for r in self.results if r.progress8 is not None]
        if not scored:
            return None
        return round_points(sum(scored, ZERO) / len(scored))

    @property
    def tables(self) -> list[tuple[EstimateTable, bool]]:
        """The estimate tables used, each with whether it describes the results year."""
        seen: dict[int, tuple[EstimateTable, bool]] = {}
        for r in self.with_progress8:
            assert r.progress8 is not None
            seen.setdefault(r.progress8.table.pk, (r.progress8.table, r.progress8.same_year))
        return sorted(seen.values(), key=lambda pair: (-pair[0].year, pair[0].name))


def academy_attainment8(academy: Academy) -> list[YearAttainment]:
    """Return the academy's Attainment 8 by results year, latest first.

    A pupil counts in the year of their latest final result when that result
    was taken at this academy. Pupils without final results are left out.
    """
    finals = GradeEntry.objects.filter(
        academy_id=academy.pk,
        assessment_point__kind=AssessmentPoint.Kind.FINAL,
        pupil_id=OuterRef("pk"),
    )
    pupils = {p.pk: p for p in Pupil.objects.filter(Exists(finals))}
    by_pupil: dict[int, list[GradeEntry]] = {}
    for entry in _final_entries(pupils):
        by_pupil.setdefault(entry.pupil_id, []).append(entry)
    chooser = EstimateChooser(academy.trust_id, pupils)
    years: dict[int, YearAttainment] = {}
    for pupil_id, entries in by_pupil.items():
        result = attainment8_of(pupils[pupil_id], entries, chooser)
        if result is None or result.academy_id != academy.pk:
            continue
        year = years.setdefault(
            result.results_year.pk, YearAttainment(academic_year=result.results_year, results=[])
        )
        year.results.append(result)
    return sorted(years.values(), key=lambda y: y.academic_year.start_year, reverse=True)


def signed(value: Decimal | None, places: int = 2) -> str:
    """Return a score as shown on the pages: two decimals with its sign, such as +0.79."""
    if value is None:
        return ""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        return f"{abs(rounded):f}"
    return f"{rounded:+f}"
