"""Pupil pages: search and list, profile, sensitive fields and audit trail."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse

from academies.selectors import visible_academies, visible_tutor_groups, visible_year_groups
from pupils.selectors import prepare_rows, pupils_with_list_fields
from trust import clock
from trust.access import scope_for
from trust.audit import record_sensitive_view
from trust.params import handles_invalid_parameters, id_parameter, text_parameter
from trust.selectors import audit_rows, audit_trail, can_read_audit

from .models import SENSITIVE_FIELDS, Enrolment, Pupil, active_on
from .selectors import (
    can_see_sensitive,
    current_enrolment,
    is_disadvantaged,
    pupil_premium_categories,
    search_pupils,
    visible_pupils,
)

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 100


def _export_available() -> bool:
    try:
        reverse("pupils:export", args=["csv"])
    except NoReverseMatch:
        return False
    return True


def _filters(request: HttpRequest) -> dict[str, Any]:
    """Read the academy, year_group and tutor_group filters.

    An id outside the user's scope gets 404, as any other out-of-scope id
    does, so the page never confirms that another academy's group exists.
    """
    user = request.user
    chosen: dict[str, Any] = {"academy": None, "year_group": None, "tutor_group": None}
    sources: dict[str, QuerySet] = {
        "academy": visible_academies(user),
        "year_group": visible_year_groups(user),
        "tutor_group": visible_tutor_groups(user),
    }
    for name, queryset in sources.items():
        object_id = id_parameter(request, name)
        if object_id is not None:
            chosen[name] = queryset.filter(pk=object_id).first()
            if chosen[name] is None:
                raise Http404(f"No {name.replace('_', ' ')} with that id is in your scope.")
    return chosen


def _filter_options(user: Any, chosen: dict[str, Any]) -> dict[str, Any]:
    day = clock.today()
    scope = scope_for(user)
    if not scope.sees_any_pupil():
        return {"academies": [], "year_groups": [], "tutor_groups": []}
    academies = visible_academies(user)
    if not scope.all_pupils:
        visible_ids = visible_year_groups(user).values("academy_id")
        academies = academies.filter(
            Q(pk__in=scope.pupil_academy_ids) | Q(pk__in=visible_ids)
        ).distinct()
    year_groups = visible_year_groups(user).order_by("academy__name", "nc_year")
    tutor_groups = visible_tutor_groups(user).filter(
        academic_year__start_date__lte=day, academic_year__end_date__gte=day
    )
    if chosen["academy"]:
        year_groups = year_groups.filter(academy=chosen["academy"])
        tutor_groups = tutor_groups.filter(academy=chosen["academy"])
    if chosen["year_group"]:
        tutor_groups = tutor_groups.filter(year_group=chosen["year_group"])
    # A trust-wide user would otherwise get every tutor group of the trust in
    # one drop-down, so they choose an academy or year group first.
    if scope.all_pupils and not (chosen["academy"] or chosen["year_group"]):
        tutor_groups = tutor_groups.none()
    return {
        "academies": list(academies.order_by("name")),
        "year_groups": list(year_groups),
        "tutor_groups": list(tutor_groups.order_by("academy__name", "year_group__nc_year", "name")),
    }


@login_required
@handles_invalid_parameters
def search(request: HttpRequest) -> HttpResponse:
    """Find pupils by name or UPN, or list the visible pupils with filters."""
    day = clock.today()
    query = text_parameter(request, "q", max_length=MAX_QUERY_LENGTH)
    chosen = _filters(request)

    pupils = visible_pupils(request.user, day)
    if query:
        pupils = search_pupils(pupils, query)
    current = Enrolment.objects.filter(active_on(day), pupil_id=OuterRef("pk"))
    if chosen["academy"]:
        pupils = pupils.filter(Exists(current.filter(academy=chosen["academy"])))
    if chosen["year_group"]:
        pupils = pupils.filter(Exists(current.filter(year_group=chosen["year_group"])))
    if chosen["tutor_group"]:
        pupils = pupils.filter(Exists(current.filter(tutor_group=chosen["tutor_group"])))
    pupils = pupils_with_list_fields(pupils.order_by("legal_surname", "legal_forename", "pk"), day)

    page = Paginator(pupils, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = prepare_rows(request.user, page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    scope = scope_for(request.user)
    return render(
        request,
        "pupils/search.html",
        {
            "page_title": f"Pupils matching “{query}”" if query else "Pupils",
            "query": query,
            "chosen": chosen,
            "options": _filter_options(request.user, chosen),
            "page": page,
            "rows": rows,
            "query_string": params.urlencode(),
            "export_available": _export_available() and scope.sees_any_pupil(),
            "sees_pupils": scope.sees_any_pupil(),
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
        },
    )


def _visible_pupil(request: HttpRequest, pk: int) -> Pupil:
    return get_object_or_404(visible_pupils(request.user), pk=pk)


def _profile_context(request: HttpRequest, pupil: Pupil) -> dict[str, Any]:
    day = clock.today()
    enrolments = pupil.enrolments.select_related(
        "academy", "academic_year", "year_group", "tutor_group"
    ).order_by("-start_date", "-pk")
    sensitive_allowed = can_see_sensitive(request.user, pupil, day)
    categories = pupil_premium_categories(pupil, day, include_looked_after=sensitive_allowed)
    return {
        "page_title": pupil.display_name,
        "pupil": pupil,
        "current": current_enrolment(pupil, day),
        "enrolments": enrolments,
        "contacts": pupil.contacts.order_by("priority", "pk"),
        "pp_categories": categories,
        "disadvantaged": is_disadvantaged(pupil, day),
        "sensitive_allowed": sensitive_allowed,
        "audit_allowed": can_read_audit(request.user),
        "export_available": _export_available(),
    }


@login_required
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a pupil's details, enrolments and contacts, without the sensitive fields."""
    pupil = _visible_pupil(request, pk)
    return render(request, "pupils/profile.html", _profile_context(request, pupil))


@login_required
def sensitive(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the profile with the safeguarding-sensitive fields, logging each display."""
    pupil = _visible_pupil(request, pk)
    if not can_see_sensitive(request.user, pupil):
        raise Http404("No pupil with that id is in your scope.")
    context = _profile_context(request, pupil)
    context["show_sensitive"] = True
    context["needs"] = list(pupil.sen_needs.order_by("rank", "need"))
    record_sensitive_view(
        request.user,
        pupil,
        [*SENSITIVE_FIELDS, "sen_needs"],
        reason="Shown on the sensitive fields page",
    )
    return render(request, "pupils/profile.html", context)


@login_required
def audit(request: HttpRequest, pk: int) -> HttpResponse:
    """List every recorded change to a pupil's data, for trust administrators."""
    if not can_read_audit(request.user):
        raise Http404("No pupil with that id is in your scope.")
    pupil = _visible_pupil(request, pk)
    page = Paginator(audit_trail(pupil_ref=pupil.pk), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "pupils/audit.html",
        {
            "page_title": f"Audit trail: {pupil.display_name}",
            "pupil": pupil,
            "page": page,
            "rows": audit_rows(page.object_list),
        },
    )
