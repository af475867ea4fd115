"""Behaviour categories in the REST API: list, read, add and change.

Reads start from behaviour.taxonomy.visible_categories, so a category
outside the caller's scope returns 404. Writes go through the taxonomy
services with the page's rules: a 400 keyed by field names the value and
what is allowed, and a caller who sees a category but may not change it
gets 403. Categories are retired (PATCH retired_on), never deleted.
"""

import datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from academies.selectors import visible_academies
from trust import clock
from trust.api import IdFilter, PageNumberPagination, choice_filter

from . import taxonomy
from .models import BehaviourCategory, Polarity


class CategorySerializer(serializers.ModelSerializer):
    """A category as read."""

    academy_name = serializers.CharField(source="academy.name", read_only=True, allow_null=True)
    parent_name = serializers.CharField(source="parent.name", read_only=True, allow_null=True)
    trust_category = serializers.IntegerField(
        source="trust_category_id",
        read_only=True,
        help_text="The trust category figures count this as: its parent, or itself.",
    )
    in_use = serializers.SerializerMethodField(
        help_text="Whether the category may be chosen for a new incident today."
    )

    class Meta:
        model = BehaviourCategory
        fields = [
            "id",
            "name",
            "polarity",
            "severity",
            "default_points",
            "min_points",
            "max_points",
            "sensitive",
            "position",
            "academy",
            "academy_name",
            "parent",
            "parent_name",
            "trust_category",
            "retired_on",
            "in_use",
        ]

    def get_in_use(self, category: BehaviourCategory) -> bool:
        today = self.context.get("today") or clock.today()
        if category.retired(today):
            return False
        return category.parent is None or not category.parent.retired(today)


def _points(help_text: str, required: bool = True) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=-taxonomy.MAX_POINTS,
        max_value=taxonomy.MAX_POINTS,
        help_text=help_text,
        required=required,
    )


class CategoryCreateSerializer(serializers.Serializer):
    """A new category: a trust category, or with `academy` an academy's own."""

    name = serializers.CharField(max_length=taxonomy.MAX_NAME)
    polarity = serializers.ChoiceField(choices=Polarity.choices)
    severity = serializers.IntegerField(
        min_value=1,
        max_value=5,
        allow_null=True,
        required=False,
        default=None,
        help_text="1 (low-level) to 5 (most serious); negative categories only.",
    )
    default_points = _points("Points given unless staff choose others.")
    min_points = _points("The fewest points staff may give.")
    max_points = _points("The most points staff may give.")
    sensitive = serializers.BooleanField(required=False, default=False)
    position = serializers.IntegerField(
        min_value=0, max_value=taxonomy.MAX_POSITION, required=False, default=0
    )
    academy = serializers.IntegerField(
        min_value=1,
        allow_null=True,
        required=False,
        default=None,
        help_text="The academy of an academy category; leave out for a trust category.",
    )
    # Serializer fields are class attributes, so mypy reports this one as shadowing Field.parent.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        min_value=1,
        allow_null=True,
        required=False,
        default=None,
        help_text="The trust category an academy category counts as.",
    )


class CategoryUpdateSerializer(serializers.Serializer):
    """The fields a PATCH may change. `retired_on` set retires the category
    from that day; null puts a retired category back in use."""

    name = serializers.CharField(max_length=taxonomy.MAX_NAME, required=False)
    polarity = serializers.ChoiceField(choices=Polarity.choices, required=False)
    severity = serializers.IntegerField(min_value=1, max_value=5, allow_null=True, required=False)
    default_points = _points("Points given unless staff choose others.", required=False)
    min_points = _points("The fewest points staff may give.", required=False)
    max_points = _points("The most points staff may give.", required=False)
    sensitive = serializers.BooleanField(required=False)
    position = serializers.IntegerField(
        min_value=0, max_value=taxonomy.MAX_POSITION, required=False
    )
    parent = serializers.IntegerField(min_value=1, required=False)  # type: ignore[assignment]
    retired_on = serializers.DateField(allow_null=True, required=False)


class CategoryFilter(django_filters.FilterSet):
    """`academy` keeps the categories usable at that academy: the trust's and its own."""

    academy = IdFilter(
        method="filter_academy",
        noun="academy",
    )
    polarity = choice_filter(field_name="polarity", noun="polarity", choices=Polarity.choices)

    class Meta:
        model = BehaviourCategory
        fields = ["academy", "polarity"]

    def filter_academy(
        self, queryset: QuerySet[BehaviourCategory], name: str, value: int | None
    ) -> QuerySet[BehaviourCategory]:
        if value is None:
            return queryset
        academy = visible_academies(self.request.user).filter(pk=value).first()
        if academy is None:
            # An academy outside the caller's scope matches nothing.
            return queryset.none()
        return queryset.filter(
            Q(academy_id=academy.pk) | Q(academy__isnull=True, trust_id=academy.trust_id)
        )


INCLUDE_RETIRED_VALUES = {"true": True, "1": True, "false": False, "0": False, "": False}


def _include_retired(request: Request) -> bool:
    raw = request.query_params.get("include_retired", "").strip().lower()
    if raw not in INCLUDE_RETIRED_VALUES:
        raise exceptions.ValidationError(
            {
                "include_retired": [
                    f"{raw[:40]!r} is not a valid value for include_retired. Allowed values: "
                    "true, false."
                ]
            }
        )
    return INCLUDE_RETIRED_VALUES[raw]


def _api_errors(error: DjangoValidationError) -> exceptions.ValidationError:
    """Return a service's ValidationError as a DRF one keyed by the API's field names."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({"non_field_errors": error.messages})
    renamed = {"parent_id": "parent"}
    return exceptions.ValidationError(
        {renamed.get(name, name): texts for name, texts in error.message_dict.items()}
    )


@extend_schema_view(
    list=extend_schema(
        tags=["behaviour"],
        summary="List the behaviour categories you can see",
        description=(
            "The trust taxonomy and the own categories of the academies you can see. "
            "Categories retired by today are left out unless include_retired=true."
        ),
    ),
    retrieve=extend_schema(tags=["behaviour"], summary="Open one behaviour category"),
    create=extend_schema(
        tags=["behaviour"],
        summary="Add a behaviour category",
        request=CategoryCreateSerializer,
        responses={201: CategorySerializer},
    ),
    partial_update=extend_schema(
        tags=["behaviour"],
        summary="Change, retire or reinstate a behaviour category",
        request=CategoryUpdateSerializer,
        responses={200: CategorySerializer},
    ),
)
class CategoryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Behaviour categories: trust leaders and administrators change the trust
    taxonomy, an academy's headteacher and leaders its own categories."""

    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    pagination_class = PageNumberPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[BehaviourCategory]:
        categories = taxonomy.visible_categories(self.request.user).select_related(
            "academy", "parent"
        )
        if self.action == "list" and not _include_retired(self.request):
            categories = categories.filter(taxonomy.in_use_q(clock.today()))
        return categories.order_by("academy_id", "polarity", "position", "name", "pk")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": clock.today()}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = CategoryCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        academy = None
        if data["academy"] is not None:
            academy = get_object_or_404(visible_academies(request.user), pk=data["academy"])
            if not taxonomy.can_read_categories(request.user):
                raise exceptions.NotFound("Not found.")
            trust = academy.trust
        else:
            found = taxonomy.trust_for(request.user)
            if found is None or not taxonomy.can_read_categories(request.user):
                raise exceptions.NotFound("Not found.")
            trust = found
        try:
            category = taxonomy.category_create(
                actor=request.user,
                trust=trust,
                academy=academy,
                data=taxonomy.CategoryInput(
                    name=data["name"],
                    polarity=data["polarity"],
                    severity=data["severity"],
                    default_points=data["default_points"],
                    min_points=data["min_points"],
                    max_points=data["max_points"],
                    sensitive=data["sensitive"],
                    position=data["position"],
                    parent_id=data["parent"],
                ),
            )
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        fresh = self.get_queryset().get(pk=category.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed(request.method or "PUT")
        category = self.get_object()
        if not taxonomy.can_edit_category(request.user, category):
            raise exceptions.PermissionDenied(
                f"You may read but not change the category {category.name}."
            )
        given = CategoryUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        retire = "retired_on" in data
        retired_on: datetime.date | None = data.pop("retired_on", None)
        if "parent" in data:
            data["parent_id"] = data.pop("parent")
        try:
            with transaction.atomic():
                if data:
                    taxonomy.category_update(actor=request.user, category=category, **data)
                if retire and retired_on is not None and retired_on != category.retired_on:
                    taxonomy.category_retire(actor=request.user, category=category, on=retired_on)
                elif retire and retired_on is None and category.retired_on is not None:
                    taxonomy.category_reinstate(actor=request.user, category=category)
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        fresh = taxonomy.visible_categories(request.user).select_related("academy", "parent")
        return Response(self.get_serializer(fresh.get(pk=category.pk)).data)


router = SimpleRouter()
router.register("behaviour-categories", CategoryViewSet, basename="behaviour-category")

urlpatterns = router.urls
