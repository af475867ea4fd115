"""Pages of the trust's CPD offer: the offer list, one event, adding,
changing and cancelling events, booking, attendance and the CPD summary."""

import datetime
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from academies.models import AcademicYear
from behaviour.filters import check_date_range, date_parameter
from progress.models import Subject
from trust import clock
from trust.charts import bar_chart
from trust.exports import export_response
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter

from . import access
from .cpd import (
    OFFER_EXPORT_HEADERS,
    SUMMARY_EXPORT_HEADERS,
    CpdSummary,
    OfferFilters,
    Tally,
    attendance_mark,
    booking_cancel,
    booking_make,
    cpd_summary,
    event_bookings,
    event_cancel,
    event_for,
    event_save,
    hostable_academies,
    may_host_trust_wide,
    offer_events,
    offer_export_rows,
    offer_subjects,
    places_left_label,
    summary_export_rows,
)
from .cpd_forms import ATTENDANCE_CHOICES, EventForm
from .models import CpdBooking, CpdEvent, CpdKind

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
ATTENDANCE_FIELD = re.compile(r"attendance-([0-9]{1,12})")
YEAR_PATTERN = re.compile(r"20[0-9]{2}")


def _export_format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", "").strip()
    if fmt and fmt not in ("csv", "xlsx"):
        raise InvalidParameter("format", fmt[:40], "it must be csv or xlsx")
    return fmt


def _event_or_404(request: HttpRequest, pk: int) -> CpdEvent:
    event = event_for(request.user, pk)
    if event is None:
        raise Http404("No CPD event matches the given query.")
    return event


def _error_text(error: ValidationError) -> str:
    return " ".join(message for messages in error.message_dict.values() for message in messages)


# The offer -----------------------------------------------------------------------------


def _offer_filters(request: HttpRequest) -> OfferFilters:
    show = request.GET.get("show", "").strip()
    if show not in ("", "upcoming", "past"):
        raise InvalidParameter("show", show[:40], "it must be upcoming or past")
    kind = request.GET.get("kind", "").strip()
    if kind and kind not in CpdKind.values:
        raise InvalidParameter("kind", kind[:40], f"it must be one of {', '.join(CpdKind.values)}")
    return OfferFilters(past=show == "past", subject_id=id_parameter(request, "subject"), kind=kind)


@login_required
@handles_invalid_parameters
def offer_page(request: HttpRequest) -> HttpResponse:
    """List the CPD events open to every academy's staff, upcoming or past,
    filtered by subject and kind; ?format=csv or xlsx downloads the list."""
    filters = _offer_filters(request)
    fmt = _export_format(request)
    events = offer_events(request.user, filters)

    if fmt:
        return export_response(  # type: ignore[return-value]
            filename=f"cpd-offer-{'past' if filters.past else 'upcoming'}-{clock.today():%Y%m%d}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=OFFER_EXPORT_HEADERS,
            rows=offer_export_rows(events),
        )

    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "places_left": places_left_label(event.places, event.booked_count),  # type: ignore[attr-defined]
        }
        for event in page.object_list
    ]
    # The filters without the page and format, for the download links.
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "appraisal/cpd_offer.html",
        {
            "page_title": "Past CPD events" if filters.past else "CPD offer",
            "filters": filters,
            "rows": rows,
            "page": page,
            "subjects": offer_subjects(request.user),
            "kinds": CpdKind.choices,
            "today": clock.today(),
            "query": query.urlencode(),
            "can_add": access.can_run_cpd_offer(request.user),
        },
    )


# One event -----------------------------------------------------------------------------


def _event_context(request: HttpRequest, event: CpdEvent) -> dict[str, Any]:
    runs = access.can_run_cpd_offer(request.user, event)
    today = clock.today()
    return {
        "page_title": event.title,
        "event": event,
        "places_left": places_left_label(event.places, event.booked_count),  # type: ignore[attr-defined]
        "is_full": event.booked_count >= event.places,  # type: ignore[attr-defined]
        "bookable": not event.cancelled and event.starts_on >= today,
        "started": event.starts_on <= today,
        "runs_event": runs,
        "bookings": event_bookings(event) if runs else [],
    }


@login_required
def event_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an event with the user's booking; those who run it also see who is booked."""
    event = _event_or_404(request, pk)
    return render(request, "appraisal/cpd_event.html", _event_context(request, event))


def _event_form(request: HttpRequest, initial: dict[str, Any]) -> EventForm:
    return EventForm(
        request.POST if request.method == "POST" else None,
        subjects=Subject.objects.order_by("name"),
        academies=hostable_academies(request.user),
        trust_wide=may_host_trust_wide(request.user),
        initial=initial,
    )


def _apply_errors(form: EventForm, error: ValidationError) -> None:
    for name, problems in error.message_dict.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


def _save_event(request: HttpRequest, form: EventForm, event: CpdEvent | None) -> CpdEvent | None:
    """Save the form's values through event_save, or put its errors on the form."""
    if not form.is_valid():
        return None
    try:
        return event_save(request.user, event=event, **form.cleaned_data)
    except ValidationError as error:
        logger.info("cpd event not saved user=%s event=%s: %s", request.user.pk, event, error)
        _apply_errors(form, error)
        return None


@login_required
def event_add(request: HttpRequest) -> HttpResponse:
    """Add an event to the offer."""
    if not access.can_run_cpd_offer(request.user):
        raise PermissionDenied("Only those who run the CPD offer may add events.")
    # Both dates start empty, because an end date prefilled with today would
    # be before any later start date typed.
    form = _event_form(request, {})
    if request.method == "POST":
        event = _save_event(request, form, None)
        if event is not None:
            messages.success(request, f"“{event.title}” added to the CPD offer.")
            return redirect(reverse("appraisal:cpd-event", args=[event.pk]))
    return render(
        request,
        "appraisal/cpd_event_form.html",
        {"page_title": "Add a CPD event", "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _run_event(request: HttpRequest, pk: int) -> CpdEvent:
    event = _event_or_404(request, pk)
    if not access.can_run_cpd_offer(request.user, event):
        raise PermissionDenied("Only those who run this event may change it.")
    return event


@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an event's details; places cannot go below the places booked."""
    event = _run_event(request, pk)
    if event.cancelled:
        messages.error(request, f"“{event.title}” is cancelled, so it cannot be changed.")
        return redirect(reverse("appraisal:cpd-event", args=[event.pk]))
    initial = {
        "title": event.title,
        "kind": event.kind,
        "subject": event.subject_id,
        "host_academy": event.host_academy_id,
        "provider": event.provider,
        "venue": event.venue,
        "starts_on": event.starts_on,
        "ends_on": event.ends_on,
        "hours": event.hours,
        "cost_per_place": event.cost_per_place,
        "places": event.places,
        "description": event.description,
    }
    form = _event_form(request, initial)
    if request.method == "POST":
        saved = _save_event(request, form, event)
        if saved is not None:
            messages.success(request, f"“{saved.title}” saved.")
            return redirect(reverse("appraisal:cpd-event", args=[saved.pk]))
    return render(
        request,
        "appraisal/cpd_event_form.html",
        {"page_title": f"Change {event.title}", "form": form, "event": event},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def event_cancel_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm, then cancel an event that has not started."""
    event = _run_event(request, pk)
    context = {**_event_context(request, event), "page_title": f"Cancel {event.title}"}
    if request.method != "POST":
        return render(request, "appraisal/cpd_event_cancel.html", context)
    try:
        event_cancel(request.user, event)
    except ValidationError as error:
        context["error"] = _error_text(error)
        return render(request, "appraisal/cpd_event_cancel.html", context, status=400)
    messages.success(request, f"“{event.title}” is cancelled. Nobody can book it now.")
    return redirect(reverse("appraisal:cpd-event", args=[event.pk]))


# Booking -------------------------------------------------------------------------------


@login_required
@require_POST
def book_place(request: HttpRequest, pk: int) -> HttpResponse:
    """Book the user a place on an event."""
    event = _event_or_404(request, pk)
    try:
        booking_make(request.user, event)
    except ValidationError as error:
        context = _event_context(request, event)
        context["error"] = _error_text(error)
        return render(request, "appraisal/cpd_event.html", context, status=400)
    messages.success(
        request,
        f"You have a place on “{event.title}” on {event.starts_on:%d/%m/%Y}.",
    )
    return redirect(reverse("appraisal:cpd-event", args=[event.pk]))


@login_required
@require_POST
def cancel_place(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel the user's own place on an event."""
    event = _event_or_404(request, pk)
    booking_id = getattr(event, "my_booking_id", None)
    if booking_id is None:
        context = _event_context(request, event)
        context["error"] = f"You have no place on “{event.title}” to cancel."
        return render(request, "appraisal/cpd_event.html", context, status=400)
    try:
        booking_cancel(request.user, CpdBooking.objects.get(pk=booking_id))
    except ValidationError as error:
        context = _event_context(request, event)
        context["error"] = _error_text(error)
        return render(request, "appraisal/cpd_event.html", context, status=400)
    messages.success(request, f"Your place on “{event.title}” is cancelled.")
    return redirect(reverse("appraisal:cpd-event", args=[event.pk]))


@login_required
@require_POST
def cancel_booking(request: HttpRequest, pk: int, booking_pk: int) -> HttpResponse:
    """Cancel someone's place, for those who run the event."""
    event = _run_event(request, pk)
    booking = CpdBooking.objects.select_related("staff").filter(event=event, pk=booking_pk).first()
    if booking is None:
        raise Http404("No booking on this event matches the given query.")
    try:
        booking_cancel(request.user, booking)
    except ValidationError as error:
        context = _event_context(request, event)
        context["error"] = _error_text(error)
        return render(request, "appraisal/cpd_event.html", context, status=400)
    messages.success(request, f"{booking.staff.full_name}'s place on “{event.title}” is cancelled.")
    return redirect(reverse("appraisal:cpd-event", args=[event.pk]))


# Attendance ----------------------------------------------------------------------------


def _typed_attendance(
    request: HttpRequest, bookings: list[CpdBooking]
) -> tuple[dict[int, str], list[str]]:
    """Read attendance-<booking id> fields; return the values and any problems."""
    known = {b.pk for b in bookings}
    allowed = {value for value, _ in ATTENDANCE_CHOICES}
    typed: dict[int, str] = {}
    problems: list[str] = []
    for key in request.POST:
        match = ATTENDANCE_FIELD.fullmatch(key)
        if not match:
            continue
        booking_id = int(match.group(1))
        value = request.POST.get(key, "")
        if booking_id not in known:
            problems.append(f"Booking {booking_id} is not a live booking on this event.")
        elif value not in allowed:
            problems.append(
                f"Attendance “{value[:40]}” for booking {booking_id} is not one of "
                "attended, absent or empty (not marked)."
            )
        else:
            typed[booking_id] = value
    return typed, problems


@login_required
def attendance_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark each booking attended or did not attend, from the day the event starts.

    All marks of one save are written together or not at all.
    """
    event = _run_event(request, pk)
    bookings = event_bookings(event)
    context: dict[str, Any] = {
        "page_title": f"Attendance: {event.title}",
        "event": event,
        "bookings": bookings,
        "choices": ATTENDANCE_CHOICES,
        "open": not event.cancelled and event.starts_on <= clock.today(),
        "problems": [],
    }
    if request.method != "POST":
        return render(request, "appraisal/cpd_attendance.html", context)

    typed, problems = _typed_attendance(request, bookings)
    if not context["open"]:
        problems.insert(
            0,
            f"“{event.title}” was cancelled, so it has no attendance."
            if event.cancelled
            else f"“{event.title}” starts on {event.starts_on:%d/%m/%Y}; attendance can be "
            "marked from that day.",
        )
    if problems:
        context["problems"] = problems
        return render(request, "appraisal/cpd_attendance.html", context, status=400)

    changed = [b for b in bookings if b.pk in typed and typed[b.pk] != b.attendance]
    created = removed = 0
    kept_notes: list[str] = []
    try:
        with transaction.atomic():
            for booking in changed:
                result = attendance_mark(request.user, booking, typed[booking.pk])
                created += result.entry_created
                removed += result.entry_removed
                if result.entry_kept_reason:
                    kept_notes.append(f"{booking.staff.full_name}: {result.entry_kept_reason}")
    except ValidationError as error:
        context["problems"] = [_error_text(error)]
        return render(request, "appraisal/cpd_attendance.html", context, status=400)

    summary = f"Attendance saved for {len(changed)} booking{'' if len(changed) == 1 else 's'}."
    if created:
        summary += f" {created} portfolio entr{'y' if created == 1 else 'ies'} added."
    if removed:
        summary += f" {removed} portfolio entr{'y' if removed == 1 else 'ies'} removed."
    messages.success(request, summary)
    for note in kept_notes:
        messages.warning(request, note)
    return redirect(reverse("appraisal:cpd-attendance", args=[event.pk]))


# The CPD summary -----------------------------------------------------------------------


def _summary_range(request: HttpRequest) -> tuple[int, datetime.date, datetime.date]:
    """Read the academic year (?year=2026) and the optional from and to dates."""
    raw = request.GET.get("year", "").strip()
    if raw and not YEAR_PATTERN.fullmatch(raw):
        raise InvalidParameter(
            "year", raw[:40], "it must be the first calendar year of an academic year, such as 2026"
        )
    year = int(raw) if raw else clock.academic_year_start(clock.today())
    start = date_parameter(request, "from") or datetime.date(year, 9, 1)
    end = date_parameter(request, "to") or datetime.date(year + 1, 8, 31)
    check_date_range(start, end)
    return year, start, end


# Number formats of the summary tables, as Django's floatformat arguments:
# whole numbers, hours to one decimal place and pounds to two, with commas.
COUNT_FORMAT, HOURS_FORMAT, POUNDS_FORMAT = "0g", "1g", "2g"


@dataclass(frozen=True)
class SummaryTable:
    """One table of the summary page: a header row, body rows and a total row.
    Each cell is a (value, floatformat argument) pair."""

    caption: str
    first_header: str
    headers: list[str]
    rows: list[tuple[str, list[tuple[Any, str]]]]
    total: tuple[str, list[tuple[Any, str]]]


def _hours_cells(summary: CpdSummary, tally: Tally) -> list[tuple[Any, str]]:
    by_kind = [(tally.hours_by_kind.get(kind, 0), HOURS_FORMAT) for kind in summary.kinds]
    return [
        (tally.staff_count, COUNT_FORMAT),
        (tally.entries, COUNT_FORMAT),
        *by_kind,
        (tally.hours, HOURS_FORMAT),
        (tally.hours_per_head, HOURS_FORMAT),
    ]


def _cost_cells(summary: CpdSummary, tally: Tally) -> list[tuple[Any, str]]:
    by_kind = [(tally.cost_by_kind.get(kind, 0), POUNDS_FORMAT) for kind in summary.kinds]
    return [*by_kind, (tally.cost, POUNDS_FORMAT), (tally.cost_per_head, POUNDS_FORMAT)]


def _summary_tables(summary: CpdSummary, tallies: list[Tally], first: str) -> list[SummaryTable]:
    """Return the hours table and the cost table of one breakdown of the summary."""
    labels = [summary.kind_label(kind) for kind in summary.kinds]
    total_label = "Trust total" if len(summary.academies) > 1 else "Total"
    hours = SummaryTable(
        caption=f"CPD hours by {first.lower()} and kind",
        first_header=first,
        headers=["Staff", "Entries", *labels, "Total hours", "Hours per person"],
        rows=[(tally.label, _hours_cells(summary, tally)) for tally in tallies],
        total=(total_label, _hours_cells(summary, summary.total)),
    )
    cost = SummaryTable(
        caption=f"CPD cost in pounds by {first.lower()} and kind",
        first_header=first,
        headers=[*labels, "Total cost (£)", "Cost per person (£)"],
        rows=[(tally.label, _cost_cells(summary, tally)) for tally in tallies],
        total=(total_label, _cost_cells(summary, summary.total)),
    )
    return [hours, cost]


@login_required
@handles_invalid_parameters
def summary_page(request: HttpRequest) -> HttpResponse:
    """Show CPD hours and cost per academy and per staff group, by kind, from
    portfolio entries started in the range; ?format=csv or xlsx downloads it."""
    academies = list(access.cpd_summary_academies(request.user).order_by("name"))
    if not academies:
        raise PermissionDenied("The CPD summary is for trust and academy leaders.")
    year, start, end = _summary_range(request)
    fmt = _export_format(request)
    summary = cpd_summary(
        academies,
        start,
        end,
        central_team=access.cpd_summary_includes_central_team(request.user),
    )

    if fmt:
        return export_response(  # type: ignore[return-value]
            filename=f"cpd-summary-{start:%Y%m%d}-{end:%Y%m%d}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=SUMMARY_EXPORT_HEADERS,
            rows=summary_export_rows(summary),
        )

    # With no entries the chart gets no labels, so it shows "No data yet"
    # instead of bars of 0.
    charted = summary.academies if summary.total.entries else []
    chart = bar_chart(
        title=f"CPD hours by academy, {start:%d/%m/%Y} to {end:%d/%m/%Y}",
        labels=[tally.label for tally in charted],
        series={"Hours": [float(tally.hours) for tally in charted]},
        y_title="Hours",
        x_title="Academy",
    )
    years = sorted(
        {y for y in AcademicYear.objects.values_list("start_year", flat=True)} | {year},
        reverse=True,
    )
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "appraisal/cpd_summary.html",
        {
            "page_title": "CPD summary",
            "summary": summary,
            "academy_tables": _summary_tables(summary, summary.academies, "Academy"),
            "group_tables": _summary_tables(summary, summary.groups, "Staff group"),
            "chart": chart,
            "year": year,
            "years": years,
            "from_value": request.GET.get("from", ""),
            "to_value": request.GET.get("to", ""),
            "query": query.urlencode(),
            "whole_trust": len(academies) > 1,
        },
    )
