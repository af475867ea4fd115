from django.contrib import admin

from trust.admin_access import TrustAdminMixin

from .models import RoleAssignment, StaffMember


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["year_group", "tutor_group"]


@admin.register(StaffMember)
class StaffMemberAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["last_name", "first_name", "job_title", "post_type", "academy", "email"]
    list_filter = ["post_type", "academy"]
    search_fields = ["last_name", "first_name", "email"]
    raw_id_fields = ["user", "line_manager"]
    inlines = [RoleInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["staff", "role", "scope", "academy", "year_group", "tutor_group"]
    list_filter = ["role", "scope"]
    raw_id_fields = ["staff", "academy", "year_group", "tutor_group"]
