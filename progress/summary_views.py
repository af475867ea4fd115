"""Pages of the year group heatmap with its pupil lists, and the academy and
trust summaries of pupils on or above their TMG."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from academies.models import Academy, YearGroup
from academies.selectors import visible_academies, visible_year_groups
from pupils.selectors import prepare_rows, pupils_with_list_fields, register_order, visible_pupils
from trust import clock
from trust.access import scope_for
from trust.charts import Chart, bar_chart
from trust.exports import EXPORT_FORMATS, export_response
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter

from .grades import STATUS_LABELS, Status
from .models import AssessmentPoint
from .selectors import entry_label, status_view, tmg_label
from .summaries import (
    AREAS,
    SUPPRESS_BELOW,
    Summary,
    SummaryRow,
    academy_summary,
    default_point,
    heatmap,
    trust_summary,
    year_group_points,
)


def _counts_only(user: Any) -> bool:
    """Return whether `user` may see aggregates only, as trustees may."""
    scope = scope_for(user)
    return scope.is_trustee_only or not scope.sees_any_pupil()


def _visible_year_group(request: HttpRequest, pk: int) -> YearGroup:
    if _counts_only(request.user):
        raise Http404("No year group found.")
    return get_object_or_404(visible_year_groups(request.user), pk=pk)


def _point(request: HttpRequest, points: list[AssessmentPoint]) -> AssessmentPoint | None:
    point_id = id_parameter(request, "point")
    if point_id is None:
        return default_point(points, clock.today())
    point = next((p for p in points if p.pk == point_id), None)
    if point is None:
        raise InvalidParameter(
            "point", str(point_id), "it must be an assessment point of this year group"
        )
    return point


def _status_parameter(request: HttpRequest) -> str:
    raw = request.GET.get("status", "").strip()
    if raw not in Status.values:
        raise InvalidParameter("status", raw[:40], f"it must be one of: {', '.join(Status.values)}")
    return raw


# The heatmap ---------------------------------------------------------------------------


@login_required
@handles_invalid_parameters
def year_group_heatmap(request: HttpRequest, pk: int) -> HttpResponse:
    """Show, per qualification taught in the year group, how many pupils are at
    each status against their TMG at one assessment point."""
    year_group = _visible_year_group(request, pk)
    points = year_group_points(year_group)
    point = _point(request, points)
    result = heatmap(year_group, point) if point else None
    columns = [status_view(s) for s in result.statuses] if result else []
    rows = []
    if result:
        base = reverse("progress:year-group-heatmap-pupils", args=[year_group.pk])
        for row in result.rows:
            cells = [
                {
                    "status": column,
                    "count": row.counts[column.value],
                    "url": f"{base}?point={point.pk}&qualification={row.qualification.pk}"  # type: ignore[union-attr]
                    f"&status={column.value}",
                }
                for column in columns
            ]
            rows.append({"qualification": row.qualification, "cells": cells, "total": row.total})
    return render(
        request,
        "progress/heatmap.html",
        {
            "page_title": f"Progress heatmap: {year_group.name}, {year_group.academy.name}",
            "year_group": year_group,
            "points": points,
            "point": point,
            "columns": columns,
            "rows": rows,
        },
    )


@login_required
@handles_invalid_parameters
def year_group_heatmap_pupils(request: HttpRequest, pk: int) -> HttpResponse:
    """List the pupils behind one cell of the heatmap with their grade and TMG."""
    year_group = _visible_year_group(request, pk)
    points = year_group_points(year_group)
    point = _point(request, points)
    qualification_id = id_parameter(request, "qualification")
    if qualification_id is None:
        raise InvalidParameter(
            "qualification", "", "it is required: give the number of a qualification"
        )
    status = _status_parameter(request)

    if point is None:
        raise InvalidParameter("point", "", f"{year_group.name} has no assessment points yet")
    result = heatmap(year_group, point)
    row = result.row_for(qualification_id)
    if row is None:
        raise InvalidParameter(
            "qualification",
            str(qualification_id),
            f"it must be a qualification taught in {year_group.name} in {point.academic_year.name}",
        )

    chosen = [item for item in row.pupils if item.status == status]
    visible = pupils_with_list_fields(visible_pupils(request.user), clock.today())
    pupils = prepare_rows(
        request.user, register_order(visible.filter(pk__in=[i.pupil_id for i in chosen]))
    )
    by_pupil = {item.pupil_id: item for item in chosen}
    listed = [
        {
            "pupil": pupil,
            "grade": entry_label(by_pupil[pupil.pk].entry),
            "tmg": tmg_label(by_pupil[pupil.pk].tmg),
        }
        for pupil in pupils
    ]

    return render(
        request,
        "progress/heatmap_pupils.html",
        {
            "page_title": f"{STATUS_LABELS[status]} in {row.qualification.name}: "
            f"{year_group.name}, {year_group.academy.name}",
            "year_group": year_group,
            "point": point,
            "qualification": row.qualification,
            "status": status_view(status),
            "rows": listed,
            "count": len(chosen),
            "not_listed": len(chosen) - len(listed),
        },
    )


# The summaries -------------------------------------------------------------------------


def _export_format(request: HttpRequest) -> str | None:
    raw = request.GET.get("format", "").strip()
    if not raw:
        return None
    if raw not in EXPORT_FORMATS:
        raise InvalidParameter("format", raw[:40], "it must be csv or xlsx")
    return raw


def _chart(by: str, rows: list[SummaryRow], place: str) -> Chart:
    """Chart the percentage on or above TMG of each row, one series per area.

    A suppressed figure or a row without graded pupils is None, so it has no bar.
    """
    series: dict[str, list[Any]] = {
        area.label: [row.areas[area.key].percent for row in rows] for area in AREAS
    }
    return bar_chart(
        title=f"Pupils on or above TMG by {by}, {place}",
        labels=[row.label for row in rows],
        series=series,
        y_title="Per cent on or above target",
        x_title=by.capitalize(),
    )


EXPORT_HEADERS = [
    "Table",
    "Row",
    "Assessment point",
    "Area",
    "Pupils with a grade",
    "On or above TMG",
    "Percentage on or above TMG",
    "Graded without a TMG",
]


def _export_rows(sections: list[tuple[str, list[SummaryRow]]]) -> list[list[object]]:
    hidden = f"fewer than {SUPPRESS_BELOW}"
    lines: list[list[object]] = []
    for section, rows in sections:
        for row in rows:
            point = f"{row.point.name} ({row.point.date:%d/%m/%Y})" if row.point else ""
            for area in AREAS:
                tally = row.areas[area.key]
                if tally.suppressed:
                    shown = hidden if tally.small else "not shown"
                    lines.append([section, row.label, point, area.label, shown, "", "", ""])
                    continue
                lines.append(
                    [
                        section,
                        row.label,
                        point,
                        area.label,
                        tally.graded,
                        tally.on_or_above,
                        tally.percent,
                        tally.no_tmg,
                    ]
                )
    return lines


def _summary_page(
    request: HttpRequest,
    summary: Summary,
    *,
    by: str,
    stem: str,
    extra: dict[str, Any],
) -> HttpResponseBase:
    sections = [(by.capitalize(), [*summary.rows, summary.total])]
    if summary.year_rows:
        sections.append(("Year group", summary.year_rows))
    sections.append(("Pupil group", summary.groups))
    fmt = _export_format(request)
    if fmt is not None:
        return export_response(
            filename=f"progress-summary-{stem}-{clock.today():%Y%m%d}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=EXPORT_HEADERS,
            rows=_export_rows(sections),
        )
    charts = [_chart(by, summary.rows, summary.title)]
    if summary.year_rows:
        charts.append(_chart("year group", summary.year_rows, summary.title))
    charts.append(_chart("pupil group", summary.groups, summary.title))
    return render(
        request,
        "progress/summary.html",
        {
            "summary": summary,
            "areas": AREAS,
            "by": by,
            "charts": charts,
            "today": clock.today(),
            "suppress_below": SUPPRESS_BELOW,
            **extra,
        },
    )


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def academy_summary_page(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show the percentage of an academy's pupils on or above TMG by year group,
    subject area and pupil group, at each year group's latest assessment point."""
    academy: Academy = get_object_or_404(visible_academies(request.user), pk=pk)
    scope = scope_for(request.user)
    suppress = _counts_only(request.user) or not (
        scope.all_pupils or academy.pk in scope.pupil_academy_ids
    )
    summary = academy_summary(academy, clock.today(), suppress=suppress)
    open_year_groups = set()
    if not _counts_only(request.user):
        open_year_groups = set(
            visible_year_groups(request.user).filter(academy=academy).values_list("pk", flat=True)
        )
    for row in summary.rows:
        if row.point and row.point.year_group_id in open_year_groups:
            row.link = reverse("progress:year-group-heatmap", args=[row.point.year_group_id])
            row.link += f"?point={row.point.pk}"
    return _summary_page(
        request,
        summary,
        by="year group",
        stem=f"academy-{academy.pk}",
        extra={
            "page_title": f"Progress summary: {academy.name}",
            "academy": academy,
            "shows_trust_link": scope.all_academies,
        },
    )


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def trust_summary_page(request: HttpRequest) -> HttpResponseBase:
    """Show the trust's pupils on or above TMG by academy, year group, subject area
    and pupil group; figures come from summed counts, never averaged percentages."""
    scope = scope_for(request.user)
    if not scope.all_academies:
        raise Http404("No trust summary found.")
    academies = list(visible_academies(request.user).order_by("name"))
    suppress = _counts_only(request.user) or not scope.all_pupils
    summary = trust_summary(academies, clock.today(), suppress=suppress)
    for row, academy in zip(summary.rows, academies, strict=True):
        row.link = reverse("progress:academy-summary", args=[academy.pk])
    return _summary_page(
        request,
        summary,
        by="academy",
        stem="trust",
        extra={"page_title": "Progress summary: trust", "academy": None},
    )
