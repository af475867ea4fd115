"""Appraisal pages: my appraisal, my appraisees, one appraisal, and the forms
that set objectives, sign, review and annotate.

Every read goes through appraisal.access and every write through
appraisal.services. A service's ValidationError is shown next to the field
and in a summary above the form, with status 400; its PermissionDenied
becomes a 403 page.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from academies.models import Academy
from staff.models import StaffMember
from trust import clock
from trust.access import scope_for
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter

from . import access, selectors, services
from .deadlines import deadline_table
from .forms import (
    AnnotationForm,
    AppraiseeReviewForm,
    AppraiserForm,
    AppraiserReviewForm,
    FinalReviewForm,
    MidYearForm,
    ObjectiveForm,
    SignForm,
)
from .measures import SCOPES_OF
from .models import Appraisal, DevelopmentNeed, Objective, ObjectiveReview, Signature
from .pages_context import (
    appraisal_page,
    appraisee_rows,
    objectives_with_detail,
    overdue_totals,
    with_page_relations,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
RECENT_ENTRIES = 5


def _optional_url(name: str, *args: Any) -> str | None:
    """Reverse `name`, or return None while the app that serves it has no such page."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _apply_errors(form: Any, error: ValidationError) -> None:
    """Put a service's errors on the form's fields, or above the form for others."""
    if not hasattr(error, "error_dict"):
        for problem in error.messages:
            form.add_error(None, problem)
        return
    for name, problems in error.message_dict.items():
        # "development_needs.2" names one line of the development_needs field.
        field = name.split(".")[0]
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


def _visible(request: HttpRequest, pk: int) -> Appraisal:
    """Return the appraisal if the user may read it, or raise Http404 naming no one."""
    return get_object_or_404(
        access.visible_appraisals(request.user).select_related(
            "cycle__academic_year", "appraisee", "appraiser", "academy"
        ),
        pk=pk,
    )


def _visible_objective(request: HttpRequest, pk: int) -> Objective:
    appraisals = access.visible_appraisals(request.user)
    return get_object_or_404(
        Objective.objects.filter(appraisal__in=appraisals).select_related(
            "appraisal__cycle__academic_year",
            "appraisal__appraisee",
            "appraisal__appraiser",
            "appraisal__academy",
        ),
        pk=pk,
    )


def _detail_url(appraisal: Appraisal) -> str:
    return reverse("appraisal:detail", args=[appraisal.pk])


def _form_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int
) -> HttpResponse:
    return render(request, f"appraisal/{template}", context, status=status)


def _closed_form(
    request: HttpRequest, appraisal: Appraisal, action: str, title: str
) -> HttpResponse | None:
    """On a GET, return a page saying why `action` cannot be done at the
    appraisal's status, with no form, as 409 Conflict. Return None when the
    action is open or the request is a POST, because the service then
    rejects a closed action with the same message (services.closed_reason).
    """
    if request.method != "GET":
        return None
    reason = services.closed_reason(appraisal, action)
    if reason is None:
        return None
    may_annotate = services.closed_reason(appraisal, "annotation_add") is None and (
        access.is_appraisee(request.user, appraisal) or access.can_manage(request.user, appraisal)
    )
    return _form_page(
        request,
        "closed_form.html",
        {
            "page_title": title,
            "appraisal": appraisal,
            "reason": reason,
            "annotate_url": reverse("appraisal:annotate", args=[appraisal.pk])
            if may_annotate
            else None,
        },
        status=409,
    )


def _stage_form(
    request: HttpRequest,
    appraisal: Appraisal,
    form: Any,
    *,
    title: str,
    button: str,
    run: Callable[[dict[str, Any]], str],
    anchor: str = "",
) -> HttpResponse:
    """Render `form` on the stage page, or on a valid POST call `run` with its data.

    After `run` succeeds, redirect to the appraisal with the message it returns.
    When the service rejects the data, show its errors on the form with status 400.
    """
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                done = run(form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, done)
                return redirect(_detail_url(appraisal) + anchor)
    return _form_page(
        request,
        "stage_form.html",
        {"page_title": title, "appraisal": appraisal, "form": form, "button": button},
        status=status,
    )


# What a user may do on an appraisal ----------------------------------------------------


def _review_kind(status: str) -> str | None:
    """Return the review open at `status`: mid-year once objectives are agreed,
    final once the mid-year review is done, none otherwise."""
    if status == Appraisal.Status.OBJECTIVES_AGREED:
        return ObjectiveReview.Kind.MID_YEAR
    if status == Appraisal.Status.MID_YEAR_REVIEWED:
        return ObjectiveReview.Kind.FINAL
    return None


def _permissions(user: Any, appraisal: Appraisal) -> dict[str, Any]:
    """Return the flags the templates use to offer each action. The services
    check the same rules again when the form is sent."""
    status = appraisal.status

    def open_for(action: str) -> bool:
        return services.closed_reason(appraisal, action) is None

    appraisee = access.is_appraisee(user, appraisal)
    # Trust HR manages every appraisal but not their own.
    manages = access.can_manage(user, appraisal) and not appraisee
    appraiser = access.is_appraiser(user, appraisal)
    signs = appraisee or appraiser
    return {
        "manages": manages,
        "is_appraisee": appraisee,
        "is_appraiser": appraiser,
        "edit_objectives": open_for("objective_save") and manages,
        "sign_objectives": open_for("objectives_sign") and signs,
        "review_kind": _review_kind(status),
        "complete_mid_year": open_for("mid_year_complete") and manages,
        "complete_final": open_for("final_review_complete") and manages,
        "sign_final": open_for("final_sign") and signs,
        "change_appraiser": open_for("appraiser_set")
        and access.can_assign_appraiser(user, appraisal),
        "annotate": open_for("annotation_add"),
    }


def _party(user: Any, appraisal: Appraisal) -> str | None:
    if access.is_appraisee(user, appraisal):
        return Signature.Party.APPRAISEE
    if access.is_appraiser(user, appraisal):
        return Signature.Party.APPRAISER
    return None


# My appraisal -----------------------------------------------------------------------------


def _portfolio_panel(user: Any, staff: StaffMember) -> dict[str, Any]:
    entries = list(
        access.visible_portfolio_entries(user)
        .filter(staff=staff)
        .order_by("-started_on", "-pk")[:RECENT_ENTRIES]
    )
    # A development need is a suggested entry until an entry addresses it or it is dismissed.
    suggested = DevelopmentNeed.objects.filter(
        appraisal__appraisee=staff, dismissed=False, portfolio_entries__isnull=True
    ).count()
    return {
        "entries": entries,
        "suggested_count": suggested,
        "url": _optional_url("appraisal:portfolio"),
    }


@login_required
def my_appraisal(request: HttpRequest) -> HttpResponse:
    """Show the user's appraisal for the current cycle with its live values,
    next deadline and the actions open to them, their earlier cycles and
    their portfolio."""
    today = clock.today()
    staff_id = scope_for(request.user).staff_id
    staff = (
        StaffMember.objects.select_related("academy", "line_manager").filter(pk=staff_id).first()
        if staff_id
        else None
    )
    context: dict[str, Any] = {"page_title": "My appraisal", "staff": staff, "today": today}
    if staff is None:
        return render(request, "appraisal/my_appraisal.html", context)

    cycle = selectors.current_cycle(today)
    current = (
        with_page_relations(Appraisal.objects.filter(appraisee=staff, cycle=cycle)).first()
        if cycle
        else None
    )
    previous = Appraisal.objects.filter(appraisee=staff)
    if cycle is not None:
        previous = previous.filter(
            cycle__academic_year__start_year__lt=cycle.academic_year.start_year
        )
    context.update(
        {
            "cycle": cycle,
            "previous": list(
                previous.select_related("cycle__academic_year", "appraiser").order_by(
                    "-cycle__academic_year__start_year"
                )
            ),
            "portfolio": _portfolio_panel(request.user, staff),
        }
    )
    if current is not None:
        context["view"] = appraisal_page(current, today)
        context["can"] = _permissions(request.user, current)
        context["record_pdf_url"] = (
            _optional_url("appraisal:record-pdf", current.pk) if current.is_signed_off else None
        )
    return render(request, "appraisal/my_appraisal.html", context)


# My appraisees ----------------------------------------------------------------------------


def _status_parameter(request: HttpRequest) -> str:
    raw = request.GET.get("status", "").strip()
    if raw and raw not in Appraisal.Status.values:
        allowed = ", ".join(Appraisal.Status.values)
        raise InvalidParameter("status", raw[:40], f"it must be one of {allowed}")
    return raw


def _appraisees_title(scope: Any, *, mine: bool, academy_id: int | None) -> str:
    """Return the heading of the appraisees page: a headteacher's or trust HR's
    list covers an academy or the whole trust, not only their own appraisees."""
    led_academy_ids = set(scope.headteacher_academy_ids)
    if mine or not (scope.all_appraisals or led_academy_ids):
        return "My appraisees"
    if academy_id is not None and (scope.all_appraisals or academy_id in led_academy_ids):
        led_academy_ids = {academy_id}
    elif scope.all_appraisals:
        return "All appraisals"

    names = list(
        Academy.objects.filter(pk__in=led_academy_ids)
        .order_by("name")
        .values_list("name", flat=True)
    )
    if not names:
        return "My appraisees"
    if len(names) == 1:
        return f"Appraisals at {names[0]}"
    return f"Appraisals at {', '.join(names[:-1])} and {names[-1]}"


@login_required
@handles_invalid_parameters
def appraisees(request: HttpRequest) -> HttpResponse:
    """List the appraisals of the current cycle the user reads as appraiser,
    headteacher or trust HR, with status, next deadline and outcome summary.
    Filters: ?status=, ?academy= and ?mine=1."""
    today = clock.today()
    scope = scope_for(request.user)
    cycle = selectors.current_cycle(today)
    context: dict[str, Any] = {
        "page_title": _appraisees_title(scope, mine=False, academy_id=None),
        "cycle": cycle,
        "statuses": Appraisal.Status.choices,
        "today": today,
    }
    if cycle is None:
        return render(request, "appraisal/appraisees.html", context)

    status = _status_parameter(request)
    academy_id = id_parameter(request, "academy")
    mine = request.GET.get("mine", "") == "1" and scope.staff_id is not None
    visible = access.visible_appraisals(request.user).filter(cycle=cycle)
    if scope.staff_id:
        visible = visible.exclude(appraisee_id=scope.staff_id)
    # Leaders see more than their own appraisees, so they get the filters.
    if scope.staff_id:
        wider = visible.exclude(appraiser_id=scope.staff_id).exists()
    else:
        wider = visible.exists()
    academies = list(Academy.objects.filter(pk__in=visible.values("academy_id")).order_by("name"))
    if academy_id is not None:
        if not any(a.pk == academy_id for a in academies):
            raise Http404("No academy with that id has appraisals you may read.")
        visible = visible.filter(academy_id=academy_id)
    if status:
        visible = visible.filter(status=status)
    if mine:
        visible = visible.filter(appraiser_id=scope.staff_id)
    context["page_title"] = _appraisees_title(scope, mine=mine, academy_id=academy_id)

    ordered = (
        visible.select_related("appraisee", "appraiser", "academy")
        .prefetch_related(objectives_with_detail())
        .order_by("appraisee__last_name", "appraisee__first_name", "pk")
    )
    table = deadline_table(cycle)
    overdue_count, total_count = overdue_totals(visible, table, today)
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = appraisee_rows(list(page.object_list), table, today)
    context.update(
        {
            "rows": rows,
            "page": page,
            "wider": wider,
            "academies": academies,
            "chosen_status": status,
            "chosen_academy": academy_id,
            "mine": mine,
            "overdue_count": overdue_count,
            "total_count": total_count,
        }
    )
    return render(request, "appraisal/appraisees.html", context)


# One appraisal -----------------------------------------------------------------------------


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the whole appraisal: steps, signatures, objectives with their live
    values and reviews, summary, development needs, pay recommendation and notes."""
    today = clock.today()
    appraisal = get_object_or_404(
        with_page_relations(access.visible_appraisals(request.user)), pk=pk
    )
    view = appraisal_page(appraisal, today)
    return render(
        request,
        "appraisal/detail.html",
        {
            "page_title": f"Appraisal: {appraisal.appraisee.full_name}, "
            f"{appraisal.cycle.academic_year}",
            "view": view,
            "appraisal": appraisal,
            "can": _permissions(request.user, appraisal),
            "today": today,
            "record_pdf_url": _optional_url("appraisal:record-pdf", appraisal.pk)
            if appraisal.is_signed_off
            else None,
            "annotation_form": AnnotationForm() if appraisal.is_signed_off else None,
        },
    )


# Objectives --------------------------------------------------------------------------------


def _objective_context(
    appraisal: Appraisal, form: ObjectiveForm, objective: Objective | None
) -> dict[str, Any]:
    others = appraisal.objectives.all()
    if objective is not None:
        others = others.exclude(pk=objective.pk)
    other_total = sum(o.weighting for o in others)
    typed = form["weighting"].value()
    try:
        this = int(typed) if typed not in (None, "") else 0
    except (TypeError, ValueError):
        this = 0
    return {
        "page_title": ("Change objective" if objective else "Add an objective")
        + f": {appraisal.appraisee.full_name}",
        "appraisal": appraisal,
        "objective": objective,
        "form": form,
        "other_total": other_total,
        "shown_total": other_total + this,
        # The scopes each measure allows, for the script that narrows the scope list.
        "measure_scopes": {measure: list(scopes) for measure, scopes in SCOPES_OF.items()},
    }


def _save_objective(
    request: HttpRequest, appraisal: Appraisal, objective: Objective | None
) -> HttpResponse:
    title = ("Change objective" if objective else "Add an objective") + (
        f": {appraisal.appraisee.full_name}"
    )
    closed = _closed_form(request, appraisal, "objective_save", title)
    if closed is not None:
        return closed
    if request.method == "POST":
        form = ObjectiveForm(request.POST, appraisal=appraisal)
    elif objective is not None:
        form = ObjectiveForm(initial=ObjectiveForm.initial_for(objective), appraisal=appraisal)
    else:
        form = ObjectiveForm(appraisal=appraisal)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.objective_save(
                    request.user,
                    appraisal,
                    objective=objective,
                    title=data["title"],
                    success_criteria=data["success_criteria"],
                    weighting=data["weighting"],
                    standards=list(data["standards"]),
                    support=data["support"],
                    measure=data["measure"],
                    measure_scope=data["measure_scope"],
                    measure_academy=data["measure_academy"],
                    measure_subject=data["measure_subject"],
                    measure_year_group=data["measure_year_group"],
                    measure_tutor_group=data["measure_tutor_group"],
                    target_value=data["target_value"],
                )
            except ValidationError as error:
                logger.info(
                    "objective not saved user=%s appraisal=%s: %s",
                    request.user.pk,
                    appraisal.pk,
                    error.messages,
                )
                _apply_errors(form, error)
            else:
                messages.success(
                    request, f"Objective '{saved.title}' saved with weighting {saved.weighting}%."
                )
                return redirect(_detail_url(appraisal) + f"#objective-{saved.pk}")
    return _form_page(
        request,
        "objective_form.html",
        _objective_context(appraisal, form, objective),
        status=status,
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


@login_required
@require_http_methods(["GET", "POST"])
def objective_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an objective to an appraisal in draft."""
    appraisal = _visible(request, pk)
    _require(
        access.can_manage(request.user, appraisal),
        "Only the appraiser, the academy's headteacher or trust HR sets objectives.",
    )
    return _save_objective(request, appraisal, None)


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an objective while the appraisal is in draft."""
    objective = _visible_objective(request, pk)
    appraisal = objective.appraisal
    _require(
        access.can_manage(request.user, appraisal),
        "Only the appraiser, the academy's headteacher or trust HR changes objectives.",
    )
    return _save_objective(request, appraisal, objective)


@login_required
@require_http_methods(["GET", "POST"])
def objective_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm, then delete an objective of an appraisal in draft."""
    objective = _visible_objective(request, pk)
    appraisal = objective.appraisal
    _require(
        access.can_manage(request.user, appraisal),
        "Only the appraiser, the academy's headteacher or trust HR deletes objectives.",
    )
    closed = _closed_form(
        request, appraisal, "objective_delete", f"Delete objective: {objective.title}"
    )
    if closed is not None:
        return closed
    problems: list[str] = []
    if request.method == "POST":
        try:
            services.objective_delete(request.user, objective)
        except ValidationError as error:
            problems = error.messages
        else:
            messages.success(request, f"Objective '{objective.title}' deleted.")
            return redirect(_detail_url(appraisal))
    return _form_page(
        request,
        "objective_delete.html",
        {
            "page_title": f"Delete objective: {objective.title}",
            "appraisal": appraisal,
            "objective": objective,
            "problems": problems,
        },
        status=400 if problems else 200,
    )


# Signing -----------------------------------------------------------------------------------


def _sign(request: HttpRequest, pk: int, *, document: str) -> HttpResponse:
    appraisal = get_object_or_404(
        with_page_relations(access.visible_appraisals(request.user)), pk=pk
    )
    party = _party(request.user, appraisal)
    if party is None:
        raise PermissionDenied("Only the appraisee and the appraiser sign an appraisal.")
    objectives = document == Signature.Document.OBJECTIVES
    closed = _closed_form(
        request,
        appraisal,
        "objectives_sign" if objectives else "final_sign",
        ("Sign the objectives" if objectives else "Sign the final review")
        + f": {appraisal.appraisee.full_name}",
    )
    if closed is not None:
        return closed
    form = SignForm(request.POST if request.method == "POST" else None, party=party)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            agrees = form.cleaned_data.get("agrees", "yes") == "yes"
            comment = form.cleaned_data["comment"].strip()
            sign = (
                services.objectives_sign
                if document == Signature.Document.OBJECTIVES
                else services.final_sign
            )
            try:
                signed = sign(request.user, appraisal, agrees=agrees, comment=comment)
            except ValidationError as error:
                logger.info(
                    "%s not signed user=%s appraisal=%s: %s",
                    document,
                    request.user.pk,
                    appraisal.pk,
                    error.messages,
                )
                _apply_errors(form, error)
            else:
                document_label = Signature.Document(document).label.lower()
                messages.success(
                    request,
                    f"You signed the {document_label}"
                    + ("" if agrees else ", recording that you disagree")
                    + f". Status: {signed.get_status_display()}.",
                )
                return redirect(_detail_url(appraisal))
    view = appraisal_page(appraisal, clock.today())
    return _form_page(
        request,
        "sign_form.html",
        {
            "page_title": (
                "Sign the objectives"
                if document == Signature.Document.OBJECTIVES
                else "Sign the final review"
            )
            + f": {appraisal.appraisee.full_name}",
            "appraisal": appraisal,
            "view": view,
            "form": form,
            "document": document,
            "party": party,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def objectives_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign the objectives as appraisee or appraiser, agreeing or disagreeing."""
    return _sign(request, pk, document=Signature.Document.OBJECTIVES)


@login_required
@require_http_methods(["GET", "POST"])
def final_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign the final review as appraisee or appraiser, agreeing or disagreeing."""
    return _sign(request, pk, document=Signature.Document.FINAL_REVIEW)


# Reviews -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Write one objective's mid-year or final review: the appraisee's evidence
    and self-review, or the appraiser's comment and (final only) outcome."""
    if kind not in ObjectiveReview.Kind.values:
        raise Http404("A review is either mid_year or final.")
    objective = _visible_objective(request, pk)
    appraisal = objective.appraisal

    as_appraisee = access.is_appraisee(request.user, appraisal)
    _require(
        as_appraisee or access.can_manage(request.user, appraisal),
        "Only the appraisee, the appraiser, the academy's headteacher or trust HR writes a review.",
    )
    closed = _closed_form(
        request,
        appraisal,
        f"review_{kind}",
        f"{ObjectiveReview.Kind(kind).label} review: {objective.title}",
    )
    if closed is not None:
        return closed

    existing = ObjectiveReview.objects.filter(objective=objective, kind=kind).first()
    data = request.POST if request.method == "POST" else None
    form: AppraiseeReviewForm | AppraiserReviewForm
    if as_appraisee:
        initial = (
            {"evidence": existing.evidence, "self_review": existing.self_review} if existing else {}
        )
        form = AppraiseeReviewForm(data, initial=initial)
    else:
        initial = (
            {"appraiser_comment": existing.appraiser_comment, "outcome": existing.outcome}
            if existing
            else {}
        )
        form = AppraiserReviewForm(
            data, initial=initial, with_outcome=kind == ObjectiveReview.Kind.FINAL
        )

    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            written = form.cleaned_data
            try:
                services.review_save(request.user, objective, kind=kind, **written)
            except ValidationError as error:
                logger.info(
                    "review not saved user=%s objective=%s: %s",
                    request.user.pk,
                    objective.pk,
                    error.messages,
                )
                _apply_errors(form, error)
            else:
                label = ObjectiveReview.Kind(kind).label.lower()
                messages.success(request, f"Your {label} review of '{objective.title}' is saved.")
                return redirect(_detail_url(appraisal) + f"#objective-{objective.pk}")
    return _form_page(
        request,
        "review_form.html",
        {
            "page_title": f"{ObjectiveReview.Kind(kind).label} review: {objective.title}",
            "appraisal": appraisal,
            "objective": objective,
            "existing": existing,
            "kind": kind,
            "kind_label": ObjectiveReview.Kind(kind).label,
            "form": form,
            "as_appraisee": as_appraisee,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mid_year(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete the mid-year review with the appraiser's comment."""
    appraisal = _visible(request, pk)
    _require(
        access.can_manage(request.user, appraisal),
        "Only the appraiser, the academy's headteacher or trust HR completes a review.",
    )
    closed = _closed_form(
        request,
        appraisal,
        "mid_year_complete",
        f"Complete the mid-year review: {appraisal.appraisee.full_name}",
    )
    if closed is not None:
        return closed
    form = MidYearForm(
        request.POST if request.method == "POST" else None,
        initial={"comment": appraisal.mid_year_comment},
    )

    def run(data: dict[str, Any]) -> str:
        services.mid_year_complete(request.user, appraisal, comment=data["comment"])
        return "Mid-year review completed."

    return _stage_form(
        request,
        appraisal,
        form,
        title=f"Complete the mid-year review: {appraisal.appraisee.full_name}",
        button="Complete the mid-year review",
        run=run,
    )


@login_required
@require_http_methods(["GET", "POST"])
def final_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete the final review: summary, pay recommendation where the cycle
    uses one, and development needs one per line."""
    appraisal = _visible(request, pk)
    _require(
        access.can_manage(request.user, appraisal),
        "Only the appraiser, the academy's headteacher or trust HR completes a review.",
    )
    closed = _closed_form(
        request,
        appraisal,
        "final_review_complete",
        f"Complete the final review: {appraisal.appraisee.full_name}",
    )
    if closed is not None:
        return closed
    uses_pay = appraisal.cycle.uses_pay_recommendation
    form = FinalReviewForm(
        request.POST if request.method == "POST" else None,
        uses_pay_recommendation=uses_pay,
        initial={
            "summary": appraisal.summary,
            "pay_recommendation": appraisal.pay_recommendation,
            "development_needs": "\n".join(
                need.description for need in appraisal.development_needs.all()
            ),
        },
    )

    def run(data: dict[str, Any]) -> str:
        services.final_review_complete(
            request.user,
            appraisal,
            summary=data["summary"],
            pay_recommendation=data.get("pay_recommendation", ""),
            development_needs=data["development_needs"],
        )
        return "Final review completed. Both of you now sign it."

    return _stage_form(
        request,
        appraisal,
        form,
        title=f"Complete the final review: {appraisal.appraisee.full_name}",
        button="Complete the final review",
        run=run,
    )


# Appraiser and notes -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def appraiser_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the appraisal another appraiser from the appraisee's academy or the central team."""
    appraisal = _visible(request, pk)
    _require(
        access.can_assign_appraiser(request.user, appraisal),
        "Only the academy's headteacher or trust HR changes an appraiser.",
    )
    closed = _closed_form(
        request,
        appraisal,
        "appraiser_set",
        f"Change the appraiser: {appraisal.appraisee.full_name}",
    )
    if closed is not None:
        return closed
    today = clock.today()
    form = AppraiserForm(
        request.POST if request.method == "POST" else None,
        appraisal=appraisal,
        today=today,
        initial={"appraiser": appraisal.appraiser_id},
    )

    def run(data: dict[str, Any]) -> str:
        chosen = data["appraiser"]
        services.appraiser_set(request.user, appraisal, chosen)
        return f"{chosen.full_name} is now the appraiser."

    return _stage_form(
        request,
        appraisal,
        form,
        title=f"Change the appraiser: {appraisal.appraisee.full_name}",
        button="Change the appraiser",
        run=run,
    )


@login_required
@require_http_methods(["GET", "POST"])
def annotate(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a note to a signed-off appraisal, which can no longer be changed."""
    appraisal = _visible(request, pk)
    closed = _closed_form(
        request, appraisal, "annotation_add", f"Add a note: {appraisal.appraisee.full_name}"
    )
    if closed is not None:
        return closed
    form = AnnotationForm(request.POST if request.method == "POST" else None)

    def run(data: dict[str, Any]) -> str:
        services.annotation_add(request.user, appraisal, text=data["text"])
        return "Note added to the signed-off record."

    return _stage_form(
        request,
        appraisal,
        form,
        title=f"Add a note: {appraisal.appraisee.full_name}",
        button="Add the note",
        run=run,
        anchor="#notes",
    )
