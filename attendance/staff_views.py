"""Staff absence pages: the overview, one person's spells, and the forms
that record, change and delete a spell."""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from academies.models import AcademicYear, Academy
from academies.selectors import academic_year_on
from staff.models import StaffMember
from trust import clock
from trust.charts import bar_chart
from trust.params import InvalidParameter, handles_invalid_parameters, text_parameter_preview

from . import staff_absence as service
from .models import StaffAbsence
from .staff_forms import StaffAbsenceForm

# The overview lists at most this many people by Bradford factor.
ATTENTION_LIMIT = 20


def _chosen_year(request: HttpRequest) -> AcademicYear | None:
    raw = request.GET.get("year", "").strip()
    if not raw:
        return academic_year_on(clock.today())
    years = AcademicYear.objects.order_by("-start_year")
    if raw.isascii() and raw.isdigit() and len(raw) == 4:
        found = years.filter(start_year=int(raw)).first()
        if found is not None:
            return found
    recorded = ", ".join(str(y) for y in years.values_list("start_year", flat=True).distinct()[:10])
    raise InvalidParameter(
        "year",
        text_parameter_preview(raw),
        f"it must be the first calendar year of a recorded academic year ({recorded})",
    )


def _rates_context(request: HttpRequest, year: AcademicYear | None) -> dict:
    whole_trust, academy_ids = service.aggregate_academy_ids(request.user)
    if year is None or not (whole_trust or academy_ids):
        return {}
    academies = Academy.objects.filter(trust_id=year.trust_id)
    if not whole_trust:
        academies = academies.filter(pk__in=academy_ids)
    table = service.absence_rates(
        academies=list(academies), year=year, include_central=whole_trust, to=clock.today()
    )
    chart = bar_chart(
        title=f"Staff absence rate by academy and term, {year.name}",
        labels=[row.label for row in table.rows],
        series={
            label: [row.terms[index].rate for row in table.rows]  # type: ignore[misc]
            for index, label in enumerate(table.term_labels)
        },
        y_title="% of working days lost",
        x_title="Academy",
    )
    return {
        "rates": table,
        "rates_chart": chart,
        "reasons": StaffAbsence.Reason.choices,
        "whole_trust": whole_trust,
    }


def _attention(request: HttpRequest, today: datetime.date) -> list:
    """Return the people with the highest Bradford factors whom the user may
    see by name: everyone for trust HR, an academy's staff for its head."""
    if not (service.is_trust_hr(request.user) or service.headteacher_academy_ids(request.user)):
        return []
    people = service.visible_absence_people(request.user)
    return service.highest_bradford(people, today, ATTENTION_LIMIT)


@login_required
@handles_invalid_parameters
def overview(request: HttpRequest) -> HttpResponse:
    """Show the user's own absence, their direct reports', and the absence
    rates of the academies they lead."""
    today = clock.today()
    year = _chosen_year(request)
    my_staff_id = service.user_staff_id(request.user)
    me = (
        StaffMember.objects.select_related("academy").filter(pk=my_staff_id).first()
        if my_staff_id is not None
        else None
    )
    own = service.people_summaries([me], year, today)[0] if me else None
    own_spells = list(
        StaffAbsence.objects.filter(staff=me, end_date__gte=year.start_date)
        if me and year
        else StaffAbsence.objects.none()
    )
    reports = (
        StaffMember.objects.select_related("academy")
        .filter(line_manager=me)
        .order_by("last_name", "first_name")
        if me
        else StaffMember.objects.none()
    )
    context = {
        "page_title": "Staff absence",
        "today": today,
        "year": year,
        "years": AcademicYear.objects.order_by("-start_year")[:5],
        "me": me,
        "own": own,
        "own_spells": own_spells,
        "reports": service.people_summaries(list(reports), year, today),
        "attention": _attention(request, today),
        "attention_limit": ATTENTION_LIMIT,
        **_rates_context(request, year),
    }
    return render(request, "attendance/staff_absence_overview.html", context)


def _visible_person(request: HttpRequest, staff_id: int) -> StaffMember:
    return get_object_or_404(service.visible_absence_people(request.user), pk=staff_id)


@login_required
def person(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Show one person's spells and Bradford factor, to those allowed."""
    member = _visible_person(request, staff_id)
    today = clock.today()
    year = academic_year_on(today)
    summary = service.people_summaries([member], year, today)[0]
    spells = list(
        StaffAbsence.objects.filter(staff=member).select_related("recorded_by__staff_member")
    )
    days = service.working_days(
        member,
        min((s.start_date for s in spells), default=today),
        max((s.end_date for s in spells), default=today),
    )
    rows = [
        (
            spell,
            service.days_lost_between(spell, days),
            service.can_change_absence(request.user, spell),
        )
        for spell in spells
    ]
    by_reason: dict[str, Decimal] = {}
    if year:
        for spell, _lost, _can in rows:
            lost = service.days_lost_between(spell, days, year.start_date, today)
            if lost:
                by_reason[spell.get_reason_display()] = (
                    by_reason.get(spell.get_reason_display(), Decimal(0)) + lost
                )
    return render(
        request,
        "attendance/staff_absence_person.html",
        {
            "page_title": f"Absence of {member.full_name}",
            "member": member,
            "summary": summary,
            "rows": rows,
            "by_reason": sorted(by_reason.items()),
            "year": year,
            "is_self": service.is_self(request.user, member),
            "can_manage": service.can_manage_person(request.user, member),
            "can_record": service.can_manage_person(request.user, member)
            or service.is_self(request.user, member),
            "bradford_reasons": "sickness and unauthorised absence",
        },
    )


def _form_page(
    request: HttpRequest,
    member: StaffMember,
    form: StaffAbsenceForm,
    absence: StaffAbsence | None,
    status: int = 200,
) -> HttpResponse:
    verb = "Change" if absence else "Record"
    form.link_descriptions()
    return render(
        request,
        "attendance/staff_absence_form.html",
        {
            "page_title": f"{verb} absence of {member.full_name}",
            "member": member,
            "form": form,
            "absence": absence,
            "own_sickness_only": form.own_sickness_only,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Record a spell for a person: managers for their people, anyone for
    their own sickness."""
    member = _visible_person(request, staff_id)
    manages = service.can_manage_person(request.user, member)
    if not (manages or service.is_self(request.user, member)):
        raise Http404("No staff member with that id is in your scope.")
    own_only = not manages
    if request.method == "GET":
        form = StaffAbsenceForm(
            own_sickness_only=own_only,
            initial={"start_date": clock.today(), "end_date": clock.today()},
        )
        return _form_page(request, member, form, None)
    form = StaffAbsenceForm(request.POST, own_sickness_only=own_only)
    if form.is_valid():
        try:
            absence = service.absence_record(actor=request.user, staff=member, spell=form.spell())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request, f"Saved: {absence}, {service.days_lost(absence)} working days."
            )
            return redirect("attendance:staff_absence_person", staff_id=member.pk)
    return _form_page(request, member, form, None, status=400)


def _changeable(request: HttpRequest, absence_id: int) -> StaffAbsence:
    absence = get_object_or_404(service.visible_absences(request.user), pk=absence_id)
    if not service.can_change_absence(request.user, absence):
        raise Http404("No spell with that id is yours to change.")
    return absence


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Change a spell's dates, parts, reason or notes."""
    absence = _changeable(request, absence_id)
    own_only = not service.can_manage_person(request.user, absence.staff)
    if request.method == "GET":
        form = StaffAbsenceForm(
            own_sickness_only=own_only, initial=StaffAbsenceForm.initial_from(absence)
        )
        return _form_page(request, absence.staff, form, absence)
    form = StaffAbsenceForm(request.POST, own_sickness_only=own_only)
    if form.is_valid():
        try:
            service.absence_change(actor=request.user, absence=absence, spell=form.spell())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request, f"Saved: {absence}, {service.days_lost(absence)} working days."
            )
            return redirect("attendance:staff_absence_person", staff_id=absence.staff_id)
    return _form_page(request, absence.staff, form, absence, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Ask to confirm, then delete a spell recorded in error."""
    absence = _changeable(request, absence_id)
    if request.method == "POST":
        staff_id = absence.staff_id
        described = str(absence)
        service.absence_delete(actor=request.user, absence=absence)
        messages.success(request, f"Deleted: {described}.")
        return redirect("attendance:staff_absence_person", staff_id=staff_id)
    return render(
        request,
        "attendance/staff_absence_delete.html",
        {"page_title": "Delete a spell of absence", "absence": absence, "member": absence.staff},
    )
