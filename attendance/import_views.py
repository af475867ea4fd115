"""Historical marks import pages: upload, preview and confirm.

The upload is kept in storage and named in the uploader's session until it
is confirmed, so no mark is written before the confirm step. Confirming
checks the file again and writes every mark or none, in the request.
"""

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from academies.models import Academy
from pupils.forms import ImportFileField
from trust.tabular import forget_upload, load_upload, remember_upload, store_upload

from .imports import (
    ImportRejected,
    MarkImportPlan,
    build_plan,
    importable_academies,
    marks_import_apply,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "attendance_imports"
# The preview lists at most this many invalid rows and marks; counts cover all rows.
PREVIEW_ROWS = 200


class MarkImportForm(forms.Form):
    academy = forms.ModelChoiceField(
        queryset=Academy.objects.none(),
        empty_label=None,
        error_messages={
            "invalid_choice": "That academy is not one you may import marks into; "
            "choose one from the list."
        },
    )
    file = ImportFileField(label="Marks file")

    def __init__(self, *args: Any, academies: QuerySet[Academy], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["academy"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = academies


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    academies = importable_academies(request.user)
    if not academies.exists():
        raise Http404
    form = MarkImportForm(request.POST or None, request.FILES or None, academies=academies)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            file = form.cleaned_data["file"]
            entry = {
                "academy": form.cleaned_data["academy"].pk,
                "filename": file.name,
                "stored": store_upload(file.read(), file.name, "attendance"),
            }
            token = remember_upload(request.session, SESSION_KEY, entry)
            return redirect("attendance:import-preview", token=token)
        status = 400
    context = {"form": form, "page_title": "Import attendance marks"}
    return render(request, "attendance/import_upload.html", context, status=status)


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
    request: HttpRequest, token: str, plan: MarkImportPlan, status: int
) -> HttpResponse:
    context = {
        "page_title": "Check the attendance import",
        "token": token,
        "plan": plan,
        "summary": plan.summary(),
        "errors": plan.errors[:PREVIEW_ROWS],
        "marks": plan.marks[:PREVIEW_ROWS],
        "preview_limit": PREVIEW_ROWS,
    }
    return render(request, "attendance/import_preview.html", context, status=status)


@login_required
def preview(request: HttpRequest, token: str) -> HttpResponse:
    entry, academy, content = _pending(request, token)
    plan = build_plan(
        academy=academy, content=content, filename=entry["filename"], user=request.user
    )
    return _render_preview(request, token, plan, status=200)


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    entry, academy, content = _pending(request, token)
    try:
        result = marks_import_apply(
            academy=academy, content=content, filename=entry["filename"], user=request.user
        )
    except (ImportRejected, ValidationError) as problem:
        text = str(problem) if isinstance(problem, ImportRejected) else "; ".join(problem.messages)
        messages.error(request, text)
        plan = build_plan(
            academy=academy, content=content, filename=entry["filename"], user=request.user
        )
        return _render_preview(request, token, plan, status=400)
    forget_upload(request.session, SESSION_KEY, token)
    logger.info(
        "attendance import academy=%s file=%s created=%s changed=%s user=%s",
        academy.pk,
        entry["filename"],
        result.created,
        result.changed,
        request.user.pk,
    )
    messages.success(
        request,
        f"Imported {entry['filename']} into {academy.name}: {result.created} new marks, "
        f"{result.changed} replaced, {result.unchanged} already recorded.",
    )
    return redirect("attendance:import")
