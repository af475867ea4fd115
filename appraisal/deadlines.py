"""Deadlines of an appraisal cycle: the trust's defaults, an academy's own
dates, and which stage of an appraisal is due or overdue."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from academies.models import AcademicYear

from .models import Appraisal, AppraisalCycle, Deadline, Stage, Track

# The status an appraisal must have reached for each stage to count as done.
STAGE_DONE_STATUS: dict[str, str] = {
    Stage.OBJECTIVES: Appraisal.Status.OBJECTIVES_AGREED,
    Stage.MID_YEAR: Appraisal.Status.MID_YEAR_REVIEWED,
    Stage.FINAL_REVIEW: Appraisal.Status.FINAL_REVIEWED,
    Stage.SIGN_OFF: Appraisal.Status.SIGNED_OFF,
}
STAGES = [s.value for s in Stage]
_STATUS_RANK = {s.value: i for i, s in enumerate(Appraisal.Status)}


def default_deadlines(academic_year: AcademicYear) -> dict[tuple[str, str], datetime.date]:
    """Return the defaults many trust policies use, keyed by (track, stage).

    Objectives for the year are agreed by 31 October (headteachers by
    31 December), and the mid-year review is due by the end of March. The
    year is reviewed and signed off after the summer's results, by 31 October
    of the next academic year (31 December for headteachers). That is the
    same day the next year's objectives are due. These dates are policy,
    not statute, and the trust may change them.
    """
    y = academic_year.start_year
    return {
        (Track.STAFF, Stage.OBJECTIVES): datetime.date(y, 10, 31),
        (Track.STAFF, Stage.MID_YEAR): datetime.date(y + 1, 3, 31),
        (Track.STAFF, Stage.FINAL_REVIEW): datetime.date(y + 1, 10, 15),
        (Track.STAFF, Stage.SIGN_OFF): datetime.date(y + 1, 10, 31),
        (Track.HEADTEACHER, Stage.OBJECTIVES): datetime.date(y, 12, 31),
        (Track.HEADTEACHER, Stage.MID_YEAR): datetime.date(y + 1, 3, 31),
        (Track.HEADTEACHER, Stage.FINAL_REVIEW): datetime.date(y + 1, 12, 15),
        (Track.HEADTEACHER, Stage.SIGN_OFF): datetime.date(y + 1, 12, 31),
    }


def cycle_window(academic_year: AcademicYear) -> tuple[datetime.date, datetime.date]:
    """Return the first and last day any deadline of the cycle may fall on:
    the start of the academic year to the end of the December after it."""
    return academic_year.start_date, datetime.date(academic_year.start_year + 1, 12, 31)


@dataclass(frozen=True)
class DeadlineTable:
    """A cycle's deadlines: the trust's and each academy's own, read in one query."""

    trust: dict[tuple[str, str], datetime.date]
    academies: dict[int, dict[tuple[str, str], datetime.date]]

    def for_academy(self, academy_id: int | None) -> dict[tuple[str, str], datetime.date]:
        merged = dict(self.trust)
        if academy_id is not None:
            merged.update(self.academies.get(academy_id, {}))
        return merged

    def due(self, academy_id: int | None, track: str, stage: str) -> datetime.date | None:
        return self.for_academy(academy_id).get((track, stage))


def deadline_table(cycle: AppraisalCycle) -> DeadlineTable:
    trust: dict[tuple[str, str], datetime.date] = {}
    academies: dict[int, dict[tuple[str, str], datetime.date]] = {}
    for row in Deadline.objects.filter(cycle=cycle).values("academy_id", "track", "stage", "due"):
        key = (row["track"], row["stage"])
        if row["academy_id"] is None:
            trust[key] = row["due"]
        else:
            academies.setdefault(row["academy_id"], {})[key] = row["due"]
    return DeadlineTable(trust=trust, academies=academies)


def stage_done(status: str, stage: str) -> bool:
    return _STATUS_RANK[status] >= _STATUS_RANK[STAGE_DONE_STATUS[stage]]


def next_stage(status: str) -> str | None:
    """Return the first stage not yet done for an appraisal at `status`."""
    return next((stage for stage in STAGES if not stage_done(status, stage)), None)


@dataclass(frozen=True)
class StageDue:
    stage: str
    label: str
    due: datetime.date | None
    overdue: bool


def next_due(appraisal: Appraisal, table: DeadlineTable, today: datetime.date) -> StageDue | None:
    """Return the appraisal's next stage with its due date, or None once signed off."""
    stage = next_stage(appraisal.status)
    if stage is None:
        return None
    due = table.due(appraisal.academy_id, appraisal.track, stage)
    return StageDue(
        stage=stage,
        label=Stage(stage).label,
        due=due,
        overdue=due is not None and today > due,
    )


def overdue_stages(
    appraisals: Iterable[Appraisal], table: DeadlineTable, today: datetime.date
) -> dict[str, int]:
    """Count, per stage, the appraisals past that stage's deadline without having done it."""
    counts = {stage: 0 for stage in STAGES}
    for appraisal in appraisals:
        dates = table.for_academy(appraisal.academy_id)
        for stage in STAGES:
            due = dates.get((appraisal.track, stage))
            if due is not None and today > due and not stage_done(appraisal.status, stage):
                counts[stage] += 1
    return counts
