"""Parents' pages: a pupil's contact log, their progress letter as a PDF, and
the letters of a year group's pupils who are below TMG."""

import logging
import math
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from academies.models import YearGroup
from academies.selectors import visible_year_groups
from pupils.models import Pupil
from pupils.selectors import visible_pupils
from staff.models import StaffMember
from trust import clock
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter
from trust.pdf import render_pdf

from .parent_forms import ParentContactForm
from .parents import (
    Letter,
    build_letters,
    can_print_year_group_letters,
    letter_enrolment,
    letters_record,
    loggable_staff,
    parent_contact_log,
    pupil_parent_contacts,
    responsible_contacts,
    staff_member_of,
    standings_for,
    year_group_standings,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# NOTE: a year group's letters render in the request, so one PDF contains the
# letters of at most this many pupils and ?part= picks the next ones. A
# background job for whole year groups is still to come.
MAX_BATCH_PUPILS = 25
# Fields the service names in its errors -> the form field that shows them.
FORM_FIELD_OF = {
    "method": "method",
    "occurred_at": "occurred_date",
    "summary": "summary",
    "contact": "contact",
    "staff": "staff",
}


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries the UPN or year group, never a name, because
    # download folders and browser histories are not private.
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _unavailable(
    request: HttpRequest, title: str, message: str, back: tuple[str, str], status: int
) -> HttpResponse:
    """Render a page saying why no letter was printed, with a link back to `back` (url, label)."""
    context = {"page_title": title, "message": message, "back_url": back[0], "back_label": back[1]}
    return render(request, "progress/parent_letter_unavailable.html", context, status=status)


def _contacts_link(pupil: Pupil) -> tuple[str, str]:
    return reverse("progress:parent-contacts", args=[pupil.pk]), "Back to the parent contacts"


def _year_group_link(year_group: YearGroup) -> tuple[str, str]:
    return (
        reverse("progress:year-group-letters-page", args=[year_group.pk]),
        "Back to the year group's letters",
    )


def _printed_by(user: Any) -> str:
    account: User = user
    return account.get_full_name() or account.get_username()


# A pupil's contact log ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def parent_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """List the contacts logged about a pupil, newest first, and log a new one."""
    pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
    today = clock.today()
    enrolment = letter_enrolment(pupil, today)
    contacts = list(pupil.contacts.order_by("priority", "pk"))
    staff = list(loggable_staff(enrolment.academy_id, today)) if enrolment else []
    own = staff_member_of(request.user)

    status = 200
    if request.method == "POST":
        form = ParentContactForm(request.POST, contacts=contacts, staff=staff)
        if form.is_valid():
            try:
                parent_contact_log(
                    actor=request.user,
                    pupil=pupil,
                    method=form.cleaned_data["method"],
                    occurred_at=form.occurred_at(),
                    summary=form.cleaned_data["summary"],
                    staff_id=form.staff_id(),
                    contact_id=form.contact_id(),
                )
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(FORM_FIELD_OF.get(name), problem)
            else:
                messages.success(request, f"Contact about {pupil.display_name} logged.")
                return redirect("progress:parent-contacts", pk=pupil.pk)
        status = 400
    else:
        now = clock.now()
        form = ParentContactForm(
            contacts=contacts,
            staff=staff,
            initial={
                "occurred_date": now.strftime("%d/%m/%Y"),
                "occurred_time": now.strftime("%H:%M"),
                "staff": str(own.pk) if own and any(m.pk == own.pk for m in staff) else "",
            },
        )
    form.link_descriptions()
    page = Paginator(pupil_parent_contacts(pupil), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_title": f"Parent contacts: {pupil.display_name}",
        "pupil": pupil,
        "enrolment": enrolment,
        "form": form,
        "page": page,
        "recipients": [c for c in contacts if c.parental_responsibility],
        "others": [c for c in contacts if not c.parental_responsibility],
    }
    return render(request, "progress/parent_contacts.html", context, status=status)


# Letters -----------------------------------------------------------------------------------


def _letter_context(letters: list[Letter], title: str, printed_by: str) -> dict[str, Any]:
    return {"document_title": title, "letters": letters, "printed_by": printed_by}


def _sender(request: HttpRequest) -> StaffMember:
    """Return the staff record the letters are sent from; a login without one
    cannot send letters, because each letter is logged against a staff member."""
    staff = staff_member_of(request.user)
    if staff is None:
        raise PermissionDenied("Only staff with a staff record can print letters to parents.")
    return staff


@login_required
@require_GET
@handles_invalid_parameters
def parent_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """Print the progress letter to each of a pupil's contacts with parental
    responsibility (or the one chosen with ?contact=), one letter a page,
    and log each letter as a contact."""
    pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
    sender = _sender(request)
    today = clock.today()
    recipients = responsible_contacts([pupil]).get(pupil.pk, [])
    contact_id = id_parameter(request, "contact")
    if contact_id is not None:
        chosen = [c for c in recipients if c.pk == contact_id]
        if not chosen:
            raise InvalidParameter(
                "contact",
                str(contact_id),
                "it must be one of this pupil's contacts with parental responsibility, "
                "because only they receive letters",
            )
        recipients = chosen
    if not recipients:
        return _unavailable(
            request,
            "No letter to print",
            f"No contact of {pupil.display_name} has parental responsibility, so there is no "
            "one to address a letter to. Record the parents or carers on the pupil's record.",
            back=_contacts_link(pupil),
            status=409,
        )

    enrolment = letter_enrolment(pupil, today)
    if enrolment is None:
        return _unavailable(
            request,
            "No letter to print",
            f"{pupil.display_name} has no enrolment, so there is no academy to send from.",
            back=_contacts_link(pupil),
            status=409,
        )
    standings = standings_for([enrolment], today)
    letters = build_letters(
        [standings[pupil.pk]],
        {pupil.pk: recipients},
        signer=sender,
        signer_name=_printed_by(request.user),
        today=today,
    )
    title = f"Progress letter: {pupil.display_name}"
    pdf = render_pdf(
        "pdf/progress_letter.html", _letter_context(letters, title, _printed_by(request.user))
    )
    letters_record(actor=request.user, staff=sender, letters=letters)
    logger.info(
        "Progress letters printed pupil=%s letters=%s user=%s",
        pupil.pk,
        len(letters),
        request.user.pk,
    )
    suffix = f"-{contact_id}" if contact_id is not None else ""
    return _pdf_response(pdf, f"progress-letter-{pupil.upn}{suffix}.pdf")


def _part_parameter(request: HttpRequest, parts: int) -> int:
    raw = id_parameter(request, "part")
    if raw is None:
        return 1
    if raw > parts:
        raise InvalidParameter(
            "part", str(raw), f"it must be a part from 1 to {parts} of this year group's letters"
        )
    return raw


def _letters_year_group(request: HttpRequest, pk: int) -> YearGroup:
    year_group = get_object_or_404(visible_year_groups(request.user), pk=pk)
    if not can_print_year_group_letters(request.user, year_group):
        raise PermissionDenied(
            "Only the heads of this year, the academy's leaders and trust leaders print its "
            "letters."
        )
    return year_group


@login_required
@require_GET
def year_group_letters_page(request: HttpRequest, pk: int) -> HttpResponse:
    """List the year group's pupils whose parents get a letter, with a link to
    each part of the letters PDF."""
    year_group = _letters_year_group(request, pk)
    standings = year_group_standings(year_group, clock.today())
    recipients = responsible_contacts([s.pupil for s in standings])
    rows = [(s, len(recipients.get(s.pupil.pk, []))) for s in standings]
    parts = [
        {
            "number": number,
            "first": (number - 1) * MAX_BATCH_PUPILS + 1,
            "last": min(number * MAX_BATCH_PUPILS, len(standings)),
        }
        for number in range(1, math.ceil(len(standings) / MAX_BATCH_PUPILS) + 1)
    ]
    context = {
        "page_title": f"Letters to parents: {year_group.name}, {year_group.academy.name}",
        "year_group": year_group,
        "rows": rows,
        "parts": parts,
        "batch_size": MAX_BATCH_PUPILS,
    }
    return render(request, "progress/parent_year_group_letters.html", context)


@login_required
@require_GET
@handles_invalid_parameters
def year_group_letters(request: HttpRequest, pk: int) -> HttpResponse:
    """Print the letters to the parents of a year group's pupils below TMG in
    English or maths, or in two or more subjects, at most MAX_BATCH_PUPILS
    pupils a part."""
    year_group = _letters_year_group(request, pk)
    sender = _sender(request)
    today = clock.today()

    standings = year_group_standings(year_group, today)
    label = f"{year_group.name}, {year_group.academy.name}"
    if not standings:
        return _unavailable(
            request,
            "No letters to print",
            f"No pupil in {label} is below TMG in English or maths, or in two or more "
            "subjects, at their latest assessment point.",
            back=_year_group_link(year_group),
            status=409,
        )

    parts = math.ceil(len(standings) / MAX_BATCH_PUPILS)
    part = _part_parameter(request, parts)
    chosen = standings[(part - 1) * MAX_BATCH_PUPILS : part * MAX_BATCH_PUPILS]
    pupils: list[Pupil] = [s.pupil for s in chosen]
    letters = build_letters(
        chosen,
        responsible_contacts(pupils),
        signer=sender,
        signer_name=_printed_by(request.user),
        today=today,
    )
    if not letters:
        return _unavailable(
            request,
            "No letters to print",
            f"None of the pupils below TMG in {label} (part {part} of {parts}) has a contact "
            "with parental responsibility.",
            back=_year_group_link(year_group),
            status=409,
        )

    title = f"Progress letters: {label}"
    pdf = render_pdf(
        "pdf/progress_letter.html", _letter_context(letters, title, _printed_by(request.user))
    )
    letters_record(actor=request.user, staff=sender, letters=letters)
    logger.info(
        "Year group progress letters printed year_group=%s part=%s letters=%s user=%s",
        year_group.pk,
        part,
        len(letters),
        request.user.pk,
    )

    filename = f"progress-letters-year{year_group.nc_year}-{year_group.pk}-{today:%Y-%m-%d}"
    if parts > 1:
        filename += f"-part{part}-of-{parts}"
    return _pdf_response(pdf, filename + ".pdf")
