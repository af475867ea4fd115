from django.contrib import admin

from trust.admin_access import TrustAdminMixin

from .models import (
    AcademicYear,
    Academy,
    Closure,
    Department,
    OfstedInspection,
    Term,
    Trust,
    TutorGroup,
    YearGroup,
)


@admin.register(Trust)
class TrustAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "companies_house_number"]


class OfstedInline(admin.TabularInline):
    model = OfstedInspection
    extra = 0


@admin.register(Academy)
class AcademyAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "urn", "dfe_number", "phase", "joined_trust_on", "closed_on"]
    list_filter = ["phase"]
    search_fields = ["name", "urn", "dfe_number"]
    inlines = [OfstedInline]


class TermInline(admin.TabularInline):
    model = Term
    extra = 0


@admin.register(AcademicYear)
class AcademicYearAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "start_date", "end_date"]
    inlines = [TermInline]


@admin.register(Closure)
class ClosureAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["academy", "date", "sessions", "kind", "reason"]
    list_filter = ["kind", "academy"]
    date_hierarchy = "date"


@admin.register(YearGroup)
class YearGroupAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "key_stage"]
    list_filter = ["academy"]


@admin.register(TutorGroup)
class TutorGroupAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "academy", "academic_year", "year_group", "tutor"]
    list_filter = ["academy", "academic_year"]
    search_fields = ["name"]
    raw_id_fields = ["tutor"]


@admin.register(Department)
class DepartmentAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "academy", "head"]
    list_filter = ["academy"]
    raw_id_fields = ["head"]
