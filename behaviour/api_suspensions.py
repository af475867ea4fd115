"""Suspensions and exclusions in the REST API.

Reads start from behaviour.access.visible_suspensions, so a record missing
from the list returns 404 on its detail. Writes go through
behaviour.suspensions: a 400 names the field and the value, a pupil or
record outside the caller's scope returns 404, and nothing is written when
any check fails.
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from trust.api import MAX_ID, PageNumberPagination

from .access import visible_suspensions
from .codes import reason_label
from .models import Suspension, SuspensionSession
from .suspensions import (
    UPDATABLE_FIELDS,
    SuspensionFlag,
    suspension_flags,
    suspension_record,
    suspension_update,
    suspension_withdraw,
)

# Fields a PATCH may send: the details of suspension_update, and status
# "withdrawn" with withdrawn_reason to withdraw.
PATCH_FIELDS = UPDATABLE_FIELDS | {"status", "withdrawn_reason"}
# Service error keys the API names differently.
RENAMED_ERRORS = {"decided_by_id": "decided_by", "incident_id": "incident"}


def _api_errors(error: DjangoValidationError) -> exceptions.ValidationError:
    """Return a service's ValidationError as a DRF one keyed by the API's field names."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({"non_field_errors": error.messages})
    return exceptions.ValidationError(
        {RENAMED_ERRORS.get(key, key): messages for key, messages in error.message_dict.items()}
    )


@extend_schema_field(OpenApiTypes.DATE)
class IsoDateField(serializers.Field):
    """A date written YYYY-MM-DD; the error repeats the value sent."""

    def to_internal_value(self, data: Any) -> datetime.date:
        text = str(data)
        try:
            if len(text) != 10:
                raise ValueError
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise serializers.ValidationError(
                f"{text[:40]!r} is not a valid date. Use YYYY-MM-DD, for example 2026-12-07."
            ) from None

    def to_representation(self, value: datetime.date) -> str:
        return value.isoformat()


def _date(**kwargs: Any) -> IsoDateField:
    return IsoDateField(required=False, allow_null=True, default=None, **kwargs)


class SessionSerializer(serializers.ModelSerializer):
    """One session covered: AM, PM or LN (a lunchtime)."""

    class Meta:
        model = SuspensionSession
        fields = ["date", "session", "mark_written"]


class FlagSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="permanent, notify, reinstatement, exam or provision.")
    message = serializers.CharField()
    urgent = serializers.BooleanField()
    notified = serializers.ListField(child=serializers.CharField())


ReasonSerializer = inline_serializer(
    "SuspensionReason",
    fields={"code": serializers.CharField(), "label": serializers.CharField()},
)


class SuspensionSerializer(serializers.ModelSerializer):
    """A suspension, lunchtime suspension or permanent exclusion as recorded."""

    pupil = serializers.IntegerField(source="pupil_id")
    pupil_name = serializers.CharField(source="pupil.display_name")
    academy = serializers.IntegerField(source="academy_id")
    academy_name = serializers.CharField(source="academy.name")
    year_group = serializers.IntegerField(source="year_group_id")
    incident = serializers.IntegerField(source="incident_id", allow_null=True)
    decided_by = serializers.IntegerField(source="decided_by_id")
    decided_by_name = serializers.CharField(source="decided_by.full_name")
    school_days = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        coerce_to_string=False,
        help_text="Sessions (or lunchtimes) divided by 2; 0 for a permanent exclusion.",
    )
    reasons = serializers.SerializerMethodField()
    session_list = SessionSerializer(source="days", many=True, read_only=True)
    flags = serializers.SerializerMethodField()

    class Meta:
        model = Suspension
        fields = [
            "id",
            "pupil",
            "pupil_name",
            "academy",
            "academy_name",
            "year_group",
            "incident",
            "kind",
            "status",
            "start_date",
            "start_session",
            "sessions",
            "end_date",
            "school_days",
            "reasons",
            "details",
            "decided_by",
            "decided_by_name",
            "decided_on",
            "alternative_provision",
            "alternative_provision_details",
            "misses_public_exam",
            "parents_notified_on",
            "governors_notified_on",
            "local_authority_notified_on",
            "reintegration_meeting_on",
            "reintegration_notes",
            "withdrawn_reason",
            "guidance_edition",
            "session_list",
            "flags",
        ]

    @extend_schema_field(serializers.ListField(child=ReasonSerializer))
    def get_reasons(self, suspension: Suspension) -> list[dict[str, str]]:
        return [{"code": code, "label": reason_label(code)} for code in suspension.reasons]

    @extend_schema_field(FlagSerializer(many=True))
    def get_flags(self, suspension: Suspension) -> list[dict[str, Any]]:
        flags: dict[int, list[SuspensionFlag]] = self.context.get("flags", {})
        return [
            {
                "kind": flag.kind,
                "message": flag.message,
                "urgent": flag.urgent,
                "notified": list(flag.notified),
            }
            for flag in flags.get(suspension.pk, [])
        ]


class SuspensionCreateSerializer(serializers.Serializer):
    pupil = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    kind = serializers.ChoiceField(choices=Suspension.Kind.choices)
    start_date = IsoDateField()
    start_session = serializers.ChoiceField(choices=["AM", "PM"], default="AM")
    sessions = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Sessions (2 a day), or lunchtimes for a lunchtime suspension. Give this "
        "or end_date; neither for a permanent exclusion.",
    )
    end_date = _date(help_text="Last day; for a permanent exclusion the last day on roll.")
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=2), help_text="1 to 3 DfE reason codes."
    )
    decided_by = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Staff id of the headteacher or acting head."
    )
    decided_on = _date(help_text="Default: the start date, or today if the start is later.")
    details = serializers.CharField(required=False, allow_blank=True, default="")
    incident = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID
    )
    alternative_provision = serializers.BooleanField(required=False, default=False)
    alternative_provision_details = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300
    )
    misses_public_exam = serializers.BooleanField(required=False, default=False)
    parents_notified_on = _date()


class SuspensionPatchSerializer(serializers.Serializer):
    parents_notified_on = _date()
    governors_notified_on = _date()
    local_authority_notified_on = _date()
    reintegration_meeting_on = _date()
    reintegration_notes = serializers.CharField(required=False, allow_blank=True)
    alternative_provision_details = serializers.CharField(
        required=False, allow_blank=True, max_length=300
    )
    end_date = _date(help_text="Last day on roll of a permanent exclusion that has none yet.")
    status = serializers.ChoiceField(
        choices=[Suspension.Status.WITHDRAWN],
        required=False,
        help_text="Send withdrawn, with withdrawn_reason, to withdraw the suspension.",
    )
    withdrawn_reason = serializers.CharField(required=False, max_length=300)


def _parse_id(request: Request, name: str) -> int | None:
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


def _parse_date(request: Request, name: str) -> datetime.date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return IsoDateField().to_internal_value(raw)
    except serializers.ValidationError as error:
        raise exceptions.ValidationError({name: error.detail}) from None


def _parse_choice(request: Request, name: str, choices: list[str]) -> str:
    raw = request.query_params.get(name, "").strip()
    if raw and raw not in choices:
        raise exceptions.ValidationError(
            {name: [f"{raw[:40]!r} is not a valid {name}. Allowed values: {', '.join(choices)}."]}
        )
    return raw


LIST_PARAMETERS = [
    OpenApiParameter("pupil", OpenApiTypes.INT, description="Filter by pupil id."),
    OpenApiParameter("academy", OpenApiTypes.INT, description="Filter by academy id."),
    OpenApiParameter("kind", OpenApiTypes.STR, description="suspension, lunchtime or permanent."),
    OpenApiParameter("status", OpenApiTypes.STR, description="active or withdrawn."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day on or after, YYYY-MM-DD."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="First day on or before, YYYY-MM-DD."),
]


class SuspensionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Suspensions and exclusions the caller may see; recording, details and withdrawal."""

    serializer_class = SuspensionSerializer
    pagination_class = PageNumberPagination
    filter_backends: list[type] = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Suspension]:
        suspensions = (
            visible_suspensions(self.request.user)
            .select_related("pupil", "academy", "decided_by")
            .prefetch_related(
                Prefetch("days", queryset=SuspensionSession.objects.order_by("date", "session"))
            )
            .order_by("-start_date", "-pk")
        )
        if self.action != "list":
            return suspensions

        request = self.request
        pupil = _parse_id(request, "pupil")
        if pupil is not None:
            suspensions = suspensions.filter(pupil_id=pupil)
        academy = _parse_id(request, "academy")
        if academy is not None:
            suspensions = suspensions.filter(academy_id=academy)
        kind = _parse_choice(request, "kind", Suspension.Kind.values)
        if kind:
            suspensions = suspensions.filter(kind=kind)
        state = _parse_choice(request, "status", Suspension.Status.values)
        if state:
            suspensions = suspensions.filter(status=state)
        start = _parse_date(request, "from")
        if start is not None:
            suspensions = suspensions.filter(start_date__gte=start)
        end = _parse_date(request, "to")
        if end is not None:
            suspensions = suspensions.filter(start_date__lte=end)
        return suspensions

    def _render(self, suspensions: list[Suspension]) -> Any:
        context = {**self.get_serializer_context(), "flags": suspension_flags(suspensions)}
        return SuspensionSerializer(suspensions, many=True, context=context).data

    @extend_schema(
        summary="List suspensions and exclusions", parameters=LIST_PARAMETERS, tags=["behaviour"]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(self._render(list(page)))

    @extend_schema(summary="A suspension or exclusion", tags=["behaviour"])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        suspension = self.get_object()
        return Response(self._render([suspension])[0])

    @extend_schema(
        summary="Record a suspension or exclusion",
        description=(
            "Checked as the page checks it: the headteacher or acting headteacher decides, "
            "1 to 3 DfE reasons valid on the start date, no overlap with another active "
            "suspension, at most 45 school days per academy per academic year. E marks are "
            "written for sessions up to today unless alternative_provision is set."
        ),
        request=SuspensionCreateSerializer,
        responses={201: SuspensionSerializer},
        tags=["behaviour"],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SuspensionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            suspension = suspension_record(
                actor=request.user,
                pupil_id=data["pupil"],
                kind=data["kind"],
                start_date=data["start_date"],
                start_session=data["start_session"],
                sessions=data["sessions"],
                end_date=data["end_date"],
                reasons=data["reasons"],
                decided_by_id=data["decided_by"],
                decided_on=data["decided_on"],
                details=data["details"],
                incident_id=data["incident"],
                alternative_provision=data["alternative_provision"],
                alternative_provision_details=data["alternative_provision_details"],
                misses_public_exam=data["misses_public_exam"],
                parents_notified_on=data["parents_notified_on"],
            )
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        fresh = self.get_queryset().get(pk=suspension.pk)
        return Response(self._render([fresh])[0], status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record notifications, reintegration, the last day on roll, or withdraw",
        request=SuspensionPatchSerializer,
        responses={200: SuspensionSerializer},
        tags=["behaviour"],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        suspension = self.get_object()
        unknown = sorted(set(request.data) - PATCH_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(PATCH_FIELDS))
            raise exceptions.ValidationError(
                {name: [f"{name} cannot be changed; these can: {allowed}."] for name in unknown}
            )
        serializer = SuspensionPatchSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        withdrawing = data.pop("status", None) == Suspension.Status.WITHDRAWN
        reason = data.pop("withdrawn_reason", None)
        if reason is not None and not withdrawing:
            raise exceptions.ValidationError(
                {"withdrawn_reason": ["Send status 'withdrawn' with the reason to withdraw."]}
            )
        try:
            if data:
                suspension_update(actor=request.user, suspension=suspension, **data)
            if withdrawing:
                suspension_withdraw(actor=request.user, suspension=suspension, reason=reason or "")
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        fresh = self.get_queryset().get(pk=suspension.pk)
        return Response(self._render([fresh])[0])


router = SimpleRouter()
router.register("suspensions", SuspensionViewSet, basename="behaviour-suspension")
urlpatterns = router.urls
