"""Pupil import pages: upload, preview and confirm, the import run page, and the review list.

An upload is kept in storage and named in the uploader's session until it
is confirmed, so nothing reaches the pupil tables before the confirm step.
Confirming records an ImportRun and queues a Celery task that applies the
file; the run page shows its progress and then its result.
"""

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from academies.models import Academy
from academies.selectors import visible_academies
from staff.imports import can_import_staff
from trust import clock
from trust.tabular import load_upload, mark_upload, remember_upload, store_upload, take_upload
from trust.tasks_support import progress_key, read_progress

from .forms import PupilImportForm, ReviewDecisionForm
from .imports import PupilImportPlan, build_plan, can_review, importable_academies
from .models import Enrolment, ImportRun, PupilReview
from .selectors import visible_import_runs, visible_pupils
from .services import (
    ReviewNotApplicable,
    queue_pupil_import,
    resolve_pupil_review,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "pupil_imports"
# Preview tables list at most this many pupils; the counts cover every row.
PREVIEW_ROWS = 200
# Runs listed on an upload page.
RECENT_RUNS = 10


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    academies = importable_academies(request.user)
    if not academies.exists():
        raise Http404
    form = PupilImportForm(request.POST or None, request.FILES or None, academies=academies)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            file = form.cleaned_data["file"]
            entry = {
                "academy": form.cleaned_data["academy"].pk,
                "filename": file.name,
                "stored": store_upload(file.read(), file.name, "pupils"),
            }
            token = remember_upload(request.session, SESSION_KEY, entry)
            return redirect("pupils:import-preview", token=token)
        status = 400
    context = {
        "form": form,
        "page_title": "Import pupils",
        "can_review": can_review(request.user),
        "can_import_staff": can_import_staff(request.user),
        "recent_runs": recent_runs(request.user, ImportRun.Kind.PUPILS),
    }
    return render(request, "pupils/import_upload.html", context, status=status)


def _pending(request: HttpRequest, token: str) -> tuple[dict[str, Any], Academy, bytes]:
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not entry:
        raise Http404
    academy = get_object_or_404(importable_academies(request.user), pk=entry["academy"])
    content = load_upload(entry["stored"])
    if content is None:
        raise Http404
    return entry, academy, content


def _render_preview(
    request: HttpRequest, token: str, entry: dict[str, Any], plan: PupilImportPlan, status: int
) -> HttpResponse:
    context = {
        "page_title": "Check the pupil import",
        "token": token,
        "filename": entry["filename"],
        "plan": plan,
        "summary": plan.summary(),
        "new_rows": plan.new_rows[:PREVIEW_ROWS],
        "updated_rows": plan.updated_rows[:PREVIEW_ROWS],
        "review_rows": plan.review_rows[:PREVIEW_ROWS],
        "preview_limit": PREVIEW_ROWS,
    }
    return render(request, "pupils/import_preview.html", context, status=status)


@login_required
def preview(request: HttpRequest, token: str) -> HttpResponse:
    entry, academy, content = _pending(request, token)
    plan = build_plan(
        academy=academy, content=content, filename=entry["filename"], import_date=clock.today()
    )
    # Confirm trusts a checked preview instead of parsing the file again in the
    # request, because the task checks it once more before writing.
    mark_upload(request.session, SESSION_KEY, token, valid=plan.is_valid)
    return _render_preview(request, token, entry, plan, status=200)


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    entry, academy, content = _pending(request, token)
    today = clock.today()
    if entry.get("valid") is not True:
        plan = build_plan(
            academy=academy, content=content, filename=entry["filename"], import_date=today
        )
        if not plan.is_valid:
            messages.error(
                request, "Nothing was imported: the file has errors. Correct them first."
            )
            return _render_preview(request, token, entry, plan, status=400)
    take_upload(request.session, SESSION_KEY, token)
    run = queue_pupil_import(
        academy=academy,
        filename=entry["filename"],
        stored_name=entry["stored"],
        user=request.user,
        import_date=today,
    )
    logger.info("Pupil import run %s queued for academy %s", run.pk, academy.pk)
    return redirect("pupils:import-run", pk=run.pk)


# Import runs ----------------------------------------------------------------------


def recent_runs(user: Any, kind: str) -> list[ImportRun]:
    """Return the latest runs of `kind` that `user` requested, newest first."""
    return list(
        ImportRun.objects.filter(requested_by=user, kind=kind).select_related("academy")[
            :RECENT_RUNS
        ]
    )


def run_context(run: ImportRun) -> dict[str, Any]:
    """Return what the run page and its polled fragment show about `run`."""
    processed, total = run.processed_rows, run.total_rows
    if run.status == ImportRun.Status.RUNNING:
        progress = read_progress(progress_key(run.kind, run.pk))
        if progress is not None:
            processed, total = progress["processed"], progress["total"]
    percent = round(100 * processed / total) if total else 0
    if run.status == ImportRun.Status.DONE:
        percent = 100
    return {
        "run": run,
        "processed": processed,
        "total": total,
        "percent": percent,
        "state_text": state_text(run),
    }


def state_text(run: ImportRun) -> str:
    """Return the sentence the run page announces when the run's status changes."""
    if run.status == ImportRun.Status.DONE:
        return f"Import finished: {run.summary}"
    if run.status == ImportRun.Status.FAILED:
        return "The import failed and nothing was saved."
    if run.status == ImportRun.Status.RUNNING:
        return "The import is running."
    return "Waiting to start the import."


# htmx stops polling when a response has this status code.
HTMX_STOP_POLLING = 286


def render_run(request: HttpRequest, run: ImportRun, context: dict[str, Any]) -> HttpResponse:
    """Render the run page, or only its status fragment for an htmx poll.

    A poll sends the status its page shows as `shown`, so the fragment updates
    the announced sentence only when the status has changed since.
    """
    context = {**run_context(run), "page_url": request.path, "poll_url": request.path, **context}
    if request.headers.get("HX-Request") == "true":
        context["shown"] = request.GET.get("shown", "")
        status = HTMX_STOP_POLLING if run.is_finished else 200
        return render(request, "includes/progress.html", context, status=status)
    return render(request, "pupils/import_run.html", context)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        visible_import_runs(request.user).filter(kind=ImportRun.Kind.PUPILS), pk=pk
    )
    context = {
        "page_title": "Pupil import",
        "upload_url": reverse("pupils:import"),
        "result_url": reverse("pupils:search"),
        "result_label": "Find pupils",
    }
    return render_run(request, run, context)


# The review list ----------------------------------------------------------------


def _open_reviews(user: Any):
    current = Enrolment.objects.filter(end_date__isnull=True).select_related(
        "academy", "year_group"
    )
    return (
        PupilReview.objects.filter(
            status=PupilReview.Status.OPEN,
            academy__in=visible_academies(user),
            existing_pupil__in=visible_pupils(user),
        )
        .select_related("academy", "existing_pupil")
        .prefetch_related(
            Prefetch("existing_pupil__enrolments", queryset=current, to_attr="open_enrolments")
        )
    )


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    if not can_review(request.user):
        raise Http404
    reviews = list(_open_reviews(request.user))
    context = {"page_title": "Pupils to review", "reviews": reviews}
    return render(request, "pupils/review_list.html", context)


@login_required
@require_POST
def review_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_review(request.user):
        raise Http404
    review = get_object_or_404(_open_reviews(request.user), pk=pk)
    form = ReviewDecisionForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for e in form.errors["decision"])
        context = {"page_title": "Pupils to review", "reviews": [review], "error": errors}
        return render(request, "pupils/review_list.html", context, status=400)
    same = form.cleaned_data["decision"] == "same"
    try:
        resolve_pupil_review(review=review, same_pupil=same, user=request.user)
    except ReviewNotApplicable as problem:
        context = {"page_title": "Pupils to review", "reviews": [review], "error": str(problem)}
        return render(request, "pupils/review_list.html", context, status=409)
    upn = review.existing_pupil.upn
    if same:
        messages.success(request, f"UPN {upn}: the imported row was applied to the pupil.")
    else:
        messages.success(request, f"UPN {upn}: the imported row was rejected.")
    return redirect("pupils:review-list")
