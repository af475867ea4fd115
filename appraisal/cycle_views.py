"""Cycle administration pages: the list of cycles, opening a cycle, the
trust's deadlines, an academy's own deadlines and opening appraisals for
every member of staff in post."""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from academies.models import AcademicYear, Academy

from . import services
from .access import can_run_cycles, can_set_academy_deadlines
from .completion import deadline_academies
from .cycle_forms import (
    CycleCreateForm,
    CycleSettingsForm,
    DeadlinesForm,
    DescribedForm,
    OpenAllForm,
)
from .deadlines import STAGES, cycle_window, deadline_table, default_deadlines
from .models import Appraisal, AppraisalCycle, Deadline, Stage, Track

DeadlineKey = tuple[str, str]


def _require_cycle_runner(request: HttpRequest) -> None:
    if not can_run_cycles(request.user):
        raise PermissionDenied("Only trust HR and trust leaders run appraisal cycles.")


def _deadline_rows(
    dates: dict[DeadlineKey, datetime.date],
) -> list[tuple[str, list[datetime.date | None]]]:
    """Return (stage label, [date per track]) rows for a deadlines table."""
    return [
        (Stage(stage).label, [dates.get((track.value, stage)) for track in Track])
        for stage in STAGES
    ]


@login_required
def cycle_list(request: HttpRequest) -> HttpResponse:
    """List the cycles with their trust deadlines and the links to change them."""
    runs_cycles = can_run_cycles(request.user)
    academies = deadline_academies(request.user)
    if not (runs_cycles or academies):
        raise PermissionDenied(
            "Appraisal cycles are run by trust HR, trust leaders and headteachers."
        )

    cycles = list(AppraisalCycle.objects.select_related("academic_year"))
    opened = dict(
        Appraisal.objects.values("cycle_id")
        .annotate(number=Count("pk"))
        .values_list("cycle_id", "number")
    )
    # Every cycle's deadlines in one query, rather than deadline_table per cycle.
    trust_dates: dict[int, dict[DeadlineKey, datetime.date]] = {}
    own_dates: dict[int, set[int]] = {}
    for row in Deadline.objects.filter(cycle__in=cycles).values(
        "cycle_id", "academy_id", "track", "stage", "due"
    ):
        if row["academy_id"] is None:
            trust_dates.setdefault(row["cycle_id"], {})[(row["track"], row["stage"])] = row["due"]
        else:
            own_dates.setdefault(row["cycle_id"], set()).add(row["academy_id"])
    rows = [
        {
            "cycle": cycle,
            "deadlines": _deadline_rows(trust_dates.get(cycle.pk, {})),
            "appraisals": opened.get(cycle.pk, 0),
            "academies_with_own_dates": [
                academy for academy in academies if academy.pk in own_dates.get(cycle.pk, set())
            ],
        }
        for cycle in cycles
    ]
    return render(
        request,
        "appraisal/cycle_list.html",
        {
            "page_title": "Appraisal cycles",
            "rows": rows,
            "tracks": [track.label for track in Track],
            "runs_cycles": runs_cycles,
            "academies": academies,
            "years_without_cycle": runs_cycles
            and AcademicYear.objects.filter(appraisal_cycle__isnull=True).exists(),
        },
    )


def _form_page(
    request: HttpRequest,
    template: str,
    form: DescribedForm,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    form.link_descriptions()
    return render(request, template, {"form": form, **context}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def cycle_create(request: HttpRequest) -> HttpResponse:
    """Open the appraisal cycle of an academic year with the default deadlines."""
    _require_cycle_runner(request)
    years = AcademicYear.objects.filter(appraisal_cycle__isnull=True).order_by("-start_year")
    form = CycleCreateForm(request.POST if request.method == "POST" else None, years=years)
    context = {
        "page_title": "Open an appraisal cycle",
        "defaults": [(year, _deadline_rows(default_deadlines(year))) for year in years],
        "tracks": [track.label for track in Track],
    }
    if request.method == "GET":
        return _form_page(request, "appraisal/cycle_create.html", form, context)
    if form.is_valid():
        try:
            cycle = services.cycle_create(
                request.user,
                form.cleaned_data["academic_year"],
                uses_pay_recommendation=form.cleaned_data["uses_pay_recommendation"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                f"Opened the {cycle.academic_year.name} appraisal cycle with the default "
                "deadlines; change them below if the trust's policy differs.",
            )
            return redirect("appraisal:cycle-deadlines", pk=cycle.pk)
    return _form_page(request, "appraisal/cycle_create.html", form, context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def cycle_deadlines(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the trust's deadlines of a cycle, per track and stage."""
    _require_cycle_runner(request)
    cycle = get_object_or_404(AppraisalCycle.objects.select_related("academic_year"), pk=pk)
    year = cycle.academic_year
    first, last = cycle_window(year)
    context = {
        "page_title": f"Trust deadlines, {year.name} appraisal cycle",
        "cycle": cycle,
        "window": (first, last),
    }
    if request.method == "GET":
        form = DeadlinesForm(
            academic_year=year, initial=DeadlinesForm.initial_from(deadline_table(cycle).trust)
        )
        return _form_page(request, "appraisal/cycle_deadlines.html", form, context)
    form = DeadlinesForm(request.POST, academic_year=year)
    if form.is_valid():
        try:
            services.deadlines_set(request.user, cycle, dates=form.dates())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Saved the trust's deadlines for {year.name}.")
            return redirect("appraisal:cycles")
    return _form_page(request, "appraisal/cycle_deadlines.html", form, context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def cycle_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a cycle's pay recommendation on or off."""
    _require_cycle_runner(request)
    cycle = get_object_or_404(AppraisalCycle.objects.select_related("academic_year"), pk=pk)
    year = cycle.academic_year
    context = {"page_title": f"Settings of the {year.name} appraisal cycle", "cycle": cycle}
    if request.method == "GET":
        form = CycleSettingsForm(initial={"uses_pay_recommendation": cycle.uses_pay_recommendation})
        return _form_page(request, "appraisal/cycle_settings.html", form, context)
    form = CycleSettingsForm(request.POST)
    if form.is_valid():
        uses_pay = form.cleaned_data["uses_pay_recommendation"]
        try:
            services.cycle_settings_set(request.user, cycle, uses_pay_recommendation=uses_pay)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            recorded = "record" if uses_pay else "do not record"
            messages.success(
                request,
                f"Saved: final reviews of the {year.name} cycle {recorded} a pay recommendation.",
            )
            return redirect("appraisal:cycles")
    return _form_page(request, "appraisal/cycle_settings.html", form, context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def academy_deadlines(request: HttpRequest, pk: int, academy_pk: int) -> HttpResponse:
    """Move an academy's deadlines within the cycle; a blank date uses the trust's."""
    cycle = get_object_or_404(AppraisalCycle.objects.select_related("academic_year"), pk=pk)
    academy = get_object_or_404(Academy, pk=academy_pk)
    if not can_set_academy_deadlines(request.user, academy.pk):
        raise PermissionDenied(
            "Only the academy's headteacher, trust HR and trust leaders set its deadlines."
        )

    year = cycle.academic_year
    table = deadline_table(cycle)
    first, last = cycle_window(year)
    context = {
        "page_title": f"Deadlines at {academy.name}, {year.name} appraisal cycle",
        "cycle": cycle,
        "academy": academy,
        "window": (first, last),
    }

    if request.method == "GET":
        form = DeadlinesForm(
            academic_year=year,
            fallback=table.trust,
            initial=DeadlinesForm.initial_from(table.academies.get(academy.pk, {})),
        )
        return _form_page(request, "appraisal/cycle_academy_deadlines.html", form, context)
    form = DeadlinesForm(request.POST, academic_year=year, fallback=table.trust)
    if form.is_valid():
        try:
            services.deadlines_set(request.user, cycle, dates=form.dates(), academy=academy)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Saved the deadlines of {academy.name} for {year.name}.")
            return redirect("appraisal:cycles")
    return _form_page(request, "appraisal/cycle_academy_deadlines.html", form, context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def cycle_open_all(request: HttpRequest, pk: int) -> HttpResponse:
    """Open an appraisal for every member of staff in post who has none in the
    cycle: trust-wide or for one academy, or a headteacher's own academy."""
    cycle = get_object_or_404(AppraisalCycle.objects.select_related("academic_year"), pk=pk)
    whole_trust = can_run_cycles(request.user)
    academies = deadline_academies(request.user)
    if not (whole_trust or academies):
        raise PermissionDenied("Only trust HR, trust leaders and headteachers open appraisals.")

    choices = Academy.objects.filter(pk__in=[a.pk for a in academies]).order_by("name")
    form = OpenAllForm(
        request.POST if request.method == "POST" else None,
        academies=choices,
        whole_trust=whole_trust,
    )
    context = {
        "page_title": f"Open appraisals, {cycle.academic_year.name} cycle",
        "cycle": cycle,
        "whole_trust": whole_trust,
    }

    if request.method == "GET":
        return _form_page(request, "appraisal/cycle_open_all.html", form, context)
    if form.is_valid():
        academy = form.cleaned_data["academy"]
        try:
            opened = services.appraisals_open_all(request.user, cycle, academy=academy)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            where = academy.name if academy else "the trust"
            messages.success(
                request,
                f"Opened {opened} appraisal{'s' if opened != 1 else ''} at {where} for "
                f"{cycle.academic_year.name}; staff who already had one keep it.",
            )
            return redirect("appraisal:cycles")
    return _form_page(request, "appraisal/cycle_open_all.html", form, context, status=400)
