"""Read-only API for academies, year groups and tutor groups.

Each viewset starts from the matching selector in academies.selectors, so
list and detail show the same objects, and an object outside the caller's
scope returns 404.
"""

import datetime

import django_filters
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from pupils.models import Enrolment, active_on
from trust import clock
from trust.api import IdFilter, ScopedReadOnlyViewSet, choice_filter

from .models import (
    NURSERY,
    Academy,
    OfstedInspection,
    Phase,
    TutorGroup,
    YearGroup,
    year_group_name,
)
from .selectors import visible_academies, visible_tutor_groups, visible_year_groups


def pupils_on_roll(group_field: str, on: datetime.date) -> Coalesce:
    """Build an annotation counting the pupils on roll on `on` whose enrolment's
    `group_field` (academy, year_group or tutor_group) is the outer row.

    A subquery rather than a join keeps the count per row exact and the
    list at one query whatever the number of pupils.
    """
    counts = (
        Enrolment.objects.filter(active_on(on), **{group_field: OuterRef("pk")})
        .order_by()
        .values(group_field)
        .annotate(total=Count("pupil", distinct=True))
        .values("total")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


# Academies -------------------------------------------------------------------


class OfstedOutcomeSerializer(serializers.ModelSerializer):
    outcome = serializers.CharField(help_text="Overall grade, or 'Report card' from November 2025.")

    class Meta:
        model = OfstedInspection
        fields = ["inspected_on", "overall_grade", "special_measures", "outcome"]


class AcademySerializer(serializers.ModelSerializer):
    latest_ofsted = serializers.SerializerMethodField()
    pupils_on_roll = serializers.IntegerField(read_only=True, help_text="Pupils on roll today.")

    class Meta:
        model = Academy
        fields = [
            "id",
            "name",
            "short_name",
            "urn",
            "dfe_number",
            "phase",
            "age_range_low",
            "age_range_high",
            "joined_trust_on",
            "closed_on",
            "latest_ofsted",
            "pupils_on_roll",
        ]

    @extend_schema_field(OfstedOutcomeSerializer(allow_null=True))
    def get_latest_ofsted(self, academy: Academy) -> dict | None:
        # Filled by AcademyViewSet's prefetch, newest first.
        inspections = academy.inspections_newest_first  # type: ignore[attr-defined]
        if not inspections:
            return None
        return OfstedOutcomeSerializer(inspections[0]).data


class AcademyFilter(django_filters.FilterSet):
    phase = choice_filter(field_name="phase", noun="phase", choices=Phase.choices)

    class Meta:
        model = Academy
        fields = ["phase"]


@extend_schema_view(
    list=extend_schema(tags=["academies"], summary="List the academies you can see"),
    retrieve=extend_schema(tags=["academies"], summary="Open one academy"),
)
class AcademyViewSet(ScopedReadOnlyViewSet):
    """Academies whose pages you may open, with today's roll and latest Ofsted outcome."""

    serializer_class = AcademySerializer
    filterset_class = AcademyFilter

    def get_queryset(self) -> QuerySet[Academy]:
        newest_first = OfstedInspection.objects.order_by("-inspected_on", "-pk")
        return (
            visible_academies(self.request.user)
            .annotate(pupils_on_roll=pupils_on_roll("academy", clock.today()))
            .prefetch_related(
                Prefetch("inspections", queryset=newest_first, to_attr="inspections_newest_first")
            )
            .order_by("name", "pk")
        )


# Year groups -----------------------------------------------------------------


class YearGroupSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="'Nursery', 'Reception' or 'Year N'.")
    pupils_on_roll = serializers.IntegerField(read_only=True, help_text="Pupils on roll today.")

    class Meta:
        model = YearGroup
        fields = ["id", "academy", "nc_year", "name", "key_stage", "pupils_on_roll"]


NC_YEAR_CHOICES = [(str(n), year_group_name(n)) for n in range(NURSERY, 14)]


class YearGroupFilter(django_filters.FilterSet):
    academy = IdFilter(field_name="academy_id", noun="academy")
    nc_year = choice_filter(
        field_name="nc_year", noun="national curriculum year", choices=NC_YEAR_CHOICES
    )

    class Meta:
        model = YearGroup
        fields = ["academy", "nc_year"]


@extend_schema_view(
    list=extend_schema(
        tags=["year groups"], summary="List the year groups whose pupils you can see"
    ),
    retrieve=extend_schema(tags=["year groups"], summary="Open one year group"),
)
class YearGroupViewSet(ScopedReadOnlyViewSet):
    """Year groups whose pupils you may see, with the number on roll today."""

    serializer_class = YearGroupSerializer
    filterset_class = YearGroupFilter

    def get_queryset(self) -> QuerySet[YearGroup]:
        return (
            visible_year_groups(self.request.user)
            .annotate(pupils_on_roll=pupils_on_roll("year_group", clock.today()))
            .order_by("academy__name", "academy_id", "nc_year")
        )


# Tutor groups ----------------------------------------------------------------


class TutorGroupSerializer(serializers.ModelSerializer):
    academic_year_name = serializers.CharField(
        source="academic_year.name", read_only=True, help_text="For example '2026/27'."
    )
    tutor_name = serializers.SerializerMethodField()
    pupils_on_roll = serializers.IntegerField(read_only=True, help_text="Pupils on roll today.")

    class Meta:
        model = TutorGroup
        fields = [
            "id",
            "name",
            "academy",
            "year_group",
            "academic_year",
            "academic_year_name",
            "tutor",
            "tutor_name",
            "room",
            "pupils_on_roll",
        ]

    def get_tutor_name(self, group: TutorGroup) -> str | None:
        return group.tutor.formal_name if group.tutor else None


class TutorGroupFilter(django_filters.FilterSet):
    academy = IdFilter(field_name="academy_id", noun="academy")
    year_group = IdFilter(field_name="year_group_id", noun="year group")
    academic_year = IdFilter(field_name="academic_year_id", noun="academic year")

    class Meta:
        model = TutorGroup
        fields = ["academy", "year_group", "academic_year"]


@extend_schema_view(
    list=extend_schema(
        tags=["tutor groups"], summary="List the tutor groups whose pupils you can see"
    ),
    retrieve=extend_schema(tags=["tutor groups"], summary="Open one tutor group"),
)
class TutorGroupViewSet(ScopedReadOnlyViewSet):
    """Tutor (registration) groups whose pupils you may see, with the number on roll today."""

    serializer_class = TutorGroupSerializer
    filterset_class = TutorGroupFilter

    def get_queryset(self) -> QuerySet[TutorGroup]:
        return (
            visible_tutor_groups(self.request.user)
            .annotate(pupils_on_roll=pupils_on_roll("tutor_group", clock.today()))
            .order_by("academy__name", "academy_id", "-academic_year__start_year", "name", "pk")
        )
