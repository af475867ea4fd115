"""Read-only API for pupils.

Every read starts from pupils.selectors.visible_pupils, so the list and the
detail show the same pupils and a pupil outside the caller's scope returns
404. Sensitive fields appear only on the detail, only for a user with the
safeguarding permission, and each time they do the view is audited.
"""

import datetime
import re
from typing import Any

import django_filters
from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    prefetch_related_objects,
)
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from trust import audit, clock
from trust.api import IdFilter, ScopedReadOnlyViewSet, choice_filter

from .models import SENSITIVE_FIELDS, Enrolment, Pupil, SenNeed, SenStatus, active_on
from .selectors import (
    can_see_sensitive,
    is_disadvantaged,
    pupil_premium_categories,
    search_pupils,
    visible_pupils,
)

_UPN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")


class CurrentEnrolmentSerializer(serializers.Serializer):
    """The enrolment that puts a pupil on roll today."""

    academy = serializers.IntegerField(source="academy_id")
    academy_name = serializers.CharField(source="academy.name")
    year_group = serializers.IntegerField(source="year_group_id")
    year_group_name = serializers.CharField(source="year_group.name")
    tutor_group = serializers.IntegerField(source="tutor_group_id", allow_null=True)
    tutor_group_name = serializers.CharField(source="tutor_group.name", allow_null=True)
    start_date = serializers.DateField()


class SenNeedSerializer(serializers.ModelSerializer):
    need_name = serializers.CharField(source="get_need_display")

    class Meta:
        model = SenNeed
        fields = ["need", "need_name", "rank", "notes"]


class SensitiveSerializer(serializers.ModelSerializer):
    """Safeguarding-sensitive fields, shown only to holders of the permission."""

    sen_needs = SenNeedSerializer(many=True, read_only=True)

    class Meta:
        model = Pupil
        fields = [*SENSITIVE_FIELDS, "sen_needs"]


class PupilSerializer(serializers.ModelSerializer):
    """A pupil as lists show them."""

    # PupilViewSet puts `today` in the context and prefetches
    # `current_enrolments` and `fsm_periods`, so a page of pupils costs a
    # fixed number of queries.

    display_name = serializers.CharField(read_only=True)
    disadvantaged = serializers.SerializerMethodField(
        help_text="DfE disadvantaged flag: FSM in the last 6 years, looked after or "
        "previously looked after."
    )
    pupil_premium = serializers.SerializerMethodField(
        help_text="Pupil premium categories today. The looked-after categories appear only "
        "beside the sensitive fields, for users allowed to see them."
    )
    current_enrolment = serializers.SerializerMethodField()

    class Meta:
        model = Pupil
        fields = [
            "id",
            "upn",
            "legal_forename",
            "legal_surname",
            "preferred_forename",
            "preferred_surname",
            "display_name",
            "date_of_birth",
            "sex",
            "sen_status",
            "eal",
            "disadvantaged",
            "pupil_premium",
            "current_enrolment",
        ]

    @property
    def today(self) -> datetime.date:
        return self.context.get("today") or clock.today()

    @property
    def shows_sensitive(self) -> bool:
        return bool(self.context.get("show_sensitive"))

    def get_disadvantaged(self, pupil: Pupil) -> bool:
        return is_disadvantaged(pupil, self.today)

    def get_pupil_premium(self, pupil: Pupil) -> list[str]:
        return pupil_premium_categories(
            pupil, self.today, include_looked_after=self.shows_sensitive
        )

    @extend_schema_field(CurrentEnrolmentSerializer(allow_null=True))
    def get_current_enrolment(self, pupil: Pupil) -> dict[str, Any] | None:
        enrolments = getattr(pupil, "current_enrolments", None)
        if enrolments is None:
            enrolments = list(
                pupil.enrolments.filter(active_on(self.today))
                .select_related("academy", "year_group", "tutor_group")
                .order_by("-start_date", "-pk")
            )
        if not enrolments:
            return None
        return CurrentEnrolmentSerializer(enrolments[0]).data


class PupilDetailSerializer(PupilSerializer):
    """A pupil, with the sensitive fields for holders of the safeguarding permission."""

    sensitive = serializers.SerializerMethodField()

    class Meta(PupilSerializer.Meta):
        fields = [*PupilSerializer.Meta.fields, "middle_names", "sensitive"]

    @extend_schema_field(SensitiveSerializer(allow_null=True))
    def get_sensitive(self, pupil: Pupil) -> dict[str, Any] | None:
        """Return the sensitive fields, or null for a user without the safeguarding permission."""
        if not self.shows_sensitive:
            return None
        return SensitiveSerializer(pupil).data


class PupilFilter(django_filters.FilterSet):
    """Filters on where a pupil is on roll today, on SEN status and on a
    name or UPN search. The group filters apply to one enrolment together,
    so academy=A&year_group=B means one enrolment in both."""

    academy = IdFilter(method="keep", noun="academy")
    year_group = IdFilter(method="keep", noun="year group")
    tutor_group = IdFilter(method="keep", noun="tutor group")
    sen_status = choice_filter(
        field_name="sen_status", noun="SEN status", choices=SenStatus.choices
    )
    q = django_filters.CharFilter(
        method="search",
        max_length=100,
        help_text="Part of a name (accents, case and apostrophes ignored) or a whole UPN.",
    )

    class Meta:
        model = Pupil
        fields = ["academy", "year_group", "tutor_group", "sen_status", "q"]

    def keep(self, queryset: QuerySet[Pupil], name: str, value: int) -> QuerySet[Pupil]:
        # Applied together in filter_queryset.
        return queryset

    def search(self, queryset: QuerySet[Pupil], name: str, value: str) -> QuerySet[Pupil]:
        return search_pupils(queryset, value) if value.strip() else queryset

    def filter_queryset(self, queryset: QuerySet[Pupil]) -> QuerySet[Pupil]:
        queryset = super().filter_queryset(queryset)
        groups = {
            f"{name}_id": self.form.cleaned_data[name]
            for name in ("academy", "year_group", "tutor_group")
            if self.form.cleaned_data.get(name) is not None
        }
        if not groups:
            return queryset
        current = Enrolment.objects.filter(
            active_on(clock.today()), pupil_id=OuterRef("pk"), **groups
        )
        return queryset.filter(Exists(current))


@extend_schema_view(
    list=extend_schema(tags=["pupils"], summary="List the pupils you can see"),
    retrieve=extend_schema(
        tags=["pupils"],
        summary="Open one pupil",
        description="`sensitive` is null unless you hold the safeguarding permission for "
        "the pupil's academy; when it is filled in, the view is recorded in the audit trail.",
    ),
)
class PupilViewSet(ScopedReadOnlyViewSet):
    """Pupils you may see. Group filters match where a pupil is on roll today."""

    filterset_class = PupilFilter

    def get_serializer_class(self) -> type[PupilSerializer]:
        return PupilDetailSerializer if self.action == "retrieve" else PupilSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": clock.today()}

    def get_queryset(self) -> QuerySet[Pupil]:
        today = clock.today()
        current = (
            Enrolment.objects.filter(active_on(today))
            .select_related("academy", "year_group", "tutor_group")
            .order_by("-start_date", "-pk")
        )
        return (
            visible_pupils(self.request.user, on=today)
            .prefetch_related(
                Prefetch("enrolments", queryset=current, to_attr="current_enrolments"),
                "fsm_periods",
            )
            .order_by("legal_surname", "legal_forename", "pk")
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pupil = self.get_object()
        show_sensitive = can_see_sensitive(request.user, pupil)
        context = {**self.get_serializer_context(), "show_sensitive": show_sensitive}
        if show_sensitive:
            prefetch_related_objects([pupil], "sen_needs")
            # The audit write comes before the response so no sensitive read
            # goes unrecorded.
            audit.record_sensitive_view(request.user, pupil, [*SENSITIVE_FIELDS, "sen_needs"])
        data = PupilDetailSerializer(pupil, context=context).data
        return Response(data)
