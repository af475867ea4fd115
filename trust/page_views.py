"""Role landing pages.

Each landing page shows what exists now; later domain apps add their
panels. Every read goes through the visible_* selectors, and each page
runs a fixed number of queries however many pupils there are.
"""

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from academies.selectors import (
    AcademyFigures,
    visible_tutor_groups,
    visible_year_groups,
)
from pupils.models import Pupil
from pupils.selectors import (
    on_roll_in,
    prepare_rows,
    pupils_with_list_fields,
    register_order,
    visible_pupils,
)

from . import clock
from .access import scope_for
from .charts import Chart, bar_chart


def year_group_chart(figures: AcademyFigures) -> Chart:
    return bar_chart(
        title=f"Pupils on roll by year group, {figures.academy.name}",
        labels=[group.name for group, _ in figures.by_year],
        series={"Pupils": [count for _, count in figures.by_year]},
        y_title="Pupils",
        x_title="Year group",
    )


def _group_register(rows: list[Pupil]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int | None], list[Pupil]] = defaultdict(list)
    for pupil in rows:
        key = (
            getattr(pupil, "current_tutor_group_name", None) or "No tutor group",
            getattr(pupil, "current_tutor_group_id", None),
        )
        groups[key].append(pupil)
    return [
        {"name": name, "id": group_id, "pupils": pupils, "count": len(pupils)}
        for (name, group_id), pupils in sorted(groups.items(), key=lambda item: item[0][0])
    ]


@login_required
def my_year(request: HttpRequest) -> HttpResponse:
    """Show the head of year's year groups today: pupils by tutor group, with chips."""
    day = clock.today()
    scope = scope_for(request.user)
    year_groups = list(
        visible_year_groups(request.user).filter(pk__in=scope.year_group_ids).order_by("nc_year")
    )
    sections = []
    if year_groups:
        pupils = visible_pupils(request.user, day).filter(
            on_roll_in("year_group_id", [g.pk for g in year_groups], day)
        )
        rows = prepare_rows(request.user, register_order(pupils_with_list_fields(pupils, day)))
        for group in year_groups:
            in_group = [p for p in rows if p.current_year_group_id == group.pk]  # type: ignore[attr-defined]
            sections.append(
                {"year_group": group, "count": len(in_group), "groups": _group_register(in_group)}
            )
    from attendance.views import morning_context
    from behaviour.timeline import follow_ups_due

    follow_ups_count, follow_ups_first = follow_ups_due(request.user, day)
    return render(
        request,
        "trust/my_year.html",
        {
            "page_title": "My year today",
            "sections": sections,
            "today": day,
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
            "follow_ups_count": follow_ups_count,
            "follow_ups_first": follow_ups_first,
            **morning_context(request.user),
        },
    )


@login_required
def my_classes(request: HttpRequest) -> HttpResponse:
    """Show the user's tutor groups this academic year, with their pupils, and the
    classes they teach with a link to enter grades."""
    day = clock.today()
    scope = scope_for(request.user)
    tutor_groups = list(
        visible_tutor_groups(request.user)
        .filter(
            pk__in=scope.tutor_group_ids,
            academic_year__start_date__lte=day,
            academic_year__end_date__gte=day,
        )
        .order_by("academy__name", "year_group__nc_year", "name")
    )
    sections = []
    if tutor_groups:
        pupils = visible_pupils(request.user, day).filter(
            on_roll_in("tutor_group_id", [g.pk for g in tutor_groups], day)
        )
        rows = prepare_rows(request.user, register_order(pupils_with_list_fields(pupils, day)))
        for group in tutor_groups:
            in_group = [p for p in rows if p.current_tutor_group_id == group.pk]  # type: ignore[attr-defined]
            sections.append({"tutor_group": group, "pupils": in_group})
    from progress.access import visible_teaching_groups
    from progress.interventions import overdue_reviews
    from progress.selectors import class_list, latest_points

    taught = list(
        class_list(visible_teaching_groups(request.user).filter(pk__in=scope.teaching_group_ids))
    )
    points = latest_points(taught)
    return render(
        request,
        "trust/my_classes.html",
        {
            "page_title": "My classes",
            "sections": sections,
            "taught": [{"group": g, "point": points.get(g.pk)} for g in taught],
            "overdue_reviews": overdue_reviews(request.user),
            "today_iso": day.isoformat(),
            "school_day": day.weekday() < 5,
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
        },
    )
