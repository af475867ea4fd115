from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from .admin_access import TrustAdminMixin, is_trust_admin
from .models import AuditEvent

User = get_user_model()


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail is read-only for everyone, superusers included."""

    list_display = ["at", "actor", "action", "model", "object_repr"]
    list_filter = ["action", "model"]
    search_fields = ["object_repr", "object_id"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_trust_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_trust_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(User)


@admin.register(User)
class TrustUserAdmin(TrustAdminMixin, UserAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Only a superuser may hand out superuser status or Django permissions.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions", "groups"]
        return readonly
