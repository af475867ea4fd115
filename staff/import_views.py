"""Staff import pages for trust administrators: upload, preview, confirm, the run page.

As with pupils, the upload waits in storage, named in the uploader's
session, until it is confirmed, and confirming queues a Celery task whose
progress the run page shows.
"""

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from academies.selectors import visible_academies
from pupils.import_views import recent_runs, render_run
from pupils.models import ImportRun
from pupils.selectors import visible_import_runs
from trust.tabular import load_upload, mark_upload, remember_upload, store_upload, take_upload

from .forms import StaffImportForm
from .imports import StaffImportPlan, build_staff_plan, can_import_staff
from .services import queue_staff_import

logger = logging.getLogger(__name__)

SESSION_KEY = "staff_imports"
PREVIEW_ROWS = 200


def _allowed(request: HttpRequest) -> None:
    if not can_import_staff(request.user):
        raise Http404


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    form = StaffImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            file = form.cleaned_data["file"]
            entry = {
                "filename": file.name,
                "stored": store_upload(file.read(), file.name, "staff"),
            }
            token = remember_upload(request.session, SESSION_KEY, entry)
            return redirect("staff:import-preview", token=token)
        status = 400
    context = {
        "form": form,
        "page_title": "Import staff",
        "recent_runs": recent_runs(request.user, ImportRun.Kind.STAFF),
    }
    return render(request, "staff/import_upload.html", context, status=status)


def _pending(request: HttpRequest, token: str) -> tuple[dict[str, Any], bytes]:
    _allowed(request)
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not entry:
        raise Http404
    content = load_upload(entry["stored"])
    if content is None:
        raise Http404
    return entry, content


def _render_preview(
    request: HttpRequest, token: str, entry: dict[str, Any], plan: StaffImportPlan, status: int
) -> HttpResponse:
    context = {
        "page_title": "Check the staff import",
        "token": token,
        "filename": entry["filename"],
        "plan": plan,
        "summary": plan.summary(),
        "new_rows": plan.new_rows[:PREVIEW_ROWS],
        "updated_rows": plan.updated_rows[:PREVIEW_ROWS],
        "preview_limit": PREVIEW_ROWS,
    }
    return render(request, "staff/import_preview.html", context, status=status)


@login_required
def preview(request: HttpRequest, token: str) -> HttpResponse:
    entry, content = _pending(request, token)
    plan = build_staff_plan(
        content=content, filename=entry["filename"], academies=visible_academies(request.user)
    )
    # Confirm trusts a checked preview, because the task checks the file again.
    mark_upload(request.session, SESSION_KEY, token, valid=plan.is_valid)
    return _render_preview(request, token, entry, plan, status=200)


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    entry, content = _pending(request, token)
    if entry.get("valid") is not True:
        plan = build_staff_plan(
            content=content, filename=entry["filename"], academies=visible_academies(request.user)
        )
        if not plan.is_valid:
            messages.error(
                request, "Nothing was imported: the file has errors. Correct them first."
            )
            return _render_preview(request, token, entry, plan, status=400)
    take_upload(request.session, SESSION_KEY, token)
    run = queue_staff_import(
        filename=entry["filename"], stored_name=entry["stored"], user=request.user
    )
    logger.info("Staff import run %s queued", run.pk)
    return redirect("staff:import-run", pk=run.pk)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        visible_import_runs(request.user).filter(kind=ImportRun.Kind.STAFF), pk=pk
    )
    context = {
        "page_title": "Staff import",
        "upload_url": reverse("staff:import"),
        "result_url": reverse("staff:directory"),
        "result_label": "Open the staff directory",
    }
    return render_run(request, run, context)
