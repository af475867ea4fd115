"""Grades import pages: upload, preview and confirm, and the import run page.

They follow the pupil import: the upload is kept in storage and named in
the session until it is confirmed, the preview lists every invalid row,
and confirming queues a Celery task whose progress the run page shows.
"""

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pupils.forms import ImportFileField
from pupils.import_views import recent_runs, render_run
from pupils.selectors import visible_import_runs
from trust import clock
from trust.tabular import mark_upload, pending_upload, remember_upload, store_upload, take_upload

from .imports import GradeImportPlan, build_plan, can_import_grades
from .tasks import GRADES_KIND, queue_grade_import

logger = logging.getLogger(__name__)

SESSION_KEY = "grade_imports"
# Preview tables list at most this many rows; the counts cover every row.
PREVIEW_ROWS = 200


class GradeImportForm(forms.Form):
    file = ImportFileField(label="Grades file")


def _require_importer(request: HttpRequest) -> None:
    if not can_import_grades(request.user):
        raise Http404


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    form = GradeImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            file = form.cleaned_data["file"]
            entry = {
                "filename": file.name,
                "stored": store_upload(file.read(), file.name, "grades"),
            }
            token = remember_upload(request.session, SESSION_KEY, entry)
            return redirect("progress:grade-import-preview", token=token)
        status = 400
    context = {
        "form": form,
        "page_title": "Import grades",
        "recent_runs": recent_runs(request.user, GRADES_KIND),
    }
    return render(request, "progress/import_upload.html", context, status=status)


def _pending(request: HttpRequest, token: str) -> tuple[dict[str, Any], bytes]:
    _require_importer(request)
    pending = pending_upload(request.session, SESSION_KEY, token)
    if pending is None:
        raise Http404
    return pending


def _render_preview(
    request: HttpRequest, token: str, entry: dict[str, Any], plan: GradeImportPlan, status: int
) -> HttpResponse:
    context = {
        "page_title": "Check the grades import",
        "token": token,
        "filename": entry["filename"],
        "plan": plan,
        "summary": plan.summary(),
        "new_rows": plan.new_rows[:PREVIEW_ROWS],
        "updated_rows": plan.updated_rows[:PREVIEW_ROWS],
        "preview_limit": PREVIEW_ROWS,
    }
    return render(request, "progress/import_preview.html", context, status=status)


@login_required
def preview(request: HttpRequest, token: str) -> HttpResponse:
    entry, content = _pending(request, token)
    plan = build_plan(
        user=request.user, content=content, filename=entry["filename"], import_date=clock.today()
    )
    # Confirm trusts a checked preview, because the task checks the file again.
    mark_upload(request.session, SESSION_KEY, token, valid=plan.is_valid)
    return _render_preview(request, token, entry, plan, status=200)


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    entry, content = _pending(request, token)
    today = clock.today()
    if entry.get("valid") is not True:
        plan = build_plan(
            user=request.user, content=content, filename=entry["filename"], import_date=today
        )
        if not plan.is_valid:
            messages.error(
                request, "Nothing was imported: the file has errors. Correct them first."
            )
            return _render_preview(request, token, entry, plan, status=400)
    take_upload(request.session, SESSION_KEY, token)
    run = queue_grade_import(
        user=request.user,
        filename=entry["filename"],
        stored_name=entry["stored"],
        import_date=today,
    )
    logger.info("Grades import run %s queued by user %s", run.pk, request.user.pk)
    return redirect("progress:grade-import-run", pk=run.pk)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(visible_import_runs(request.user).filter(kind=GRADES_KIND), pk=pk)
    context = {
        "page_title": "Grades import",
        "upload_url": reverse("progress:grade-import"),
        "result_url": reverse("progress:class-list"),
        "result_label": "See the classes",
    }
    return render_run(request, run, context)
