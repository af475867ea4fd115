from django.contrib import admin

from trust.admin_access import TrustAdminMixin

from .models import BehaviourCategory


@admin.register(BehaviourCategory)
class BehaviourCategoryAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "academy", "parent", "polarity", "severity", "default_points"]
    list_filter = ["polarity", "academy"]
