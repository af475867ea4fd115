"""Attendance figure pages: a pupil's calendar of marks and figures, and the
figures, splits, trend and absence lists of a year group or an academy."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render

from academies.models import AcademicYear, Academy, YearGroup
from academies.selectors import visible_academies, visible_year_groups
from pupils.selectors import current_enrolment, visible_pupils
from trust import clock
from trust.charts import Chart, line_chart
from trust.exports import export_response
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter

from . import selectors
from .codes import CATEGORY_LABELS, Category, codes_in_force
from .models import AttendanceMark
from .selectors import GroupReport
from .statistics import Counts, one_decimal

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
SORTS = {"rate": "absence rate, highest first", "name": "name"}


def category_css(category: str) -> str:
    return "cat-" + category.replace("_", "-")


def band_css(key: str) -> str:
    """Return the category colour class that goes with an attendance band."""
    return selectors.BAND_CSS.get(key, "cat-not-counted")


def code_key(day: datetime.date) -> list[dict[str, str]]:
    return [
        {
            "code": c.code,
            "meaning": c.meaning,
            "label": CATEGORY_LABELS[c.category],
            "css": category_css(c.category.value),
        }
        for c in codes_in_force(day)
    ]


def figures_context(counts: Counts) -> dict[str, Any]:
    """Return the summary figures as _figures.html shows them."""
    rate = counts.attendance_rate
    key, word = selectors.band(rate)
    return {
        "counts": counts,
        "attendance_rate": one_decimal(rate),
        "absence_rate": one_decimal(counts.absence_rate),
        "authorised_rate": one_decimal(counts.authorised_rate),
        "unauthorised_rate": one_decimal(counts.unauthorised_rate),
        "band_word": word,
        "band_css": band_css(key),
    }


def trend_chart(title: str, weeks: list[tuple[datetime.date, Counts]]) -> Chart:
    # A week of closures only has no possible session, so it has no rate to plot.
    counted = [(week, counts) for week, counts in weeks if counts.possible > 0]
    return line_chart(
        title=title,
        labels=[f"{week:%d/%m/%Y}" for week, _ in counted],
        series={
            "Attendance (%)": [one_decimal(counts.attendance_rate) or 0.0 for _, counts in counted]
        },
        y_title="Attendance (%)",
        x_title="Week beginning",
    )


# Pupil -------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    css: str
    label: str


def _calendar(
    marks: list[AttendanceMark], missing: list[selectors.MissingMark]
) -> list[dict[str, Any]]:
    """Return one row per week with a mark or a missing mark: ten cells,
    Monday morning to Friday afternoon."""
    by_session = {(m.date, m.session): m for m in marks}
    gaps = {(m.date, m.session) for m in missing}
    weeks = sorted(
        {d - datetime.timedelta(days=d.weekday()) for d, _ in list(by_session) + list(gaps)}
    )
    rows = []
    for monday in weeks:
        cells = []
        for offset, day_name in enumerate(DAY_NAMES):
            day = monday + datetime.timedelta(days=offset)
            for session, session_name in (("AM", "morning"), ("PM", "afternoon")):
                where = f"{day_name} {day:%d/%m/%Y} {session_name}"
                mark = by_session.get((day, session))
                if mark is not None:
                    meaning = CATEGORY_LABELS.get(Category(mark.category), mark.category)
                    cells.append(
                        Cell(mark.code, category_css(mark.category), f"{where}: {meaning}")
                    )
                elif (day, session) in gaps:
                    cells.append(Cell("?", "cat-missing", f"{where}: no mark yet"))
                else:
                    cells.append(Cell("", "", f"{where}: no session"))
        rows.append({"monday": monday, "cells": cells})
    return rows


def _chosen_year(request: HttpRequest, years: list[AcademicYear]) -> AcademicYear | None:
    chosen_id = id_parameter(request, "year")
    if chosen_id is not None:
        for year in years:
            if year.pk == chosen_id:
                return year
        raise InvalidParameter(
            "year", str(chosen_id), "it must be one of the academic years listed for this pupil"
        )
    today = clock.today()
    for year in years:
        if year.start_date <= today <= year.end_date:
            return year
    return years[0] if years else None


@login_required
@handles_invalid_parameters
def pupil_attendance(request: HttpRequest, pupil_id: int) -> HttpResponse:
    pupil = get_object_or_404(visible_pupils(request.user), pk=pupil_id)
    years = selectors.pupil_years(pupil)
    year = _chosen_year(request, years)
    today = clock.today()
    context: dict[str, Any] = {
        "pupil": pupil,
        "years": years,
        "year": year,
        "page_title": f"Attendance of {pupil.display_name}",
        "enrolment": current_enrolment(pupil),
    }
    if year is not None:
        start = year.start_date
        end = min(year.end_date, today)
        if start <= end:
            result = selectors.pupil_counts(pupil, start, end, today=today)
            marks = selectors.pupil_marks(pupil, start, end)
            weeks = selectors.pupil_weekly(pupil, start, end)
            context.update(
                {
                    "start": start,
                    "end": end,
                    "result": result,
                    "figures": figures_context(result.counts),
                    "calendar": _calendar(marks, result.missing),
                    "chart": trend_chart(f"Weekly attendance of {pupil.display_name}", weeks),
                    "code_key": code_key(end),
                    "day": end,
                    "day_names": DAY_NAMES,
                }
            )
    return render(request, "attendance/pupil_attendance.html", context)


# Groups ------------------------------------------------------------------------


def _range(request: HttpRequest) -> tuple[datetime.date, datetime.date]:
    try:
        return selectors.parse_range(request.GET.get("from"), request.GET.get("to"))
    except selectors.RangeError as error:
        raw = request.GET.get(error.field, "")
        if "YYYY-MM-DD" in error.message:
            allowed = "it must be a date written YYYY-MM-DD, for example 2026-09-01"
        else:
            allowed = f"it must be on or before the end of the range ({request.GET.get('to')})"
        raise InvalidParameter(error.field, raw[:40], allowed) from None


def _sort(request: HttpRequest) -> str:
    sort = request.GET.get("sort", "rate").strip() or "rate"
    if sort not in SORTS:
        allowed = ", ".join(f"{key} ({label})" for key, label in SORTS.items())
        raise InvalidParameter("sort", sort[:40], f"it must be one of: {allowed}")
    return sort


def _export_rows(rows: list[selectors.AbsenceListRow]) -> list[list[object]]:
    return [
        [
            row.pupil.display_name,
            row.pupil.upn,
            row.counts.possible,
            row.counts.attendance,
            row.counts.authorised,
            row.counts.unauthorised,
            row.counts.absence,
            row.attendance_rate,
            row.absence_rate,
            "Yes" if row.counts.severe_absence else "No",
        ]
        for row in rows
    ]


EXPORT_HEADERS = [
    "Pupil",
    "UPN",
    "Possible sessions",
    "Sessions attended",
    "Authorised absence",
    "Unauthorised absence",
    "Sessions missed",
    "Attendance (%)",
    "Absence (%)",
    "Severe absence",
]


def _group_page(
    request: HttpRequest,
    *,
    target: Academy | YearGroup,
    title: str,
    filename: str,
    academy: Academy,
) -> HttpResponseBase:
    start, end = _range(request)
    sort = _sort(request)
    fmt = request.GET.get("export", "").strip()
    if fmt and fmt not in ("csv", "xlsx"):
        raise InvalidParameter("export", fmt[:40], "it must be csv or xlsx")

    report: GroupReport = selectors.group_report(target, start, end)
    sees_pupils = selectors.sees_pupil_lists(request.user)
    persistent, severe = (
        selectors.absence_lists(request.user, report, sort=sort) if sees_pupils else ([], [])
    )
    if fmt:
        if not sees_pupils:
            raise Http404
        return export_response(
            filename=f"{filename}-persistent-absence-{start:%Y%m%d}-{end:%Y%m%d}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=EXPORT_HEADERS,
            rows=_export_rows(persistent),
        )

    trend_start, trend_end = selectors.current_year_range()
    weeks = selectors.weekly_trend(target, trend_start, trend_end)
    figures = report.figures
    splits = [
        {
            "heading": split.heading,
            "label": split.label,
            "enrolments": split.figures.enrolments,
            "attendance_rate": one_decimal(split.figures.counts.attendance_rate),
            "absence_rate": one_decimal(split.figures.counts.absence_rate),
            "pa_rate": one_decimal(split.figures.persistent_absence_rate),
            "sa_count": split.figures.severe_absence_count,
        }
        for split in report.splits
    ]
    context = {
        "page_title": title,
        "target": target,
        "academy": academy,
        "start": start,
        "end": end,
        "sort": sort,
        "sorts": SORTS,
        "sort_label": SORTS[sort],
        "report": report,
        "group": figures,
        "figures": figures_context(figures.counts),
        "pa_rate": one_decimal(figures.persistent_absence_rate),
        "sa_rate": one_decimal(figures.severe_absence_rate),
        "splits": splits,
        "chart": trend_chart(f"Weekly attendance, {title}", weeks),
        "sees_pupils": sees_pupils,
        "persistent": persistent,
        "severe": severe,
        "query": f"from={start:%Y-%m-%d}&to={end:%Y-%m-%d}&sort={sort}",
        "year_groups": (
            list(visible_year_groups(request.user).filter(academy=target).order_by("nc_year"))
            if isinstance(target, Academy)
            else []
        ),
    }
    return render(request, "attendance/group_attendance.html", context)


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def year_group_attendance(request: HttpRequest, year_group_id: int) -> HttpResponseBase:
    group = get_object_or_404(visible_year_groups(request.user), pk=year_group_id)
    return _group_page(
        request,
        target=group,
        title=f"{group.name}, {group.academy.name}",
        filename=f"year-{group.nc_year}-{group.academy.short_name or group.academy.urn}",
        academy=group.academy,
    )


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a CSV download streams
def academy_attendance(request: HttpRequest, academy_id: int) -> HttpResponseBase:
    academy = get_object_or_404(visible_academies(request.user), pk=academy_id)
    return _group_page(
        request,
        target=academy,
        title=academy.name,
        filename=f"{academy.short_name or academy.urn}",
        academy=academy,
    )
