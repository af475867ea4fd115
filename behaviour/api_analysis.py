"""Behaviour figures in the REST API: a pupil's points and suspension days
over a date range, and the same figures of an academy, a year group or a
tutor group.

Scope follows the resource: a pupil through visible_pupils, a group through
the visible_* selector of its kind, so anything the caller cannot see
returns 404. Users who see no pupil get counts only, with each figure that
rests on fewer than five pupils returned as null.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from academies.models import Academy, TutorGroup, YearGroup
from academies.selectors import visible_academies, visible_tutor_groups, visible_year_groups
from attendance.selectors import RangeError, parse_range
from pupils.selectors import visible_pupils

from . import analysis
from .access import visible_links
from .selectors import points_totals
from .suspensions import suspension_days

RANGE_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="First day, YYYY-MM-DD. Default: 1 September of the current academic year.",
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, YYYY-MM-DD. Default: today."),
]


def _days_field() -> serializers.FloatField:
    return serializers.FloatField(
        help_text="School days of suspension and lunchtime suspension in force with session "
        "dates in the range; each session is half a day."
    )


def _range_fields() -> dict[str, serializers.Field]:
    return {
        "from": serializers.DateField(help_text="First day of the range."),
        "to": serializers.DateField(help_text="Last day of the range."),
    }


# Declared with inline_serializer because one field is named "from", a Python keyword.
PupilBehaviourSerializer = inline_serializer(
    "PupilBehaviour",
    fields={
        "positive_points": serializers.IntegerField(),
        "negative_points": serializers.IntegerField(help_text="A negative number, or 0."),
        "net_points": serializers.IntegerField(help_text="positive_points + negative_points."),
        "incident_count": serializers.IntegerField(help_text="Incidents the pupil took part in."),
        "suspension_days": _days_field(),
        **_range_fields(),
    },
)


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, help_text=help_text)


GroupBehaviourSerializer = inline_serializer(
    "GroupBehaviour",
    fields={
        "positive_points": _count("Sum of positive points."),
        "negative_points": _count("Sum of negative points: a negative number, or 0."),
        "net_points": _count("positive_points + negative_points."),
        "incident_count": _count("Incidents at the group's academy, each counted once."),
        "positive_incident_count": _count("Positive incidents."),
        "negative_incident_count": _count("Negative incidents."),
        "pupil_count": _count("Pupils with any incident."),
        "negative_pupil_count": _count("Pupils with any negative incident."),
        "pupils_on_roll": serializers.IntegerField(help_text="Pupils on roll on the last day."),
        "negative_incidents_per_100_pupils": serializers.FloatField(
            allow_null=True, help_text="Negative incidents per 100 pupils on roll, one decimal."
        ),
        "suspension_days": _days_field(),
        "suppressed": serializers.BooleanField(
            help_text="Whether a figure is null because it rests on fewer than five pupils."
        ),
        **_range_fields(),
    },
)


def date_range(request: Request) -> tuple[datetime.date, datetime.date]:
    """Read ?from= and ?to=, or raise a 400 naming the parameter."""
    try:
        return parse_range(request.query_params.get("from"), request.query_params.get("to"))
    except RangeError as error:
        raise exceptions.ValidationError({error.field: [error.message]}) from None


def _days(value: Decimal) -> float:
    # Days are whole or half, so a float represents them exactly.
    return float(value)


class PupilBehaviourViewSet(viewsets.ViewSet):
    """A pupil's behaviour figures."""

    lookup_value_regex = "[0-9]+"

    @extend_schema(
        operation_id="pupils_behaviour_retrieve",
        summary="A pupil's behaviour points and suspension days",
        parameters=RANGE_PARAMETERS,
        responses={200: PupilBehaviourSerializer},
        tags=["behaviour"],
    )
    @action(detail=True, methods=["get"], url_path="behaviour", url_name="behaviour")
    def behaviour(self, request: Request, pk: str | None = None) -> Response:
        pupil = get_object_or_404(visible_pupils(request.user), pk=_pk(pk))
        start, end = date_range(request)
        totals = points_totals(visible_links(request.user).filter(pupil=pupil), start, end)
        days = suspension_days(pupil.pk, start, end)
        return Response(
            {
                "positive_points": totals.positive,
                "negative_points": totals.negative,
                "net_points": totals.net,
                "incident_count": totals.incident_count,
                "suspension_days": _days(days),
                "from": start.isoformat(),
                "to": end.isoformat(),
            }
        )


def _pk(raw: str | None) -> int:
    # The route accepts digits only. More than 18 digits exceed a bigint id,
    # so they match no record.
    if raw is None or not raw.isdigit() or len(raw) > 18:
        raise exceptions.NotFound("Not found.")
    return int(raw)


class GroupBehaviourViewSet(viewsets.ViewSet):
    """A group's behaviour figures; subclasses name the group's kind."""

    lookup_value_regex = "[0-9]+"

    def groups(self, request: Request) -> QuerySet[Any]:
        raise NotImplementedError

    def target(self, group: Model) -> analysis.Target:
        raise NotImplementedError

    def figures(self, request: Request, pk: str | None) -> Response:
        group = get_object_or_404(self.groups(request), pk=_pk(pk))
        start, end = date_range(request)
        viewer = analysis.viewer_for(request.user)
        filters = analysis.Filters(start=start, end=end)
        target = self.target(group)
        tally = analysis.group_figures(viewer, target, filters)
        days = analysis.group_suspension_days(viewer, target, filters)
        return Response(
            {
                "positive_points": tally.positive_points,
                "negative_points": tally.negative_points,
                "net_points": tally.net_points,
                "incident_count": tally.incidents,
                "positive_incident_count": tally.positive_incidents,
                "negative_incident_count": tally.negative_incidents,
                "pupil_count": tally.pupils,
                "negative_pupil_count": tally.negative_pupils,
                "pupils_on_roll": tally.on_roll or 0,
                "negative_incidents_per_100_pupils": tally.negative_per_100,
                "suspension_days": _days(days),
                "suppressed": tally.suppressed,
                "from": start.isoformat(),
                "to": end.isoformat(),
            }
        )


def _group_schema(noun: str, operation: str) -> Any:
    return extend_schema(
        operation_id=f"{operation}_behaviour_retrieve",
        summary=f"A {noun}'s behaviour figures",
        parameters=RANGE_PARAMETERS,
        responses={200: GroupBehaviourSerializer},
        tags=["behaviour"],
    )


class AcademyBehaviourViewSet(GroupBehaviourViewSet):
    def groups(self, request: Request) -> QuerySet[Academy]:
        return visible_academies(request.user)

    def target(self, group: Model) -> analysis.Target:
        return analysis.Target(academy=group)  # type: ignore[arg-type]

    @_group_schema("academy", "academies")
    @action(detail=True, methods=["get"], url_path="behaviour", url_name="behaviour")
    def behaviour(self, request: Request, pk: str | None = None) -> Response:
        return self.figures(request, pk)


class YearGroupBehaviourViewSet(GroupBehaviourViewSet):
    def groups(self, request: Request) -> QuerySet[YearGroup]:
        return visible_year_groups(request.user)

    def target(self, group: Model) -> analysis.Target:
        return analysis.Target(year_group=group)  # type: ignore[arg-type]

    @_group_schema("year group", "year_groups")
    @action(detail=True, methods=["get"], url_path="behaviour", url_name="behaviour")
    def behaviour(self, request: Request, pk: str | None = None) -> Response:
        return self.figures(request, pk)


class TutorGroupBehaviourViewSet(GroupBehaviourViewSet):
    def groups(self, request: Request) -> QuerySet[TutorGroup]:
        return visible_tutor_groups(request.user)

    def target(self, group: Model) -> analysis.Target:
        return analysis.Target(tutor_group=group)  # type: ignore[arg-type]

    @_group_schema("tutor group", "tutor_groups")
    @action(detail=True, methods=["get"], url_path="behaviour", url_name="behaviour")
    def behaviour(self, request: Request, pk: str | None = None) -> Response:
        return self.figures(request, pk)


router = SimpleRouter()
router.register("pupils", PupilBehaviourViewSet, basename="behaviour-pupil")
router.register("academies", AcademyBehaviourViewSet, basename="behaviour-academy")
router.register("year-groups", YearGroupBehaviourViewSet, basename="behaviour-year-group")
router.register("tutor-groups", TutorGroupBehaviourViewSet, basename="behaviour-tutor-group")

urlpatterns: list = router.urls
