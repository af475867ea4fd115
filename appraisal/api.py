"""Appraisal cycles, appraisals, objectives, reviews and portfolio entries in
the REST API.

Reads start from appraisal.access (visible_appraisals,
visible_portfolio_entries), so a record missing from a list returns 404 on
its detail. Writes go through appraisal.services and appraisal.portfolio,
the functions the pages call: a 400 names the field and the value, 403 when
the caller sees the record but may not make the change, and nothing is
written when any check fails. Trustees see completion counts only, so every
endpoint here except the list of cycles returns 403 to them.
"""

import datetime
from collections.abc import Callable, Sequence
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from academies.models import AcademicYear, Academy, TutorGroup, YearGroup
from progress.models import Subject
from staff.models import StaffMember
from trust import clock
from trust.access import scope_for
from trust.api import IdFilter, PageNumberPagination, choice_filter

from . import portfolio, services
from .access import (
    can_assign_appraiser,
    can_edit_portfolio,
    can_run_cycles,
    visible_appraisals,
    visible_portfolio_entries,
)
from .api_serializers import (
    AnnotationInput,
    AnnotationSerializer,
    AppraisalCreateInput,
    AppraisalDetailSerializer,
    AppraisalSerializer,
    AppraisalUpdateInput,
    CycleCreateInput,
    CycleSerializer,
    EvidenceSerializer,
    EvidenceUploadInput,
    FinalReviewInput,
    MidYearInput,
    ObjectiveCreateInput,
    ObjectiveInput,
    ObjectiveSerializer,
    PortfolioEntryInput,
    PortfolioEntrySerializer,
    ReviewInput,
    ReviewSerializer,
    SignInput,
)
from .measures import measure_values
from .models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    CpdKind,
    Deadline,
    DevelopmentNeed,
    Objective,
    ObjectiveReview,
    PortfolioEntry,
    Signature,
)

TAG = "appraisal"


# Access ------------------------------------------------------------------------------


class AppraisalRecords(permissions.BasePermission):
    """Staff members (and superusers) may use the appraisal API; trustees may not."""

    message = "Appraisal records are open to staff only. Trustees see appraisal completion counts."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        scope = scope_for(user)
        return scope.staff_id is not None and not scope.is_trustee_only


class StaffOrTrustee(permissions.BasePermission):
    """Any member of staff, trustees included. Used for the list of cycles only."""

    message = "Appraisal cycles are listed for members of staff only."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.is_superuser) or scope_for(request.user).staff_id is not None


# Lookups of ids sent in a request body ------------------------------------------------


def _found(queryset: QuerySet[Any], pk: int | None, field: str, noun: str) -> Any:
    """Return the row with id `pk`, or raise a 400 on `field` naming the id."""
    if pk is None:
        return None
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise exceptions.ValidationError(
            {field: [f"{noun} {pk} was not found. Send the id of an existing {noun.lower()}."]}
        )
    return row


def _measure_values(objectives: Sequence[Objective]) -> dict[int, Any]:
    linked = [objective for objective in objectives if objective.measure]
    return measure_values(linked, clock.today()) if linked else {}


# Cycles -------------------------------------------------------------------------------


def _deadline_dates(rows: list[dict[str, Any]]) -> dict[tuple[str, str], datetime.date | None]:
    """Return the deadlines keyed by (track, stage), rejecting a pair sent twice."""
    dates: dict[tuple[str, str], datetime.date | None] = {}
    for row in rows:
        key = (row["track"], row["stage"])
        if key in dates:
            raise exceptions.ValidationError(
                {
                    "deadlines": [
                        f"The {row['stage']} deadline of the {row['track']} track is sent "
                        "twice; send each track and stage once."
                    ]
                }
            )
        dates[key] = row["due"]
    return dates


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List appraisal cycles with their deadlines"),
    retrieve=extend_schema(tags=[TAG], summary="An appraisal cycle with its deadlines"),
    create=extend_schema(
        tags=[TAG],
        summary="Open an appraisal cycle (trust HR and trust leaders)",
        request=CycleCreateInput,
        responses={201: CycleSerializer},
    ),
)
class CycleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Appraisal cycles, newest first, each with the trust's deadlines and any
    academy's own dates (`academy` set)."""

    serializer_class = CycleSerializer
    pagination_class = PageNumberPagination

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action == "list":
            return [permissions.IsAuthenticated(), StaffOrTrustee()]
        return [permissions.IsAuthenticated(), AppraisalRecords()]

    def get_queryset(self) -> QuerySet[AppraisalCycle]:
        deadlines = Deadline.objects.order_by("academy_id", "track", "due", "pk")
        return (
            AppraisalCycle.objects.select_related("academic_year")
            .prefetch_related(Prefetch("deadlines", queryset=deadlines))
            .order_by("-academic_year__start_year", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_run_cycles(request.user):
            raise exceptions.PermissionDenied("Only trust HR and trust leaders open cycles.")
        submitted = CycleCreateInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        year = _found(
            AcademicYear.objects.all(), data["academic_year"], "academic_year", "Academic year"
        )
        dates = _deadline_dates(data["deadlines"])
        # Opening the cycle and replacing its default dates is one change, so
        # a rejected date leaves no cycle behind.
        with transaction.atomic():
            cycle = services.cycle_create(
                request.user, year, uses_pay_recommendation=data["uses_pay_recommendation"]
            )
            if dates:
                try:
                    services.deadlines_set(request.user, cycle, dates=dates)
                except DjangoValidationError as error:
                    # deadlines_set keys errors "track.stage"; the request sent them
                    # in `deadlines`, and each message names its deadline.
                    raise exceptions.ValidationError({"deadlines": error.messages}) from None
        fresh = self.get_queryset().get(pk=cycle.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


# Appraisals ---------------------------------------------------------------------------


class AppraisalFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id", noun="appraisal cycle")
    academy = IdFilter(field_name="academy_id", noun="academy")
    status = choice_filter(
        field_name="status", noun="appraisal status", choices=Appraisal.Status.choices
    )

    class Meta:
        model = Appraisal
        fields = ["cycle", "academy", "status"]


def _objectives_prefetch() -> Prefetch:
    objectives = Objective.objects.prefetch_related(
        "standards",
        Prefetch(
            "reviews", queryset=ObjectiveReview.objects.select_related("objective").order_by("kind")
        ),
    )
    return Prefetch("objectives", queryset=objectives)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List the appraisals you can see"),
    retrieve=extend_schema(
        tags=[TAG],
        summary="An appraisal with its objectives, reviews and signatures",
        responses={200: AppraisalDetailSerializer},
    ),
    create=extend_schema(
        tags=[TAG],
        summary="Open an appraisal for a member of staff",
        description=(
            "The appraiser defaults to the appraisee's line manager. A caller who may open "
            "the appraisal but not read it (a trust leader) receives only `id` and `detail`."
        ),
        request=AppraisalCreateInput,
        responses={201: AppraisalDetailSerializer},
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="Change the appraiser (headteacher or trust HR)",
        request=AppraisalUpdateInput,
        responses={200: AppraisalDetailSerializer},
    ),
    sign_objectives=extend_schema(
        tags=[TAG],
        summary="Sign the objectives as appraisee or appraiser",
        request=SignInput,
        responses={200: AppraisalDetailSerializer},
    ),
    mid_year_complete=extend_schema(
        tags=[TAG],
        summary="Complete the mid-year review",
        request=MidYearInput,
        responses={200: AppraisalDetailSerializer},
    ),
    final_review_complete=extend_schema(
        tags=[TAG],
        summary="Complete the final review with the summary and development needs",
        request=FinalReviewInput,
        responses={200: AppraisalDetailSerializer},
    ),
    sign_final=extend_schema(
        tags=[TAG],
        summary="Sign the final review as appraisee or appraiser",
        request=SignInput,
        responses={200: AppraisalDetailSerializer},
    ),
    annotations=extend_schema(
        tags=[TAG],
        summary="Add a note to a signed-off appraisal",
        request=AnnotationInput,
        responses={201: AnnotationSerializer},
    ),
)
class AppraisalViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The appraisals you can see: your own, your appraisees', your academy's
    as its headteacher, and every one for trust HR."""

    pagination_class = PageNumberPagination
    filterset_class = AppraisalFilter
    permission_classes = [permissions.IsAuthenticated, AppraisalRecords]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Appraisal]:
        queryset = visible_appraisals(self.request.user).select_related(
            "cycle__academic_year", "appraisee", "appraiser", "academy"
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(
                _objectives_prefetch(),
                Prefetch("signatures", queryset=_signatures()),
                Prefetch("annotations", queryset=_annotations()),
                Prefetch("development_needs", queryset=DevelopmentNeed.objects.order_by("pk")),
            )
        return queryset.order_by("cycle_id", "appraisee__last_name", "appraisee__first_name", "pk")

    def get_serializer_class(self) -> type[AppraisalSerializer]:
        return AppraisalSerializer if self.action == "list" else AppraisalDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": clock.today()}

    def _detail(self, appraisal: Appraisal, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=appraisal.pk)
        context = self.get_serializer_context()
        context["measure_values"] = _measure_values(list(fresh.objectives.all()))
        return Response(AppraisalDetailSerializer(fresh, context=context).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submitted = AppraisalCreateInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        cycle = _found(AppraisalCycle.objects.all(), data["cycle"], "cycle", "Appraisal cycle")
        staff = StaffMember.objects.all()
        appraisee = _found(staff, data["appraisee"], "appraisee", "Staff member")
        appraiser = _found(staff, data["appraiser"], "appraiser", "Staff member")
        appraisal = services.appraisal_open(
            request.user, cycle=cycle, appraisee=appraisee, appraiser=appraiser
        )
        if not self.get_queryset().filter(pk=appraisal.pk).exists():
            # Trust leaders open appraisals but read none, so they get the id only.
            body = {
                "id": appraisal.pk,
                "detail": "The appraisal was opened. Its content is open to the appraisee, "
                "the appraiser, the academy's headteacher and trust HR.",
            }
            return Response(body, status=status.HTTP_201_CREATED)
        return self._detail(appraisal, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        appraisal = self.get_object()
        if not can_assign_appraiser(request.user, appraisal):
            raise exceptions.PermissionDenied(
                "Only the academy's headteacher and trust HR change an appraiser."
            )
        submitted = AppraisalUpdateInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        appraiser = _found(
            StaffMember.objects.all(),
            submitted.validated_data["appraiser"],
            "appraiser",
            "Staff member",
        )
        services.appraiser_set(request.user, appraisal, appraiser)
        return self._detail(appraisal)

    def _step(self, serializer: type[Serializer], service: Callable[..., Any]) -> Response:
        """Validate the request body with `serializer`, run the service step on
        the appraisal and return the appraisal as it now stands."""
        appraisal = self.get_object()
        submitted = serializer(data=self.request.data)
        submitted.is_valid(raise_exception=True)
        service(self.request.user, appraisal, **submitted.validated_data)
        return self._detail(appraisal)

    @action(detail=True, methods=["post"], url_path="sign-objectives")
    def sign_objectives(self, request: Request, pk: Any = None) -> Response:
        return self._step(SignInput, services.objectives_sign)

    @action(detail=True, methods=["post"], url_path="mid-year-complete")
    def mid_year_complete(self, request: Request, pk: Any = None) -> Response:
        return self._step(MidYearInput, services.mid_year_complete)

    @action(detail=True, methods=["post"], url_path="final-review-complete")
    def final_review_complete(self, request: Request, pk: Any = None) -> Response:
        return self._step(FinalReviewInput, services.final_review_complete)

    @action(detail=True, methods=["post"], url_path="sign-final")
    def sign_final(self, request: Request, pk: Any = None) -> Response:
        return self._step(SignInput, services.final_sign)

    @action(detail=True, methods=["post"])
    def annotations(self, request: Request, pk: Any = None) -> Response:
        appraisal = self.get_object()
        submitted = AnnotationInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        annotation = services.annotation_add(
            request.user, appraisal, text=submitted.validated_data["text"]
        )
        fresh = _annotations().get(pk=annotation.pk)
        return Response(AnnotationSerializer(fresh).data, status=status.HTTP_201_CREATED)


def _signatures() -> QuerySet[Signature]:
    return Signature.objects.select_related("staff").order_by("document", "party")


def _annotations() -> QuerySet[Annotation]:
    return Annotation.objects.select_related("author").order_by("created_at", "pk")


# Objectives ---------------------------------------------------------------------------


class ObjectiveFilter(django_filters.FilterSet):
    appraisal = IdFilter(field_name="appraisal_id", noun="appraisal")

    class Meta:
        model = Objective
        fields = ["appraisal"]


# Objective fields objective_save takes as model instances, with the model
# and the noun of their error message.
MEASURE_TARGETS: dict[str, tuple[type[Model], str]] = {
    "measure_academy": (Academy, "Academy"),
    "measure_subject": (Subject, "Subject"),
    "measure_year_group": (YearGroup, "Year group"),
    "measure_tutor_group": (TutorGroup, "Tutor group"),
}


def _objective_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Return objective_save's keyword arguments from validated input, the measure's
    place ids turned into rows. objective_save checks the standard ids itself."""
    fields = dict(data)
    fields.pop("appraisal", None)
    for name, (model, noun) in MEASURE_TARGETS.items():
        fields[name] = _found(model._default_manager.all(), fields[name], name, noun)
    return fields


def _current_objective_fields(objective: Objective) -> dict[str, Any]:
    """Return the objective's values keyed as ObjectiveInput, for merging a PATCH into."""
    return {
        "title": objective.title,
        "success_criteria": objective.success_criteria,
        "weighting": objective.weighting,
        "standards": [standard.pk for standard in objective.standards.all()],
        "support": objective.support,
        "measure": objective.measure,
        "measure_scope": objective.measure_scope,
        "measure_academy": objective.measure_academy_id,
        "measure_subject": objective.measure_subject_id,
        "measure_year_group": objective.measure_year_group_id,
        "measure_tutor_group": objective.measure_tutor_group_id,
        "target_value": objective.target_value,
    }


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List the objectives of appraisals you can see"),
    retrieve=extend_schema(tags=[TAG], summary="An objective with its measure's current value"),
    create=extend_schema(
        tags=[TAG],
        summary="Add an objective to a draft appraisal",
        request=ObjectiveCreateInput,
        responses={201: ObjectiveSerializer},
    ),
    update=extend_schema(
        tags=[TAG],
        summary="Replace an objective of a draft appraisal",
        request=ObjectiveInput,
        responses={200: ObjectiveSerializer},
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="Change fields of an objective of a draft appraisal",
        request=ObjectiveInput,
        responses={200: ObjectiveSerializer},
    ),
    destroy=extend_schema(tags=[TAG], summary="Delete an objective of a draft appraisal"),
)
class ObjectiveViewSet(viewsets.ModelViewSet):
    """Objectives of the appraisals you can see. Changing an objective clears
    the signatures on the objectives, as on the appraisal page."""

    serializer_class = ObjectiveSerializer
    pagination_class = PageNumberPagination
    filterset_class = ObjectiveFilter
    permission_classes = [permissions.IsAuthenticated, AppraisalRecords]

    def get_queryset(self) -> QuerySet[Objective]:
        appraisals = visible_appraisals(self.request.user).values("pk")
        return (
            Objective.objects.filter(appraisal__in=appraisals)
            .select_related("appraisal", "measure_academy", "measure_subject", "measure_year_group")
            .prefetch_related("standards")
            .order_by("appraisal_id", "position", "pk")
        )

    def _context(self, objectives: Sequence[Objective]) -> dict[str, Any]:
        return {**self.get_serializer_context(), "measure_values": _measure_values(objectives)}

    def _respond(self, objective: Objective, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=objective.pk)
        data = ObjectiveSerializer(fresh, context=self._context([fresh])).data
        return Response(data, status=code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        # NOTE: measure_values reads attendance once per distinct tutor group,
        # year group or academy, so a page of attendance-linked objectives
        # costs a query per group. TMG measures take a fixed number of queries.
        data = ObjectiveSerializer(rows, many=True, context=self._context(rows)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._respond(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submitted = ObjectiveCreateInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        appraisal = visible_appraisals(request.user).filter(pk=data["appraisal"]).first()
        if appraisal is None:
            raise exceptions.NotFound(f"No appraisal with id {data['appraisal']} is in your scope.")
        objective = services.objective_save(request.user, appraisal, **_objective_fields(data))
        return self._respond(objective, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        objective = self.get_object()
        partial = kwargs.get("partial", False)
        submitted = ObjectiveInput(data=request.data, partial=partial)
        submitted.is_valid(raise_exception=True)
        data = {**_current_objective_fields(objective), **submitted.validated_data}
        services.objective_save(
            request.user, objective.appraisal, objective=objective, **_objective_fields(data)
        )
        return self._respond(objective)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.objective_delete(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# Reviews ------------------------------------------------------------------------------


class ReviewFilter(django_filters.FilterSet):
    objective = IdFilter(field_name="objective_id", noun="objective")
    appraisal = IdFilter(field_name="objective__appraisal_id", noun="appraisal")
    kind = choice_filter(
        field_name="kind", noun="review kind", choices=ObjectiveReview.Kind.choices
    )

    class Meta:
        model = ObjectiveReview
        fields = ["objective", "appraisal", "kind"]


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List objective reviews of appraisals you can see"),
    retrieve=extend_schema(tags=[TAG], summary="An objective review"),
    create=extend_schema(
        tags=[TAG],
        summary="Write an objective's mid-year or final review",
        description=(
            "Creates the review for `objective` and `kind`, or updates it when it exists "
            "(201 for a new review, 200 for a changed one). The appraisee writes `evidence` "
            "and `self_review`; the appraiser or a leader writes `appraiser_comment` and, on "
            "final reviews, `outcome`. Omitted fields keep their values."
        ),
        request=ReviewInput,
        responses={200: ReviewSerializer, 201: ReviewSerializer},
    ),
)
class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Mid-year and final reviews of the objectives of appraisals you can see."""

    serializer_class = ReviewSerializer
    pagination_class = PageNumberPagination
    filterset_class = ReviewFilter
    permission_classes = [permissions.IsAuthenticated, AppraisalRecords]

    def get_queryset(self) -> QuerySet[ObjectiveReview]:
        appraisals = visible_appraisals(self.request.user).values("pk")
        return (
            ObjectiveReview.objects.filter(objective__appraisal__in=appraisals)
            .select_related("objective")
            .order_by("objective__appraisal_id", "objective__position", "objective_id", "kind")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submitted = ReviewInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = dict(submitted.validated_data)
        appraisals = visible_appraisals(request.user).values("pk")
        objective_id = data.pop("objective")
        objective = (
            Objective.objects.filter(appraisal__in=appraisals, pk=objective_id)
            .select_related("appraisal")
            .first()
        )
        if objective is None:
            raise exceptions.NotFound(f"No objective with id {objective_id} is in your scope.")
        existed = ObjectiveReview.objects.filter(objective=objective, kind=data["kind"]).exists()
        review = services.review_save(request.user, objective, **data)
        fresh = self.get_queryset().get(pk=review.pk)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(self.get_serializer(fresh).data, status=code)


# Portfolio ----------------------------------------------------------------------------


class PortfolioEntryFilter(django_filters.FilterSet):
    staff = IdFilter(field_name="staff_id", noun="staff member")
    kind = choice_filter(field_name="kind", noun="portfolio entry kind", choices=CpdKind.choices)

    class Meta:
        model = PortfolioEntry
        fields = ["staff", "kind"]


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List the portfolio entries you can see"),
    retrieve=extend_schema(tags=[TAG], summary="A portfolio entry with its evidence files"),
    create=extend_schema(
        tags=[TAG],
        summary="Add an entry to your portfolio",
        request=PortfolioEntryInput,
        responses={201: PortfolioEntrySerializer},
    ),
    update=extend_schema(
        tags=[TAG],
        summary="Replace a portfolio entry",
        request=PortfolioEntryInput,
        responses={200: PortfolioEntrySerializer},
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="Change fields of a portfolio entry",
        request=PortfolioEntryInput,
        responses={200: PortfolioEntrySerializer},
    ),
    destroy=extend_schema(tags=[TAG], summary="Delete a portfolio entry and its evidence"),
    evidence=extend_schema(
        tags=[TAG],
        summary="Upload an evidence file to a portfolio entry",
        description=(
            "multipart/form-data with the file in `file`. The type is read from the "
            "content (PDF, images, office documents) and the size is limited; the file is "
            "stored outside the web root and served by `download_url` only to those who "
            "may read the entry."
        ),
        request={"multipart/form-data": EvidenceUploadInput},
        responses={201: EvidenceSerializer},
    ),
)
class PortfolioEntryViewSet(viewsets.ModelViewSet):
    """Portfolio entries you can see: your own, your appraisees', your academy's
    as its headteacher, and every one for trust HR. Only the owner (or trust
    HR, to correct) changes an entry."""

    serializer_class = PortfolioEntrySerializer
    pagination_class = PageNumberPagination
    filterset_class = PortfolioEntryFilter
    permission_classes = [permissions.IsAuthenticated, AppraisalRecords]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[PortfolioEntry]:
        return (
            visible_portfolio_entries(self.request.user)
            .select_related("staff")
            .prefetch_related("objectives", "standards", "evidence")
            .order_by("staff__last_name", "staff__first_name", "staff_id", "-started_on", "pk")
        )

    def _respond(self, entry: PortfolioEntry, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=entry.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        own_id = scope_for(request.user).staff_id
        submitted = PortfolioEntryInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        fields = dict(submitted.validated_data)
        staff_id = fields.pop("staff", None) or own_id
        if staff_id is None:
            raise exceptions.PermissionDenied("Only members of staff keep a portfolio.")
        if staff_id != own_id and not can_edit_portfolio(request.user, staff_id):
            yours = f"send your own id {own_id}" if own_id else "send your own staff id"
            raise exceptions.ValidationError(
                {
                    "staff": [
                        f"staff {staff_id} is another member of staff, whose portfolio you "
                        f"may not add entries to; leave staff out or {yours}."
                    ]
                }
            )
        staff = _found(StaffMember.objects.all(), staff_id, "staff", "Staff member")
        entry = portfolio.entry_save(request.user, staff=staff, **fields)
        return self._respond(entry, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        submitted = PortfolioEntryInput(data=request.data, partial=kwargs.get("partial", False))
        submitted.is_valid(raise_exception=True)
        fields = dict(submitted.validated_data)
        staff_id = fields.pop("staff", None)
        if staff_id is not None and staff_id != entry.staff_id:
            raise exceptions.ValidationError(
                {
                    "staff": [
                        f"staff {staff_id} is not the owner of this entry "
                        f"({entry.staff_id}); an entry cannot move to another portfolio. "
                        "Leave staff out."
                    ]
                }
            )
        # entry_save keeps the current value of every field left out of a PATCH.
        portfolio.entry_save(request.user, staff=entry.staff, entry=entry, **fields)
        return self._respond(entry)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        portfolio.entry_delete(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def evidence(self, request: Request, pk: Any = None) -> Response:
        entry = self.get_object()
        submitted = EvidenceUploadInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        evidence = portfolio.evidence_add(request.user, entry, submitted.validated_data["file"])
        data = EvidenceSerializer(evidence, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)
