"""Academy pages: the list, one academy, a year group and a tutor group."""

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from academies.selectors import academy_figures
from progress.targets import can_generate
from pupils.models import Enrolment, active_on
from pupils.selectors import prepare_rows, pupils_with_list_fields, register_order, visible_pupils
from trust import clock
from trust.access import scope_for
from trust.page_views import year_group_chart

from .selectors import visible_academies, visible_tutor_groups, visible_year_groups


@login_required
def academy_list(request: HttpRequest) -> HttpResponse:
    """List the academies the user may open, with their pupil numbers."""
    day = clock.today()
    rows = academy_figures(visible_academies(request.user), day)
    return render(
        request, "academies/list.html", {"page_title": "Academies", "rows": rows, "today": day}
    )


@login_required
def academy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one academy: details, Ofsted history, year groups, tutor groups, departments.

    The page shows counts only, so a trustee may open it. Group links appear
    only where the user may open the group's pupil list.
    """
    day = clock.today()
    academy = get_object_or_404(visible_academies(request.user), pk=pk)
    figures = academy_figures([academy], day)[0]
    open_year_groups = set(
        visible_year_groups(request.user).filter(academy=academy).values_list("pk", flat=True)
    )
    tutor_groups = (
        academy.tutor_groups.filter(
            academic_year__start_date__lte=day, academic_year__end_date__gte=day
        )
        .select_related("year_group", "tutor")
        .order_by("year_group__nc_year", "name")
    )
    open_tutor_groups = set(
        visible_tutor_groups(request.user).filter(academy=academy).values_list("pk", flat=True)
    )
    return render(
        request,
        "academies/detail.html",
        {
            "page_title": academy.name,
            "academy": academy,
            "figures": figures,
            "chart": year_group_chart(figures),
            "inspections": academy.inspections.order_by("-inspected_on"),
            "open_year_groups": open_year_groups,
            "tutor_groups": tutor_groups,
            "open_tutor_groups": open_tutor_groups,
            "departments": academy.departments.select_related("head").order_by("name"),
            "today": day,
        },
    )


def _on_roll(field_name: str, value: int, day: datetime.date) -> Exists:
    return Exists(
        Enrolment.objects.filter(active_on(day), pupil_id=OuterRef("pk"), **{field_name: value})
    )


@login_required
def year_group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """List the pupils on roll in one year group today, with its tutor groups."""
    day = clock.today()
    group = get_object_or_404(visible_year_groups(request.user), pk=pk)
    pupils = visible_pupils(request.user, day).filter(_on_roll("year_group_id", group.pk, day))
    rows = prepare_rows(request.user, register_order(pupils_with_list_fields(pupils, day)))
    tutor_groups = (
        visible_tutor_groups(request.user)
        .filter(
            year_group=group, academic_year__start_date__lte=day, academic_year__end_date__gte=day
        )
        .order_by("name")
    )
    counts: dict[int | None, int] = {}
    for pupil in rows:
        key = pupil.current_tutor_group_id  # type: ignore[attr-defined]
        counts[key] = counts.get(key, 0) + 1
    scope = scope_for(request.user)
    return render(
        request,
        "academies/year_group.html",
        {
            "page_title": f"{group.name}, {group.academy.name}",
            "group": group,
            "rows": rows,
            "tutor_groups": [(g, counts.get(g.pk, 0)) for g in tutor_groups],
            "today": day,
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
            "can_generate_tmgs": can_generate(request.user, group),
        },
    )


@login_required
def tutor_group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """List a tutor group's pupils in register order, with the tutor."""
    day = clock.today()
    group = get_object_or_404(visible_tutor_groups(request.user), pk=pk)
    pupils = visible_pupils(request.user, day).filter(_on_roll("tutor_group_id", group.pk, day))
    rows = prepare_rows(request.user, register_order(pupils_with_list_fields(pupils, day)))
    scope = scope_for(request.user)
    year_group_open = visible_year_groups(request.user).filter(pk=group.year_group_id).exists()
    return render(
        request,
        "academies/tutor_group.html",
        {
            "page_title": f"Tutor group {group.name}, {group.academy.name}",
            "group": group,
            "rows": rows,
            "today": day,
            "year_group_open": year_group_open,
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
        },
    )
