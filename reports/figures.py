"""The figures of the dashboards and reports, for academies, year groups and
groups of pupils, with trust totals summed from counts.

Every figure is kept as the counts it is computed from (sessions, pupils on
roll, incidents, graded pupils, contracted days, appraisals), so a total is
the sum of counts, never an average of percentages. The rates are worked
out from the counts by the properties below.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from academies.models import Academy, YearGroup
from appraisal.completion import Counts as AppraisalCounts
from attendance.staff_absence import RateCell
from attendance.statistics import Counts as SessionCounts
from attendance.statistics import GroupFigures, one_decimal
from progress.summaries import AREAS
from progress.summaries import Tally as TmgTally

from .models import Measure

# A figure resting on fewer pupils than this is hidden from those who may not
# see pupils (trustees), so no child can be identified from it.
SUPPRESS_BELOW = 5


def _rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    if not whole:
        return None
    return round(100 * float(part) / float(whole), 1)


def _empty_attendance() -> GroupFigures:
    return GroupFigures(
        counts=SessionCounts(), enrolments=0, persistent_absence_count=0, severe_absence_count=0
    )


def _empty_tmg() -> dict[str, TmgTally]:
    return {area.key: TmgTally() for area in AREAS}


@dataclass
class Figures:
    """One group's counts behind every dashboard measure.

    `staff_absence` and `appraisal` are None for year groups and pupil
    groups, which have no staff of their own. `suppressed` names the
    measures hidden because they rest on fewer than SUPPRESS_BELOW pupils.
    """

    on_roll: int = 0
    attendance: GroupFigures = field(default_factory=_empty_attendance)
    # Pupils aged 5 to 15 on 31 August only: the DfE's cohort, compared with England.
    cohort_attendance: GroupFigures | None = None
    negative_incidents: int = 0
    pupils_with_negative: int = 0
    suspensions: int = 0
    pupils_suspended: int = 0
    suspension_days: Decimal = Decimal(0)
    tmg: dict[str, TmgTally] = field(default_factory=_empty_tmg)
    staff_absence: RateCell | None = None
    appraisal: AppraisalCounts | None = None
    suppressed: frozenset[str] = frozenset()

    # Rates ------------------------------------------------------------------

    @property
    def attendance_rate(self) -> float | None:
        return one_decimal(self.attendance.counts.attendance_rate)

    @property
    def persistent_absence_rate(self) -> float | None:
        return _rate(self.attendance.persistent_absence_count, self.attendance.enrolments)

    @property
    def severe_absence_rate(self) -> float | None:
        return _rate(self.attendance.severe_absence_count, self.attendance.enrolments)

    @property
    def negative_per_100(self) -> float | None:
        return _rate(self.negative_incidents, self.on_roll)

    @property
    def suspension_rate(self) -> float | None:
        return round(100 * self.suspensions / self.on_roll, 2) if self.on_roll else None

    def tmg_percent(self, area: str) -> float | None:
        return self.tmg[area].percent

    @property
    def tmg_english(self) -> float | None:
        return self.tmg_percent("english")

    @property
    def tmg_maths(self) -> float | None:
        return self.tmg_percent("maths")

    @property
    def tmg_all(self) -> float | None:
        return self.tmg_percent("all")

    @property
    def staff_absence_rate(self) -> float | None:
        return self.staff_absence.rate if self.staff_absence is not None else None

    @property
    def appraisal_completion(self) -> float | None:
        """Percent of appraisals of the current cycle with objectives agreed."""
        if self.appraisal is None or not self.appraisal.total:
            return None
        agreed = self.appraisal.done.get("objectives_agreed", 0)
        return _rate(agreed, self.appraisal.total)

    def value(self, measure: str) -> float | None:
        """The figure for `measure` (a Measure value), or None where it is
        unknown or suppressed."""
        if measure in self.suppressed:
            return None
        return float(v) if (v := getattr(self, MEASURE_ATTRIBUTES[measure])) is not None else None

    def __add__(self, other: "Figures") -> "Figures":
        """Sum the counts of two groups that share no pupil and no member of staff."""
        raise NotImplementedError


MEASURE_ATTRIBUTES: dict[str, str] = {
    Measure.ATTENDANCE: "attendance_rate",
    Measure.PERSISTENT_ABSENCE: "persistent_absence_rate",
    Measure.SEVERE_ABSENCE: "severe_absence_rate",
    Measure.NEGATIVE_PER_100: "negative_per_100",
    Measure.SUSPENSION_RATE: "suspension_rate",
    Measure.TMG_ENGLISH: "tmg_english",
    Measure.TMG_MATHS: "tmg_maths",
    Measure.TMG_ALL: "tmg_all",
    Measure.STAFF_ABSENCE: "staff_absence_rate",
    Measure.APPRAISAL_COMPLETION: "appraisal_completion",
}


@dataclass
class FigureRow:
    """One row of a dashboard table: an academy, a year group or a pupil group."""

    label: str
    figures: Figures
    academy: Academy | None = None
    year_group: YearGroup | None = None
    key: str = ""


@dataclass
class FigureTable:
    rows: list[FigureRow]
    total: FigureRow
    start: datetime.date
    end: datetime.date


def academy_table(
    academies: Sequence[Academy], today: datetime.date, *, suppress: bool
) -> FigureTable:
    """One row per academy and the trust total, over the academic year to `today`."""
    raise NotImplementedError


def year_group_table(academy: Academy, today: datetime.date, *, suppress: bool) -> FigureTable:
    """One row per year group of `academy` and the academy's total."""
    raise NotImplementedError
