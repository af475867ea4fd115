"""Staff pages: the directory, one staff member and their audit trail."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from academies.selectors import visible_academies
from pupils.models import search_key
from trust import clock
from trust.params import (
    InvalidParameter,
    handles_invalid_parameters,
    id_parameter,
    text_parameter,
    text_parameter_preview,
)
from trust.selectors import audit_rows, audit_trail, can_read_audit

from .models import PostType
from .selectors import visible_staff

PAGE_SIZE = 50
CENTRAL_TEAM = "central"


@login_required
@handles_invalid_parameters
def directory(request: HttpRequest) -> HttpResponse:
    """List the staff the user may see, filtered by academy, post type and name."""
    day = clock.today()
    staff = visible_staff(request.user)
    academies = (
        visible_academies(request.user).filter(pk__in=staff.values("academy_id")).order_by("name")
    )

    chosen_academy = None
    raw_academy = request.GET.get("academy", "").strip()
    if raw_academy == CENTRAL_TEAM:
        staff = staff.filter(academy__isnull=True)
    else:
        academy_id = id_parameter(request, "academy")
        if academy_id is not None:
            chosen_academy = academies.filter(pk=academy_id).first()
            if chosen_academy is None:
                raise Http404("No academy with that id is in your scope.")
            staff = staff.filter(academy=chosen_academy)

    post_type = request.GET.get("post_type", "").strip()
    if post_type:
        if post_type not in PostType.values:
            allowed = ", ".join(f"“{v}”" for v in PostType.values)
            raise InvalidParameter(
                "post_type", text_parameter_preview(post_type), f"it must be one of {allowed}"
            )
        staff = staff.filter(post_type=post_type)

    name = text_parameter(request, "q")
    for token in search_key(name).split():
        staff = staff.filter(
            Q(first_name__icontains=token)
            | Q(last_name__icontains=token)
            | Q(email__icontains=token)
        )

    include_leavers = request.GET.get("leavers") == "1"
    if not include_leavers:
        staff = staff.filter(Q(left_on__isnull=True) | Q(left_on__gt=day))

    page = Paginator(staff.order_by("last_name", "first_name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "staff/directory.html",
        {
            "page_title": "Staff",
            "page": page,
            "academies": academies,
            "raw_academy": raw_academy,
            "post_types": PostType.choices,
            "post_type": post_type,
            "query": name,
            "include_leavers": include_leavers,
            "query_string": params.urlencode(),
            "central_team": CENTRAL_TEAM,
        },
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one staff member with their roles and direct reports."""
    member = get_object_or_404(visible_staff(request.user), pk=pk)
    roles = member.roles.select_related(
        "academy", "year_group__academy", "tutor_group__academy"
    ).order_by("role")
    visible = visible_staff(request.user)
    reports = visible.filter(line_manager=member).order_by("last_name")
    # The line manager's name is part of this record, but their own record
    # is linked only when the user may open it (a head's manager may be in
    # the central team).
    manager_visible = bool(
        member.line_manager_id and visible.filter(pk=member.line_manager_id).exists()
    )
    return render(
        request,
        "staff/detail.html",
        {
            "page_title": member.full_name,
            "member": member,
            "roles": roles,
            "reports": reports,
            "manager_visible": manager_visible,
            "audit_allowed": can_read_audit(request.user),
        },
    )


@login_required
def audit(request: HttpRequest, pk: int) -> HttpResponse:
    """List every recorded change to a staff member's record, for trust administrators."""
    if not can_read_audit(request.user):
        raise Http404("No staff member with that id is in your scope.")
    member = get_object_or_404(visible_staff(request.user), pk=pk)
    page = Paginator(audit_trail(staff_ref=member.pk), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/audit.html",
        {
            "page_title": f"Audit trail: {member.full_name}",
            "member": member,
            "page": page,
            "rows": audit_rows(page.object_list),
        },
    )
