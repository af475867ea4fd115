"""The trust, academy and year group dashboards, and the exports of their tables.

Every page calls reports.access to decide who may open it and whether they see pupils.
Those who may not see pupils (trustees, trust HR, teachers looking at their
academy) get figures with small groups hidden and never a pupil's name or
link, on the page and in its exports alike.

Any table of a page downloads with ?export=<table>&format=csv|xlsx; the
export is built by the same code as the page, so it holds what the page
shows and nothing more.
"""

import datetime
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import urlencode

from academies.models import Academy, YearGroup
from trust import clock
from trust.exports import EXPORT_FORMATS, ExportFormat, export_response
from trust.params import (
    InvalidParameter,
    handles_invalid_parameters,
    id_parameter,
    text_parameter_preview,
)

from . import dashboard_context as dc
from .access import dashboard_academies, dashboard_year_groups, sees_pupils, sees_trust_dashboard
from .figures import academy_table, year_group_table

Builders = dict[str, Callable[[], tuple[list[str], list[list[object]]]]]


def _export_choice(request: HttpRequest, tables: Sequence[str]) -> tuple[str, ExportFormat] | None:
    """Read ?export= and ?format=, or return None when the page itself is requested."""
    table = request.GET.get("export", "").strip()
    if not table:
        return None
    if table not in tables:
        raise InvalidParameter(
            "export", text_parameter_preview(table), f"it must be one of: {', '.join(tables)}"
        )
    fmt = request.GET.get("format", "csv").strip()
    if fmt not in EXPORT_FORMATS:
        raise InvalidParameter(
            "format", text_parameter_preview(fmt), f"it must be one of: {', '.join(EXPORT_FORMATS)}"
        )
    return table, cast(ExportFormat, fmt)


def _export(builders: Builders, choice: tuple[str, ExportFormat], stem: str) -> HttpResponseBase:
    table, fmt = choice
    headers, rows = builders[table]()
    day = clock.today()
    return export_response(
        filename=f"{stem}-{table}-{day:%Y-%m-%d}", fmt=fmt, headers=headers, rows=rows
    )


def _trend_export(trend: dc.Trend) -> Callable[[], tuple[list[str], list[list[object]]]]:
    return trend.export


def _comparison_export(
    items: list[dc.Comparison],
) -> Callable[[], tuple[list[str], list[list[object]]]]:
    def build() -> tuple[list[str], list[list[object]]]:
        rows = [row for item in items for row in item.export_rows()]
        return list(dc.COMPARISON_HEADERS), rows

    return build


def _suppress_for(user: Any, academies: Sequence[Academy]) -> bool:
    """Hide small groups unless `user` sees the pupils of every academy shown."""
    return not all(sees_pupils(user, academy_id=a.pk) for a in academies)


# Trust dashboard -----------------------------------------------------------------

TRUST_TABLES = ("academies", "comparison", "trend")


def _trend_academy(request: HttpRequest, academies: list[Academy]) -> Academy | None:
    chosen_id = id_parameter(request, "trend")
    if chosen_id is None:
        return None
    chosen = next((a for a in academies if a.pk == chosen_id), None)
    if chosen is None:
        raise InvalidParameter(
            "trend", str(chosen_id), "it must be the number of an academy on this dashboard"
        )
    return chosen


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def trust_dashboard(request: HttpRequest) -> HttpResponseBase:
    """Show one row per academy and the trust total against targets and
    England, with the trend over the year; each academy drills down."""
    if not sees_trust_dashboard(request.user):
        raise Http404("The trust dashboard needs a trust-wide role.")
    from .breakdowns import monthly_trend
    from .national import comparisons_by_academy, trust_comparison

    day = clock.today()
    academies = list(dashboard_academies(request.user).order_by("name"))
    export = _export_choice(request, TRUST_TABLES)
    trend_academy = _trend_academy(request, academies)
    suppress = _suppress_for(request.user, academies)

    targets = dc.Targets(academies, day)
    source = academy_table(academies, day, suppress=suppress)
    table = dc.academies_figures_table(source, targets)
    comparison = dc.comparisons([trust_comparison(academies, day)], suppress)
    if table.total is not None and comparison:
        dc.national_cells([table.total], comparison[0])
    academy_comparisons = dc.academy_comparisons(
        table, comparisons_by_academy(academies, day), suppress
    )
    trend_ids = [trend_academy.pk] if trend_academy else [a.pk for a in academies]
    trend_where = trend_academy.name if trend_academy else "the trust"
    trend = dc.build_trend(monthly_trend(trend_ids, None, day), trend_where, suppress=suppress)

    builders: Builders = {
        "academies": table.export,
        "comparison": _comparison_export(comparison + academy_comparisons),
        "trend": _trend_export(trend),
    }
    if export is not None:
        return _export(builders, export, "trust")
    params = {"trend": trend_academy.pk} if trend_academy else {}
    return render(
        request,
        "reports/dashboard_trust.html",
        {
            "page_title": "Trust dashboard",
            "today": day,
            "start": source.start,
            "end": source.end,
            "academies": academies,
            "table": table,
            "comparisons": comparison,
            "academy_comparisons": academy_comparisons,
            "trend": trend,
            "trend_academy": trend_academy,
            "bar_chart": dc.attendance_bar_chart(table, "Attendance rate by academy", "Academy"),
            "suppress": suppress,
            "hidden_explanation": dc.HIDDEN_EXPLANATION,
            "export_query": urlencode(params),
        },
    )


# Academy dashboard ----------------------------------------------------------------

ACADEMY_TABLES = ("figures", "comparison", "year-groups", "breakdown", "trend", "attention")


def _chosen_academy(request: HttpRequest, choices: list[Academy]) -> Academy | None:
    chosen_id = id_parameter(request, "academy")
    if chosen_id is not None:
        chosen = next((a for a in choices if a.pk == chosen_id), None)
        if chosen is None:
            raise Http404("No academy with that id is in your scope.")
        return chosen
    # Land on an academy whose pupils the user sees, where there is one.
    preferred = [a for a in choices if sees_pupils(request.user, academy_id=a.pk)]
    candidates = preferred or choices
    return candidates[0] if candidates else None


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def academy_dashboard(request: HttpRequest) -> HttpResponseBase:
    """Show one academy's figures against targets and England, its year
    groups, breakdowns, trend and the pupils who need attention now."""
    day = clock.today()
    choices = list(dashboard_academies(request.user).order_by("name"))
    academy = _chosen_academy(request, choices)
    if academy is None:
        return render(
            request,
            "reports/dashboard_academy.html",
            {"page_title": "Academy dashboard", "academy": None, "choices": choices},
        )
    export = _export_choice(request, ACADEMY_TABLES)
    context = academy_context(request.user, academy, day)
    if export is not None:
        return _export(
            context.pop("builders"), export, f"academy-{academy.short_name or academy.pk}"
        )
    context.pop("builders")
    return render(
        request,
        "reports/dashboard_academy.html",
        {
            **context,
            "page_title": f"Academy dashboard: {academy.name}",
            "choices": choices,
            "export_query": urlencode({"academy": academy.pk}),
        },
    )


def academy_context(user: Any, academy: Academy, day: datetime.date) -> dict[str, Any]:
    from .attention import needing_attention
    from .breakdowns import breakdown, monthly_trend
    from .national import comparisons_for

    shows_pupils = sees_pupils(user, academy_id=academy.pk)
    suppress = not shows_pupils
    targets = dc.Targets([academy], day)
    source = year_group_table(academy, day, suppress=suppress)
    comparison = dc.comparisons(comparisons_for(academy, day), suppress)
    summary = dc.academy_summary_table(
        academy, source, targets, comparison[0] if len(comparison) == 1 else None
    )
    allowed = set(dashboard_year_groups(user).filter(academy=academy).values_list("pk", flat=True))
    year_groups = dc.year_groups_figures_table(academy, source, targets, allowed)
    groups = dc.breakdown_table(
        breakdown(academy, None, day, suppress=suppress), "Figures by pupil group"
    )
    trend = dc.build_trend(monthly_trend([academy.pk], None, day), academy.name, suppress=suppress)
    attention = dc.AttentionSummary(
        needing_attention(academy, None, day), shows_pupils, dc.pupil_url_name()
    )
    return {
        "academy": academy,
        "today": day,
        "start": source.start,
        "end": source.end,
        "summary": summary,
        "comparisons": comparison,
        "year_groups": year_groups,
        "breakdown": groups,
        "trend": trend,
        "bar_chart": dc.attendance_bar_chart(
            year_groups, f"Attendance rate by year group, {academy.name}", "Year group"
        ),
        "attention": attention,
        "sees_pupils": shows_pupils,
        "suppress": suppress,
        "hidden_explanation": dc.HIDDEN_EXPLANATION,
        "builders": {
            "figures": summary.export,
            "comparison": _comparison_export(comparison),
            "year-groups": year_groups.export,
            "breakdown": groups.export,
            "trend": _trend_export(trend),
            "attention": attention.export,
        },
    }


# Year group dashboard ---------------------------------------------------------------

YEAR_GROUP_TABLES = ("figures", "breakdown", "trend", "attention")


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def year_group_dashboard(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show one year group's figures, breakdowns, trend and the pupils who need
    attention; to those who see pupils, every pupil behind the figures too."""
    from .attention import needing_attention, pupil_rows
    from .breakdowns import breakdown, monthly_trend

    year_group: YearGroup | None = dashboard_year_groups(request.user).filter(pk=pk).first()
    if year_group is None:
        raise Http404("No year group with that id is in your scope.")
    academy = year_group.academy
    day = clock.today()
    shows_pupils = sees_pupils(request.user, academy_id=academy.pk, year_group_id=year_group.pk)
    suppress = not shows_pupils
    tables = YEAR_GROUP_TABLES + (("pupils",) if shows_pupils else ())
    export = _export_choice(request, tables)
    sort = dc.sort_parameter(request) if shows_pupils else None

    targets = dc.Targets([academy], day)
    # The whole table, not this year group alone, so a figure shown here is
    # hidden wherever the academy page hides it to stop a subtraction.
    source = year_group_table(academy, day, suppress=suppress)
    own = next((row for row in source.rows if row.year_group and row.year_group.pk == pk), None)
    figures = dc.year_group_summary_table(year_group, own, targets)
    groups = dc.breakdown_table(
        breakdown(academy, year_group, day, suppress=suppress), "Figures by pupil group"
    )
    where = f"{year_group.name}, {academy.name}"
    trend = dc.build_trend(
        monthly_trend([academy.pk], year_group.pk, day), where, suppress=suppress
    )
    url_name = dc.pupil_url_name()
    attention = dc.AttentionSummary(
        needing_attention(academy, year_group, day), shows_pupils, url_name
    )
    pupils = (
        dc.PupilTable(pupil_rows(academy, year_group, day), sort or "name", url_name)
        if shows_pupils
        else None
    )

    builders: Builders = {
        "figures": figures.export,
        "breakdown": groups.export,
        "trend": _trend_export(trend),
        "attention": attention.export,
    }
    if pupils is not None:
        builders["pupils"] = pupils.export
    if export is not None:
        return _export(builders, export, f"year-group-{year_group.pk}")
    return render(
        request,
        "reports/dashboard_year_group.html",
        {
            "page_title": f"Year group dashboard: {where}",
            "where": where,
            "year_group": year_group,
            "academy": academy,
            "academy_url": dc.academy_url(academy)
            if dashboard_academies(request.user).filter(pk=academy.pk).exists()
            else "",
            "today": day,
            "start": source.start,
            "end": source.end,
            "figures": figures,
            "breakdown": groups,
            "trend": trend,
            "attention": attention,
            "pupils": pupils,
            "sees_pupils": shows_pupils,
            "suppress": suppress,
            "hidden_explanation": dc.HIDDEN_EXPLANATION,
            "export_query": urlencode({"sort": sort} if sort else {}),
        },
    )
