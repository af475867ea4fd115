"""Read-only API for staff records, scoped through staff.selectors.visible_staff."""

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from trust.api import IdFilter, ScopedReadOnlyViewSet, choice_filter

from .models import PostType, StaffMember
from .selectors import visible_staff


class StaffSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    academy_name = serializers.SerializerMethodField(
        help_text="The academy's name, or 'Central team' for the trust's own staff."
    )

    class Meta:
        model = StaffMember
        fields = [
            "id",
            "title",
            "first_name",
            "last_name",
            "full_name",
            "job_title",
            "post_type",
            "academy",
            "academy_name",
            "line_manager",
            "email",
        ]
        extra_kwargs = {
            "academy": {"help_text": "Academy id, or null for the trust's central team."},
            "line_manager": {"help_text": "Staff id of the line manager, or null."},
        }

    def get_academy_name(self, staff: StaffMember) -> str:
        return staff.workplace


class StaffFilter(django_filters.FilterSet):
    academy = IdFilter(field_name="academy_id", noun="academy")
    post_type = choice_filter(field_name="post_type", noun="post type", choices=PostType.choices)

    class Meta:
        model = StaffMember
        fields = ["academy", "post_type"]


@extend_schema_view(
    list=extend_schema(tags=["staff"], summary="List the staff records you can see"),
    retrieve=extend_schema(tags=["staff"], summary="Open one staff record"),
)
class StaffViewSet(ScopedReadOnlyViewSet):
    """Staff records you may open: your own, your academy's colleagues, and every
    record for trust leaders, administrators and HR."""

    serializer_class = StaffSerializer
    filterset_class = StaffFilter

    def get_queryset(self) -> QuerySet[StaffMember]:
        return visible_staff(self.request.user).order_by("last_name", "first_name", "pk")
