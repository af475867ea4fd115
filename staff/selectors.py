"""Reads of staff records, scoped to the requesting user."""

from typing import Any

from django.db.models import Q, QuerySet

from trust.access import scope_for

from .models import StaffMember


def visible_staff(user: Any) -> QuerySet[StaffMember]:
    """Return the staff records `user` may open: every record for trust leaders,
    administrators and HR, colleagues at their own academies for other staff,
    and always their own."""
    scope = scope_for(user)
    staff = StaffMember.objects.select_related("academy", "line_manager")
    if scope.all_staff:
        return staff.all()
    condition = Q(pk=scope.staff_id) if scope.staff_id else Q(pk__in=[])
    if not scope.is_trustee_only and scope.staff_academy_ids:
        condition |= Q(academy_id__in=scope.staff_academy_ids)
    return staff.filter(condition)
