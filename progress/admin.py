from django.contrib import admin

from trust.admin_access import TrustAdminMixin

from .models import Grade, GradeScale, ProgressSettings, Qualification, Subject


class GradeInline(admin.TabularInline):
    model = Grade
    extra = 0


@admin.register(GradeScale)
class GradeScaleAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "step", "counts_in_attainment8"]
    inlines = [GradeInline]


@admin.register(Subject)
class SubjectAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(Qualification)
class QualificationAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "subject", "scale", "element", "slots"]


@admin.register(ProgressSettings)
class ProgressSettingsAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["academy", "uplift"]
