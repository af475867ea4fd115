"""Pages: a pupil's behaviour timeline (with its export) and the follow-ups list."""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from pupils.models import Pupil
from pupils.selectors import current_enrolment, visible_pupils
from trust import clock
from trust.exports import EXPORT_FORMATS, export_response
from trust.params import (
    ID_PATTERN,
    InvalidParameter,
    handles_invalid_parameters,
    text_parameter_preview,
)
from trust.pdf import render_pdf

from . import services
from .filters import check_date_range, date_parameter
from .models import FollowUp, Polarity
from .suspensions import pupil_suspension_summary
from .timeline import (
    EXPORT_HEADERS,
    RESTRICTED,
    TimelineFilters,
    TimelineRow,
    export_rows,
    follow_up_lists,
    follow_ups_for,
    may_see_all_follow_ups,
    pupil_totals,
    timeline_rows,
)

MAX_RESOLUTION_LENGTH = FollowUp._meta.get_field("resolution").max_length or 500


def timeline_filters(request: HttpRequest) -> TimelineFilters:
    """Read the ?from=, ?to= and ?polarity= filters, raising InvalidParameter on a bad value."""
    start = date_parameter(request, "from")
    end = date_parameter(request, "to")
    if start and end:
        check_date_range(start, end)
    polarity = request.GET.get("polarity", "").strip()
    if polarity and polarity not in Polarity.values:
        raise InvalidParameter(
            "polarity", text_parameter_preview(polarity), "it must be positive or negative"
        )
    return TimelineFilters(start=start, end=end, polarity=polarity)


def export_format(request: HttpRequest) -> str:
    """Read ?format=: empty for the page, or csv or xlsx for a download."""
    fmt = request.GET.get("format", "").strip()
    if fmt and fmt not in (*EXPORT_FORMATS, "pdf"):
        raise InvalidParameter("format", text_parameter_preview(fmt), "it must be csv, xlsx or pdf")
    return fmt


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def pupil_timeline(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show a pupil's behaviour totals and incidents, newest first, or export the incidents."""
    day = clock.today()
    pupil = get_object_or_404(visible_pupils(request.user, day), pk=pk)
    filters = timeline_filters(request)
    fmt = export_format(request)
    rows = timeline_rows(request.user, pupil, filters, day)
    if fmt == "pdf":
        return _behaviour_log_pdf(request, pupil, rows, day)
    if fmt:
        return export_response(
            filename=f"behaviour-{pupil.display_name}-{day:%Y-%m-%d}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=EXPORT_HEADERS,
            rows=export_rows(rows),
        )

    term, year = pupil_totals(request.user, pupil, day)
    filter_values = {key: request.GET.get(key, "").strip() for key in ("from", "to", "polarity")}
    active_filters = {key: value for key, value in filter_values.items() if value}
    context: dict[str, Any] = {
        "page_title": f"Behaviour of {pupil.display_name}",
        "pupil": pupil,
        "enrolment": current_enrolment(pupil, day),
        "today": day,
        "term": term,
        "year": year,
        "rows": rows,
        "restricted_label": RESTRICTED,
        "filters": filters,
        "filtered": bool(active_filters),
        "polarities": Polarity.choices,
        "csv_query": urlencode({**active_filters, "format": "csv"}),
        "xlsx_query": urlencode({**active_filters, "format": "xlsx"}),
        "pdf_query": urlencode({**active_filters, "format": "pdf"}),
        "log_url": reverse("behaviour:incident-log") + "?" + urlencode({"pupils": pupil.pk}),
        "suspension_summary": pupil_suspension_summary(request.user, pupil, day),
    }
    return render(request, "behaviour/pupil_timeline.html", context)


def _behaviour_log_pdf(
    request: HttpRequest, pupil: Pupil, rows: list[TimelineRow], day: datetime.date
) -> HttpResponse:
    """Return the pupil's behaviour log as a PDF, with the same rows and totals as the page."""
    term, year = pupil_totals(request.user, pupil, day)
    pdf = render_pdf(
        "pdf/behaviour_log.html",
        {
            "document_title": f"Behaviour log: {pupil.display_name}",
            "pupil": pupil,
            "enrolment": current_enrolment(pupil, day),
            "term": term,
            "year": year,
            "rows": rows,
            "restricted_label": RESTRICTED,
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries the UPN, never the name, as for the profile PDF.
    response["Content-Disposition"] = f'inline; filename="behaviour-log-{pupil.upn}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _owner_choice(request: HttpRequest, source: Any) -> str:
    owner = source.get("owner", "").strip() or "mine"
    allowed = ["mine", "all"] if may_see_all_follow_ups(request.user) else ["mine"]
    if owner not in allowed:
        raise InvalidParameter(
            "owner", text_parameter_preview(owner), f"it must be {' or '.join(allowed)}"
        )
    return owner


@login_required
@handles_invalid_parameters
def follow_ups(request: HttpRequest) -> HttpResponse:
    """List the user's follow-ups (or, for leaders, every one in scope) and resolve one."""
    day = clock.today()
    source = request.POST if request.method == "POST" else request.GET
    owner = _owner_choice(request, source)
    errors: dict[str, list[str]] = {}
    typed: dict[str, str] = {}
    status = 200

    if request.method == "POST":
        follow_up_id = posted_id(request, "follow_up")
        chosen = (
            follow_ups_for(request.user, everyone=may_see_all_follow_ups(request.user))
            .filter(pk=follow_up_id)
            .first()
        )
        if chosen is None:
            raise Http404("No follow-up with that id is in your scope.")
        resolution = request.POST.get("resolution", "").strip()
        typed = {"follow_up": str(chosen.pk), "resolution": resolution}
        try:
            services.follow_up_resolve(actor=request.user, follow_up=chosen, resolution=resolution)
        except ValidationError as error:
            errors = (
                error.message_dict
                if hasattr(error, "error_dict")
                else {"resolution": error.messages}
            )
            status = 400
        else:
            messages.success(
                request,
                f"Follow-up of incident {chosen.incident_id} due {chosen.due_on:%d/%m/%Y} "
                "marked resolved.",
            )
            url = reverse("behaviour:follow-ups")
            return redirect(url + ("?owner=all" if owner == "all" else ""))

    lists = follow_up_lists(request.user, day, everyone=owner == "all")
    return render(
        request,
        "behaviour/follow_ups.html",
        {
            "page_title": "Follow-ups" if owner == "all" else "My follow-ups",
            "today": day,
            "owner": owner,
            "can_see_all": may_see_all_follow_ups(request.user),
            "lists": lists,
            "errors": errors,
            "typed": typed,
            "resolution_max_length": MAX_RESOLUTION_LENGTH,
        },
        status=status,
    )


def posted_id(request: HttpRequest, name: str) -> int:
    """Read the required id field `name` of a POST, raising InvalidParameter when it is not one."""
    raw = request.POST.get(name, "").strip()
    if not ID_PATTERN.fullmatch(raw) or int(raw) == 0:
        raise InvalidParameter(
            name, text_parameter_preview(raw), "it must be the number of a follow-up, such as 12"
        )
    return int(raw)
