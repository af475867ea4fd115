"""The PDF of a signed-off appraisal record."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from trust.clock import LONDON
from trust.pdf import render_pdf

from .access import visible_appraisals
from .measures import MeasureValue, measure_values
from .models import Appraisal, Objective, ObjectiveReview, Signature
from .selectors import appraisal_detail, outcome_summary


@dataclass(frozen=True)
class ObjectiveRecord:
    objective: Objective
    mid_year: ObjectiveReview | None
    final: ObjectiveReview | None
    measure: MeasureValue | None


def signed_off_day(appraisal: Appraisal) -> datetime.date:
    """Return the sign-off date in Europe/London, the day for which the
    record's measure values are computed."""
    assert appraisal.signed_off_at is not None
    return timezone.localtime(appraisal.signed_off_at, LONDON).date()


def _objective_records(appraisal: Appraisal, day: datetime.date) -> list[ObjectiveRecord]:
    objectives = list(appraisal.objectives.all())
    values = measure_values(objectives, day)
    records = []
    for objective in objectives:
        reviews = {review.kind: review for review in objective.reviews.all()}
        records.append(
            ObjectiveRecord(
                objective=objective,
                mid_year=reviews.get(ObjectiveReview.Kind.MID_YEAR),
                final=reviews.get(ObjectiveReview.Kind.FINAL),
                measure=values.get(objective.pk),
            )
        )
    return records


def _in_signing_order(signatures: list[Signature]) -> list[Signature]:
    """Return the objectives' signatures, then the final review's, appraisee before appraiser."""
    documents = list(Signature.Document.values)
    parties = list(Signature.Party.values)
    return sorted(signatures, key=lambda s: (documents.index(s.document), parties.index(s.party)))


@login_required
def record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the PDF of a signed-off appraisal to those who may read it.

    An appraisal the user may not read returns 404. One not yet signed off
    returns 409 with a page saying so, because its content may still change.
    """
    visible = get_object_or_404(visible_appraisals(request.user), pk=pk)
    appraisal = appraisal_detail(visible)
    if not appraisal.is_signed_off:
        return render(
            request,
            "appraisal/record_pdf_unavailable.html",
            {"page_title": "Appraisal record not signed off", "appraisal": appraisal},
            status=409,
        )
    day = signed_off_day(appraisal)
    records = _objective_records(appraisal, day)
    signatures = list(appraisal.signatures.all())
    pdf = render_pdf(
        "appraisal/record_pdf.html",
        {
            "document_title": f"Appraisal record: {appraisal.appraisee.full_name}",
            "appraisal": appraisal,
            "records": records,
            "measured_on": day,
            "outcome": outcome_summary([record.objective for record in records]),
            "signatures": _in_signing_order(signatures),
            "development_needs": list(appraisal.development_needs.all()),
            "annotations": list(appraisal.annotations.all()),
            "shows_pay": appraisal.cycle.uses_pay_recommendation
            and bool(appraisal.pay_recommendation.strip()),
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries the cycle and record number only, so no name has
    # to be squeezed into an ASCII header.
    year = appraisal.cycle.academic_year.start_year
    response["Content-Disposition"] = f'inline; filename="appraisal-{year}-{appraisal.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
