from django.contrib import admin

from .models import NationalFigure, ReportRun, Target


@admin.register(NationalFigure)
class NationalFigureAdmin(admin.ModelAdmin):
    list_display = ["year_label", "phase", "attendance_rate", "persistent_absence_rate", "period"]
    list_filter = ["phase", "start_year"]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["measure", "academic_year", "academy", "value", "updated_at"]
    list_filter = ["measure", "academic_year"]


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "progress", "academy", "requested_by", "created_at"]
    list_filter = ["kind", "status", "scheduled"]
    readonly_fields = [f.name for f in ReportRun._meta.fields]
