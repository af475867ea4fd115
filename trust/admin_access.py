"""Admin site access for trust administrators.

Trust administrators manage users, roles, academies and imports through the
admin site without being Django superusers: their role assignment, not
Django's per-model permissions, decides what they may change.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from staff.models import Role

from .access import scope_for


def is_trust_admin(user: Any) -> bool:
    if not user.is_active or not user.is_authenticated:
        return False
    return bool(user.is_superuser or scope_for(user).has_role(Role.TRUST_ADMIN))


class TrustAdminMixin:
    """Grant every admin permission on a model to trust administrators."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_trust_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_trust_admin(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_trust_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_trust_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_trust_admin(request.user)


class TrustAdminSite(admin.AdminSite):
    """The admin site, open to trust administrators whether or not their
    account has Django's is_staff flag."""

    site_header = "Trust management administration"
    site_title = "Trust management"
    index_title = "Users, roles, academies and records"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_trust_admin(request.user)
