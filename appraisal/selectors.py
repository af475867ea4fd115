"""Reads of appraisals shared by the pages, the API and the PDF: the outcome
summary, one appraisal with everything its page shows, an appraiser's
appraisees and the current cycle."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum

from staff.models import Role, RoleAssignment, StaffMember
from trust.access import scope_for

from . import access
from .models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    Objective,
    ObjectiveReview,
    Outcome,
    Signature,
)


@dataclass(frozen=True)
class OutcomeSummary:
    """Final-review outcomes of an appraisal's objectives.

    Objectives marked not applicable are left out of `counted`, so two met
    and one not applicable reads "2 of 2 met". `reviewed` stays False until
    at least one objective has a final outcome, and until then the label is
    "not yet reviewed", never 0% or a division by zero.
    """

    met: int
    partly_met: int
    not_met: int
    counted: int
    reviewed: bool
    label: str
    not_applicable: int = 0
    # Objectives without a final outcome yet.
    pending: int = 0


def summarise_outcomes(outcomes: Iterable[str]) -> OutcomeSummary:
    """Return the summary of one appraisal's final outcomes, one per objective
    ("" for an objective not yet reviewed)."""
    tally = {value: 0 for value in Outcome.values}
    pending = 0
    for outcome in outcomes:
        if outcome in tally:
            tally[outcome] += 1
        else:
            pending += 1
    met = tally[Outcome.MET]
    partly_met = tally[Outcome.PARTLY_MET]
    not_met = tally[Outcome.NOT_MET]
    not_applicable = tally[Outcome.NOT_APPLICABLE]
    counted = met + partly_met + not_met
    reviewed = counted + not_applicable > 0

    if not reviewed:
        label = "not yet reviewed"
    elif counted == 0:
        label = "no objectives counted (all not applicable)"
    else:
        label = f"{met} of {counted} met"
        if partly_met:
            label += f", {partly_met} partly met"
    if reviewed and pending:
        label += f"; {pending} not yet reviewed"
    return OutcomeSummary(
        met=met,
        partly_met=partly_met,
        not_met=not_met,
        counted=counted,
        reviewed=reviewed,
        label=label,
        not_applicable=not_applicable,
        pending=pending,
    )


def _final_outcome(objective: Objective) -> str:
    """Return the objective's final outcome, reading prefetched reviews when present."""
    for review in objective.reviews.all():
        if review.kind == ObjectiveReview.Kind.FINAL:
            return review.outcome
    return ""


def outcome_summary(appraisal_or_objectives: Appraisal | Iterable[Objective]) -> OutcomeSummary:
    """Summarise the final outcomes of an appraisal or of a list of objectives.

    For an appraisal this takes one query. For objectives it reads each
    objective's reviews, so prefetch "reviews" to avoid a query per objective.
    """
    if isinstance(appraisal_or_objectives, Appraisal):
        return outcome_summaries([appraisal_or_objectives])[appraisal_or_objectives.pk]
    return summarise_outcomes(_final_outcome(objective) for objective in appraisal_or_objectives)


def outcome_summaries(appraisals: Iterable[Appraisal]) -> dict[int, OutcomeSummary]:
    """Return the outcome summary of each appraisal, keyed by id, in one query."""
    ids = [appraisal.pk for appraisal in appraisals]
    outcomes: dict[int, list[str]] = {appraisal_id: [] for appraisal_id in ids}
    rows = (
        Objective.objects.filter(appraisal_id__in=ids).order_by().values_list("appraisal_id", "pk")
    )
    final = dict(
        ObjectiveReview.objects.filter(
            objective__appraisal_id__in=ids, kind=ObjectiveReview.Kind.FINAL
        ).values_list("objective_id", "outcome")
    )
    for appraisal_id, objective_id in rows:
        outcomes[appraisal_id].append(final.get(objective_id, ""))
    return {appraisal_id: summarise_outcomes(values) for appraisal_id, values in outcomes.items()}


def appraisal_detail(appraisal: Appraisal | int) -> Appraisal:
    """Return the appraisal with everything its page shows, in a fixed number of queries.

    Prefetched: objectives (with standards and reviews), signatures (with
    the signer), annotations (with the author) and development needs. The
    caller checks access first (access.visible_appraisals).
    """
    pk = appraisal.pk if isinstance(appraisal, Appraisal) else appraisal
    objectives = Objective.objects.prefetch_related("standards", "reviews").select_related(
        "measure_academy", "measure_subject", "measure_year_group", "measure_tutor_group"
    )
    return (
        Appraisal.objects.select_related(
            "cycle__academic_year",
            "appraisee",
            "appraiser",
            "academy",
            "standard_set",
            "objectives_agreed_by",
            "mid_year_reviewed_by",
            "final_reviewed_by",
            "signed_off_by",
        )
        .prefetch_related(
            Prefetch("objectives", queryset=objectives),
            Prefetch("signatures", queryset=Signature.objects.select_related("staff")),
            Prefetch("annotations", queryset=Annotation.objects.select_related("author")),
            "development_needs",
        )
        .get(pk=pk)
    )


def signature_of(appraisal: Appraisal, document: str, party: str) -> Signature | None:
    """Return one signature, reading the prefetched signatures when present."""
    for signature in appraisal.signatures.all():
        if signature.document == document and signature.party == party:
            return signature
    return None


def appraisals_for_appraiser(user: Any, cycle: AppraisalCycle) -> QuerySet[Appraisal]:
    """Return the appraisals of `cycle` in which `user` is the appraiser, by appraisee name."""
    staff_id = scope_for(user).staff_id
    if staff_id is None:
        return Appraisal.objects.none()
    return (
        access.visible_appraisals(user)
        .filter(cycle=cycle, appraiser_id=staff_id)
        .select_related("appraisee", "academy", "cycle__academic_year")
        .order_by("appraisee__last_name", "appraisee__first_name", "pk")
    )


def current_cycle(today: datetime.date) -> AppraisalCycle | None:
    """Return the cycle of the academic year containing `today`, or None if none is open."""
    return (
        AppraisalCycle.objects.select_related("academic_year")
        .filter(academic_year__start_date__lte=today, academic_year__end_date__gte=today)
        .order_by("-academic_year__start_year")
        .first()
    )


def weighting_total(appraisal: Appraisal) -> int:
    """Return the sum of the objectives' weightings (0 with no objectives)."""
    cache = getattr(appraisal, "_prefetched_objects_cache", {})
    if "objectives" in cache:
        return sum(objective.weighting for objective in cache["objectives"])
    total = appraisal.objectives.aggregate(total=Sum("weighting"))["total"]
    return int(total or 0)


def staff_to_appraise(cycle: AppraisalCycle, today: datetime.date) -> QuerySet[StaffMember]:
    """Return the staff who should each have an appraisal in `cycle`: those
    employed at any time in its academic year, except trustees, who govern
    the trust and are not its employees. Opening appraisals and the
    completion counts both use this rule."""
    year = cycle.academic_year
    trustees = RoleAssignment.objects.filter(role=Role.TRUSTEE).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
    )
    return StaffMember.objects.filter(
        Q(left_on__isnull=True) | Q(left_on__gte=year.start_date),
        Q(started_on__isnull=True) | Q(started_on__lte=year.end_date),
    ).exclude(pk__in=trustees.values("staff_id"))
