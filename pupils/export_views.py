"""Pupil downloads: one pupil's profile as PDF, and the pupil list as CSV or XLSX."""

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from academies.models import year_group_name
from academies.selectors import visible_academies, visible_tutor_groups, visible_year_groups
from trust import clock
from trust.access import Scope, scope_for
from trust.audit import record_sensitive_view
from trust.exports import EXPORT_FORMATS, ExportFormat, export_response
from trust.models import AuditEvent
from trust.pdf import render_pdf

from .models import SENSITIVE_FIELDS, Enrolment, Pupil, SenStatus, active_on
from .selectors import (
    can_see_sensitive,
    current_enrolment,
    fsm_ever6_filter,
    is_disadvantaged,
    pupil_premium_categories,
    search_pupils,
    visible_pupils,
)

# Fields recorded in the audit trail when the profile prints the sensitive section.
PROFILE_SENSITIVE_FIELDS = [*SENSITIVE_FIELDS, "sen_needs"]
MAX_SEARCH_LENGTH = 100
EXPORT_HEADERS = [
    "UPN",
    "Forename",
    "Surname",
    "Date of birth",
    "Academy",
    "Year group",
    "Tutor group",
    "SEN status",
    "EAL",
    "Pupil premium",
]
LOOKED_AFTER_HEADER = "Looked after"
AUDIT_BATCH_SIZE = 2000


# Profile PDF ---------------------------------------------------------------


@dataclass(frozen=True)
class ContactLine:
    priority: int
    name: str
    relationship: str
    parental_responsibility: bool
    phone: str
    email: str
    address: str
    address_withheld: bool


def profile_context(pupil: Pupil, *, show_sensitive: bool, printed_by: str) -> dict[str, Any]:
    """Build the context of the profile PDF, with the sensitive fields only if `show_sensitive`."""
    current = current_enrolment(pupil)
    tutor = current.tutor_group.tutor if current and current.tutor_group else None
    history = pupil.enrolments.select_related(
        "academy", "academic_year", "year_group", "tutor_group"
    ).order_by("-start_date", "-pk")
    contacts = [
        ContactLine(
            priority=contact.priority,
            name=contact.name,
            relationship=contact.relationship,
            parental_responsibility=contact.parental_responsibility,
            phone=contact.phone,
            email=contact.email,
            address=contact.address,
            address_withheld=bool(contact.address) and not contact.address_shareable,
        )
        for contact in pupil.contacts.order_by("priority", "pk")
    ]
    context: dict[str, Any] = {
        "document_title": f"Pupil profile: {pupil.display_name}",
        "printed_by": printed_by,
        "pupil": pupil,
        "has_preferred_name": bool(pupil.preferred_forename or pupil.preferred_surname),
        "current": current,
        "tutor": tutor,
        "history": list(history),
        "contacts": contacts,
        "premium_categories": pupil_premium_categories(pupil, include_looked_after=show_sensitive),
        "disadvantaged": is_disadvantaged(pupil),
        "show_sensitive": show_sensitive,
    }
    if show_sensitive:
        context["sen_needs"] = list(pupil.sen_needs.order_by("rank", "pk"))
    return context


@login_required
@require_GET
def pupil_profile_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Download one pupil's profile as a PDF.

    A pupil outside the user's scope raises Http404.
    """
    pupils = visible_pupils(request.user).prefetch_related("fsm_periods")
    pupil = get_object_or_404(pupils, pk=pk)
    show_sensitive = can_see_sensitive(request.user, pupil)
    user = cast(User, request.user)  # login_required lets only signed-in users through.
    printed_by = user.get_full_name() or user.get_username()

    pdf = render_pdf(
        "pdf/pupil_profile.html",
        profile_context(pupil, show_sensitive=show_sensitive, printed_by=printed_by),
    )
    if show_sensitive:
        record_sensitive_view(
            request.user,
            pupil,
            PROFILE_SENSITIVE_FIELDS,
            reason="Printed in the pupil profile PDF",
        )

    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries the UPN, never the name, because download folders
    # and browser histories are not private.
    response["Content-Disposition"] = f'inline; filename="pupil-profile-{pupil.upn}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# Pupil list export ---------------------------------------------------------


class InvalidFilter(ValueError):
    """Query parameter of the export with a value it does not allow."""


def filtered_pupils(user: Any, params: Any, day: datetime.date) -> QuerySet[Pupil]:
    """Return the visible pupils that match the list filters in `params`.

    `q` searches names and UPNs. `academy`, `year_group` and `tutor_group`
    match the pupil's enrolment on `day`, and an id outside the user's scope
    matches no pupil. Raise InvalidFilter for a malformed value.
    """
    query = params.get("q", "").strip()
    if len(query) > MAX_SEARCH_LENGTH:
        raise InvalidFilter(
            f"The search {query[:20] + '…'!r} is too long. "
            f"Use at most {MAX_SEARCH_LENGTH} characters."
        )
    pupils = visible_pupils(user, day)
    if query:
        pupils = search_pupils(pupils, query)

    current = Enrolment.objects.filter(active_on(day), pupil_id=OuterRef("pk"))
    sources = {
        "academy": visible_academies(user),
        "year_group": visible_year_groups(user),
        "tutor_group": visible_tutor_groups(user),
    }
    for name, visible in sources.items():
        object_id = _id_filter_value(params, name)
        if object_id is not None:
            in_scope = visible.filter(pk=object_id).values("pk")
            pupils = pupils.filter(Exists(current.filter(**{f"{name}_id__in": in_scope})))
    return pupils


def _id_filter_value(params: Any, name: str) -> int | None:
    raw = str(params.get(name, "")).strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) == 0:
        raise InvalidFilter(
            f"The {name} filter {raw[:40]!r} is not a valid id. Use a whole number such as 12."
        )
    return int(raw)


def _sensitive_condition(scope: Scope) -> Q | None:
    """Return the condition for pupils whose looked-after status the user may see,
    None when the user sees none. It matches pupils.selectors.can_see_sensitive."""
    if scope.safeguarding_all:
        return Q(pk__isnull=False)
    if not scope.safeguarding_academy_ids:
        return None
    enrolled = Enrolment.objects.filter(
        pupil_id=OuterRef("pk"), academy_id__in=scope.safeguarding_academy_ids
    )
    return Q(Exists(enrolled))


def export_queryset(pupils: QuerySet[Pupil], day: datetime.date, sensitive: Q | None) -> Any:
    """Annotate `pupils` with every export column, so the export is one query
    whatever the number of pupils."""
    current = Enrolment.objects.filter(active_on(day), pupil_id=OuterRef("pk")).order_by(
        "-start_date", "-pk"
    )

    def latest(field_name: str) -> Subquery:
        return Subquery(current.values(field_name)[:1])

    # Pupil premium here is the DfE disadvantaged flag: FSM Ever 6, looked
    # after or previously looked after. The service premium is separate.
    premium = fsm_ever6_filter(day) | Q(looked_after=True) | Q(previously_looked_after=True)
    forename = Coalesce(NullIf("preferred_forename", Value("")), "legal_forename")
    surname = Coalesce(NullIf("preferred_surname", Value("")), "legal_surname")
    annotated = pupils.annotate(
        export_forename=forename,
        export_surname=surname,
        current_academy_name=latest("academy__name"),
        current_nc_year=latest("year_group__nc_year"),
        current_tutor_group_name=latest("tutor_group__name"),
        pupil_premium=ExpressionWrapper(premium, output_field=BooleanField()),
        sensitive_visible=ExpressionWrapper(
            sensitive if sensitive is not None else Q(pk__in=[]),
            output_field=BooleanField(),
        ),
    )
    return annotated.order_by("export_surname", "export_forename", "pk").values_list(
        "upn",
        "export_forename",
        "export_surname",
        "date_of_birth",
        "current_academy_name",
        "current_nc_year",
        "current_tutor_group_name",
        "sen_status",
        "eal",
        "pupil_premium",
        "looked_after",
        "sensitive_visible",
    )


def export_rows(values: Any, *, with_looked_after: bool) -> Iterator[Sequence[object]]:
    """Turn rows of export_queryset into the cells of the export."""
    for (
        upn,
        forename,
        surname,
        date_of_birth,
        academy,
        nc_year,
        tutor_group,
        sen_status,
        eal,
        premium,
        looked_after,
        sensitive_visible,
    ) in values:
        row: list[object] = [
            upn,
            forename,
            surname,
            date_of_birth,
            academy or "",
            year_group_name(nc_year) if nc_year is not None else "",
            tutor_group or "",
            SenStatus(sen_status).label,
            bool(eal),
            bool(premium),
        ]
        if with_looked_after:
            # Blank for a pupil whose academy is outside the user's
            # safeguarding permission.
            row.append(bool(looked_after) if sensitive_visible else None)
        yield row


def record_export_views(user: Any, pupils: QuerySet[Pupil], sensitive: Q, fmt: str) -> None:
    """Log a sensitive view of the looked-after field for each exported pupil
    whose value the export shows."""
    logged_pupils = pupils.filter(sensitive).only(
        "pk", "legal_forename", "legal_surname", "preferred_forename", "preferred_surname"
    )
    actor = user if user.is_authenticated else None
    events = [
        AuditEvent(
            actor=actor,
            action=AuditEvent.Action.VIEW_SENSITIVE,
            model=Pupil._meta.label,
            object_id=str(pupil.pk),
            object_repr=str(pupil)[:200],
            pupil_ref=pupil.pk,
            changes={"fields": ["looked_after"]},
            reason=f"Pupil list export ({fmt.upper()})",
        )
        for pupil in logged_pupils.order_by("pk")
    ]
    AuditEvent.objects.bulk_create(events, batch_size=AUDIT_BATCH_SIZE)


@login_required
@require_GET
def pupil_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Download the pupil list, with the list's filters, as CSV or XLSX."""
    if fmt not in EXPORT_FORMATS:
        return HttpResponseBadRequest(
            f'Export format {fmt[:20]!r} is not available; use "csv" or "xlsx".',
            content_type="text/plain; charset=utf-8",
        )
    scope = scope_for(request.user)
    # Trustees see aggregates only, never a pupil's name.
    if not scope.sees_any_pupil():
        raise Http404("No pupils are in your scope.")

    day = clock.today()
    try:
        pupils = filtered_pupils(request.user, request.GET, day)
    except InvalidFilter as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")

    sensitive = _sensitive_condition(scope)
    headers = list(EXPORT_HEADERS)
    if sensitive is not None:
        headers.append(LOOKED_AFTER_HEADER)
        record_export_views(request.user, pupils, sensitive, fmt)

    values = export_queryset(pupils, day, sensitive)
    rows = export_rows(values.iterator(chunk_size=2000), with_looked_after=sensitive is not None)
    return export_response(
        filename=f"pupils-{day:%Y-%m-%d}",
        fmt=cast(ExportFormat, fmt),
        headers=headers,
        rows=rows,
    )
