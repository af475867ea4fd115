"""Appraisal completion counts: how many appraisals of a cycle have reached
each stage, how many are past a stage's deadline, and who has none yet.

Every figure is computed from counts grouped by academy, track and status.
A page therefore costs the same few queries for one academy or sixty. The
trust total is the sum of the academies' counts, never an average of their
percentages.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q

from academies.models import Academy
from trust.access import scope_for

from .access import (
    can_run_cycles,
    can_set_academy_deadlines,
    completion_academies,
    visible_appraisals,
)
from .deadlines import STAGES, DeadlineTable, deadline_table, overdue_stages, stage_done
from .models import Appraisal, AppraisalCycle, Stage, Track
from .selectors import staff_to_appraise

CENTRAL_TEAM = "Central team"
ONE_DECIMAL = Decimal("0.1")


def percentage(part: int, whole: int) -> Decimal | None:
    """Return `part` as a percentage of `whole`, rounded half up to one decimal.

    Returns None when `whole` is 0, because there is nothing to divide.
    """
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class StageFigure:
    """One stage's figures: the appraisals that have done it, of `total`, and
    those past its deadline without having done it."""

    stage: str
    label: str
    done: int
    total: int
    overdue: int

    @property
    def percent(self) -> Decimal | None:
        return percentage(self.done, self.total)


@dataclass
class Counts:
    """Appraisal counts of one group (an academy, a track, or the trust)."""

    total: int = 0
    done: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))

    def add(self, other: "Counts") -> None:
        self.total += other.total
        for stage in STAGES:
            self.done[stage] += other.done[stage]
            self.overdue[stage] += other.overdue[stage]

    @property
    def stages(self) -> list[StageFigure]:
        return [
            StageFigure(
                stage=stage,
                label=Stage(stage).label,
                done=self.done[stage],
                total=self.total,
                overdue=self.overdue[stage],
            )
            for stage in STAGES
        ]

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue.values())


@dataclass
class GroupCompletion:
    """Completion of one academy (or the central team, or the whole trust), by track."""

    academy_id: int | None
    name: str
    tracks: dict[str, Counts] = field(
        default_factory=lambda: {track.value: Counts() for track in Track}
    )
    without_appraisal: int = 0

    @property
    def all_tracks(self) -> Counts:
        combined = Counts()
        for counts in self.tracks.values():
            combined.add(counts)
        return combined

    def counts(self, track: str = "") -> Counts:
        """Return the counts of `track`, or of every track when it is empty."""
        return self.tracks[track] if track else self.all_tracks

    @property
    def track_rows(self) -> list[tuple[str, Counts]]:
        """Return (label, counts) for each track, then every track together."""
        rows = [(Track(track).label, counts) for track, counts in self.tracks.items()]
        return [*rows, ("All appraisals", self.all_tracks)]


def count_appraisals(
    groups: dict[int | None, GroupCompletion],
    rows: Iterable[Mapping[str, Any]],
    table: DeadlineTable,
    today: datetime.date,
) -> None:
    """Add rows of appraisal counts, each with academy_id, track, status and
    number, to the matching groups. Rows of other academies are skipped."""
    for row in rows:
        group = groups.get(row["academy_id"])
        if group is None:
            continue
        counts = group.tracks[row["track"]]
        number = row["number"]
        counts.total += number
        # Every appraisal in a row shares academy, track and status, so one
        # unsaved stand-in gives the row's overdue stages for all of them.
        stand_in = Appraisal(academy_id=row["academy_id"], track=row["track"], status=row["status"])
        overdue = overdue_stages([stand_in], table, today)
        for stage in STAGES:
            if stage_done(row["status"], stage):
                counts.done[stage] += number
            counts.overdue[stage] += overdue[stage] * number


def completion_by_group(
    cycle: AppraisalCycle,
    academies: Iterable[Academy],
    today: datetime.date,
    *,
    include_central_team: bool = False,
) -> list[GroupCompletion]:
    """Return the completion of each academy, in the order given, then the
    central team's when `include_central_team` is set. Three queries in all."""
    groups: dict[int | None, GroupCompletion] = {
        academy.pk: GroupCompletion(academy_id=academy.pk, name=academy.name)
        for academy in academies
    }
    if include_central_team:
        groups[None] = GroupCompletion(academy_id=None, name=CENTRAL_TEAM)
    academy_ids = [key for key in groups if key is not None]
    in_groups = Q(academy_id__in=academy_ids)
    if include_central_team:
        in_groups |= Q(academy__isnull=True)

    table = deadline_table(cycle)
    rows = (
        Appraisal.objects.filter(in_groups, cycle=cycle)
        .values("academy_id", "track", "status")
        .annotate(number=Count("pk"))
        .order_by()
    )
    count_appraisals(groups, rows, table, today)

    missing = (
        staff_to_appraise(cycle, today)
        .filter(in_groups)
        .exclude(appraisals__cycle=cycle)
        .values("academy_id")
        .annotate(number=Count("pk", distinct=True))
        .order_by()
    )
    for row in missing:
        group = groups.get(row["academy_id"])
        if group is not None:
            group.without_appraisal = row["number"]
    return list(groups.values())


def trust_total(groups: Iterable[GroupCompletion]) -> GroupCompletion:
    """Return the sum of the groups' counts, track by track."""
    total = GroupCompletion(academy_id=None, name="Trust total")
    for group in groups:
        for track, counts in group.tracks.items():
            total.tracks[track].add(counts)
        total.without_appraisal += group.without_appraisal
    return total


# Cycles ------------------------------------------------------------------------------


def cycles_newest_first() -> list[AppraisalCycle]:
    return list(AppraisalCycle.objects.select_related("academic_year"))


def default_cycle(cycles: list[AppraisalCycle], today: datetime.date) -> AppraisalCycle | None:
    """Return the cycle of the academic year containing `today`, else the newest
    that has started, else the newest. `cycles` is newest first."""
    for cycle in cycles:
        if cycle.academic_year.contains(today):
            return cycle
    started = [cycle for cycle in cycles if cycle.academic_year.start_date <= today]
    if started:
        return started[0]
    return cycles[0] if cycles else None


# Who runs cycles ------------------------------------------------------------------------


def deadline_academies(user: Any) -> list[Academy]:
    """Return the academies whose deadlines `user` may move and whose staff
    they may open appraisals for: every academy for trust HR and trust
    leaders, their own for a headteacher."""
    return [
        academy
        for academy in completion_academies(user).order_by("name")
        if can_set_academy_deadlines(user, academy.pk)
    ]


def sees_cycle_list(user: Any) -> bool:
    """Return whether `user` may open the list of cycles: those who run cycles
    and headteachers, who move their academy's deadlines."""
    return can_run_cycles(user) or bool(deadline_academies(user))


# Names of overdue appraisals ------------------------------------------------------------


def sees_overdue_names(user: Any, academy_id: int | None) -> bool:
    """Return whether the completion page lists the academy's overdue
    appraisals by name for `user`: trust HR for every academy, a headteacher
    for their own. Leaders and trustees see counts only."""
    scope = scope_for(user)
    if scope.all_appraisals:
        return True
    return academy_id is not None and academy_id in scope.headteacher_academy_ids


@dataclass(frozen=True)
class OverdueAppraisal:
    appraisal: Appraisal
    # (stage label, due date) of each stage past its deadline and not done.
    stages: list[tuple[str, datetime.date]]


def overdue_appraisals(
    user: Any, cycle: AppraisalCycle, academy_id: int, today: datetime.date
) -> list[OverdueAppraisal]:
    """Return the academy's appraisals past a deadline, by appraisee name, read
    through visible_appraisals. Empty unless sees_overdue_names allows it."""
    if not sees_overdue_names(user, academy_id):
        return []
    table = deadline_table(cycle)
    dates = table.for_academy(academy_id)
    appraisals = (
        visible_appraisals(user)
        .filter(cycle=cycle, academy_id=academy_id)
        .exclude(status=Appraisal.Status.SIGNED_OFF)
        .select_related("appraisee", "appraiser")
        .order_by("appraisee__last_name", "appraisee__first_name", "pk")
    )
    found = []
    for appraisal in appraisals:
        stages = []
        for stage in STAGES:
            due = dates.get((appraisal.track, stage))
            if due is not None and today > due and not stage_done(appraisal.status, stage):
                stages.append((Stage(stage).label, due))
        if stages:
            found.append(OverdueAppraisal(appraisal=appraisal, stages=stages))
    return found
