"""Progress in the REST API: each pupil's latest grade against their TMG per
qualification (for a pupil, a class or a year group), a pupil's Attainment 8,
and grades and TMGs written through the same services as the pages.

Scope follows the resource: a pupil through visible_pupils, a class through
visible_teaching_groups and a year group through visible_year_groups, so
anything the caller cannot see returns 404.
"""

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from academies.models import AcademicYear, YearGroup
from academies.selectors import visible_year_groups
from pupils.models import Enrolment, Pupil, active_on
from pupils.selectors import register_order, visible_pupils
from trust import clock
from trust.api import MAX_ID

from .access import can_enter_grades, visible_teaching_groups
from .attainment import Attainment8, pupil_attainment8
from .grades import STATUS_LABELS, entry_points, entry_status, parse_grade
from .models import (
    AssessmentPoint,
    ClassMembership,
    GradeEntry,
    Qualification,
    TargetGrade,
    TeachingGroup,
)
from .selectors import class_pupils, entry_label, membership_day, tmg_label
from .serializers import (
    Attainment8Serializer,
    ClassProgressSerializer,
    GradeConflictSerializer,
    GradeEntrySerializer,
    GradeWriteSerializer,
    PupilProgressSerializer,
    TargetSerializer,
    TargetUpdateSerializer,
    TargetWriteSerializer,
    YearGroupProgressSerializer,
)
from .services import GradeInput, grades_save
from .targets import TmgConflict, roll_day, tmg_set

logger = logging.getLogger(__name__)

ACADEMIC_YEAR_PARAMETER = OpenApiParameter(
    "academic_year",
    OpenApiTypes.INT,
    description="Academic year id. Default: the academic year containing today.",
)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _academic_year_parameter(
    request: Request, years: Sequence[AcademicYear]
) -> AcademicYear | None:
    """Return the academic year chosen by ?academic_year= among `years`, or the
    one containing today, else the latest of `years`."""
    raw = request.query_params.get("academic_year", "").strip()
    if raw:
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
            raise exceptions.ValidationError(
                {
                    "academic_year": [
                        f"{raw[:40]!r} is not a valid academic year id. Allowed values: a whole "
                        "number from 1."
                    ]
                }
            )
        chosen = next((y for y in years if y.pk == int(raw)), None)
        if chosen is None:
            allowed = ", ".join(f"{y.pk} ({y.name})" for y in years) or "none"
            raise exceptions.ValidationError(
                {"academic_year": [f"Academic year {raw} does not apply here. Allowed: {allowed}."]}
            )
        return chosen
    today = clock.today()
    current = next((y for y in years if y.contains(today)), None)
    if current is not None:
        return current
    return max(years, key=lambda y: y.start_year) if years else None


def _named(obj: Any) -> dict[str, Any]:
    return {"id": obj.pk, "name": str(obj.name)}


def _qualification(qualification: Qualification) -> dict[str, Any]:
    return {
        "id": qualification.pk,
        "name": qualification.name,
        "subject": qualification.subject.name,
        "scale": qualification.scale.name,
    }


# Progress rows --------------------------------------------------------------------------------


class ProgressRows:
    """The latest grade, TMG and status of many pupils in one academic year.

    Reads the entries, TMGs and classes once each, so the number of queries
    does not grow with the number of pupils.
    """

    def __init__(
        self,
        pupil_ids: Sequence[int],
        academic_year: AcademicYear,
        qualification_ids: Sequence[int] | None = None,
    ) -> None:
        related = ("qualification__subject", "qualification__scale")
        entries = GradeEntry.objects.filter(
            pupil_id__in=list(pupil_ids), assessment_point__academic_year=academic_year
        )
        targets = TargetGrade.objects.filter(
            pupil_id__in=list(pupil_ids), academic_year=academic_year
        )
        classes = ClassMembership.objects.filter(
            pupil_id__in=list(pupil_ids), group__academic_year=academic_year
        )
        if qualification_ids is not None:
            entries = entries.filter(qualification_id__in=list(qualification_ids))
            targets = targets.filter(qualification_id__in=list(qualification_ids))
            classes = classes.filter(group__qualification_id__in=list(qualification_ids))

        # Entries run oldest first, so the last one kept per key is the latest.
        self.latest: dict[tuple[int, int], GradeEntry] = {}
        self.qualifications: dict[int, dict[int, Qualification]] = {}
        ordered = (
            entries.select_related("grade", "assessment_point", *related)
            .prefetch_related("grade__equivalents")
            .order_by("assessment_point__date", "assessment_point_id")
        )
        for entry in ordered:
            self.latest[(entry.pupil_id, entry.qualification_id)] = entry
            self._add(entry.pupil_id, entry.qualification)

        self.tmgs: dict[tuple[int, int], TargetGrade] = {}
        for target in targets.select_related("grade", *related):
            self.tmgs[(target.pupil_id, target.qualification_id)] = target
            self._add(target.pupil_id, target.qualification)

        for membership in classes.select_related(
            "group__qualification__subject", "group__qualification__scale"
        ):
            self._add(membership.pupil_id, membership.group.qualification)

    def _add(self, pupil_id: int, qualification: Qualification) -> None:
        self.qualifications.setdefault(pupil_id, {})[qualification.pk] = qualification

    def row(self, pupil_id: int, qualification: Qualification) -> dict[str, Any]:
        entry = self.latest.get((pupil_id, qualification.pk))
        tmg = self.tmgs.get((pupil_id, qualification.pk))
        current = entry_status(entry, tmg, qualification.scale)
        point = entry.assessment_point if entry else None
        tmg_points = None
        if tmg is not None:
            tmg_points = tmg.grade.points if tmg.grade is not None else tmg.value
        return {
            "qualification": _qualification(qualification),
            "latest_grade": entry_label(entry) or None,
            "latest_points": _number(entry_points(entry)),
            "assessment_point": (
                {
                    "id": point.pk,
                    "name": point.name,
                    "date": point.date.isoformat(),
                    "kind": point.kind,
                }
                if point
                else None
            ),
            "tmg": tmg_label(tmg) or None,
            "tmg_points": _number(tmg_points),
            "status": current.value,
            "status_label": STATUS_LABELS[current],
        }

    def rows(self, pupil_id: int) -> list[dict[str, Any]]:
        found = self.qualifications.get(pupil_id, {}).values()
        ordered = sorted(found, key=lambda q: (q.subject.name, q.name, q.pk))
        return [self.row(pupil_id, q) for q in ordered]


def _pupil_rows(pupils: Sequence[Pupil], rows: ProgressRows) -> list[dict[str, Any]]:
    return [
        {"pupil": p.pk, "name": p.display_name, "qualifications": rows.rows(p.pk)} for p in pupils
    ]


class PupilProgressView(APIView):
    """A pupil's latest grade, TMG and status in each qualification of one academic year."""

    @extend_schema(
        operation_id="pupils_progress_retrieve",
        summary="A pupil's progress against their TMGs",
        parameters=[ACADEMIC_YEAR_PARAMETER],
        responses={200: PupilProgressSerializer},
        tags=["progress"],
    )
    def get(self, request: Request, pk: int) -> Response:
        pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
        years = list(
            AcademicYear.objects.filter(
                Exists(Enrolment.objects.filter(pupil=pupil, academic_year=OuterRef("pk")))
            )
        )
        year = _academic_year_parameter(request, years)
        rows = ProgressRows([pupil.pk], year).rows(pupil.pk) if year else []
        return Response(
            {
                "pupil": pupil.pk,
                "academic_year": _named(year) if year else None,
                "qualifications": rows,
            }
        )


class ClassProgressView(APIView):
    """The pupils of a class with their latest grade, TMG and status in its qualification."""

    @extend_schema(
        operation_id="classes_progress_retrieve",
        summary="A class's progress against TMGs",
        responses={200: ClassProgressSerializer},
        tags=["progress"],
    )
    def get(self, request: Request, pk: int) -> Response:
        group: TeachingGroup = get_object_or_404(visible_teaching_groups(request.user), pk=pk)
        pupils = class_pupils(group, membership_day(group))
        rows = ProgressRows([p.pk for p in pupils], group.academic_year, [group.qualification_id])
        return Response(
            {
                "id": group.pk,
                "name": group.name,
                "academic_year": _named(group.academic_year),
                "qualification": _qualification(group.qualification),
                "pupils": [
                    {
                        "pupil": p.pk,
                        "name": p.display_name,
                        "qualifications": [rows.row(p.pk, group.qualification)],
                    }
                    for p in pupils
                ],
            }
        )


class YearGroupProgressView(APIView):
    """The pupils on roll in a year group with their progress in every qualification."""

    @extend_schema(
        operation_id="year_groups_progress_retrieve",
        summary="A year group's progress against TMGs",
        parameters=[ACADEMIC_YEAR_PARAMETER],
        responses={200: YearGroupProgressSerializer},
        tags=["progress"],
    )
    def get(self, request: Request, pk: int) -> Response:
        year_group: YearGroup = get_object_or_404(visible_year_groups(request.user), pk=pk)
        years = list(AcademicYear.objects.filter(trust_id=year_group.academy.trust_id))
        year = _academic_year_parameter(request, years)
        pupils: list[Pupil] = []
        if year is not None:
            on_roll = Enrolment.objects.filter(
                active_on(roll_day(year)),
                year_group=year_group,
                academic_year=year,
                pupil_id=OuterRef("pk"),
            )
            pupils = list(register_order(Pupil.objects.filter(Exists(on_roll))))
        rows = ProgressRows([p.pk for p in pupils], year) if year else None
        return Response(
            {
                "id": year_group.pk,
                "name": str(year_group.name),
                "academic_year": _named(year) if year else None,
                "pupils": _pupil_rows(pupils, rows) if rows else [],
            }
        )


# Attainment 8 ---------------------------------------------------------------------------------


def attainment8_data(pupil: Pupil, result: Attainment8 | None) -> dict[str, Any]:
    """Return the API body of a pupil's Attainment 8, with nulls when there are no final results."""
    if result is None:
        return {
            "pupil": pupil.pk,
            "results_year": None,
            "attainment8": None,
            "english_double": None,
            "slots": [],
            "elements": None,
            "progress8": None,
            "not_counted": [],
        }
    slots = []
    for slot in result.slots:
        placed = slot.result
        slots.append(
            {
                "element": slot.element,
                "number": slot.number,
                "label": slot.label,
                "weight": slot.weight,
                "qualification": _named(placed.qualification) if placed else None,
                "part": placed.part if placed and placed.parts > 1 else None,
                "grade": placed.label if placed else None,
                "points": _number(placed.points) if placed else None,
                "slot_points": float(slot.points),
            }
        )
    progress8 = None
    if result.progress8 is not None:
        p8 = result.progress8
        progress8 = {
            "progress8": float(p8.progress8),
            "ks2_average": float(p8.ks2_average),
            "prior_attainment_group": p8.row.group,
            "estimate_attainment8": float(p8.row.attainment8),
            "elements": {
                "english": float(p8.english),
                "maths": float(p8.maths),
                "ebacc": float(p8.ebacc),
                "open": float(p8.open),
            },
            "estimate_table": {
                "id": p8.table.pk,
                "name": p8.table.name,
                "year": p8.table.year,
                "source": p8.table.source,
                "same_year": p8.same_year,
            },
        }
    return {
        "pupil": pupil.pk,
        "results_year": _named(result.results_year),
        "attainment8": float(result.attainment8),
        "english_double": result.english_double,
        "slots": slots,
        "elements": {name: float(total) for name, total in result.totals.items()},
        "progress8": progress8,
        "not_counted": [
            {"qualification": _named(e.qualification), "grade": entry_label(e)}
            for e in result.not_counted
        ],
    }


class PupilAttainment8View(APIView):
    """A pupil's Attainment 8 slots, element totals and Progress 8 from final results."""

    @extend_schema(
        operation_id="pupils_attainment8_retrieve",
        summary="A pupil's Attainment 8 and Progress 8",
        description=(
            "The qualification placed in each slot, the element totals and `attainment8`. "
            "`progress8` is null without both KS2 scores or an estimate table for the "
            "results year; when present it names the table's year and source. A pupil "
            "without final results has `attainment8` null, never 0."
        ),
        responses={200: Attainment8Serializer},
        tags=["progress"],
    )
    def get(self, request: Request, pk: int) -> Response:
        pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
        return Response(attainment8_data(pupil, pupil_attainment8(pupil)))


# Writing grades -------------------------------------------------------------------------------


def _entry_data(entry: GradeEntry) -> dict[str, Any]:
    tmg = (
        TargetGrade.objects.filter(
            pupil_id=entry.pupil_id,
            qualification_id=entry.qualification_id,
            academic_year_id=entry.assessment_point.academic_year_id,
        )
        .select_related("grade")
        .first()
    )
    return {
        "id": entry.pk,
        "pupil": entry.pupil_id,
        "qualification": entry.qualification_id,
        "assessment_point": entry.assessment_point_id,
        "grade": entry_label(entry),
        "points": _number(entry_points(entry)),
        "version": entry.version,
        "status": entry_status(entry, tmg, entry.qualification.scale).value,
    }


def _visible_points(request: Request) -> QuerySet[AssessmentPoint]:
    """Return the assessment points of the year groups whose classes or pupils the caller
    may see, so a point elsewhere reads as not found."""
    classes = visible_teaching_groups(request.user).filter(
        academy_id=OuterRef("academy_id"),
        academic_year_id=OuterRef("academic_year_id"),
        year_group_id=OuterRef("year_group_id"),
    )
    year_groups = visible_year_groups(request.user).values("pk")
    return AssessmentPoint.objects.filter(Q(Exists(classes)) | Q(year_group_id__in=year_groups))


def _writable_group(
    request: Request, pupil: Pupil, qualification: Qualification, point: AssessmentPoint
) -> TeachingGroup:
    """Return the pupil's class in `qualification` for the assessment point's year
    group and year that the caller may enter grades for.

    Raises ValidationError when the pupil has no such class, and Http404 when
    the caller teaches none of them, as for a pupil outside their scope.
    """
    groups = list(
        TeachingGroup.objects.filter(
            qualification=qualification,
            academy_id=point.academy_id,
            academic_year_id=point.academic_year_id,
            year_group_id=point.year_group_id,
        ).select_related("academic_year", "year_group", "qualification__scale")
    )
    member_of = [
        g
        for g in groups
        if ClassMembership.objects.filter(
            active_on(membership_day(g)), group=g, pupil=pupil
        ).exists()
    ]
    if not member_of:
        raise ValidationError(
            {
                "pupil": [
                    f"{pupil.display_name} is in no class for {qualification.name} in "
                    f"{point.year_group} ({point.academic_year.name}), the year group of "
                    f"'{point.name}'; grades are entered for the pupils of a class."
                ]
            }
        )
    for group in member_of:
        if can_enter_grades(request.user, group):
            return group
    raise Http404


class GradeCreateView(APIView):
    """Save one pupil's grade in one qualification at one assessment point."""

    @extend_schema(
        operation_id="grades_create",
        summary="Save a grade",
        description=(
            "Validated and written as the grade grid writes them: the grade must be on the "
            "qualification's scale (a final result a whole grade), the pupil in a class the "
            "caller may enter grades for. 201 for a new entry, 200 for a changed or "
            "unchanged one, 409 when the entry changed since `version`."
        ),
        request=GradeWriteSerializer,
        responses={
            200: GradeEntrySerializer,
            201: GradeEntrySerializer,
            409: GradeConflictSerializer,
        },
        tags=["progress"],
    )
    def post(self, request: Request) -> Response:
        serializer = GradeWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pupil = get_object_or_404(visible_pupils(request.user), pk=data["pupil"])

        point = (
            _visible_points(request)
            .select_related("academic_year", "year_group")
            .filter(pk=data["assessment_point"])
            .first()
        )
        if point is None:
            raise ValidationError(
                {
                    "assessment_point": [
                        f"Assessment point {data['assessment_point']} was not found."
                    ]
                }
            )
        qualification = (
            Qualification.objects.select_related("scale", "subject")
            .filter(pk=data["qualification"], subject__trust_id=point.academic_year.trust_id)
            .first()
        )
        if qualification is None:
            raise ValidationError(
                {
                    "qualification": [
                        f"Qualification {data['qualification']} was not found in this trust."
                    ]
                }
            )

        # The grade is checked before the class, so a bad grade names the allowed values.
        parse_grade(
            qualification.scale,
            data["grade"],
            final=point.kind == AssessmentPoint.Kind.FINAL,
        )
        group = _writable_group(request, pupil, qualification, point)

        current = GradeEntry.objects.filter(
            pupil=pupil, qualification=qualification, assessment_point=point
        ).first()
        seen = data.get("version")
        if seen is None and current is not None:
            seen = current.version
        try:
            result = grades_save(
                actor=request.user,
                group=group,
                assessment_point=point,
                entries=[GradeInput(pupil_id=pupil.pk, text=data["grade"], seen_version=seen)],
                reason=data["reason"],
            )
        except ValidationError as error:
            raise ValidationError(_grade_errors(error, pupil.pk)) from None

        if result.conflicts:
            conflict = result.conflicts[0]
            return Response(
                {
                    "detail": (
                        f"The grade was changed to {conflict.current} by {conflict.changed_by} "
                        f"after version {seen}; read it again and resend with version "
                        f"{conflict.current_version}."
                    ),
                    "current_grade": conflict.current,
                    "current_version": conflict.current_version,
                    "changed_by": conflict.changed_by,
                    "changed_at": conflict.changed_at,
                },
                status=status.HTTP_409_CONFLICT,
            )

        entry = GradeEntry.objects.select_related(
            "grade", "assessment_point", "qualification__scale"
        ).get(pupil=pupil, qualification=qualification, assessment_point=point)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(_entry_data(entry), status=code)


def _grade_errors(error: ValidationError, pupil_id: int) -> dict[str, list[str]]:
    """Rename grades_save's per-pupil error key to the request's "pupil" field.

    The grade itself is parsed before grades_save runs, so what remains under
    that key is about the pupil, such as not being on roll on the point's date.
    """
    errors: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        errors.setdefault("pupil" if key == f"pupil_{pupil_id}" else key, []).extend(messages)
    return errors


# Writing TMGs ---------------------------------------------------------------------------------


def _target_data(target: TargetGrade) -> dict[str, Any]:
    points = target.grade.points if target.grade is not None else target.value
    return {
        "id": target.pk,
        "pupil": target.pupil_id,
        "qualification": target.qualification_id,
        "academic_year": target.academic_year_id,
        "grade": tmg_label(target),
        "points": _number(points),
        "basis": target.basis,
        "reason": target.reason,
        "version": target.version,
        "set_at": target.set_at,
    }


def _set_target(
    request: Request,
    *,
    pupil: Pupil,
    qualification_id: int,
    academic_year_id: int,
    data: dict[str, Any],
) -> Response:
    try:
        target = tmg_set(
            actor=request.user,
            pupil_id=pupil.pk,
            qualification_id=qualification_id,
            academic_year_id=academic_year_id,
            grade_text=data["grade"],
            reason=data["reason"],
            seen_version=data.get("version"),
        )
    except TmgConflict as conflict:
        current = conflict.current
        return Response(
            {
                "detail": str(conflict),
                "current_grade": tmg_label(current) if current else "",
                "current_version": current.version if current else 0,
            },
            status=status.HTTP_409_CONFLICT,
        )
    return Response(_target_data(target))


def _current_year_id(pupil: Pupil) -> int:
    today = clock.today()
    enrolment = (
        Enrolment.objects.filter(
            pupil=pupil,
            academic_year__start_date__lte=today,
            academic_year__end_date__gte=today,
        )
        .order_by("-start_date")
        .first()
    )
    if enrolment is None:
        raise ValidationError(
            {
                "academic_year": [
                    f"{pupil.display_name} is not enrolled in the academic year containing "
                    f"{today:%d/%m/%Y}; send the id of an academic year the pupil is on roll."
                ]
            }
        )
    return enrolment.academic_year_id


class TargetCreateView(APIView):
    """Set a pupil's TMG in one qualification by hand."""

    @extend_schema(
        operation_id="targets_create",
        summary="Set a TMG",
        description=(
            "Set by hand with a reason, as the TMG page does. Lowering a TMG needs a "
            "headteacher, academy leader or trust leader (403 otherwise); 409 when the TMG "
            "changed since `version`."
        ),
        request=TargetWriteSerializer,
        responses={200: TargetSerializer, 409: GradeConflictSerializer},
        tags=["progress"],
    )
    def post(self, request: Request) -> Response:
        serializer = TargetWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pupil = get_object_or_404(visible_pupils(request.user), pk=data["pupil"])
        year_id = data.get("academic_year") or _current_year_id(pupil)
        return _set_target(
            request,
            pupil=pupil,
            qualification_id=data["qualification"],
            academic_year_id=year_id,
            data=data,
        )


class TargetUpdateView(APIView):
    """Change one TMG by hand."""

    def target(self, request: Request, pk: int) -> TargetGrade:
        targets: QuerySet[TargetGrade] = TargetGrade.objects.filter(
            pupil__in=visible_pupils(request.user).values("pk")
        )
        return get_object_or_404(targets, pk=pk)

    @extend_schema(
        operation_id="targets_partial_update",
        summary="Change a TMG",
        request=TargetUpdateSerializer,
        responses={200: TargetSerializer, 409: GradeConflictSerializer},
        tags=["progress"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        target = self.target(request, pk)
        serializer = TargetUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _set_target(
            request,
            pupil=target.pupil,
            qualification_id=target.qualification_id,
            academic_year_id=target.academic_year_id,
            data=serializer.validated_data,
        )


urlpatterns = [
    path("pupils/<int:pk>/progress/", PupilProgressView.as_view(), name="progress-pupil-progress"),
    path(
        "pupils/<int:pk>/attainment8/",
        PupilAttainment8View.as_view(),
        name="progress-pupil-attainment8",
    ),
    path("classes/<int:pk>/progress/", ClassProgressView.as_view(), name="progress-class"),
    path(
        "year-groups/<int:pk>/progress/",
        YearGroupProgressView.as_view(),
        name="progress-year-group",
    ),
    path("grades/", GradeCreateView.as_view(), name="progress-grade-create"),
    path("targets/", TargetCreateView.as_view(), name="progress-target-create"),
    path("targets/<int:pk>/", TargetUpdateView.as_view(), name="progress-target-update"),
]
