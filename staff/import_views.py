"""Staff import pages for trust administrators: upload, preview, confirm.

As with pupils, the upload waits in storage, named in the uploader's
session, until it is confirmed.
"""

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from academies.selectors import visible_academies
from trust.tabular import forget_upload, load_upload, remember_upload, store_upload

from .forms import StaffImportForm
from .imports import StaffImportPlan, build_staff_plan, can_import_staff
from .services import StaffImportInvalid, StaffImportResult, staff_import_apply

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
    context = {"form": form, "page_title": "Import staff"}
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
    return _render_preview(request, token, entry, plan, status=200)


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    entry, content = _pending(request, token)
    try:
        result = staff_import_apply(
            content=content,
            filename=entry["filename"],
            user=request.user,
            academies=visible_academies(request.user),
        )
    except StaffImportInvalid as invalid:
        messages.error(request, "Nothing was imported: the file has errors. Correct them first.")
        return _render_preview(request, token, entry, invalid.plan, status=400)
    except IntegrityError:
        # Two imports of the same new email at once: the second one clashes.
        logger.warning("Staff import clashed with a concurrent write")
        messages.error(
            request,
            "Nothing was imported: staff records changed while the import ran. "
            "Check the preview below and confirm again.",
        )
        return redirect("staff:import-preview", token=token)
    forget_upload(request.session, SESSION_KEY, token)
    messages.success(request, describe_staff_result(result))
    return redirect("staff:import")


def describe_staff_result(result: StaffImportResult) -> str:
    return (
        f"{result.created} staff created, {result.updated} updated, {result.unchanged} unchanged."
    )
