"""The DfE attendance statistics, computed from session counts.

possible sessions = present (including L) + approved educational activity
                    + authorised absence + unauthorised absence
attendance rate   = (present + approved educational activity) / possible
persistent absence: 10% or more of the pupil's own possible sessions missed
severe absence:     50% or more missed

Source: DfE pupil absence methodology; the rates reproduce the DfE's
published national figures from the same counts.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from .codes import Category


@dataclass(frozen=True)
class Counts:
    """Session counts of one pupil, or of many added together."""

    present: int = 0
    approved_activity: int = 0
    authorised: int = 0
    unauthorised: int = 0
    not_counted: int = 0
    late_before_close: int = 0
    late_after_close: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @classmethod
    def from_categories(cls, categories: Mapping[str, int]) -> "Counts":
        return cls(
            present=categories.get(Category.PRESENT, 0),
            approved_activity=categories.get(Category.APPROVED_ACTIVITY, 0),
            authorised=categories.get(Category.AUTHORISED, 0),
            unauthorised=categories.get(Category.UNAUTHORISED, 0),
            not_counted=categories.get(Category.NOT_COUNTED, 0),
        )

    @property
    def possible(self) -> int:
        return self.present + self.approved_activity + self.authorised + self.unauthorised

    @property
    def attendance(self) -> int:
        return self.present + self.approved_activity

    @property
    def absence(self) -> int:
        return self.authorised + self.unauthorised

    @property
    def late(self) -> int:
        """The DfE's late sessions: L and U together."""
        return self.late_before_close + self.late_after_close

    def rate(self, sessions: int) -> float | None:
        """Return `sessions` as a percentage of possible sessions, or None when none."""
        if self.possible <= 0:
            return None
        return 100 * sessions / self.possible

    @property
    def attendance_rate(self) -> float | None:
        return self.rate(self.attendance)

    @property
    def absence_rate(self) -> float | None:
        return self.rate(self.absence)

    @property
    def authorised_rate(self) -> float | None:
        return self.rate(self.authorised)

    @property
    def unauthorised_rate(self) -> float | None:
        return self.rate(self.unauthorised)

    @property
    def persistent_absence(self) -> bool:
        # Integer arithmetic, so exactly 10% is persistent absence.
        return self.possible > 0 and self.absence * 10 >= self.possible

    @property
    def severe_absence(self) -> bool:
        return self.possible > 0 and self.absence * 2 >= self.possible


def total(counts: Iterable[Counts]) -> Counts:
    result = Counts()
    for item in counts:
        result = result + item
    return result


def one_decimal(rate: float | None) -> float | None:
    """Round a rate for display and the API to one decimal, a half upwards
    (93.25 gives 93.3), from the shortest decimal form of the float."""
    if rate is None:
        return None
    return float(Decimal(repr(rate)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class GroupFigures:
    """A group's figures: its summed counts and its persistent and severe absentees."""

    counts: Counts
    enrolments: int
    persistent_absence_count: int
    severe_absence_count: int

    @property
    def persistent_absence_rate(self) -> float | None:
        return 100 * self.persistent_absence_count / self.enrolments if self.enrolments else None

    @property
    def severe_absence_rate(self) -> float | None:
        return 100 * self.severe_absence_count / self.enrolments if self.enrolments else None


def group_figures(per_enrolment: Iterable[Counts]) -> GroupFigures:
    """Add up per-enrolment counts. Enrolments with no possible session are
    left out, as the DfE drops them from its statistics."""
    items = [c for c in per_enrolment if c.possible > 0]
    return GroupFigures(
        counts=total(items),
        enrolments=len(items),
        persistent_absence_count=sum(1 for c in items if c.persistent_absence),
        severe_absence_count=sum(1 for c in items if c.severe_absence),
    )
