"""Pupil import pages: upload a file, check the preview, confirm; and the review list.

An upload is kept in storage and named in the uploader's session until it
is confirmed, so nothing reaches the pupil tables before the confirm step.
"""

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from academies.models import Academy
from academies.selectors import visible_academies
from staff.imports import can_import_staff
from trust import clock
from trust.tabular import forget_upload, load_upload, remember_upload, store_upload

from .forms import PupilImportForm, ReviewDecisionForm
from .imports import PupilImportPlan, build_plan, can_review, importable_academies
from .models import Enrolment, PupilReview
from .selectors import visible_pupils
from .services import (
    ImportInvalid,
    ImportResult,
    ReviewNotApplicable,
    pupil_import_apply,
    resolve_pupil_review,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "pupil_imports"
# Preview tables list at most this many pupils; the counts cover every row.
PREVIEW_ROWS = 200


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
    return _render_preview(request, token, entry, plan, status=200)


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    entry, academy, content = _pending(request, token)
    try:
        result = pupil_import_apply(
            academy=academy,
            content=content,
            filename=entry["filename"],
            user=request.user,
            import_date=clock.today(),
        )
    except ImportInvalid as invalid:
        messages.error(request, "Nothing was imported: the file has errors. Correct them first.")
        return _render_preview(request, token, entry, invalid.plan, status=400)
    except IntegrityError:
        # Another import or edit wrote a clashing row (a UPN, say) after the check.
        logger.warning("Pupil import for academy %s clashed with a concurrent write", academy.pk)
        messages.error(
            request,
            "Nothing was imported: pupil records changed while the import ran. "
            "Check the preview below and confirm again.",
        )
        return redirect("pupils:import-preview", token=token)
    forget_upload(request.session, SESSION_KEY, token)
    messages.success(request, f"{academy.name}: {describe_result(result)}")
    return redirect("pupils:import")


def describe_result(result: ImportResult) -> str:
    """Return a one-sentence account of what an applied import wrote."""
    parts = [
        f"{result.created} pupils created",
        f"{result.updated} updated",
        f"{result.unchanged} unchanged",
    ]
    if result.moved:
        parts.append(f"{result.moved} moved from another academy")
    if result.reviews:
        parts.append(f"{result.reviews} sent to the review list")
    if result.tutor_groups_created:
        parts.append(f"{result.tutor_groups_created} tutor groups created")
    return ", ".join(parts) + "."


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
