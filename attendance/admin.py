from django.contrib import admin

from trust.admin_access import TrustAdminMixin

from .models import SessionTimes


@admin.register(SessionTimes)
class SessionTimesAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["academy", "am_start", "pm_start", "open_minutes"]
