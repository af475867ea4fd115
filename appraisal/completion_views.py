"""Appraisal completion pages: one academy's counts by stage and track, and
the trust view with a row per academy, a chart and a download."""

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import urlencode

from academies.models import Academy
from trust import clock
from trust.charts import bar_chart
from trust.exports import EXPORT_FORMATS, export_response
from trust.params import (
    InvalidParameter,
    handles_invalid_parameters,
    id_parameter,
    text_parameter_preview,
)

from .access import completion_academies, sees_trust_completion
from .completion import (
    GroupCompletion,
    completion_by_group,
    cycles_newest_first,
    default_cycle,
    overdue_appraisals,
    sees_cycle_list,
    sees_overdue_names,
    trust_total,
)
from .deadlines import STAGES
from .models import AppraisalCycle, Stage, Track


def _chosen_cycle(
    request: HttpRequest, today: datetime.date
) -> tuple[AppraisalCycle | None, list[AppraisalCycle]]:
    cycles = cycles_newest_first()
    chosen_id = id_parameter(request, "cycle")
    if chosen_id is None:
        return default_cycle(cycles, today), cycles
    for cycle in cycles:
        if cycle.pk == chosen_id:
            return cycle, cycles
    listed = ", ".join(f"{c.pk} ({c.academic_year.name})" for c in cycles[:10]) or "none yet"
    raise InvalidParameter("cycle", str(chosen_id), f"it must be a recorded cycle: {listed}")


def _chosen_track(request: HttpRequest) -> str:
    track = request.GET.get("track", "").strip()
    if track and track not in Track.values:
        raise InvalidParameter(
            "track", text_parameter_preview(track), "it must be staff, headteacher or empty"
        )
    return track


def _chosen_format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", "").strip()
    if fmt and fmt not in EXPORT_FORMATS:
        raise InvalidParameter("format", text_parameter_preview(fmt), "it must be csv or xlsx")
    return fmt


def _download_queries(request: HttpRequest) -> dict[str, str]:
    filters = {key: request.GET.get(key, "").strip() for key in ("cycle", "academy", "track")}
    filters = {key: value for key, value in filters.items() if value}
    return {fmt: urlencode({**filters, "format": fmt}) for fmt in EXPORT_FORMATS}


def _base_context(
    request: HttpRequest, cycle: AppraisalCycle | None, cycles: list[AppraisalCycle]
) -> dict[str, Any]:
    return {
        "today": clock.today(),
        "cycle": cycle,
        "cycles": cycles,
        "stages": [Stage(stage).label for stage in STAGES],
        "download_queries": _download_queries(request),
        "sees_cycle_list": sees_cycle_list(request.user),
    }


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def completion(request: HttpRequest) -> HttpResponseBase:
    """Show the completion of one academy, or the trust view to trust roles.

    ?academy= picks an academy among those the user may read (404 for any
    other), ?cycle= a cycle, ?format=csv or xlsx downloads the figures.
    """
    academies = list(completion_academies(request.user).order_by("name"))
    if not academies:
        raise PermissionDenied("Appraisal completion is for leaders, trust HR and trustees.")
    academy_id = id_parameter(request, "academy")
    if academy_id is None and sees_trust_completion(request.user):
        return _trust_view(request)
    if academy_id is None:
        academy = academies[0]
    else:
        found = [a for a in academies if a.pk == academy_id]
        if not found:
            raise Http404("No academy with that id is in your scope.")
        academy = found[0]
    return _academy_view(request, academy, academies)


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def trust_completion(request: HttpRequest) -> HttpResponseBase:
    """Show the trust view: a row per academy, the trust total, a chart and downloads."""
    if not sees_trust_completion(request.user):
        raise PermissionDenied("The trust's appraisal completion is for trust roles.")
    return _trust_view(request)


def _academy_view(
    request: HttpRequest, academy: Academy, academies: list[Academy]
) -> HttpResponseBase:
    today = clock.today()
    cycle, cycles = _chosen_cycle(request, today)
    fmt = _chosen_format(request)
    context = _base_context(request, cycle, cycles)
    context.update(
        {
            "page_title": f"Appraisal completion: {academy.name}",
            "academy": academy,
            "academies": academies,
            "trust_view": sees_trust_completion(request.user),
            "shows_names": sees_overdue_names(request.user, academy.pk),
        }
    )
    if cycle is None:
        return render(request, "appraisal/completion_academy.html", context)

    group = completion_by_group(cycle, [academy], today)[0]
    if fmt:
        return export_response(
            filename=f"appraisal-completion-{academy.name}-{cycle.academic_year.name}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=ACADEMY_HEADERS,
            rows=_academy_rows(group),
        )
    overdue = overdue_appraisals(request.user, cycle, academy.pk, today)
    context.update(
        {
            "group": group,
            "overdue": overdue,
        }
    )
    return render(request, "appraisal/completion_academy.html", context)


ACADEMY_HEADERS = ["Track", "Stage", "Done", "Appraisals", "Done (%)", "Overdue"]


def _academy_rows(group: GroupCompletion) -> list[list[object]]:
    rows: list[list[object]] = []
    for label, counts in group.track_rows:
        for figure in counts.stages:
            rows.append(
                [label, figure.label, figure.done, figure.total, figure.percent, figure.overdue]
            )
    rows.append(["All appraisals", "Staff without an appraisal", group.without_appraisal])
    return rows


def _trust_headers() -> list[str]:
    headers = ["Academy", "Appraisals"]
    for stage in STAGES:
        label = Stage(stage).label
        headers += [f"{label}: done", f"{label}: done (%)", f"{label}: overdue"]
    return [*headers, "Staff without an appraisal"]


def _trust_row(group: GroupCompletion, track: str) -> list[object]:
    counts = group.counts(track)
    row: list[object] = [group.name, counts.total]
    for figure in counts.stages:
        row += [figure.done, figure.percent, figure.overdue]
    # Staff without an appraisal have no track yet, so they show under every track.
    return [*row, group.without_appraisal]


def _trust_view(request: HttpRequest) -> HttpResponseBase:
    today = clock.today()
    cycle, cycles = _chosen_cycle(request, today)
    track = _chosen_track(request)
    fmt = _chosen_format(request)
    context = _base_context(request, cycle, cycles)
    context.update(
        {
            "page_title": "Appraisal completion across the trust",
            "track": track,
            "tracks": Track.choices,
        }
    )
    if cycle is None:
        return render(request, "appraisal/completion_trust.html", context)

    academies = list(Academy.objects.order_by("name"))
    groups = completion_by_group(cycle, academies, today, include_central_team=True)
    # The central team shows only when it has appraisals or staff to appraise.
    groups = [
        group
        for group in groups
        if group.academy_id is not None or group.all_tracks.total or group.without_appraisal
    ]
    total = trust_total(groups)
    if fmt:
        rows = [_trust_row(group, track) for group in groups]
        rows.append(_trust_row(total, track))
        track_name = f"-{track}" if track else ""
        return export_response(
            filename=f"appraisal-completion-trust{track_name}-{cycle.academic_year.name}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=_trust_headers(),
            rows=rows,
        )

    track_label = Track(track).label.lower() if track else "all appraisals"
    # Groups without appraisals have no percentage to draw, so the chart
    # leaves them out. The table above still lists them.
    charted = [group for group in groups if group.counts(track).total]
    series: dict[str, list] = {
        Stage(stage).label: [
            _chart_value(group.counts(track).stages[index].percent) for group in charted
        ]
        for index, stage in enumerate(STAGES)
    }
    chart = bar_chart(
        title=f"Appraisals done by stage and academy, {cycle.academic_year.name} ({track_label})",
        labels=[group.name for group in charted],
        series=series,
        y_title="Appraisals done (%)",
        x_title="Academy",
    )
    context.update(
        {
            "rows": [(group, group.counts(track)) for group in groups],
            "total": (total, total.counts(track)),
            "chart": chart,
            "track_label": track_label,
        }
    )
    return render(request, "appraisal/completion_trust.html", context)


def _chart_value(percent: Any) -> float | None:
    return float(percent) if percent is not None else None
