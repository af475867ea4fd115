"""Appraisal rows for tests, built straight through the ORM.

These helpers skip the services so a test can start from any status:
make_appraisal(cycle, appraisee, appraiser, status="final_reviewed") writes
the objectives, the reviews, the signatures and the dated *_at/*_by fields
that an appraisal at that status would have after going through
appraisal.services. Build personas first (tests/personas.py) and call these
inside a frozen clock, because the dates come from trust.clock.
"""

import datetime
from collections.abc import Sequence

from appraisal.deadlines import default_deadlines
from appraisal.models import (
    STATUS_ORDER,
    Appraisal,
    AppraisalCycle,
    Deadline,
    Objective,
    ObjectiveReview,
    Outcome,
    Signature,
    StandardSet,
    Track,
)
from appraisal.standards import TEACHERS_STANDARDS
from staff.models import Role, RoleAssignment, StaffMember
from trust import clock

from .personas import Personas

Status = Appraisal.Status

DEFAULT_OBJECTIVES: tuple[tuple[str, int], ...] = (
    ("Raise the share of Year 10 English pupils on or above TMG", 60),
    ("Lead the Year 9 reading programme", 40),
)


def cycle_2026(world: Personas) -> AppraisalCycle:
    """Create the 2026/27 cycle of the personas' trust with the trust's default deadlines."""
    assert world.academic_year is not None
    cycle = AppraisalCycle.objects.create(academic_year=world.academic_year)
    Deadline.objects.bulk_create(
        Deadline(cycle=cycle, academy=None, track=track, stage=stage, due=due)
        for (track, stage), due in default_deadlines(world.academic_year).items()
    )
    return cycle


def reached(status: str, step: str) -> bool:
    """Return whether an appraisal at `status` has reached the status `step` or gone past it."""
    return STATUS_ORDER.index(status) >= STATUS_ORDER.index(step)


def make_objective(
    appraisal: Appraisal,
    title: str = "Improve feedback in Key Stage 4 marking",
    weighting: int = 100,
    *,
    success_criteria: str = "Pupils act on written feedback in every unit.",
    position: int | None = None,
    **fields: object,
) -> Objective:
    """Create one objective. Extra keyword arguments are Objective fields, such as measure."""
    if position is None:
        position = appraisal.objectives.count() + 1
    return Objective.objects.create(
        appraisal=appraisal,
        title=title,
        success_criteria=success_criteria,
        weighting=weighting,
        position=position,
        **fields,
    )


def sign(
    appraisal: Appraisal,
    document: str,
    party: str,
    *,
    agrees: bool = True,
    comment: str = "",
    at: datetime.datetime | None = None,
) -> Signature:
    """Add one signature by the appraisal's appraisee or appraiser."""
    staff = appraisal.appraisee if party == Signature.Party.APPRAISEE else appraisal.appraiser
    assert staff is not None, "the appraisal has no appraiser to sign"
    return Signature.objects.create(
        appraisal=appraisal,
        document=document,
        party=party,
        staff=staff,
        signed_at=at or clock.now(),
        agrees=agrees,
        comment=comment,
    )


def _holds_headteacher_role(staff: StaffMember) -> bool:
    today = clock.today()
    return any(
        (role.starts_on is None or role.starts_on <= today)
        and (role.ends_on is None or today <= role.ends_on)
        for role in RoleAssignment.objects.filter(staff=staff, role=Role.HEADTEACHER)
    )


def make_appraisal(
    cycle: AppraisalCycle,
    appraisee: StaffMember,
    appraiser: StaffMember | None,
    *,
    status: str = Status.DRAFT,
    objectives: Sequence[tuple[str, int]] = DEFAULT_OBJECTIVES,
    signed: bool = True,
    outcomes: Sequence[str] | None = None,
    at: datetime.datetime | None = None,
) -> Appraisal:
    """Create an appraisal at `status` as the services would have left it.

    Past draft it has both signatures on the objectives, a mid-year review of
    every objective past objectives_agreed, and a final review with an outcome
    past mid_year_reviewed (`outcomes` in objective order, "met" by default).
    A signed-off appraisal also has both signatures on the final review.
    With signed=False no signatures are written, which no status past draft
    would have through the services; use it to test a missing signature. A
    draft with signed=True has no signatures either, because both signing
    would have moved it on. Every step is dated `at` (default: now) and done
    by the appraiser, except that the appraiser's signature completes the
    objectives and the sign-off.
    """
    at = at or clock.now()
    appraisal = Appraisal.objects.create(
        cycle=cycle,
        appraisee=appraisee,
        appraiser=appraiser,
        academy=appraisee.academy,
        track=Track.HEADTEACHER if _holds_headteacher_role(appraisee) else Track.STAFF,
        standard_set=StandardSet.objects.filter(name=TEACHERS_STANDARDS).first(),
        status=status,
    )
    rows = [
        make_objective(appraisal, title, weighting, position=index)
        for index, (title, weighting) in enumerate(objectives, start=1)
    ]

    if reached(status, Status.OBJECTIVES_AGREED):
        appraisal.objectives_agreed_at = at
        appraisal.objectives_agreed_by = appraiser
        if signed:
            sign(appraisal, Signature.Document.OBJECTIVES, Signature.Party.APPRAISEE, at=at)
            sign(appraisal, Signature.Document.OBJECTIVES, Signature.Party.APPRAISER, at=at)
    if reached(status, Status.MID_YEAR_REVIEWED):
        appraisal.mid_year_reviewed_at = at
        appraisal.mid_year_reviewed_by = appraiser
        appraisal.mid_year_comment = "On track at the mid-year review."
        for objective in rows:
            ObjectiveReview.objects.create(
                objective=objective,
                kind=ObjectiveReview.Kind.MID_YEAR,
                evidence="Autumn data drop.",
                self_review="Going well.",
                appraiser_comment="Good progress so far.",
            )
    if reached(status, Status.FINAL_REVIEWED):
        appraisal.final_reviewed_at = at
        appraisal.final_reviewed_by = appraiser
        appraisal.summary = "A strong year."
        chosen = list(outcomes) if outcomes is not None else [Outcome.MET] * len(rows)
        assert len(chosen) == len(rows), "give one outcome per objective"
        for objective, outcome in zip(rows, chosen, strict=True):
            ObjectiveReview.objects.create(
                objective=objective,
                kind=ObjectiveReview.Kind.FINAL,
                evidence="Summer results.",
                self_review="Achieved.",
                appraiser_comment="Agreed.",
                outcome=outcome,
            )
    if reached(status, Status.SIGNED_OFF):
        appraisal.signed_off_at = at
        appraisal.signed_off_by = appraiser
        if signed:
            sign(appraisal, Signature.Document.FINAL_REVIEW, Signature.Party.APPRAISEE, at=at)
            sign(appraisal, Signature.Document.FINAL_REVIEW, Signature.Party.APPRAISER, at=at)
    appraisal.save()
    return appraisal
