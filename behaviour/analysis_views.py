"""Behaviour analysis pages: the trust, an academy and a year group, with
charts, tables and exports, and the pupils with the most negative points
in the last two weeks."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, render

from academies.models import Academy, YearGroup
from academies.selectors import visible_academies, visible_year_groups
from attendance.selectors import default_range
from trust import clock
from trust.access import scope_for
from trust.charts import Chart, bar_chart
from trust.exports import EXPORT_FORMATS, export_response
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter

from . import analysis
from .analysis import Breakdown, Filters, Tally, Target, Viewer
from .filters import check_date_range, date_parameter
from .models import Polarity

POLARITIES = {"": "Positive and negative", **dict(Polarity.choices)}
TOP_NEGATIVE_SHOWN = 25

BREAKDOWN_HEADERS = [
    "Incidents",
    "Positive points",
    "Negative points",
    "Net points",
    "Pupils",
]


# Parameters --------------------------------------------------------------------


def _filters(request: HttpRequest) -> Filters:
    default_start, default_end = default_range()
    start = date_parameter(request, "from") or default_start
    end = date_parameter(request, "to") or default_end
    check_date_range(start, end)
    polarity = request.GET.get("polarity", "").strip()
    if polarity not in POLARITIES:
        raise InvalidParameter(
            "polarity", polarity[:40], "it must be positive, negative or left empty for both"
        )
    return Filters(start=start, end=end, polarity=polarity)


def _export_choice(request: HttpRequest, keys: list[str]) -> tuple[str, str] | None:
    """Read ?export= (a table key) and ?format= (csv or xlsx), or None for the page."""
    key = request.GET.get("export", "").strip()
    if not key:
        return None
    if key not in keys:
        raise InvalidParameter("export", key[:40], f"it must be one of: {', '.join(keys)}")
    fmt = request.GET.get("format", "csv").strip() or "csv"
    if fmt not in EXPORT_FORMATS:
        raise InvalidParameter("format", fmt[:40], "it must be csv or xlsx")
    return key, fmt


def _query(filters: Filters) -> str:
    query = f"from={filters.start:%Y-%m-%d}&to={filters.end:%Y-%m-%d}"
    if filters.polarity:
        query += f"&polarity={filters.polarity}"
    return query


# Charts and exports ------------------------------------------------------------


def _chart(breakdown: Breakdown, place: str) -> Chart:
    return bar_chart(
        title=f"{breakdown.title}, {place}",
        labels=[row.label for row in breakdown.rows],
        series={"Incidents": [row.tally.incidents for row in breakdown.rows]},  # type: ignore[misc]  # None is a suppressed value
        y_title="Incidents",
        x_title=breakdown.heading,
    )


def _tally_cells(tally: Tally) -> list[object]:
    return [
        tally.incidents,
        tally.positive_points,
        tally.negative_points,
        tally.net_points,
        tally.pupils,
    ]


def _export(breakdown: Breakdown, fmt: str, stem: str, filters: Filters) -> HttpResponseBase:
    return export_response(
        filename=f"behaviour-{stem}-by-{breakdown.key}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}",
        fmt=fmt,  # type: ignore[arg-type]
        headers=[breakdown.heading, *BREAKDOWN_HEADERS],
        rows=[[row.label, *_tally_cells(row.tally)] for row in breakdown.rows],
    )


ACADEMY_HEADERS = [
    "Academy",
    "Incidents",
    "Positive points",
    "Negative points",
    "Net points",
    "Pupils with a negative incident",
    "Pupils on roll",
    "Negative incidents per 100 pupils",
]


def _academy_cells(name: str, tally: Tally) -> list[object]:
    return [
        name,
        tally.incidents,
        tally.positive_points,
        tally.negative_points,
        tally.net_points,
        tally.negative_pupils,
        tally.on_roll,
        tally.negative_per_100,
    ]


# Pages -------------------------------------------------------------------------


def _render(
    request: HttpRequest,
    *,
    viewer: Viewer,
    target: Target,
    filters: Filters,
    title: str,
    stem: str,
    extra: dict[str, Any],
    own_categories: bool = False,
    academy_rows: tuple[list[analysis.AcademyRow], Tally] | None = None,
) -> HttpResponseBase:
    tables = analysis.breakdowns(viewer, target, filters, own_categories=own_categories)
    keys = [table.key for table in tables]
    if academy_rows is not None:
        keys.insert(0, "academies")
    choice = _export_choice(request, keys)
    if choice is not None:
        key, fmt = choice
        if key == "academies" and academy_rows is not None:
            rows, total = academy_rows
            return export_response(
                filename=f"behaviour-{stem}-by-academy-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}",
                fmt=fmt,  # type: ignore[arg-type]
                headers=ACADEMY_HEADERS,
                rows=[_academy_cells(r.academy.name, r.tally) for r in rows]
                + [_academy_cells("Total", total)],
            )
        chosen = next(table for table in tables if table.key == key)
        return _export(chosen, fmt, stem, filters)

    figures = (
        academy_rows[1]
        if academy_rows is not None
        else analysis.group_figures(viewer, target, filters)
    )
    charted = [t for t in tables if t.key in ("category", "day", "session", "location")]
    context = {
        "page_title": f"Behaviour analysis: {title}",
        "title": title,
        "filters": filters,
        "polarities": POLARITIES,
        "polarity_label": POLARITIES[filters.polarity],
        "figures": figures,
        "charts": [_chart(table, title) for table in charted],
        "tables": tables,
        "query": _query(filters),
        "counts_only": viewer.counts_only,
        "suppress_below": analysis.SUPPRESS_BELOW,
        **extra,
    }
    if academy_rows is not None:
        rows, _ = academy_rows
        context["academy_rows"] = rows
        context["academy_chart"] = bar_chart(
            title=f"Negative incidents per 100 pupils on roll, {title}",
            labels=[r.academy.name for r in rows],
            series={"Per 100 pupils": [r.tally.negative_per_100 for r in rows]},  # type: ignore[misc]  # None is a suppressed value
            y_title="Negative incidents per 100 pupils",
            x_title="Academy",
        )
    return render(request, "behaviour/analysis.html", context)


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def trust_analysis(request: HttpRequest) -> HttpResponseBase:
    """Show behaviour across every academy the user may open, one row each and a total."""
    academies = list(visible_academies(request.user).order_by("name"))
    if not academies:
        raise Http404("No academy is in your scope.")
    viewer = analysis.viewer_for(request.user)
    filters = _filters(request)
    title = "the trust" if scope_for(request.user).all_academies else "your academies"
    target = Target()
    rows = analysis.academy_rows(viewer, academies, filters)
    return _render(
        request,
        viewer=viewer,
        target=target,
        filters=filters,
        title=title,
        stem="trust",
        extra={
            "scope": "trust",
            "partial": viewer.partial,
            "top_negative_query": None,
        },
        academy_rows=rows,
    )


def _academy_stem(academy: Academy) -> str:
    return str(academy.short_name or academy.urn)


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def academy_analysis(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show one academy's behaviour figures, charts and tables."""
    academy = get_object_or_404(visible_academies(request.user), pk=pk)
    viewer = analysis.viewer_for(request.user)
    filters = _filters(request)
    year_groups = list(
        visible_year_groups(request.user).filter(academy=academy).order_by("nc_year")
    )
    return _render(
        request,
        viewer=viewer,
        target=Target(academy=academy),
        filters=filters,
        title=academy.name,
        stem=_academy_stem(academy),
        own_categories=True,
        extra={
            "scope": "academy",
            "academy": academy,
            "partial": analysis.partial_for(viewer, academy.pk),
            "year_groups": year_groups,
            "top_negative_query": f"academy={academy.pk}",
        },
    )


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def year_group_analysis(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show one year group's behaviour figures, charts and tables."""
    group = get_object_or_404(visible_year_groups(request.user), pk=pk)
    viewer = analysis.viewer_for(request.user)
    filters = _filters(request)
    academy_open = visible_academies(request.user).filter(pk=group.academy_id).exists()
    return _render(
        request,
        viewer=viewer,
        target=Target(year_group=group),
        filters=filters,
        title=f"{group.name}, {group.academy.name}",
        stem=f"year-{group.nc_year}-{_academy_stem(group.academy)}",
        own_categories=True,
        extra={
            "scope": "year_group",
            "academy": group.academy,
            "academy_open": academy_open,
            "group": group,
            "partial": analysis.partial_for(viewer, group.academy_id),
            "top_negative_query": f"year_group={group.pk}",
        },
    )


# Top negative ------------------------------------------------------------------

TOP_NEGATIVE_HEADERS = [
    "Pupil",
    "UPN",
    "Year group",
    "Tutor group",
    "Negative points",
    "Negative incidents",
]


def _top_negative_target(request: HttpRequest) -> tuple[Target, str, Academy, YearGroup | None]:
    academy_id = id_parameter(request, "academy")
    year_group_id = id_parameter(request, "year_group")
    if (academy_id is None) == (year_group_id is None):
        supplied = "both" if academy_id is not None else "neither"
        raise InvalidParameter(
            "academy",
            supplied,
            "exactly one of academy or year_group must be given, as the id of one you can see",
        )
    if year_group_id is not None:
        group = get_object_or_404(visible_year_groups(request.user), pk=year_group_id)
        return Target(year_group=group), f"{group.name}, {group.academy.name}", group.academy, group
    academy = get_object_or_404(visible_academies(request.user), pk=academy_id)
    return Target(academy=academy), academy.name, academy, None


def _top_negative_export(
    rows: list[analysis.TopNegativeRow], fmt: str, stem: str
) -> HttpResponseBase:
    return export_response(
        filename=f"behaviour-top-negative-{stem}",
        fmt=fmt,  # type: ignore[arg-type]
        headers=TOP_NEGATIVE_HEADERS,
        rows=[
            [
                r.pupil.display_name,
                r.pupil.upn,
                getattr(r.pupil, "current_year_name", ""),
                getattr(r.pupil, "current_tutor_group_name", "") or "",
                r.negative_points,
                r.incidents,
            ]
            for r in rows
        ],
    )


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def top_negative(request: HttpRequest) -> HttpResponseBase:
    """List the pupils with the most negative points in the last 14 days."""
    viewer = analysis.viewer_for(request.user)
    if not viewer.sees_pupils:
        raise Http404("Pupil lists are not available to your role.")
    target, title, academy, group = _top_negative_target(request)
    fmt = request.GET.get("format", "").strip()
    if fmt and fmt not in EXPORT_FORMATS:
        raise InvalidParameter("format", fmt[:40], "it must be csv or xlsx")
    today = clock.today()
    start, end = analysis.top_negative_window(today)
    rows = analysis.top_negative(request.user, target, today)
    if fmt:
        return _top_negative_export(rows, fmt, f"{_academy_stem(academy)}-{end:%Y%m%d}")
    query = f"year_group={group.pk}" if group is not None else f"academy={academy.pk}"
    scope = scope_for(request.user)
    return render(
        request,
        "behaviour/top_negative.html",
        {
            "page_title": f"Most negative points in the last 14 days: {title}",
            "title": title,
            "academy": academy,
            "group": group,
            "rows": rows[:TOP_NEGATIVE_SHOWN],
            "total": len(rows),
            "shown": TOP_NEGATIVE_SHOWN,
            "start": start,
            "end": end,
            "query": query,
            "show_lac_key": scope.safeguarding_all or bool(scope.safeguarding_academy_ids),
            "analysis_url_name": "behaviour:year-group-analysis"
            if group
            else "behaviour:academy-analysis",
            "analysis_pk": group.pk if group is not None else academy.pk,
        },
    )
