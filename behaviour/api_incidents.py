"""Incidents, sanctions (Action rows) and follow-ups in the REST API.

Lists and details share one queryset built from behaviour.access, so a
record missing from the list returns 404 on its detail. Writes go through
behaviour.services: the same checks as the pages, a 400 naming the field
and value, 404 for a pupil or record outside the caller's scope, and
nothing written when any part is rejected.
"""

import datetime
import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action as viewset_action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from trust import clock
from trust.access import scope_for
from trust.api import IdFilter, PageNumberPagination, choice_filter

from . import services
from .access import visible_incidents, visible_links
from .models import Action, FollowUp, Incident, Polarity
from .serializers import (
    ActionCreateSerializer,
    ActionSerializer,
    ActionUpdateSerializer,
    FollowUpCreateSerializer,
    FollowUpResolveSerializer,
    FollowUpSerializer,
    IncidentCreateSerializer,
    IncidentDeleteSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
)

# A service names an id field with "_id" ("pupils.0.pupil_id"); the API calls
# the same field without it ("pupils.0.pupil").
_ID_SUFFIX = re.compile(r"_id(?=$|\.)")
# Service error keys the API names differently.
_RENAMED_ERRORS = {"seen_version": "version"}


def _api_field(key: str) -> str:
    # action_add and action_update key errors "action.<field>"; the API
    # takes those fields at the top level of the request.
    key = key.removeprefix("action.")
    key = _RENAMED_ERRORS.get(key, key)
    return _ID_SUFFIX.sub("", key)


def _api_errors(error: DjangoValidationError) -> exceptions.ValidationError:
    """Return a service's ValidationError as a DRF one keyed by the API's field names."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({"non_field_errors": error.messages})
    errors: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        errors.setdefault(_api_field(key), []).extend(messages)
    return exceptions.ValidationError(errors)


class DateField(forms.DateField):
    """An ISO date in a query string; the error names the value and the format."""

    def to_python(self, value: Any) -> datetime.date | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise DjangoValidationError(
                "%(value)s is not a valid date. Allowed values: a real date written "
                "YYYY-MM-DD, for example 2026-12-04.",
                code="invalid",
                params={"value": repr(text[:40])},
            ) from None


class DateFilter(django_filters.Filter):
    field_class = DateField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = {"type": "string", "format": "date", "description": self.extra["help_text"]}
        extend_schema_field(schema)(self)


class IncidentFilter(django_filters.FilterSet):
    """Filters on the pupil, academy, date range and polarity of incidents."""

    pupil = IdFilter(method="by_pupil", noun="pupil")
    academy = IdFilter(field_name="academy_id", noun="academy")
    date_from = DateFilter(field_name="date", lookup_expr="gte", help_text="First day, YYYY-MM-DD.")
    date_to = DateFilter(field_name="date", lookup_expr="lte", help_text="Last day, YYYY-MM-DD.")
    polarity = choice_filter(field_name="polarity", noun="polarity", choices=Polarity.choices)

    class Meta:
        model = Incident
        fields = ["pupil", "academy", "polarity"]

    def by_pupil(self, queryset: QuerySet[Incident], name: str, value: int) -> QuerySet[Incident]:
        # Only the caller's own links count, so a pupil out of scope matches nothing.
        links = visible_links(self.request.user).filter(incident_id=OuterRef("pk"), pupil_id=value)
        return queryset.filter(Exists(links))


# "from" is a Python keyword, so the date filters are declared under other
# names and renamed here. The query parameters and their errors then use "from" and "to".
IncidentFilter.base_filters["from"] = IncidentFilter.base_filters.pop("date_from")
IncidentFilter.base_filters["to"] = IncidentFilter.base_filters.pop("date_to")


def _pupil_entries(rows: list[dict[str, Any]]) -> list[services.PupilEntry]:
    return [
        services.PupilEntry(pupil_id=row["pupil"], role=row["role"], points=row["points"])
        for row in rows
    ]


def _action_input(data: dict[str, Any]) -> services.ActionInput:
    return services.ActionInput(
        kind=data["kind"],
        pupil_id=data["pupil"],
        date=data["date"],
        duration_minutes=data["duration_minutes"],
        attended=data["attended"],
        contact_method=data["contact_method"],
        contacted_at=data["contacted_at"],
        outcome=data["outcome"],
        referred_to_id=data["referred_to"],
        notes=data["notes"],
    )


def _call(function: Any, **kwargs: Any) -> Any:
    """Call a service, turning its ValidationError into the API's 400."""
    try:
        return function(**kwargs)
    except DjangoValidationError as error:
        raise _api_errors(error) from None


@extend_schema_view(
    list=extend_schema(tags=["behaviour"], summary="List the incidents you can see"),
    retrieve=extend_schema(tags=["behaviour"], summary="An incident"),
    create=extend_schema(
        tags=["behaviour"],
        summary="Log an incident",
        request=IncidentCreateSerializer,
        responses={201: IncidentSerializer},
    ),
    partial_update=extend_schema(
        tags=["behaviour"],
        summary="Correct an incident",
        request=IncidentUpdateSerializer,
        responses={200: IncidentSerializer},
    ),
    destroy=extend_schema(
        tags=["behaviour"],
        summary="Delete an incident (leaders only)",
        request=IncidentDeleteSerializer,
        parameters=[
            OpenApiParameter("reason", str, description="Why; or send it in the request body.")
        ],
    ),
)
class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents with at least one pupil you can see; content of sensitive
    incidents you may not read is null."""

    serializer_class = IncidentSerializer
    pagination_class = PageNumberPagination
    filterset_class = IncidentFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Incident]:
        user = self.request.user
        links = visible_links(user).select_related("pupil").order_by("pupil__legal_surname", "pk")
        return (
            visible_incidents(user)
            .select_related("academy", "category", "reported_by")
            .prefetch_related(
                Prefetch("pupil_links", queryset=links, to_attr="visible_pupil_links")
            )
            .order_by("-occurred_at", "-pk")
        )

    def _respond(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submitted = IncidentCreateSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        reported_by = data["reported_by"] or scope_for(request.user).staff_id
        if reported_by is None:
            raise exceptions.ValidationError(
                {"reported_by": ["Reported by is missing; give the id of the member of staff."]}
            )
        follow_up = data["follow_up"]
        incident = _call(
            services.incident_log,
            actor=request.user,
            academy_id=data["academy"],
            occurred_at=data["occurred_at"],
            category_id=data["category"],
            pupils=_pupil_entries(data["pupils"]),
            reported_by_id=reported_by,
            location=data["location"],
            lesson=data["lesson"],
            subject=data["subject"],
            description=data["description"],
            sensitive=data["sensitive"],
            sensitive_kind=data["sensitive_kind"],
            actions=[_action_input(row) for row in data["actions"]],
            follow_up=services.FollowUpInput(
                owner_id=follow_up["owner"], due_on=follow_up["due_on"], note=follow_up["note"]
            )
            if follow_up
            else None,
        )
        return self._respond(incident, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incident = self.get_object()
        submitted = IncidentUpdateSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = dict(submitted.validated_data)
        version = data.pop("version")
        reason = data.pop("reason")
        renamed = {"category": "category_id", "reported_by": "reported_by_id"}
        fields: dict[str, Any] = {renamed.get(name) or name: value for name, value in data.items()}
        if "pupils" in fields:
            fields["pupils"] = _pupil_entries(fields["pupils"])
        updated = _call(
            services.incident_update,
            actor=request.user,
            incident=incident,
            seen_version=version,
            reason=reason,
            **fields,
        )
        return self._respond(updated)

    def perform_destroy(self, instance: Incident) -> None:
        reason = self.request.query_params.get("reason")
        if reason is None:
            submitted = IncidentDeleteSerializer(data=self.request.data)
            submitted.is_valid(raise_exception=True)
            reason = submitted.validated_data["reason"]
        _call(services.incident_delete, actor=self.request.user, incident=instance, reason=reason)


class ActionFilter(django_filters.FilterSet):
    incident = IdFilter(field_name="incident_id", noun="incident")
    pupil = IdFilter(field_name="pupil_id", noun="pupil")
    kind = choice_filter(field_name="kind", noun="action kind", choices=Action.Kind.choices)

    class Meta:
        model = Action
        fields = ["incident", "pupil", "kind"]


@extend_schema_view(
    list=extend_schema(tags=["behaviour"], summary="List sanctions, contacts and referrals"),
    retrieve=extend_schema(tags=["behaviour"], summary="A sanction, contact or referral"),
    create=extend_schema(
        tags=["behaviour"],
        summary="Add an action to an incident",
        request=ActionCreateSerializer,
        responses={201: ActionSerializer(many=True)},
    ),
    partial_update=extend_schema(
        tags=["behaviour"],
        summary="Record attendance at a sanction, or correct an action",
        request=ActionUpdateSerializer,
        responses={200: ActionSerializer},
    ),
)
class SanctionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Actions taken for the pupils you can see in the incidents you can see."""

    serializer_class = ActionSerializer
    pagination_class = PageNumberPagination
    filterset_class = ActionFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Action]:
        links = visible_links(self.request.user).filter(
            incident_id=OuterRef("incident_id"), pupil_id=OuterRef("pupil_id")
        )
        return (
            Action.objects.filter(Exists(links))
            .select_related("incident", "pupil", "referred_to")
            .order_by("-incident__occurred_at", "incident_id", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submitted = ActionCreateSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        incident = visible_incidents(request.user).filter(pk=data["incident"]).first()
        if incident is None:
            raise exceptions.NotFound("No incident with that id is in your scope.")
        written = _call(
            services.action_add, actor=request.user, incident=incident, action=_action_input(data)
        )
        rows = self.get_queryset().filter(pk__in=[row.pk for row in written])
        return Response(self.get_serializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        current = self.get_object()
        submitted = ActionUpdateSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = dict(submitted.validated_data)
        reason = data.pop("reason")
        if "referred_to" in data:
            data["referred_to_id"] = data.pop("referred_to")
        updated = _call(
            services.action_update, actor=request.user, action=current, reason=reason, **data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=updated.pk)).data)


class FollowUpFilter(django_filters.FilterSet):
    incident = IdFilter(field_name="incident_id", noun="incident")
    owner = IdFilter(field_name="owner_id", noun="staff member")
    status = choice_filter(field_name="status", noun="status", choices=FollowUp.Status.choices)

    class Meta:
        model = FollowUp
        fields = ["incident", "owner", "status"]


@extend_schema_view(
    list=extend_schema(
        tags=["behaviour"], summary="List your follow-ups and those of incidents you can see"
    ),
    retrieve=extend_schema(tags=["behaviour"], summary="A follow-up"),
    create=extend_schema(
        tags=["behaviour"],
        summary="Add a follow-up to an incident",
        request=FollowUpCreateSerializer,
        responses={201: FollowUpSerializer},
    ),
    resolve=extend_schema(
        tags=["behaviour"],
        summary="Resolve a follow-up with a note of what was done",
        request=FollowUpResolveSerializer,
        responses={200: FollowUpSerializer},
    ),
)
class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-ups you own, and those of the incidents you can see."""

    serializer_class = FollowUpSerializer
    pagination_class = PageNumberPagination
    filterset_class = FollowUpFilter

    def get_queryset(self) -> QuerySet[FollowUp]:
        user = self.request.user
        in_scope = Q(incident__in=visible_incidents(user))
        staff_id = scope_for(user).staff_id
        if staff_id is not None:
            in_scope |= Q(owner_id=staff_id)
        return (
            FollowUp.objects.filter(in_scope)
            .select_related("incident", "owner")
            .order_by("status", "due_on", "pk")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": clock.today()}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submitted = FollowUpCreateSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        incident = visible_incidents(request.user).filter(pk=data["incident"]).first()
        if incident is None:
            raise exceptions.NotFound("No incident with that id is in your scope.")
        follow_up = _call(
            services.follow_up_add,
            actor=request.user,
            incident=incident,
            follow_up=services.FollowUpInput(
                owner_id=data["owner"], due_on=data["due_on"], note=data["note"]
            ),
        )
        fresh = self.get_queryset().get(pk=follow_up.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    @viewset_action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: Any = None) -> Response:
        follow_up = self.get_object()
        submitted = FollowUpResolveSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        _call(
            services.follow_up_resolve,
            actor=request.user,
            follow_up=follow_up,
            resolution=submitted.validated_data["resolution"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=follow_up.pk)).data)


router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="behaviour-incident")
router.register("sanctions", SanctionViewSet, basename="behaviour-sanction")
router.register("follow-ups", FollowUpViewSet, basename="behaviour-follow-up")

urlpatterns = router.urls
