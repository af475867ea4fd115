"""Report run pages: the Reports page with its request forms and past runs,
a run's page with its live progress bar, and the PDF download.

Every run is read through reports.access (visible_runs, can_download), so a
run someone else requested returns 404. Requests go through
reports.services.request_report, the function the API calls too.
"""

import logging
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from academies.models import YearGroup
from trust import clock

from . import access
from .models import ReportRun, report_storage
from .services import request_report

logger = logging.getLogger(__name__)

RUNS_PER_PAGE = 25
# htmx stops polling when a response has this status code.
HTMX_STOP_POLLING = 286

Kind = ReportRun.Kind

INTRODUCTIONS = {
    Kind.INTERVENTION: (
        "Pupils below their Target Minimum Grade, persistent absentees and pupils with "
        "repeated negative behaviour, each with the interventions in place and the gaps."
    ),
    Kind.GOVERNANCE: (
        "The trust's figures for trustees: each academy's attendance, behaviour, progress, "
        "suspensions and exclusions, SEND, staff absence and appraisal completion, with "
        "trends. It names no pupil."
    ),
    Kind.PARENT_LETTERS: (
        "One PDF with a letter to each parent or carer with parental responsibility for "
        "the year group's pupils below TMG in English or maths, or in two or more subjects."
    ),
}
BUTTONS = {
    Kind.INTERVENTION: "Request the intervention report",
    Kind.GOVERNANCE: "Request the governance report",
    Kind.PARENT_LETTERS: "Request the parents' letters",
}


# Forms ------------------------------------------------------------------------------


def _as_of_field() -> forms.DateField:
    return forms.DateField(
        label="Figures as of",
        required=False,
        help_text="Leave empty for today, or choose an earlier day (dd/mm/yyyy).",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date as dd/mm/yyyy, for example 04/12/2026."},
    )


class RunRequestForm(forms.Form):
    """The request form of one kind of report, with the choices `user` may pick."""

    # The service's field names, and the form field each one's errors belong to.
    SERVICE_FIELDS = {"academy": "target", "year_group": "target", "as_of": "as_of"}

    def __init__(self, *args: Any, kind: str, user: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = kind
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.heading = Kind(kind).label
        self.introduction = INTRODUCTIONS[Kind(kind)]
        self.button = BUTTONS[Kind(kind)]
        if kind == Kind.INTERVENTION:
            self.fields["target"] = forms.ChoiceField(
                label="Academy or year group",
                choices=intervention_choices(user),
                error_messages={
                    "required": "Choose an academy or a year group.",
                    "invalid_choice": "%(value)s is not an academy or year group you may "
                    "request this report for. Choose one from the list.",
                },
            )
        elif kind == Kind.PARENT_LETTERS:
            self.fields["target"] = forms.ChoiceField(
                label="Year group",
                choices=[("", "Choose a year group")]
                + [
                    (f"year_group-{group.pk}", f"{group.academy.name}: {group.name}")
                    for group in access.letter_year_groups(user)
                ],
                error_messages={
                    "required": "Choose a year group.",
                    "invalid_choice": "%(value)s is not a year group whose letters you may "
                    "request. Choose one from the list.",
                },
            )
        self.fields["as_of"] = _as_of_field()

    def target_ids(self) -> tuple[int | None, int | None]:
        """Return the academy id and year group id chosen."""
        target = self.cleaned_data.get("target") or ""
        prefix, _, pk = target.partition("-")
        if prefix == "academy":
            return int(pk), None
        if prefix == "year_group":
            return None, int(pk)
        return None, None

    def add_service_errors(self, error: ValidationError) -> None:
        for field, messages in error.message_dict.items():
            name = self.SERVICE_FIELDS.get(field)
            self.add_error(name if name in self.fields else None, messages)


def intervention_choices(user: Any) -> list[tuple[str, Any]]:
    """Return the select choices of the intervention form, grouped by academy."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for academy in access.intervention_academies(user):
        groups.setdefault(academy.name, []).append(
            (f"academy-{academy.pk}", f"{academy.name}: whole academy")
        )
    for group in access.intervention_year_groups(user):
        groups.setdefault(group.academy.name, []).append(
            (f"year_group-{group.pk}", f"{group.academy.name}: {group.name}")
        )
    return [("", "Choose an academy or a year group")] + [
        (name, options) for name, options in sorted(groups.items())
    ]


# Describing runs ----------------------------------------------------------------------


def _year_groups_of(runs: list[ReportRun]) -> dict[int, YearGroup]:
    ids = {run.year_group_id for run in runs if run.year_group_id}
    return YearGroup.objects.select_related("academy").in_bulk(ids) if ids else {}


def run_subject(run: ReportRun, year_groups: dict[int, YearGroup]) -> str:
    """Return what a run covers: the whole trust, an academy or a year group."""
    group = year_groups.get(run.year_group_id) if run.year_group_id else None
    if group is not None:
        return f"{group.name}, {group.academy.name}"
    if run.year_group_id:
        return "A year group that no longer exists"
    if run.academy is not None:
        return run.academy.name
    return "Whole trust"


def requester_name(run: ReportRun) -> str:
    if run.requested_by is not None:
        return run.requested_by.get_full_name() or run.requested_by.get_username()
    return "Scheduled" if run.scheduled else "A removed user"


def state_text(run: ReportRun) -> str:
    """Return the sentence the run page announces when the run's status changes."""
    if run.status == ReportRun.Status.DONE:
        return "The report is ready to download."
    if run.status == ReportRun.Status.FAILED:
        return "The report failed."
    if run.status == ReportRun.Status.RUNNING:
        return "The report is being produced."
    return "The report is waiting for a worker to start it."


class DownloadChecker:
    """Decide can_download for many runs of one user, each subject checked once."""

    def __init__(self, user: Any, year_groups: dict[int, YearGroup]) -> None:
        self.user = user
        self.year_groups = year_groups
        self.cache: dict[tuple[str, int | None, int | None], bool] = {}

    def __call__(self, run: ReportRun) -> bool:
        if run.status != ReportRun.Status.DONE:
            return False
        # Every run listed comes from visible_runs, so only the requester's own
        # runs need the second check of access.can_download.
        if run.requested_by_id != self.user.pk:
            return True
        key = (run.kind, run.academy_id, run.year_group_id)
        if key not in self.cache:
            group = self.year_groups.get(run.year_group_id) if run.year_group_id else None
            self.cache[key] = access.can_request(self.user, run.kind, run.academy, group)
        return self.cache[key]


# Pages ------------------------------------------------------------------------------


def _forms_for(request: HttpRequest, posted: RunRequestForm | None = None) -> list[RunRequestForm]:
    forms_shown = []
    for kind in access.requestable_kinds(request.user):
        if posted is not None and posted.kind == kind:
            forms_shown.append(posted)
            continue
        initial = {}
        if request.GET.get("kind") == kind and request.GET.get("target"):
            initial["target"] = request.GET["target"]
        forms_shown.append(RunRequestForm(kind=kind, user=request.user, initial=initial))
    return forms_shown


def _home(
    request: HttpRequest,
    posted: RunRequestForm | None = None,
    status: int = 200,
    request_error: str = "",
) -> HttpResponse:
    runs = access.visible_runs(request.user)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    listed = list(page.object_list)
    year_groups = _year_groups_of(listed)
    may_download = DownloadChecker(request.user, year_groups)
    rows = [
        {
            "run": run,
            "subject": run_subject(run, year_groups),
            "requester": requester_name(run),
            "downloadable": may_download(run),
        }
        for run in listed
    ]
    latest_governance = (
        runs.filter(kind=Kind.GOVERNANCE, status=ReportRun.Status.DONE)
        .order_by("-finished_at", "-pk")
        .first()
        if access.sees_trust_dashboard(request.user)
        else None
    )
    context = {
        "page_title": "Reports",
        "request_error": request_error,
        "request_forms": _forms_for(request, posted),
        "rows": rows,
        "page": page,
        "latest_governance": latest_governance,
        "sees_trust_dashboard": access.sees_trust_dashboard(request.user),
        "today": clock.today(),
    }
    return render(request, "reports/runs.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def reports_home(request: HttpRequest) -> HttpResponse:
    """List the reports the user may request and the runs they may download.

    A POST requests one report and redirects to its run page.
    """
    if request.method != "POST":
        return _home(request)
    kind = request.POST.get("kind", "")
    kinds = access.requestable_kinds(request.user)
    if kind not in kinds:
        allowed = ", ".join(f"{value} ({Kind(value).label})" for value in kinds) or "none"
        message = (
            f"{kind[:40]!r} is not a kind of report you may request. Allowed values: {allowed}."
        )
        return _home(request, status=400, request_error=message)
    form = RunRequestForm(request.POST, kind=kind, user=request.user)
    if not form.is_valid():
        return _home(request, form, status=400)
    academy_id, year_group_id = form.target_ids()
    try:
        run = request_report(
            user=request.user,
            kind=kind,
            academy_id=academy_id,
            year_group_id=year_group_id,
            as_of=form.cleaned_data["as_of"],
        )
    except ValidationError as error:
        logger.info("Report request by user %s rejected: %s", request.user.pk, error.messages)
        form.add_service_errors(error)
        return _home(request, form, status=400)
    except PermissionDenied as denied:
        logger.info("Report request by user %s denied: %s", request.user.pk, denied)
        form.add_error(None, str(denied))
        return _home(request, form, status=403)
    return redirect("report-run", pk=run.pk)


def _run_context(request: HttpRequest, run: ReportRun) -> dict[str, Any]:
    year_groups = _year_groups_of([run])
    return {
        "run": run,
        "subject": run_subject(run, year_groups),
        "requester": requester_name(run),
        "state_text": state_text(run),
        "downloadable": run.status == ReportRun.Status.DONE
        and access.can_download(request.user, run),
    }


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(access.visible_runs(request.user), pk=pk)
    context = _run_context(request, run)
    context["page_title"] = f"{run.get_kind_display()}: {context['subject']}"
    return render(request, "reports/run.html", context)


@login_required
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the run's progress fragment for htmx; 286 stops polling once it has finished.

    A poll sends the status its page shows as `shown`, so the fragment updates
    the announced sentence only when the status has changed since.
    """
    run = get_object_or_404(access.visible_runs(request.user), pk=pk)
    context = _run_context(request, run)
    context["shown"] = request.GET.get("shown", "")
    status = HTMX_STOP_POLLING if run.is_finished else 200
    return render(request, "reports/run_progress.html", context, status=status)


def open_run_file(user: Any, run: ReportRun) -> Any:
    """Open the PDF of `run` for `user`, raising Http404 when they may not have
    it or it does not exist (yet)."""
    if run.status != ReportRun.Status.DONE or not run.file.name:
        raise Http404("This report has no file yet.")
    if not access.can_download(user, run):
        raise Http404("No report found.")
    try:
        return report_storage().open(run.file.name, "rb")
    except FileNotFoundError as error:
        logger.error("Report run %s: file %s is missing from storage", run.pk, run.file.name)
        raise Http404("The file of this report is missing from storage.") from error


def pdf_response(run: ReportRun, handle: Any) -> FileResponse:
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=run.filename or f"report-{run.pk}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def run_download(request: HttpRequest, pk: int) -> FileResponse:
    """Send a finished run's PDF as an attachment to those who may download it."""
    run = get_object_or_404(access.visible_runs(request.user), pk=pk)
    return pdf_response(run, open_run_file(request.user, run))
