"""Attendance in the REST API: a pupil's and a group's figures over a date
range, and register marks read and written through marks_save.

Scope follows the resource: a pupil through visible_pupils, a group through
the visible_* selectors the group viewsets use, so anything the caller cannot
see returns 404.
"""

import datetime
import logging
from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from academies.selectors import visible_academies, visible_tutor_groups, visible_year_groups
from pupils.models import Enrolment, active_on
from pupils.selectors import visible_pupils
from trust.api import MAX_ID, PageNumberPagination

from . import selectors
from .access import can_correct_marks, can_take_register
from .models import AttendanceMark, Session
from .services import MarkInput, marks_save

logger = logging.getLogger(__name__)

RANGE_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="First day, YYYY-MM-DD. Default: 1 September of the current academic year.",
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, YYYY-MM-DD. Default: today."),
]


COHORT_PARAMETER = OpenApiParameter(
    "cohort",
    OpenApiTypes.BOOL,
    description="true to count only pupils aged 5 to 15 on the 31 August before the "
    "range, as the DfE's national figures do. Default: false.",
)


def _cohort(request: Request) -> bool:
    raw = request.query_params.get("cohort", "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise exceptions.ValidationError(
        {"cohort": [f"{raw[:40]!r} is not a valid value for cohort. Allowed values: true, false."]}
    )


def _rate(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class FiguresSerializer(serializers.Serializer):
    """Session counts and rates over a date range, as the DfE defines them."""

    start = serializers.DateField(help_text="First day of the range.")
    end = serializers.DateField(help_text="Last day of the range.")
    possible_sessions = serializers.IntegerField()
    present_sessions = serializers.IntegerField(help_text="Including late before registers close.")
    approved_activity_sessions = serializers.IntegerField()
    authorised_absence_sessions = serializers.IntegerField()
    unauthorised_absence_sessions = serializers.IntegerField()
    not_counted_sessions = serializers.IntegerField()
    missing_sessions = serializers.IntegerField(
        allow_null=True,
        help_text="Sessions on school days while enrolled with no mark yet; null for groups.",
    )
    attendance_rate = _rate("Percent of possible sessions, one decimal; null with none.")
    authorised_absence_rate = _rate("Percent of possible sessions, one decimal.")
    unauthorised_absence_rate = _rate("Percent of possible sessions, one decimal.")
    overall_absence_rate = _rate("Percent of possible sessions, one decimal.")
    persistent_absence = serializers.BooleanField(
        allow_null=True, help_text="10% or more of possible sessions missed; null for groups."
    )
    severe_absence = serializers.BooleanField(
        allow_null=True, help_text="50% or more of possible sessions missed; null for groups."
    )


class GroupFiguresSerializer(FiguresSerializer):
    """A group's figures: counts summed per enrolment (pupil and academy) over
    the whole weeks (Monday to Sunday) that the range touches."""

    enrolments = serializers.IntegerField(help_text="Enrolments with a possible session.")
    persistent_absence_count = serializers.IntegerField()
    persistent_absence_rate = _rate("Percent of enrolments persistently absent.")
    severe_absence_count = serializers.IntegerField()
    severe_absence_rate = _rate("Percent of enrolments severely absent.")


def _date_range(request: Request) -> tuple[datetime.date, datetime.date]:
    try:
        return selectors.parse_range(
            request.query_params.get("from"), request.query_params.get("to")
        )
    except selectors.RangeError as error:
        raise exceptions.ValidationError({error.field: [error.message]}) from None


def _with_range(data: dict[str, Any], start: datetime.date, end: datetime.date) -> dict[str, Any]:
    return {"start": start.isoformat(), "end": end.isoformat(), **data}


class PupilAttendanceView(APIView):
    """A pupil's attendance figures over a date range."""

    @extend_schema(
        operation_id="pupils_attendance_retrieve",
        summary="A pupil's attendance figures",
        parameters=RANGE_PARAMETERS,
        responses={200: FiguresSerializer},
        tags=["attendance"],
    )
    def get(self, request: Request, pk: int) -> Response:
        pupil = get_object_or_404(visible_pupils(request.user), pk=pk)
        start, end = _date_range(request)
        result = selectors.pupil_counts(pupil, start, end)
        data = selectors.counts_fields(result.counts, len(result.missing))
        return Response(_with_range(data, start, end))


class GroupAttendanceView(APIView):
    """A group's attendance figures over a date range."""

    noun = ""

    def groups(self, request: Request) -> QuerySet[Any]:
        raise NotImplementedError

    def get(self, request: Request, pk: int) -> Response:
        group: Model = get_object_or_404(self.groups(request), pk=pk)
        start, end = _date_range(request)
        cohort = _cohort(request)
        figures = selectors.group_figures_for(group, start, end, cohort=cohort)  # type: ignore[arg-type]
        data = selectors.group_fields(figures)
        data["persistent_absence"] = None
        data["severe_absence"] = None
        return Response(_with_range(data, start, end))


def _group_schema(noun: str, operation: str) -> Any:
    return extend_schema(
        operation_id=f"{operation}_attendance_retrieve",
        summary=f"A {noun}'s attendance figures",
        parameters=[*RANGE_PARAMETERS, COHORT_PARAMETER],
        responses={200: GroupFiguresSerializer},
        tags=["attendance"],
    )


class TutorGroupAttendanceView(GroupAttendanceView):
    def groups(self, request: Request) -> QuerySet[Any]:
        return visible_tutor_groups(request.user)

    @_group_schema("tutor group", "tutor_groups")
    def get(self, request: Request, pk: int) -> Response:
        return super().get(request, pk)


class YearGroupAttendanceView(GroupAttendanceView):
    def groups(self, request: Request) -> QuerySet[Any]:
        return visible_year_groups(request.user)

    @_group_schema("year group", "year_groups")
    def get(self, request: Request, pk: int) -> Response:
        return super().get(request, pk)


class AcademyAttendanceView(GroupAttendanceView):
    def groups(self, request: Request) -> QuerySet[Any]:
        return visible_academies(request.user)

    @_group_schema("academy", "academies")
    def get(self, request: Request, pk: int) -> Response:
        return super().get(request, pk)


# Marks -----------------------------------------------------------------------


class AttendanceMarkSerializer(serializers.ModelSerializer):
    """A register mark as recorded."""

    pupil = serializers.IntegerField(source="pupil_id")
    academy = serializers.IntegerField(source="academy_id")
    tutor_group = serializers.IntegerField(source="tutor_group_id", allow_null=True)

    class Meta:
        model = AttendanceMark
        fields = [
            "id",
            "pupil",
            "date",
            "session",
            "code",
            "category",
            "minutes_late",
            "comment",
            "academy",
            "tutor_group",
            "entered_at",
            "changed_at",
            "version",
        ]


class MarkEntrySerializer(serializers.Serializer):
    pupil = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    code = serializers.CharField(max_length=4, trim_whitespace=True)
    minutes_late = serializers.IntegerField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    seen_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The mark's version when it was read; leave out for a session with no mark.",
    )


class MarksSaveSerializer(serializers.Serializer):
    date = serializers.CharField(help_text="The day of the session, YYYY-MM-DD.")
    session = serializers.CharField(help_text="AM or PM.")
    marks = MarkEntrySerializer(many=True, allow_empty=False)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=300,
        help_text="Why marks that were already saved are changed; needed for corrections.",
    )

    def validate_date(self, value: str) -> datetime.date:
        try:
            if len(value) != 10:
                raise ValueError
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise serializers.ValidationError(
                f"{value[:40]!r} is not a valid date. Use the format YYYY-MM-DD, "
                "for example 2026-09-07."
            ) from None

    def validate_session(self, value: str) -> str:
        session = value.strip().upper()
        if session not in Session.values:
            raise serializers.ValidationError(
                f"{value[:40]!r} is not a valid session. Allowed values: AM (morning), "
                "PM (afternoon)."
            )
        return session


SaveResultSerializer = inline_serializer(
    "AttendanceMarksSaveResult",
    fields={
        "created": serializers.IntegerField(),
        "changed": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "conflicts": inline_serializer(
            "AttendanceMarkConflict",
            fields={
                "pupil": serializers.IntegerField(),
                "submitted_code": serializers.CharField(),
                "current_code": serializers.CharField(),
                "current_version": serializers.IntegerField(),
                "changed_by": serializers.CharField(),
                "changed_at": serializers.DateTimeField(),
            },
            many=True,
        ),
    },
)


def _id_parameter(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise exceptions.ValidationError(
            {
                name: [
                    f"{raw[:40]!r} is not a valid {name} id. Allowed values: a whole number from 1."
                ]
            }
        )
    return int(raw)


class AttendanceMarkViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Register marks of the pupils the caller may see, and saving marks."""

    serializer_class = AttendanceMarkSerializer
    pagination_class = PageNumberPagination
    filter_backends: list[type] = []

    def get_queryset(self) -> QuerySet[AttendanceMark]:
        marks = AttendanceMark.objects.filter(
            pupil__in=visible_pupils(self.request.user).values("pk")
        ).order_by("date", "session", "pupil_id")
        pupil = _id_parameter(self.request, "pupil")
        if pupil is not None:
            marks = marks.filter(pupil_id=pupil)
        raw_from = self.request.query_params.get("from")
        raw_to = self.request.query_params.get("to")
        if raw_from or raw_to:
            start, end = _date_range(self.request)
            marks = marks.filter(date__range=(start, end))
        return marks

    @extend_schema(
        summary="List register marks",
        parameters=[
            OpenApiParameter("pupil", OpenApiTypes.INT, description="Filter by pupil id."),
            *RANGE_PARAMETERS,
        ],
        tags=["attendance"],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Save the marks of one session",
        description=(
            "Validated and written as the register page writes them. A mark that someone "
            "else changed since `seen_version` is not overwritten: it is returned under "
            "`conflicts` while the other marks are saved. Changing a saved mark needs the "
            "right to correct registers and a `reason`."
        ),
        request=MarksSaveSerializer,
        responses={200: SaveResultSerializer},
        tags=["attendance"],
    )
    def create(self, request: Request) -> Response:
        serializer = MarksSaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        day: datetime.date = data["date"]
        session: str = data["session"]
        entries = data["marks"]
        pupil_ids = {entry["pupil"] for entry in entries}

        visible = set(
            visible_pupils(request.user, on=day)
            .filter(pk__in=pupil_ids)
            .values_list("pk", flat=True)
        )
        if visible != pupil_ids:
            raise exceptions.NotFound("Not found.")

        enrolments = list(
            Enrolment.objects.filter(active_on(day), pupil_id__in=pupil_ids).select_related(
                "tutor_group"
            )
        )
        groups = {e.tutor_group_id for e in enrolments}
        for enrolment in enrolments:
            group = enrolment.tutor_group
            allowed = (
                can_take_register(request.user, group, day, session)
                if group is not None
                else can_correct_marks(request.user, enrolment.academy_id, enrolment.year_group_id)
            )
            if not allowed:
                shown = group.name if group is not None else "the pupil's year group"
                raise exceptions.PermissionDenied(
                    f"You may not take the {session} register of {shown} on {day:%d/%m/%Y}."
                )
        can_correct = bool(enrolments) and all(
            can_correct_marks(request.user, e.academy_id, e.year_group_id) for e in enrolments
        )
        tutor_group = enrolments[0].tutor_group if len(groups) == 1 and enrolments else None

        result = marks_save(
            actor=request.user,
            day=day,
            session=session,
            marks=[
                MarkInput(
                    pupil_id=entry["pupil"],
                    code=entry["code"],
                    minutes_late=entry.get("minutes_late"),
                    comment=entry.get("comment", ""),
                    seen_version=entry.get("seen_version"),
                )
                for entry in entries
            ],
            tutor_group=tutor_group,
            can_correct=can_correct,
            reason=data["reason"],
        )
        body = {
            "created": result.created,
            "changed": result.changed,
            "unchanged": result.unchanged,
            "conflicts": [
                {
                    "pupil": c.pupil_id,
                    "submitted_code": c.submitted_code,
                    "current_code": c.current_code,
                    "current_version": c.current_version,
                    "changed_by": c.changed_by,
                    "changed_at": c.changed_at,
                }
                for c in result.conflicts
            ],
        }
        return Response(body, status=status.HTTP_200_OK)
