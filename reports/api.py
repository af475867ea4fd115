"""Report runs in the REST API: request one, follow its progress, download its PDF.

Reads start from reports.access.visible_runs, so another person's run
returns 404. Requests go through reports.services.request_report, the
function the Reports page calls: a 400 names the field and the value, and a
403 names the report the caller may not request.
"""

from typing import Any

import django_filters
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from appraisal.api_serializers import ChoiceInput, DateInput, IdInput, InputSerializer
from trust.api import PageNumberPagination, choice_filter, describe_choices

from .access import visible_runs
from .models import ReportRun
from .run_views import open_run_file, pdf_response
from .services import request_report

TAG = "reports"


class ReportRunSerializer(serializers.ModelSerializer):
    """A report run: what was requested, how far it has got, and its file when done."""

    kind = serializers.CharField(
        read_only=True, help_text=f"One of: {describe_choices(ReportRun.Kind.choices)}."
    )
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text=f"One of: {describe_choices(ReportRun.Status.choices)}."
    )
    progress = serializers.IntegerField(read_only=True, help_text="Percent, 0 to 100.")
    step = serializers.CharField(read_only=True, help_text="What the worker is doing now.")
    error = serializers.CharField(
        read_only=True, help_text="Why the run failed; empty unless status is failed."
    )
    year_group = serializers.IntegerField(source="year_group_id", read_only=True, allow_null=True)
    requested_by = serializers.SerializerMethodField(
        help_text="The requester's name; null for a scheduled run."
    )
    size_bytes = serializers.IntegerField(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField(
        help_text="The PDF, for those allowed to download it; null until status is done."
    )

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "kind",
            "kind_label",
            "status",
            "progress",
            "step",
            "error",
            "academy",
            "year_group",
            "as_of",
            "scheduled",
            "requested_by",
            "filename",
            "size_bytes",
            "pages",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_requested_by(self, run: ReportRun) -> str | None:
        if run.requested_by is None:
            return None
        return run.requested_by.get_full_name() or run.requested_by.get_username()

    def get_download_url(self, run: ReportRun) -> str | None:
        if run.status != ReportRun.Status.DONE:
            return None
        path = reverse("api:report-run-download", args=[run.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ReportRunInput(InputSerializer):
    """A report to produce. An intervention report needs an academy or a year
    group, parents' letters a year group, and a governance report neither."""

    kind = ChoiceInput(choices=ReportRun.Kind.choices, noun="report kind")
    academy = IdInput(required=False, allow_null=True, default=None, help_text="Academy id.")
    year_group = IdInput(required=False, allow_null=True, default=None, help_text="Year group id.")
    as_of = DateInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="YYYY-MM-DD: the day the figures are taken on. Today when omitted.",
    )


class ReportRunFilter(django_filters.FilterSet):
    kind = choice_filter(field_name="kind", noun="report kind", choices=ReportRun.Kind.choices)
    status = choice_filter(field_name="status", noun="run status", choices=ReportRun.Status.choices)

    class Meta:
        model = ReportRun
        fields = ["kind", "status"]


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List the report runs you may see, newest first"),
    retrieve=extend_schema(
        tags=[TAG],
        summary="A report run with its status and progress",
        description="`download_url` is set once `status` is `done`.",
    ),
    create=extend_schema(
        tags=[TAG],
        summary="Request a report",
        description=(
            "Queues the report for a worker and returns the run with status `queued`. "
            "Poll the run until `status` is `done` or `failed`."
        ),
        request=ReportRunInput,
        responses={201: ReportRunSerializer},
    ),
    download=extend_schema(
        tags=[TAG],
        summary="Download a finished report's PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            404: OpenApiResponse(description="Not found, not finished, or not yours to read."),
        },
    ),
)
class ReportRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Report runs: the caller's own, and the scheduled ones their role may read."""

    serializer_class = ReportRunSerializer
    pagination_class = PageNumberPagination
    filterset_class = ReportRunFilter

    def get_queryset(self) -> Any:
        return visible_runs(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submitted = ReportRunInput(data=request.data)
        submitted.is_valid(raise_exception=True)
        data = submitted.validated_data
        run = request_report(
            user=request.user,
            kind=data["kind"],
            academy_id=data["academy"],
            year_group_id=data["year_group"],
            as_of=data["as_of"],
        )
        body = self.get_serializer(run).data
        location = request.build_absolute_uri(reverse("api:report-run-detail", args=[run.pk]))
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The download sends the PDF itself or a JSON error, whatever the
        # Accept header lists, so `Accept: application/pdf` is no 406.
        return super().perform_content_negotiation(
            request, force=force or self.action == "download"
        )

    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[renderers.JSONRenderer],
        pagination_class=None,
        filterset_class=None,
    )
    def download(self, request: Request, pk: Any = None) -> FileResponse:
        run = self.get_object()
        return pdf_response(run, open_run_file(request.user, run))
