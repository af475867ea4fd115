"""Demo appraisals: last year's cycle signed off and this year's under way.

As of the demo's today, two cycles exist (last academic year and this one)
with the trust's default deadlines, and one academy has moved this year's
mid-year review. Every member of staff except trustees, who are not
employees, gets an appraisal in the current cycle. Staff who started
before last year's mid-year review date also have one in last year's.
Appraisers are line managers, and the chief executive is appraised by the
chair of trustees.

Statuses follow the deadlines: once a stage's date has passed, most
appraisals have done it and a few are overdue. Linked objectives carry a
target drawn near a plausible value of their measure, not computed from
the seeded data. Rows are written with bulk_create or straight into their
tables, so there are no audit records, like the rest of the demo.
"""

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection

from academies.models import AcademicYear, Academy, TutorGroup, YearGroup
from appraisal.deadlines import DeadlineTable, default_deadlines
from appraisal.models import (
    Appraisal,
    AppraisalCycle,
    Deadline,
    DevelopmentNeed,
    Measure,
    MeasureScope,
    Objective,
    ObjectiveReview,
    Outcome,
    Signature,
    Stage,
    Standard,
    StandardSet,
    Track,
)
from appraisal.standards import teachers_standards_ensure
from progress.models import TeachingGroup
from staff.models import PostType, Role, StaffMember
from trust import clock
from trust.models import AuditEvent

from . import appraisal_portfolio
from . import appraisal_text as text
from .attendance import _insert
from .staffing import PlannedStaff, StaffPlan
from .structure import BATCH_SIZE, DemoContext

LONDON = ZoneInfo("Europe/London")
Status = Appraisal.Status
_RANK = {status.value: index for index, status in enumerate(Status)}

# Weightings for two, three and four objectives. The largest goes first.
WEIGHTINGS: dict[int, tuple[tuple[int, ...], ...]] = {
    2: ((50, 50), (60, 40)),
    3: ((40, 30, 30), (34, 33, 33), (50, 25, 25)),
    4: ((25, 25, 25, 25), (30, 30, 20, 20), (40, 20, 20, 20)),
}
# Weights of last year's final outcomes, apart from the one or two marked not applicable.
OUTCOME_WEIGHTS = {Outcome.MET: 68, Outcome.PARTLY_MET: 24, Outcome.NOT_MET: 8}
NOT_APPLICABLE_COUNT = 2
# Share of staff appraisals agreed by the objectives deadline. The rest are overdue.
ON_TIME_SHARE = 0.93
# Share of headteacher (or staff) appraisals agreed in the weeks before their deadline.
EARLY_SHARE = 0.5
EARLY_WINDOW = datetime.timedelta(days=45)
# Plausible current values by (measure, scope is the appraisee's own classes),
# read with appraisal.measures.measure_values from the default demo
# (`make demo` SEED_ARGS, --today 2026-12-04). The "All subjects" TMG figure
# of a whole academy counts a pupil only when every grade is on or above
# TMG, so it is far lower than a class teacher's.
PLAUSIBLE: dict[tuple[str, bool], tuple[float, float]] = {
    (Measure.TMG_LATEST, True): (65, 85),
    (Measure.TMG_LATEST, False): (15, 28),
    (Measure.ATTENDANCE, False): (93, 95.5),
    (Measure.PERSISTENT_ABSENCE, False): (10, 20),
}
EXTERNAL_ADVISERS = ("Dr Helen Marsh", "Mr Richard Okafor", "Mrs Anne Lowther")


@dataclass
class AppraisalCounts:
    cycles: int = 0
    appraisals: int = 0
    objectives: int = 0
    development_needs: int = 0
    cpd_events: int = 0
    bookings: int = 0
    portfolio_entries: int = 0


@dataclass(frozen=True)
class _Link:
    """A live measure an objective is linked to, with its target."""

    measure: str
    scope: str
    target: Decimal
    academy: Academy | None = None
    year_group: YearGroup | None = None
    tutor_group: TutorGroup | None = None


@dataclass(slots=True)
class _Review:
    """An ObjectiveReview row before saving, kept as plain data because the
    rows are inserted without model instances."""

    kind: str
    evidence: str
    self_review: str
    appraiser_comment: str
    outcome: str = ""


@dataclass(slots=True)
class _Signature:
    """A Signature row before saving."""

    document: str
    party: str
    staff: StaffMember
    signed_at: datetime.datetime
    agrees: bool = True
    comment: str = ""


@dataclass
class _PlannedObjective:
    objective: Objective
    standards: list[Standard]
    reviews: list[_Review] = field(default_factory=list)


@dataclass
class _PlannedAppraisal:
    person: PlannedStaff
    appraisal: Appraisal
    # When the appraisal was opened, written over created_at after saving.
    opened_at: datetime.datetime
    objectives: list[_PlannedObjective] = field(default_factory=list)
    signatures: list[_Signature] = field(default_factory=list)
    needs: list[DevelopmentNeed] = field(default_factory=list)


@dataclass
class _StaffFacts:
    """Facts about the staff that the objectives depend on, read once for the whole trust."""

    academies: dict[int, Academy]
    secondary_academy_ids: set[int]
    # Staff ids teaching classes, by academic year id.
    teaching: dict[int, set[int]]
    headteachers: dict[int, PlannedStaff]
    trust_leaders: list[PlannedStaff]
    chair: PlannedStaff | None


def load_appraisal(ctx: DemoContext, *, staff: StaffPlan) -> AppraisalCounts:
    """Write both cycles, every appraisal, the CPD offer and the portfolios."""
    assert ctx.current_year is not None
    assert ctx.last_year is not None
    counts = AppraisalCounts()
    standards = _standard_sets()
    last_cycle, last_table = _save_cycle(ctx, ctx.last_year, override=False)
    current_cycle, current_table = _save_cycle(ctx, ctx.current_year, override=True)
    counts.cycles = 2

    facts = _staff_facts(ctx, staff)
    appraised = [person for person in staff.people if not _is_trustee_only(person)]
    planner = _Planner(ctx, standards, facts)
    mid_year_due = last_table.trust[(Track.STAFF, Stage.MID_YEAR)]
    last = [
        planner.plan(person, last_cycle, ctx.last_year, last_table, is_current=False)
        for person in appraised
        if person.member.started_on is None or person.member.started_on <= mid_year_due
    ]
    _mark_not_applicable(ctx.rng, last)
    _record_disagreement(ctx.rng, last)
    current = [
        planner.plan(person, current_cycle, ctx.current_year, current_table, is_current=True)
        for person in appraised
    ]
    _save_appraisals(last + current)
    counts.appraisals = len(last) + len(current)
    counts.objectives = sum(len(planned.objectives) for planned in last + current)
    counts.development_needs = sum(len(planned.needs) for planned in last)

    portfolio = appraisal_portfolio.load_portfolio(
        ctx,
        people=appraised,
        objectives={
            planned.person.member.pk: [(o.objective, o.standards) for o in planned.objectives]
            for planned in current
        },
        needs={planned.person.member.pk: planned.needs for planned in last},
    )
    counts.cpd_events = portfolio.events
    counts.bookings = portfolio.bookings
    counts.portfolio_entries = portfolio.entries
    return counts


# Standards, cycles and deadlines ------------------------------------------------------


def _standard_sets() -> dict[str, dict[str, Standard]]:
    """Ensure the Teachers' Standards and the support staff set exist and
    return each set's standards by code, keyed by set name."""
    # These are saved through the ORM, which audits them. Demo data carries
    # no audit trail, so those events are dropped, as progress.py does.
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    teachers = teachers_standards_ensure(StandardSet, Standard)
    support, _ = StandardSet.objects.get_or_create(
        name=text.SUPPORT_STANDARDS,
        defaults={
            "description": text.SUPPORT_STANDARDS_DESCRIPTION,
            "post_types": text.SUPPORT_POST_TYPES,
        },
    )
    for position, (code, title) in enumerate(text.SUPPORT_STANDARDS_ROWS, start=1):
        Standard.objects.get_or_create(
            standard_set=support, code=code, defaults={"title": title, "position": position}
        )
    AuditEvent.objects.filter(pk__gt=last_event).delete()

    result: dict[str, dict[str, Standard]] = {teachers.name: {}, support.name: {}}
    sets = {teachers.pk: teachers, support.pk: support}
    for standard in Standard.objects.filter(standard_set__in=[teachers, support]):
        standard.standard_set = sets[standard.standard_set_id]
        result[standard.standard_set.name][standard.code] = standard
    return result


def _friday_on_or_before(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=(day.weekday() - 4) % 7)


def _save_cycle(
    ctx: DemoContext, year: AcademicYear, *, override: bool
) -> tuple[AppraisalCycle, DeadlineTable]:
    """Write a cycle with the trust's default deadlines.

    With `override`, the second academy (or the only one) moves its staff
    mid-year review two weeks earlier, to a Friday.
    """
    (cycle,) = AppraisalCycle.objects.bulk_create(
        [AppraisalCycle(academic_year=year, uses_pay_recommendation=True)]
    )
    trust = default_deadlines(year)
    rows = [
        Deadline(cycle=cycle, track=track, stage=stage, due=due)
        for (track, stage), due in trust.items()
    ]
    academies: dict[int, dict[tuple[str, str], datetime.date]] = {}
    if override and ctx.plans:
        academy = ctx.plans[min(1, len(ctx.plans) - 1)].academy
        key = (Track.STAFF.value, Stage.MID_YEAR.value)
        moved = _friday_on_or_before(trust[key] - datetime.timedelta(days=14))
        academies[academy.pk] = {key: moved}
        rows.append(Deadline(cycle=cycle, academy=academy, track=key[0], stage=key[1], due=moved))
    Deadline.objects.bulk_create(rows)
    return cycle, DeadlineTable(trust=trust, academies=academies)


# Staff --------------------------------------------------------------------------------


def _role_names(person: PlannedStaff) -> set[str]:
    return {role for role, _target in person.roles}


def _is_trustee_only(person: PlannedStaff) -> bool:
    return _role_names(person) == {Role.TRUSTEE}


def _staff_facts(ctx: DemoContext, staff: StaffPlan) -> _StaffFacts:
    through = TeachingGroup.teachers.through
    teaching: dict[int, set[int]] = {}
    rows = through.objects.values_list("teachinggroup__academic_year_id", "staffmember_id")
    for year_id, staff_id in rows:
        teaching.setdefault(year_id, set()).add(staff_id)
    headteachers = {}
    for person in staff.people:
        for role, target in person.roles:
            if role == Role.HEADTEACHER and isinstance(target, Academy):
                headteachers[target.pk] = person
    trustees = [p for p in staff.people if _is_trustee_only(p)]
    chair = next((p for p in trustees if p.member.job_title.startswith("Chair")), None)
    return _StaffFacts(
        academies={plan.academy.pk: plan.academy for plan in ctx.plans},
        secondary_academy_ids={plan.academy.pk for plan in ctx.plans if plan.is_secondary},
        teaching=teaching,
        headteachers=headteachers,
        trust_leaders=[p for p in staff.people if Role.TRUST_LEADER in _role_names(p)],
        chair=chair or (trustees[0] if trustees else None),
    )


def _appraiser(person: PlannedStaff, facts: _StaffFacts) -> StaffMember | None:
    """Return the line manager, else the academy's headteacher, else a trust
    leader, but never the appraisee. The central team's most senior member (the
    chief executive, with no line manager) is appraised by the chair of
    trustees on behalf of the board."""
    candidates: list[PlannedStaff | None] = [person.manager]
    academy_id = person.member.academy_id
    if academy_id is not None:
        candidates += [facts.headteachers.get(academy_id), *facts.trust_leaders, facts.chair]
    else:
        candidates += [facts.chair, *facts.trust_leaders]
    for candidate in candidates:
        if candidate is not None and candidate is not person:
            return candidate.member
    return None


def _role_scope_in(year: AcademicYear, role_target: object) -> object:
    """Return a role's academy, year group or tutor group. A tutor group is
    returned only in the academic year it belongs to."""
    if isinstance(role_target, TutorGroup) and role_target.academic_year_id != year.pk:
        return None
    return role_target


# Objectives ---------------------------------------------------------------------------


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))


class _Planner:
    """Planner of one person's appraisal in one cycle, drawing from ctx.rng."""

    def __init__(
        self, ctx: DemoContext, standards: dict[str, dict[str, Standard]], facts: _StaffFacts
    ) -> None:
        self.ctx = ctx
        self.rng: random.Random = ctx.rng
        self.today = ctx.today
        self.standards = standards
        self.facts = facts
        self.sets = {
            name: next(iter(codes.values())).standard_set for name, codes in standards.items()
        }

    # Which objectives -------------------------------------------------------------

    def _kind(self, person: PlannedStaff) -> str:
        roles = _role_names(person)
        post = person.member.post_type
        if Role.HEADTEACHER in roles:
            return "head"
        if Role.HEAD_OF_YEAR in roles:
            return "head_of_year"
        if post == PostType.LEADERSHIP:
            return "leader"
        if post == PostType.TEACHER:
            return "teacher"
        return "support"

    def _standard_set_name(self, person: PlannedStaff) -> str:
        if person.member.post_type in (PostType.TEACHER, PostType.LEADERSHIP):
            return next(name for name in self.standards if name != text.SUPPORT_STANDARDS)
        return text.SUPPORT_STANDARDS

    def _link(
        self,
        measure: str,
        scope: str,
        *,
        academy: Academy | None = None,
        year_group: YearGroup | None = None,
        tutor_group: TutorGroup | None = None,
    ) -> _Link:
        """Link to `measure` with a target a step better than a plausible current value."""
        rng = self.rng
        low, high = PLAUSIBLE[(measure, scope == MeasureScope.OWN_CLASSES)]
        value = rng.uniform(low, high)
        if measure == Measure.TMG_LATEST:
            target = min(95.0, round(value + rng.uniform(5, 15)))
        elif measure == Measure.ATTENDANCE:
            target = min(98.0, value + rng.uniform(0.5, 2))
        else:
            target = max(5.0, value - rng.uniform(2, 5))
        return _Link(
            measure,
            scope,
            _decimal(target),
            academy=academy,
            year_group=year_group,
            tutor_group=tutor_group,
        )

    def _links(self, person: PlannedStaff, kind: str, year: AcademicYear) -> list[_Link]:
        member = person.member
        academy_id = member.academy_id
        if kind == "head" and academy_id is not None:
            academy = self.facts.academies[academy_id]
            # Primary academies have no TMGs, so their heads take persistent absence.
            second = (
                Measure.TMG_LATEST
                if academy_id in self.facts.secondary_academy_ids
                else Measure.PERSISTENT_ABSENCE
            )
            return [
                self._link(Measure.ATTENDANCE, MeasureScope.ACADEMY, academy=academy),
                self._link(second, MeasureScope.ACADEMY, academy=academy),
            ]
        scopes = [_role_scope_in(year, target) for _role, target in person.roles]
        if kind == "head_of_year":
            year_group = next(t for t in scopes if isinstance(t, YearGroup))
            measure = self.rng.choice((Measure.ATTENDANCE, Measure.PERSISTENT_ABSENCE))
            return [self._link(measure, MeasureScope.YEAR_GROUP, year_group=year_group)]
        if member.pk in self.facts.teaching.get(year.pk, set()):
            return [self._link(Measure.TMG_LATEST, MeasureScope.OWN_CLASSES)]
        tutor_group = next((t for t in scopes if isinstance(t, TutorGroup)), None)
        if kind == "teacher" and tutor_group is not None:
            link = self._link(Measure.ATTENDANCE, MeasureScope.TUTOR_GROUP, tutor_group=tutor_group)
            return [link]
        return []

    def _link_text(self, link: _Link, kind: str) -> text.ObjectiveText:
        scope = {
            MeasureScope.OWN_CLASSES: "my classes",
            MeasureScope.ACADEMY: "the academy",
            MeasureScope.YEAR_GROUP: "the year group",
            MeasureScope.TUTOR_GROUP: "my tutor group",
        }[MeasureScope(link.scope)]
        codes = {"head": ("TS8", "TS1"), "head_of_year": ("SS1", "SS2")}.get(kind, ("TS2", "TS6"))
        if link.measure == Measure.TMG_LATEST:
            return text.ObjectiveText(
                f"Raise the share of pupils in {scope} on or above their TMG",
                f"At least {link.target}% of pupils in {scope} on or above their TMG at the "
                "latest assessment point.",
                "Department moderation and time to plan interventions after each point.",
                codes,
            )
        if link.measure == Measure.ATTENDANCE:
            return text.ObjectiveText(
                f"Raise attendance in {scope}",
                f"Attendance of at least {link.target}% over the year.",
                "Weekly attendance meetings and the attendance officer's time.",
                codes if kind != "teacher" else ("TS8",),
            )
        return text.ObjectiveText(
            f"Reduce persistent absence in {scope}",
            f"No more than {link.target}% of pupils missing 10% or more of sessions.",
            "Family support workers and the trust attendance lead.",
            codes,
        )

    def _pool(self, kind: str) -> Sequence[text.ObjectiveText]:
        return {
            "head": text.LEADERSHIP,
            "leader": text.LEADERSHIP,
            "teacher": text.TEACHING,
            "head_of_year": text.PASTORAL + text.SUPPORT[:1],
        }.get(kind, text.SUPPORT)

    def objectives(
        self, person: PlannedStaff, year: AcademicYear, appraisal: Appraisal
    ) -> list[_PlannedObjective]:
        """Plan two to four objectives, linked ones first, weighted to total 100."""
        rng = self.rng
        kind = self._kind(person)
        links = self._links(person, kind, year)
        count = max(rng.randint(2, 4), len(links) + 1)
        pool = self._pool(kind)
        texts = [self._link_text(link, kind) for link in links]
        texts += rng.sample(pool, min(count - len(links), len(pool)))

        weightings = rng.choice(WEIGHTINGS[len(texts)])
        codes = self.standards[self._standard_set_name(person)]
        planned = []
        for position, (wording, weighting) in enumerate(zip(texts, weightings, strict=True)):
            link = links[position] if position < len(links) else None
            objective = Objective(
                appraisal=appraisal,
                position=position + 1,
                title=wording.title,
                success_criteria=wording.success_criteria,
                weighting=weighting,
                support=wording.support,
            )
            if link is not None:
                objective.measure = link.measure
                objective.measure_scope = link.scope
                objective.target_value = link.target
                objective.measure_academy = link.academy
                objective.measure_year_group = link.year_group
                objective.measure_tutor_group = link.tutor_group
            standards = [codes[c] for c in wording.standards if c in codes]
            planned.append(_PlannedObjective(objective=objective, standards=standards))
        return planned

    # Which stage --------------------------------------------------------------------

    def _current_status(self, dates: dict[tuple[str, str], datetime.date], track: str) -> str:
        roll = self.rng.random()
        objectives_due = dates[(track, Stage.OBJECTIVES)]
        if self.today > dates[(track, Stage.MID_YEAR)]:
            if roll < 0.85:
                return Status.MID_YEAR_REVIEWED
            return Status.OBJECTIVES_AGREED if roll < 0.95 else Status.DRAFT
        if self.today > objectives_due:
            return Status.OBJECTIVES_AGREED if roll < ON_TIME_SHARE else Status.DRAFT
        early = objectives_due - self.today <= EARLY_WINDOW
        share = EARLY_SHARE if early else 0.15
        return Status.OBJECTIVES_AGREED if roll < share else Status.DRAFT

    def _last_status(self, dates: dict[tuple[str, str], datetime.date]) -> str:
        """Everything is signed off once the staff final review date has
        passed. Before then, reviews are still coming in."""
        if self.today > dates[(Track.STAFF, Stage.FINAL_REVIEW)]:
            return Status.SIGNED_OFF
        roll = self.rng.random()
        if roll < 0.3:
            return Status.SIGNED_OFF
        return Status.FINAL_REVIEWED if roll < 0.5 else Status.MID_YEAR_REVIEWED

    def _day(self, first: datetime.date, last: datetime.date) -> datetime.date:
        """Return a day from `first` to `last`, never after yesterday."""
        last = min(last, self.today - datetime.timedelta(days=1))
        if last <= first:
            return min(first, last)
        return first + datetime.timedelta(days=self.rng.randrange((last - first).days + 1))

    def _moment(self, day: datetime.date) -> datetime.datetime:
        hour = self.rng.choice((8, 12, 15, 16, 17))
        return datetime.datetime.combine(day, datetime.time(hour, 10), tzinfo=LONDON)

    def _moment_after(self, earlier: datetime.datetime, day: datetime.date) -> datetime.datetime:
        """Return a time on `day`, or half an hour after `earlier` if that is later."""
        return max(self._moment(day), earlier + datetime.timedelta(minutes=30))

    def _step_day(
        self, previous: datetime.datetime, earliest: datetime.date, due: datetime.date
    ) -> datetime.date:
        """Return the day of a step: from `earliest`, at least a week after the
        previous step, and by `due` unless the previous step left too little time."""
        first = max(earliest, previous.date() + datetime.timedelta(days=7))
        return self._day(first, max(due, first + datetime.timedelta(days=21)))

    # The appraisal ------------------------------------------------------------------

    def plan(
        self,
        person: PlannedStaff,
        cycle: AppraisalCycle,
        year: AcademicYear,
        table: DeadlineTable,
        *,
        is_current: bool,
    ) -> _PlannedAppraisal:
        rng = self.rng
        member = person.member
        roles = _role_names(person)
        track = Track.HEADTEACHER if Role.HEADTEACHER in roles else Track.STAFF
        dates = table.for_academy(member.academy_id)
        status = self._current_status(dates, track) if is_current else self._last_status(dates)

        # Appraisals open a few days into the year, or into a new starter's first week.
        started = max(year.start_date, member.started_on or year.start_date)
        yesterday = self.today - datetime.timedelta(days=1)
        opened_on = min(started + datetime.timedelta(days=3), yesterday)
        if opened_on + datetime.timedelta(days=7) > yesterday:
            status = Status.DRAFT

        appraisal = Appraisal(
            cycle=cycle,
            appraisee=member,
            appraiser=_appraiser(person, self.facts),
            academy_id=member.academy_id,
            track=track,
            standard_set=self.sets[self._standard_set_name(person)],
            external_adviser=rng.choice(EXTERNAL_ADVISERS) if track == Track.HEADTEACHER else "",
            status=status,
        )
        planned = _PlannedAppraisal(
            person=person, appraisal=appraisal, opened_at=self._moment(opened_on)
        )
        planned.objectives = self.objectives(person, year, appraisal)

        self._objective_signatures(planned, year, dates, track)
        if _RANK[status] >= _RANK[Status.MID_YEAR_REVIEWED]:
            self._mid_year(planned, dates, track)
        if _RANK[status] >= _RANK[Status.FINAL_REVIEWED]:
            self._final(planned, year, dates, track)
        return planned

    def _sign(
        self, planned: _PlannedAppraisal, document: str, party: str, moment: datetime.datetime
    ) -> None:
        appraisal = planned.appraisal
        signer = appraisal.appraisee if party == Signature.Party.APPRAISEE else appraisal.appraiser
        assert signer is not None
        planned.signatures.append(
            _Signature(document=document, party=party, staff=signer, signed_at=moment)
        )

    def _objective_signatures(
        self,
        planned: _PlannedAppraisal,
        year: AcademicYear,
        dates: dict[tuple[str, str], datetime.date],
        track: str,
    ) -> None:
        appraisal = planned.appraisal
        document = Signature.Document.OBJECTIVES
        if appraisal.status == Status.DRAFT:
            # A third of drafts wait only for the appraisee's signature.
            if appraisal.appraiser is not None and self.rng.random() < 1 / 3:
                day = self._day(planned.opened_at.date(), self.today)
                moment = self._moment_after(planned.opened_at, day)
                self._sign(planned, document, Signature.Party.APPRAISER, moment)
            return
        due = dates[(track, Stage.OBJECTIVES)]
        earliest = max(year.start_date + datetime.timedelta(days=14), due - EARLY_WINDOW)
        day = self._step_day(planned.opened_at, earliest, due)
        first = self._moment_after(planned.opened_at, day)
        self._sign(planned, document, Signature.Party.APPRAISEE, first)
        later = self._day(day, day + datetime.timedelta(days=self.rng.randint(0, 3)))
        moment = self._moment_after(first, later)
        self._sign(planned, document, Signature.Party.APPRAISER, moment)
        appraisal.objectives_agreed_at = moment
        appraisal.objectives_agreed_by = appraisal.appraiser

    def _review(self, objective: _PlannedObjective, kind: str, outcome: str = "") -> None:
        rng = self.rng
        objective.reviews.append(
            _Review(
                kind=kind,
                evidence=rng.choice(text.EVIDENCE),
                self_review=rng.choice(text.SELF_REVIEWS),
                appraiser_comment=rng.choice(text.APPRAISER_COMMENTS),
                outcome=outcome,
            )
        )

    def _mid_year(
        self,
        planned: _PlannedAppraisal,
        dates: dict[tuple[str, str], datetime.date],
        track: str,
    ) -> None:
        appraisal = planned.appraisal
        agreed = appraisal.objectives_agreed_at
        assert agreed is not None
        due = dates[(track, Stage.MID_YEAR)]
        day = self._step_day(agreed, due - datetime.timedelta(days=40), due)
        for objective in planned.objectives:
            self._review(objective, ObjectiveReview.Kind.MID_YEAR)
        appraisal.mid_year_reviewed_at = self._moment_after(agreed, day)
        appraisal.mid_year_reviewed_by = appraisal.appraiser
        appraisal.mid_year_comment = self.rng.choice(text.MID_YEAR_COMMENTS)

    def _final(
        self,
        planned: _PlannedAppraisal,
        year: AcademicYear,
        dates: dict[tuple[str, str], datetime.date],
        track: str,
    ) -> None:
        rng = self.rng
        appraisal = planned.appraisal
        outcomes = list(OUTCOME_WEIGHTS)
        weights = list(OUTCOME_WEIGHTS.values())
        for objective in planned.objectives:
            self._review(objective, ObjectiveReview.Kind.FINAL, rng.choices(outcomes, weights)[0])
        _write_summary(planned)

        reviewed = appraisal.mid_year_reviewed_at
        assert reviewed is not None
        due = dates[(track, Stage.FINAL_REVIEW)]
        day = self._step_day(reviewed, max(year.end_date, due - datetime.timedelta(days=45)), due)
        moment = self._moment_after(reviewed, day)
        appraisal.final_reviewed_at = moment
        appraisal.final_reviewed_by = appraisal.appraiser
        document = Signature.Document.FINAL_REVIEW
        if appraisal.status == Status.SIGNED_OFF or rng.random() < 0.5:
            self._sign(planned, document, Signature.Party.APPRAISER, moment)
        if appraisal.status == Status.SIGNED_OFF:
            sign_due = dates[(track, Stage.SIGN_OFF)]
            later = self._day(day, min(sign_due, day + datetime.timedelta(days=rng.randint(1, 10))))
            signed = self._moment_after(moment, later)
            self._sign(planned, document, Signature.Party.APPRAISEE, signed)
            appraisal.signed_off_at = signed
            appraisal.signed_off_by = appraisal.appraisee

        for description, kind in rng.sample(text.DEVELOPMENT_NEEDS, rng.choice((0, 1, 1, 2))):
            planned.needs.append(
                DevelopmentNeed(appraisal=appraisal, description=description, suggested_kind=kind)
            )


def _final_outcomes(planned: _PlannedAppraisal) -> list[str]:
    return [
        review.outcome
        for objective in planned.objectives
        for review in objective.reviews
        if review.kind == ObjectiveReview.Kind.FINAL
    ]


def _write_summary(planned: _PlannedAppraisal) -> None:
    outcomes = _final_outcomes(planned)
    if Outcome.NOT_MET in outcomes:
        band = "weak"
    elif Outcome.PARTLY_MET in outcomes:
        band = "mixed"
    else:
        band = "strong"
    summary, pay = text.SUMMARIES[band]
    planned.appraisal.summary = summary
    planned.appraisal.pay_recommendation = (
        pay if planned.appraisal.cycle.uses_pay_recommendation else ""
    )


def _mark_not_applicable(rng: random.Random, last: list[_PlannedAppraisal]) -> None:
    """Mark one or two of last year's final outcomes not applicable, in
    different appraisals that keep at least one counted objective."""
    candidates = [
        planned
        for planned in last
        if planned.appraisal.status == Status.SIGNED_OFF and len(planned.objectives) >= 3
    ]
    for planned in rng.sample(candidates, min(NOT_APPLICABLE_COUNT, len(candidates))):
        final = planned.objectives[-1].reviews[-1]
        final.outcome = Outcome.NOT_APPLICABLE
        final.appraiser_comment = "Not applicable: the project was paused by the academy."
        _write_summary(planned)


def _record_disagreement(rng: random.Random, last: list[_PlannedAppraisal]) -> None:
    """Make one appraisee sign last year's final review while disagreeing."""
    candidates = [
        planned
        for planned in last
        if planned.appraisal.status == Status.SIGNED_OFF
        and planned.person.member.post_type == PostType.TEACHER
        and set(_final_outcomes(planned)) & {Outcome.PARTLY_MET, Outcome.NOT_MET}
    ]
    if not candidates:
        return
    planned = rng.choice(candidates)
    for signature in planned.signatures:
        if (
            signature.document == Signature.Document.FINAL_REVIEW
            and signature.party == Signature.Party.APPRAISEE
        ):
            signature.agrees = False
            signature.comment = text.DISAGREEMENT


def _last_change(planned: _PlannedAppraisal) -> datetime.datetime:
    appraisal = planned.appraisal
    steps = [
        planned.opened_at,
        appraisal.objectives_agreed_at,
        appraisal.mid_year_reviewed_at,
        appraisal.final_reviewed_at,
        appraisal.signed_off_at,
        *(s.signed_at for s in planned.signatures),
    ]
    return max(step for step in steps if step is not None)


REVIEW_FIELDS = (
    "objective",
    "kind",
    "evidence",
    "self_review",
    "appraiser_comment",
    "outcome",
    "updated_at",
)
SIGNATURE_FIELDS = ("appraisal", "document", "party", "staff", "signed_at", "agrees", "comment")


def _save_appraisals(planned: list[_PlannedAppraisal]) -> None:
    """Write appraisals, objectives and development needs with bulk_create
    (later rows need their ids), and the rest straight into their tables."""
    appraisals = [p.appraisal for p in planned]
    Appraisal.objects.bulk_create(appraisals, batch_size=BATCH_SIZE)
    # bulk_create stamps created_at and updated_at with the time of the seed.
    for p in planned:
        p.appraisal.created_at = p.opened_at
        p.appraisal.updated_at = _last_change(p)
    Appraisal.objects.bulk_update(appraisals, ["created_at", "updated_at"], batch_size=BATCH_SIZE)
    objectives = [o for p in planned for o in p.objectives]
    Objective.objects.bulk_create([o.objective for o in objectives], batch_size=BATCH_SIZE)
    needs = [need for p in planned for need in p.needs]
    DevelopmentNeed.objects.bulk_create(needs, batch_size=BATCH_SIZE)

    adapt = connection.ops.adapt_datetimefield_value
    _insert(
        Objective.standards.through,
        ("objective", "standard"),
        ((o.objective.pk, standard.pk) for o in objectives for standard in o.standards),
    )
    saved_at = adapt(clock.now())
    reviews = (
        (
            o.objective.pk,
            r.kind,
            r.evidence,
            r.self_review,
            r.appraiser_comment,
            r.outcome,
            saved_at,
        )
        for o in objectives
        for r in o.reviews
    )
    _insert(ObjectiveReview, REVIEW_FIELDS, reviews)
    signatures = (
        (
            p.appraisal.pk,
            s.document,
            s.party,
            s.staff.pk,
            adapt(s.signed_at),
            s.agrees,
            s.comment,
        )
        for p in planned
        for s in p.signatures
    )
    _insert(Signature, SIGNATURE_FIELDS, signatures)
