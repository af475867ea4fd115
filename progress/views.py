"""Class pages: the class list, a class, its grade grid, a pupil's progress
and the assessment points."""

import logging
import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from academies.models import AcademicYear, Academy, year_group_name
from academies.selectors import visible_year_groups
from pupils.selectors import visible_pupils
from trust import clock
from trust.exports import export_response
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter
from trust.pdf import render_pdf

from .access import can_enter_grades, manageable_year_groups, visible_teaching_groups
from .forms import AssessmentPointForm, GridSubmission, TypedGrade, read_grid
from .grades import STATUS_LABELS, STATUS_SYMBOLS, Status, scale_grades
from .models import AssessmentPoint, Subject, TeachingGroup
from .selectors import (
    GridView,
    class_list,
    class_points,
    class_view,
    grid_view,
    latest_points,
    pupil_progress,
    status_view,
)
from .services import GradesSaveResult, assessment_point_create, grades_save

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
NC_YEAR_PATTERN = re.compile(r"-?[0-9]{1,2}")


def _nc_year_parameter(request: HttpRequest) -> int | None:
    raw = request.GET.get("year", "").strip()
    if not raw:
        return None
    if not NC_YEAR_PATTERN.fullmatch(raw) or not -1 <= int(raw) <= 13:
        raise InvalidParameter("year", raw[:40], "it must be a year group number from -1 to 13")
    return int(raw)


def _status_key() -> list[dict[str, str]]:
    return [
        {"label": STATUS_LABELS[s], "symbol": STATUS_SYMBOLS[s], "css": status_view(s).css}
        for s in Status.values
    ]


@login_required
@handles_invalid_parameters
def class_list_page(request: HttpRequest) -> HttpResponse:
    """List the classes in the user's scope, filtered by academy, year group,
    subject and academic year (this year by default)."""
    visible = visible_teaching_groups(request.user)
    academy_id = id_parameter(request, "academy")
    subject_id = id_parameter(request, "subject")
    year_id = id_parameter(request, "academic_year")
    nc_year = _nc_year_parameter(request)
    years = list(AcademicYear.objects.filter(Exists(visible.filter(academic_year=OuterRef("pk")))))
    if year_id is not None:
        academic_year = next((y for y in years if y.pk == year_id), None)
        if academic_year is None:
            raise InvalidParameter(
                "academic_year", str(year_id), "no class of yours is in that academic year"
            )
    else:
        today = clock.today()
        academic_year = next((y for y in years if y.contains(today)), years[0] if years else None)
    options = _filter_options(visible, academic_year)
    groups = class_list(
        visible,
        academy_id=academy_id,
        nc_year=nc_year,
        subject_id=subject_id,
        academic_year=academic_year,
    )
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    points = latest_points(list(page.object_list))
    rows = [{"group": g, "point": points.get(g.pk)} for g in page.object_list]
    chosen = {
        "academy": academy_id,
        "subject": subject_id,
        "year": nc_year,
        "academic_year": academic_year.pk if academic_year else None,
    }
    query_string = urlencode({k: v for k, v in chosen.items() if v is not None})
    return render(
        request,
        "progress/class_list.html",
        {
            "page_title": "Classes",
            "page": page,
            "rows": rows,
            "years": years,
            "academic_year": academic_year,
            **options,
            "chosen": chosen,
            "query_string": query_string,
            "manages_points": manageable_year_groups(request.user).exists(),
        },
    )


def _filter_options(
    visible: QuerySet[TeachingGroup], academic_year: AcademicYear | None
) -> dict[str, Any]:
    """Return the academies, subjects and year groups of the user's classes in the year."""
    in_year = visible.filter(academic_year=academic_year) if academic_year else visible.none()
    nc_years = sorted(set(in_year.values_list("year_group__nc_year", flat=True)))
    return {
        "academies": list(Academy.objects.filter(Exists(in_year.filter(academy=OuterRef("pk"))))),
        "subjects": list(
            Subject.objects.filter(Exists(in_year.filter(qualification__subject=OuterRef("pk"))))
        ),
        "nc_years": [(number, year_group_name(number)) for number in nc_years],
    }


def _visible_group(request: HttpRequest, pk: int) -> TeachingGroup:
    return get_object_or_404(
        visible_teaching_groups(request.user).prefetch_related("teachers"), pk=pk
    )


@login_required
def class_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a class: its teachers, and each pupil's TMG, latest grade and status."""
    group = _visible_group(request, pk)
    view = class_view(group)
    today = clock.today()
    return render(
        request,
        "progress/class_detail.html",
        {
            "page_title": f"Class {group.name}",
            "group": group,
            "view": view,
            "teachers": sorted(group.teachers.all(), key=lambda s: (s.last_name, s.first_name)),
            "can_enter": can_enter_grades(request.user, group),
            "latest": next((p for p in reversed(view.points) if p.date <= today), None),
            "status_key": _status_key(),
        },
    )


def _grid_url(group: TeachingGroup, point: AssessmentPoint) -> str:
    return reverse("progress:grade-grid", args=[group.pk, point.pk])


def _render_grid(
    request: HttpRequest,
    view: GridView,
    *,
    submission: GridSubmission | None = None,
    errors: dict[str, list[str]] | None = None,
    conflicts: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    group, point = view.group, view.point
    errors = errors or {}
    rows = []
    for row in view.rows:
        typed = submission.typed.get(row.pupil.pk) if submission else None
        if typed is None:
            typed = TypedGrade(
                text=row.entry_label, seen=str(row.entry.version) if row.entry else ""
            )
        rows.append({"row": row, "typed": typed, "errors": errors.get(f"pupil_{row.pupil.pk}", [])})
    general = [m for key, values in errors.items() if not key.startswith("pupil_") for m in values]
    with_errors = sum(1 for key in errors if key.startswith("pupil_"))
    if with_errors:
        noun = "pupil has" if with_errors == 1 else "pupils have"
        general.insert(
            0,
            f"The grades were not saved: {with_errors} {noun} a grade to fix, shown beside "
            "each name below. No grade was written.",
        )
    scale = group.qualification.scale
    allowed = [g.label for g in scale_grades(scale) if not (view.final and g.fine)]
    return render(
        request,
        "progress/grade_grid.html",
        {
            "page_title": f"{group.name} grades: {point.name}",
            "group": group,
            "view": view,
            "rows": rows,
            "general_errors": general,
            "conflicts": conflicts or [],
            "reason": submission.reason if submission else "",
            "can_enter": can_enter_grades(request.user, group),
            "scale": scale,
            "allowed": allowed,
            "other_points": [p for p in class_points(group) if p.pk != point.pk],
            "status_key": _status_key(),
        },
        status=status,
    )


@login_required
def grade_grid(request: HttpRequest, pk: int, point_pk: int) -> HttpResponse:
    """Show the grade grid of a class at an assessment point, or save it in one POST."""
    group = _visible_group(request, pk)
    point = get_object_or_404(
        AssessmentPoint.objects.filter(
            academy_id=group.academy_id,
            academic_year_id=group.academic_year_id,
            year_group_id=group.year_group_id,
        ),
        pk=point_pk,
    )
    view = grid_view(group, point)
    if request.method != "POST":
        return _render_grid(request, view)
    if not can_enter_grades(request.user, group):
        raise PermissionDenied("You may read this class's grades but not enter them.")
    resolving = request.POST.get("resolve") == "1"
    submission = read_grid(request.POST, [r.pupil for r in view.rows], resolving=resolving)
    if submission.strangers:
        # Pupils outside the class are outside this page's scope, so the response is 404.
        logger.info(
            "grade grid rejected pupils outside group=%s point=%s user=%s pupils=%s",
            group.pk,
            point.pk,
            request.user.pk,
            sorted(submission.strangers),
        )
        raise Http404("No pupil found in this class.")
    if submission.errors:
        return _render_grid(
            request, view, submission=submission, errors=submission.errors, status=400
        )
    if resolving and not submission.entries:
        messages.success(request, "Their grades were kept; nothing else changed.")
        return redirect(_grid_url(group, point))
    if not submission.entries:
        return _render_grid(
            request,
            view,
            submission=submission,
            errors={"grid": ["No grades were typed. Type a grade beside at least one pupil."]},
            status=400,
        )
    try:
        result = grades_save(
            actor=request.user,
            group=group,
            assessment_point=point,
            entries=submission.entries,
            reason=submission.reason
            or ("Chosen over a grade saved by someone else" if resolving else ""),
        )
    except ValidationError as error:
        logger.info(
            "grade grid save rejected group=%s point=%s user=%s: %s",
            group.pk,
            point.pk,
            request.user.pk,
            error.messages,
        )
        errors = error.message_dict if hasattr(error, "error_dict") else {"grid": error.messages}
        return _render_grid(request, view, submission=submission, errors=errors, status=400)

    summary = _saved_summary(result, len(view.rows) - len(submission.entries))
    if result.conflicts:
        fresh = grid_view(group, point)
        names = {r.pupil.pk: r.pupil.display_name for r in fresh.rows}
        conflicts = [
            {
                "conflict": c,
                "name": names.get(c.pupil_id, f"Pupil {c.pupil_id}"),
                "typed": submission.typed[c.pupil_id],
                "changed_at": timezone.localtime(c.changed_at),
            }
            for c in result.conflicts
        ]
        messages.warning(request, summary)
        return _render_grid(request, fresh, conflicts=conflicts, status=409)
    messages.success(request, summary)
    return redirect(_grid_url(group, point))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _saved_summary(result: GradesSaveResult, left_blank: int) -> str:
    parts = [
        f"{_plural(result.created, 'new grade')} saved",
        f"{_plural(result.changed, 'grade')} changed",
        f"{result.unchanged} unchanged",
    ]
    if result.removed:
        parts.append(f"{_plural(result.removed, 'grade')} removed")
    if result.conflicts:
        parts.append(f"{len(result.conflicts)} changed by someone else since you opened the grid")
    if left_blank:
        parts.append(f"{left_blank} left blank")
    return ", ".join(parts) + "."


@login_required
@handles_invalid_parameters  # type: ignore[arg-type]  # a download streams
def pupil_progress_page(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Show a pupil's grades by subject and assessment point against their TMGs,
    or download the same table (?format=csv, xlsx or pdf)."""
    pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
    fmt = request.GET.get("format", "").strip()
    if fmt and fmt not in ("csv", "xlsx", "pdf"):
        raise InvalidParameter("format", fmt[:20], "it must be csv, xlsx or pdf")
    years = pupil_progress(pupil)
    if fmt == "pdf":
        pdf = render_pdf(
            "pdf/pupil_progress.html",
            {"document_title": f"Progress of {pupil.display_name}", "pupil": pupil, "years": years},
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        # The file name carries the UPN, never the name, as for the other pupil PDFs.
        response["Content-Disposition"] = f'inline; filename="progress-{pupil.upn}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response
    if fmt:
        return export_response(
            filename=f"progress-{pupil.upn}",
            fmt=fmt,  # type: ignore[arg-type]
            headers=PROGRESS_EXPORT_HEADERS,
            rows=progress_export_rows(years),
        )
    return render(
        request,
        "progress/pupil_progress.html",
        {
            "page_title": f"Progress of {pupil.display_name}",
            "pupil": pupil,
            "years": years,
            "status_key": _status_key(),
        },
    )


PROGRESS_EXPORT_HEADERS = [
    "Academic year",
    "Qualification",
    "TMG",
    "Assessment point",
    "Date",
    "Grade",
    "Status",
    "Average points this year",
    "Average as a grade",
]


def progress_export_rows(years: list[Any]) -> list[list[object]]:
    """Return one row per qualification and assessment point, with the year's
    average and its grade on every row of the qualification."""
    rows: list[list[object]] = []
    for year in years:
        for row in year.rows:
            average = row.average
            grade = row.average_grade
            for cell in row.cells:
                rows.append(
                    [
                        year.academic_year.name,
                        row.qualification.name,
                        row.tmg_label if row.tmg else "No TMG",
                        cell.point.name,
                        cell.point.date,
                        cell.label if cell.entry else "",
                        cell.status.label,
                        float(average) if average is not None else "",
                        grade.label if grade else "",
                    ]
                )
    return rows


def _visible_points(user: Any) -> Any:
    """Return the assessment points of the year groups whose classes or pupils `user` may see."""
    classes = visible_teaching_groups(user).filter(
        academy_id=OuterRef("academy_id"),
        academic_year_id=OuterRef("academic_year_id"),
        year_group_id=OuterRef("year_group_id"),
    )
    year_groups = visible_year_groups(user).values("pk")
    return AssessmentPoint.objects.filter(
        Q(Exists(classes)) | Q(year_group_id__in=year_groups)
    ).select_related("academy", "academic_year", "year_group")


@login_required
@handles_invalid_parameters
def assessment_points(request: HttpRequest) -> HttpResponse:
    """List the assessment points in the user's scope; leaders and heads of
    year create them here."""
    today = clock.today()
    manageable = manageable_year_groups(request.user)
    can_create = manageable.exists()
    trust_ids = set(manageable.values_list("academy__trust_id", flat=True)) if can_create else set()
    academic_years = AcademicYear.objects.filter(trust_id__in=trust_ids).order_by("-start_year")
    form = AssessmentPointForm(
        request.POST if request.method == "POST" else None,
        year_groups=manageable,
        academic_years=academic_years,
        initial={
            "academic_year": academic_years.filter(
                start_date__lte=today, end_date__gte=today
            ).first()
        },
    )
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied(
                "Only heads of year and academy leaders create assessment points."
            )
        if form.is_valid():
            data = form.cleaned_data
            try:
                point = assessment_point_create(
                    actor=request.user,
                    academy_id=data["year_group"].academy_id,
                    year_group_id=data["year_group"].pk,
                    academic_year_id=data["academic_year"].pk,
                    name=data["name"],
                    date=data["date"],
                    kind=data["kind"],
                )
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
            else:
                messages.success(
                    request,
                    f"Assessment point '{point.name}' created for {point.year_group.name} on "
                    f"{point.date:%d/%m/%Y}.",
                )
                return redirect(reverse("progress:assessment-points"))

    year_id = id_parameter(request, "academic_year")
    points = _visible_points(request.user)
    if year_id is not None:
        points = points.filter(academic_year_id=year_id)
    page = Paginator(
        points.order_by(
            "-academic_year__start_year", "academy__name", "year_group__nc_year", "date"
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "progress/assessment_points.html",
        {
            "page_title": "Assessment points",
            "page": page,
            "form": form if can_create else None,
            "query_string": urlencode({"academic_year": year_id}) if year_id else "",
        },
        status=400 if request.method == "POST" else 200,
    )
