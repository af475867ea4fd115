"""Reads behind the appraisal pages: one appraisal laid out for display, and
the rows of the appraisees list. Callers pass appraisals already scoped by
appraisal.access, and nothing here widens that scope."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from . import measures, selectors
from .deadlines import DeadlineTable, StageDue, deadline_table, next_due, next_stage
from .models import (
    Annotation,
    Appraisal,
    DevelopmentNeed,
    Objective,
    ObjectiveReview,
    Signature,
    Track,
)


@dataclass
class ObjectiveRow:
    objective: Objective
    standards: list[Any]
    value: Any  # measures.MeasureValue, or None when not linked to a measure
    mid_year: ObjectiveReview | None
    final: ObjectiveReview | None


@dataclass
class Step:
    label: str
    at: datetime.datetime | None
    by: Any


@dataclass
class AppraisalPage:
    appraisal: Appraisal
    rows: list[ObjectiveRow]
    weighting_total: int
    summary: Any  # selectors.OutcomeSummary
    due: StageDue | None
    steps: list[Step]
    signatures: dict[str, dict[str, Signature]]
    needs: list[DevelopmentNeed]
    previous_needs: list[DevelopmentNeed] = field(default_factory=list)
    previous_appraisal: Appraisal | None = None
    annotations: list[Annotation] = field(default_factory=list)


def objectives_with_detail() -> Prefetch:
    return Prefetch(
        "objectives",
        queryset=Objective.objects.prefetch_related("standards__standard_set", "reviews"),
    )


def with_page_relations(appraisals: QuerySet[Appraisal]) -> QuerySet[Appraisal]:
    """Add the joins and prefetches one appraisal page reads, so it runs a fixed
    number of queries however many objectives there are."""
    return appraisals.select_related(
        "cycle__academic_year",
        "appraisee__academy",
        "appraiser",
        "academy",
        "standard_set",
        "objectives_agreed_by",
        "mid_year_reviewed_by",
        "final_reviewed_by",
        "signed_off_by",
    ).prefetch_related(
        objectives_with_detail(),
        Prefetch("signatures", queryset=Signature.objects.select_related("staff")),
        "development_needs",
        Prefetch("annotations", queryset=Annotation.objects.select_related("author")),
    )


def _objective_rows(objectives: Sequence[Objective], today: datetime.date) -> list[ObjectiveRow]:
    linked = [o for o in objectives if o.measure]
    values = measures.measure_values(linked, today) if linked else {}
    rows = []
    for objective in objectives:
        reviews = {review.kind: review for review in objective.reviews.all()}
        rows.append(
            ObjectiveRow(
                objective=objective,
                standards=list(objective.standards.all()),
                value=values.get(objective.pk),
                mid_year=reviews.get(ObjectiveReview.Kind.MID_YEAR),
                final=reviews.get(ObjectiveReview.Kind.FINAL),
            )
        )
    return rows


def _steps(appraisal: Appraisal) -> list[Step]:
    return [
        Step("Objectives agreed", appraisal.objectives_agreed_at, appraisal.objectives_agreed_by),
        Step("Mid-year review", appraisal.mid_year_reviewed_at, appraisal.mid_year_reviewed_by),
        Step("Final review", appraisal.final_reviewed_at, appraisal.final_reviewed_by),
        Step("Signed off", appraisal.signed_off_at, appraisal.signed_off_by),
    ]


def _previous_appraisal(appraisal: Appraisal) -> Appraisal | None:
    return (
        Appraisal.objects.filter(
            appraisee_id=appraisal.appraisee_id,
            cycle__academic_year__start_year__lt=appraisal.cycle.academic_year.start_year,
        )
        .select_related("cycle__academic_year")
        .prefetch_related("development_needs")
        .order_by("-cycle__academic_year__start_year")
        .first()
    )


def appraisal_page(
    appraisal: Appraisal, today: datetime.date, table: DeadlineTable | None = None
) -> AppraisalPage:
    """Lay out an appraisal loaded through with_page_relations for display."""
    objectives = list(appraisal.objectives.all())
    signatures: dict[str, dict[str, Signature]] = {}
    for signature in appraisal.signatures.all():
        signatures.setdefault(signature.document, {})[signature.party] = signature
    page = AppraisalPage(
        appraisal=appraisal,
        rows=_objective_rows(objectives, today),
        weighting_total=sum(o.weighting for o in objectives),
        summary=selectors.outcome_summary(objectives),
        due=next_due(appraisal, table or deadline_table(appraisal.cycle), today),
        steps=_steps(appraisal),
        signatures=signatures,
        needs=list(appraisal.development_needs.all()),
        annotations=list(appraisal.annotations.all()),
    )
    # While the objectives are being set, last year's development needs are
    # what the new objectives should address.
    if appraisal.status == Appraisal.Status.DRAFT:
        previous = _previous_appraisal(appraisal)
        if previous is not None:
            page.previous_appraisal = previous
            page.previous_needs = list(previous.development_needs.all())
    return page


@dataclass
class AppraiseeRow:
    appraisal: Appraisal
    due: StageDue | None
    summary: Any
    objective_count: int
    weighting_total: int


def appraisee_rows(
    appraisals: Sequence[Appraisal], table: DeadlineTable, today: datetime.date
) -> list[AppraiseeRow]:
    """Build the list rows of appraisals loaded with objectives_with_detail()."""
    rows = []
    for appraisal in appraisals:
        objectives = list(appraisal.objectives.all())
        rows.append(
            AppraiseeRow(
                appraisal=appraisal,
                due=next_due(appraisal, table, today),
                summary=selectors.outcome_summary(objectives),
                objective_count=len(objectives),
                weighting_total=sum(o.weighting for o in objectives),
            )
        )
    return rows


def overdue_condition(table: DeadlineTable, today: datetime.date) -> Q:
    """Return a filter matching the appraisals whose next stage is past its
    deadline, the same rule next_due applies to one appraisal.

    An academy's own date replaces the trust's for that academy, so the
    trust's date applies only to appraisals of academies without their own.
    """
    condition = Q(pk__in=[])
    for status in Appraisal.Status.values:
        stage = next_stage(status)
        if stage is None:
            continue
        for track in Track.values:
            key = (track, stage)
            with_own_date = [
                academy_id for academy_id, dates in table.academies.items() if key in dates
            ]
            for academy_id in with_own_date:
                if today > table.academies[academy_id][key]:
                    condition |= Q(status=status, track=track, academy_id=academy_id)
            trust_due = table.trust.get(key)
            if trust_due is not None and today > trust_due:
                condition |= Q(status=status, track=track) & (
                    Q(academy_id__isnull=True) | ~Q(academy_id__in=with_own_date)
                )
    return condition


def overdue_totals(
    appraisals: QuerySet[Appraisal], table: DeadlineTable, today: datetime.date
) -> tuple[int, int]:
    """Return (overdue, total) for the whole of `appraisals` in one query."""
    totals = appraisals.aggregate(
        total=Count("pk"), overdue=Count("pk", filter=overdue_condition(table, today))
    )
    return totals["overdue"], totals["total"]
