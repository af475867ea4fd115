"""Attainment 8 pages: a pupil's slots and Progress 8, and an academy's averages by year."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from academies.models import Academy
from academies.selectors import visible_academies
from pupils.selectors import visible_pupils

from .attainment import SLOT_ELEMENTS, academy_attainment8, pupil_attainment8, signed


@login_required
def pupil_attainment8_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the qualifications in each of a pupil's Attainment 8 slots and their Progress 8."""
    pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
    result = pupil_attainment8(pupil)
    academy = None
    if result is not None:
        academy = visible_academies(request.user).filter(pk=result.academy_id).first()
    elements = []
    if result is not None:
        for element, (label, _) in SLOT_ELEMENTS.items():
            elements.append(
                {
                    "label": label,
                    "total": result.totals[element],
                    "score": signed(getattr(result.progress8, element)) if result.progress8 else "",
                }
            )
    return render(
        request,
        "progress/attainment_pupil.html",
        {
            "page_title": f"Attainment 8 of {pupil.display_name}",
            "pupil": pupil,
            "result": result,
            "elements": elements,
            "academy": academy,
            "progress8": signed(result.progress8.progress8) if result and result.progress8 else "",
        },
    )


@login_required
def academy_attainment8_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an academy's average Attainment 8 and Progress 8 by results year."""
    academy: Academy = get_object_or_404(visible_academies(request.user), pk=pk)
    years = academy_attainment8(academy)
    rows = [
        {
            "year": year,
            "average_progress8": signed(year.average_progress8),
        }
        for year in years
    ]
    return render(
        request,
        "progress/attainment_academy.html",
        {
            "page_title": f"Attainment 8 at {academy.name}",
            "academy": academy,
            "rows": rows,
        },
    )
