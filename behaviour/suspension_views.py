"""Suspension pages: recording one, its detail (with notifications,
reintegration and withdrawal) and the register of an academy or the trust."""

import datetime
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from academies.models import Academy
from academies.selectors import visible_academies
from attendance.models import AttendanceMark
from pupils.selectors import current_enrolment, visible_pupils
from trust import clock
from trust.access import scope_for
from trust.exports import EXPORT_FORMATS, export_response
from trust.params import (
    InvalidParameter,
    handles_invalid_parameters,
    id_parameter,
    text_parameter_preview,
)

from .access import visible_suspensions
from .codes import REASONS, reason_label
from .filters import check_date_range, date_parameter
from .models import GUIDANCE_EDITION, Suspension
from .suspension_forms import (
    PermanentEndForm,
    SuspensionDetailsForm,
    SuspensionForm,
    WithdrawForm,
)
from .suspensions import (
    MAX_DAYS_PER_YEAR,
    can_record,
    can_withdraw,
    days_text,
    headteachers,
    suspension_flags,
    suspension_record,
    suspension_update,
    suspension_withdraw,
)

# Counts below this are shown to trustees as "fewer than 5", so a small
# group cannot identify a pupil.
SUPPRESS_BELOW = 5
REGISTER_HEADERS = [
    "Pupil",
    "UPN",
    "Academy",
    "Year group",
    "Kind",
    "Status",
    "First day",
    "Start session",
    "Last day",
    "School days",
    "Reasons",
    "Decided by",
    "Decided on",
    "Parents told on",
    "Governing board told on",
    "Local authority told on",
    "Reintegration meeting on",
    "Alternative provision",
    "Misses a public exam",
    "Flags",
]
COUNT_HEADERS = ["Group", "Name", "Suspensions", "Permanent exclusions", "Lunchtime suspensions"]


def _apply_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str]) -> None:
    """Attach a service's ValidationError to the form fields it names."""
    for name, problems in error.message_dict.items():
        target = aliases.get(name, name)
        form.add_error(target if target in form.fields else None, problems)


# Recording ----------------------------------------------------------------------


@login_required
@handles_invalid_parameters
def suspension_new(request: HttpRequest) -> HttpResponse:
    """Record a suspension or exclusion of the pupil given by ?pupil=ID."""
    pupil_id = id_parameter(request, "pupil")
    if pupil_id is None:
        raise InvalidParameter(
            "pupil", "", "it must be the number of a pupil; open the suspension page from a pupil"
        )
    pupil = get_object_or_404(visible_pupils(request.user), pk=pupil_id)
    today = clock.today()
    enrolment = current_enrolment(pupil, today)
    if enrolment is None:
        raise Http404("The pupil is not on roll today.")
    if not can_record(request.user, enrolment.academy_id, enrolment.year_group_id):
        raise PermissionDenied("You may not record suspensions for this pupil.")

    heads = headteachers(enrolment.academy_id, today)
    form = SuspensionForm(request.POST or None, headteachers=heads)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            suspension = suspension_record(
                actor=request.user,
                pupil_id=pupil.pk,
                kind=data["kind"],
                start_date=data["start_date"],
                start_session=data["start_session"],
                sessions=data["sessions"],
                end_date=data["end_date"],
                reasons=form.reasons(),
                decided_by_id=data["decided_by"].pk,
                decided_on=data["decided_on"],
                details=data["details"],
                alternative_provision=data["alternative_provision"],
                alternative_provision_details=data["alternative_provision_details"],
                misses_public_exam=data["misses_public_exam"],
                parents_notified_on=data["parents_notified_on"],
            )
        except ValidationError as error:
            _apply_errors(form, error, {"reasons": "reason_1"})
        else:
            messages.success(
                request,
                f"{suspension.get_kind_display()} of {pupil.display_name} recorded from "
                f"{suspension.start_date:%d/%m/%Y}.",
            )
            return redirect("behaviour:suspension-detail", pk=suspension.pk)
    return render(
        request,
        "behaviour/suspension_new.html",
        {
            "page_title": f"Record a suspension or exclusion: {pupil.display_name}",
            "pupil": pupil,
            "enrolment": enrolment,
            "form": form,
            "headteachers": heads,
        },
        status=400 if request.method == "POST" else 200,
    )


# Detail ---------------------------------------------------------------------------


def _detail_context(request: HttpRequest, suspension: Suspension) -> dict[str, Any]:
    sessions = list(suspension.days.order_by("date", "session"))
    marks = {
        (m.date, m.session): m
        for m in AttendanceMark.objects.filter(
            pupil_id=suspension.pupil_id, date__in={row.date for row in sessions}
        )
    }
    session_rows = [{"row": row, "mark": marks.get((row.date, row.session))} for row in sessions]
    user = request.user
    return {
        "page_title": f"{suspension.get_kind_display()} of {suspension.pupil.display_name}",
        "suspension": suspension,
        "reasons": [(code, reason_label(code)) for code in suspension.reasons],
        "session_rows": session_rows,
        "marks_written": sum(1 for row in sessions if row.mark_written),
        "flags": suspension_flags([suspension])[suspension.pk],
        "guidance_edition": GUIDANCE_EDITION,
        "can_edit": suspension.status == Suspension.Status.ACTIVE
        and can_record(user, suspension.academy_id, suspension.year_group_id),
        "can_withdraw": suspension.status == Suspension.Status.ACTIVE
        and can_withdraw(user, suspension),
        "needs_end": suspension.kind == Suspension.Kind.PERMANENT and suspension.end_date is None,
    }


def _details_initial(suspension: Suspension) -> dict[str, Any]:
    return {name: getattr(suspension, name) for name in SuspensionDetailsForm.base_fields}


@login_required
def suspension_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a suspension; POST records details, the last day on roll or a withdrawal."""
    suspension = get_object_or_404(
        visible_suspensions(request.user).select_related(
            "pupil", "academy", "year_group", "decided_by", "academic_year", "incident"
        ),
        pk=pk,
    )
    context = _detail_context(request, suspension)
    details_form = SuspensionDetailsForm(initial=_details_initial(suspension))
    end_form = PermanentEndForm()
    withdraw_form = WithdrawForm()
    status = 200

    if request.method == "POST":
        action = request.POST.get("action", "")
        bound: forms.Form
        if action == "details" and context["can_edit"]:
            bound = details_form = SuspensionDetailsForm(request.POST)
            if details_form.is_valid():
                return _save(request, suspension, bound, "Details saved.", suspension_update)
        elif action == "end" and context["can_edit"] and context["needs_end"]:
            bound = end_form = PermanentEndForm(request.POST)
            if end_form.is_valid():
                return _save(
                    request, suspension, bound, "Last day on roll saved.", suspension_update
                )
        elif action == "withdraw" and context["can_withdraw"]:
            bound = withdraw_form = WithdrawForm(request.POST)
            if withdraw_form.is_valid():
                return _withdraw(request, suspension, withdraw_form)
        else:
            raise PermissionDenied("You may not make this change to the suspension.")
        status = 400

    context.update(
        {"details_form": details_form, "end_form": end_form, "withdraw_form": withdraw_form}
    )
    return render(request, "behaviour/suspension_detail.html", context, status=status)


def _save(
    request: HttpRequest, suspension: Suspension, form: forms.Form, done: str, service: Any
) -> HttpResponse:
    try:
        service(actor=request.user, suspension=suspension, **form.cleaned_data)
    except ValidationError as error:
        _apply_errors(form, error, {})
        return _render_failed(request, suspension, form)
    messages.success(request, done)
    return redirect("behaviour:suspension-detail", pk=suspension.pk)


def _withdraw(request: HttpRequest, suspension: Suspension, form: WithdrawForm) -> HttpResponse:
    try:
        suspension_withdraw(
            actor=request.user,
            suspension=suspension,
            reason=form.cleaned_data["withdrawn_reason"],
        )
    except ValidationError as error:
        _apply_errors(form, error, {"status": "withdrawn_reason"})
        return _render_failed(request, suspension, form)
    messages.success(request, "The suspension was withdrawn; its sessions after today are removed.")
    return redirect("behaviour:suspension-detail", pk=suspension.pk)


def _render_failed(request: HttpRequest, suspension: Suspension, form: forms.Form) -> HttpResponse:
    suspension.refresh_from_db()
    context = _detail_context(request, suspension)
    context.update(
        {
            "details_form": SuspensionDetailsForm(initial=_details_initial(suspension)),
            "end_form": PermanentEndForm(),
            "withdraw_form": WithdrawForm(),
        }
    )
    key = {
        SuspensionDetailsForm: "details_form",
        PermanentEndForm: "end_form",
        WithdrawForm: "withdraw_form",
    }[type(form)]
    context[key] = form
    return render(request, "behaviour/suspension_detail.html", context, status=400)


# Register ----------------------------------------------------------------------------


class Filters:
    """The register's query parameters, read and checked."""

    def __init__(self, request: HttpRequest) -> None:
        today = clock.today()
        start_year = clock.academic_year_start(today)
        self.start = date_parameter(request, "from") or datetime.date(start_year, 9, 1)
        self.end = date_parameter(request, "to") or datetime.date(start_year + 1, 8, 31)
        check_date_range(self.start, self.end)
        self.kind = request.GET.get("kind", "").strip()
        if self.kind and self.kind not in Suspension.Kind.values:
            allowed = ", ".join(Suspension.Kind.values)
            raise InvalidParameter(
                "kind", text_parameter_preview(self.kind), f"it must be one of {allowed}"
            )
        self.academy_id = id_parameter(request, "academy")
        self.format = request.GET.get("format", "").strip()
        if self.format and self.format not in EXPORT_FORMATS:
            raise InvalidParameter(
                "format", text_parameter_preview(self.format), "it must be csv or xlsx"
            )

    def apply(self, suspensions: Any) -> Any:
        suspensions = suspensions.filter(start_date__range=(self.start, self.end))
        if self.kind:
            suspensions = suspensions.filter(kind=self.kind)
        if self.academy_id is not None:
            suspensions = suspensions.filter(academy_id=self.academy_id)
        return suspensions

    def query(self, **extra: str) -> str:
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "kind": self.kind,
            "academy": str(self.academy_id or ""),
            **extra,
        }
        return "&".join(f"{key}={value}" for key, value in values.items() if value)


def _shown_count(count: int, suppress: bool) -> str | int:
    if suppress and 0 < count < SUPPRESS_BELOW:
        return f"fewer than {SUPPRESS_BELOW}"
    return count


def _count_rows(
    suspensions: list[Suspension], academies: list[Academy], *, suppress: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return counts by academy and by reason, each split by kind."""
    by_academy: dict[int, Counter[str]] = defaultdict(Counter)
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    days: dict[int, Decimal] = defaultdict(Decimal)
    for suspension in suspensions:
        by_academy[suspension.academy_id][suspension.kind] += 1
        if suspension.kind != Suspension.Kind.PERMANENT:
            days[suspension.academy_id] += suspension.school_days
        for code in suspension.reasons:
            by_reason[code][suspension.kind] += 1

    def row(name: str, counts: Counter[str]) -> dict[str, Any]:
        return {
            "name": name,
            "suspension": _shown_count(counts[Suspension.Kind.SUSPENSION], suppress),
            "permanent": _shown_count(counts[Suspension.Kind.PERMANENT], suppress),
            "lunchtime": _shown_count(counts[Suspension.Kind.LUNCHTIME], suppress),
        }

    academy_rows = []
    for academy in academies:
        counts = by_academy.get(academy.pk, Counter())
        entry = row(academy.name, counts)
        total = sum(counts.values())
        hide_days = suppress and 0 < total < SUPPRESS_BELOW
        entry["days"] = (
            f"fewer than {SUPPRESS_BELOW} records" if hide_days else days_text(days[academy.pk])
        )
        entry["academy"] = academy
        academy_rows.append(entry)
    reason_rows = []
    for code in [*REASONS, *sorted(set(by_reason) - set(REASONS))]:
        if code in by_reason:
            reason_rows.append({**row(f"{code}: {reason_label(code)}", by_reason[code])})
    return academy_rows, reason_rows


def _flags_text(flags: list[Any]) -> str:
    return " ".join(flag.message for flag in flags)


@login_required
def suspension_register(request: HttpRequest) -> HttpResponseBase:
    """List suspensions with counts by academy and reason, and export them.

    Staff see the suspensions visible to them. Users who see academies but
    no pupils (trustees) see counts only, with small groups suppressed.
    An invalid filter gives the 400 page that handles_invalid_parameters
    gives, written out here because an export is not an HttpResponse.
    """
    try:
        filters = Filters(request)
    except InvalidParameter as error:
        return render(
            request,
            "trust/bad_request.html",
            {"message": str(error), "page_title": "Invalid filter"},
            status=400,
        )
    user = request.user
    scope = scope_for(user)
    academies = list(visible_academies(user).order_by("name"))
    if filters.academy_id is not None and filters.academy_id not in {a.pk for a in academies}:
        raise Http404("No academy found.")
    shown_academies = [a for a in academies if filters.academy_id in (None, a.pk)]
    counts_only = not scope.sees_any_pupil()

    if counts_only:
        base = Suspension.objects.filter(academy__in=[a.pk for a in shown_academies])
    else:
        base = visible_suspensions(user)
    suspensions = list(
        filters.apply(base)
        .select_related("pupil", "academy", "year_group", "decided_by")
        .order_by("-start_date", "-pk")
    )
    academy_rows, reason_rows = _count_rows(suspensions, shown_academies, suppress=counts_only)

    if counts_only:
        if filters.format:
            rows = [
                ["Academy", r["name"], r["suspension"], r["permanent"], r["lunchtime"]]
                for r in academy_rows
            ] + [
                ["Reason", r["name"], r["suspension"], r["permanent"], r["lunchtime"]]
                for r in reason_rows
            ]
            return export_response(
                filename="suspension-counts",
                fmt=filters.format,  # type: ignore[arg-type]
                headers=COUNT_HEADERS,
                rows=rows,
            )
        suspensions = []

    flags = suspension_flags(suspensions)
    if filters.format:
        return export_response(
            filename="suspensions",
            fmt=filters.format,  # type: ignore[arg-type]
            headers=REGISTER_HEADERS,
            rows=(_export_row(s, flags[s.pk]) for s in suspensions),
        )

    table_rows = [{"suspension": s, "flags": flags[s.pk]} for s in suspensions]
    return render(
        request,
        "behaviour/suspension_register.html",
        {
            "page_title": "Suspension register",
            "filters": filters,
            "academies": academies,
            "academy_rows": academy_rows,
            "reason_rows": reason_rows,
            "rows": table_rows,
            "counts_only": counts_only,
            "kinds": Suspension.Kind.choices,
            "guidance_edition": GUIDANCE_EDITION,
            "max_days": MAX_DAYS_PER_YEAR,
            "suppress_below": SUPPRESS_BELOW,
            "csv_query": filters.query(format="csv"),
            "xlsx_query": filters.query(format="xlsx"),
            "register_url": reverse("behaviour:suspension-register"),
        },
    )


def _export_row(suspension: Suspension, flags: list[Any]) -> list[object]:
    return [
        suspension.pupil.display_name,
        suspension.pupil.upn,
        suspension.academy.name,
        suspension.year_group.name,
        suspension.get_kind_display(),
        suspension.get_status_display(),
        suspension.start_date,
        suspension.start_session,
        suspension.end_date,
        None if suspension.kind == Suspension.Kind.PERMANENT else suspension.school_days,
        ", ".join(suspension.reasons),
        suspension.decided_by.full_name,
        suspension.decided_on,
        suspension.parents_notified_on,
        suspension.governors_notified_on,
        suspension.local_authority_notified_on,
        suspension.reintegration_meeting_on,
        suspension.alternative_provision,
        suspension.misses_public_exam,
        _flags_text(flags),
    ]
