"""The targets page: the trust's targets for an academic year, editable by
trust leaders and trust administrators and read by the other trust-wide
roles, with England's published figures below them."""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from academies.models import AcademicYear, Academy
from trust import clock
from trust.admin_access import is_trust_admin

from . import national
from .access import dashboard_academies, sees_trust_dashboard
from .models import LOWER_IS_BETTER, Measure
from .target_forms import TargetGridForm, YearForm, format_target, was_name
from .targets import PER_100_MEASURES, TargetBook, can_edit_targets, save_targets, target_book


def _default_year(years: list[AcademicYear], today: datetime.date) -> AcademicYear | None:
    """Return the academic year containing `today`, else the latest one begun."""
    for year in years:
        if year.contains(today):
            return year
    begun = [year for year in years if year.start_date <= today]
    if begun:
        return begun[0]
    return years[-1] if years else None


def _columns_academies(academies: QuerySet[Academy], year: AcademicYear) -> list[Academy]:
    """Return the trust's academies open at some point in `year`, in name order."""
    open_in_year = Q(closed_on__isnull=True) | Q(closed_on__gt=year.start_date)
    return list(academies.filter(open_in_year, trust_id=year.trust_id).order_by("name"))


def _measure_rows(
    book: TargetBook, academies: list[Academy], form: TargetGridForm | None
) -> list[dict[str, Any]]:
    """Return one row per measure: its unit, which way is better, the
    trust-wide target, each academy's override and, for editors, the inputs
    (trust-wide first)."""
    inputs = dict(form.rows()) if form is not None else {}
    rows = []
    for measure in Measure:
        rows.append(
            {
                "measure": measure,
                "unit": "per 100 pupils" if measure in PER_100_MEASURES else "%",
                "better": "lower" if measure in LOWER_IS_BETTER else "higher",
                "trust_value": format_target(book.trust_target(measure.value)),
                "overrides": [format_target(book.override(measure.value, a.pk)) for a in academies],
                "inputs": inputs.get(measure, []),
            }
        )
    return rows


def _page(
    request: HttpRequest,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    return render(request, "reports/targets.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def targets_page(request: HttpRequest) -> HttpResponse:
    """Show (and for those allowed, save) the targets of one academic year."""
    if not sees_trust_dashboard(request.user):
        raise Http404("No targets page for this account.")
    academies = dashboard_academies(request.user)
    years = list(
        AcademicYear.objects.filter(trust_id__in=academies.values("trust_id")).order_by(
            "-start_year"
        )
    )
    editable = can_edit_targets(request.user)
    context: dict[str, Any] = {
        "page_title": "Targets",
        "editable": editable,
        "national_rows": national.national_table(),
        "national_admin_url": (
            reverse("admin:reports_nationalfigure_changelist")
            if is_trust_admin(request.user)
            else None
        ),
    }

    year_form = YearForm(request.GET if "year" in request.GET else None, years=years)
    year = _default_year(years, clock.today())
    if year_form.is_bound:
        if not year_form.is_valid():
            context.update(year_form=year_form, year=None)
            return _page(request, context, status=400)
        year = next(y for y in years if y.pk == year_form.cleaned_data["year"])
    elif year is not None:
        year_form = YearForm(None, years=years)
        year_form.fields["year"].initial = year.pk
    context.update(year_form=year_form, year=year)
    if year is None:
        return _page(request, context)

    columns = _columns_academies(academies, year)
    book = target_book(year, columns)
    context["academies"] = columns
    if request.method == "GET":
        form = TargetGridForm(academies=columns, book=book) if editable else None
        context.update(form=form, rows=_measure_rows(book, columns, form))
        return _page(request, context)

    if not editable:
        raise PermissionDenied("Only trust leaders and trust administrators set targets.")
    data = request.POST.copy()
    form = TargetGridForm(data, academies=columns, book=book)
    context.update(form=form, rows=_measure_rows(book, columns, form))
    if form.is_valid():
        try:
            changed = save_targets(
                actor=request.user,
                academic_year=year,
                academies={a.pk: a for a in columns},
                values=form.changes,
                previous=form.previous,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
            # Show the values saved by the other editor as the new starting
            # point, so saving again replaces them on purpose.
            fresh = target_book(year, columns)
            for measure, academy_id in form.changes:
                data[was_name(measure, academy_id)] = format_target(
                    fresh.values.get((measure, academy_id))
                )
        else:
            if changed:
                noun = "target" if changed == 1 else "targets"
                messages.success(request, f"Saved {changed} {noun} for {year.name}.")
            else:
                messages.info(request, f"No target changed for {year.name}.")
            return redirect(f"{reverse('report-targets')}?year={year.pk}")
    form.mark_invalid()
    return _page(request, context, status=400)
