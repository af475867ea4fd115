"""Administration of England's figures, trust targets and report runs.

The admin site opens to trust administrators and superusers
(trust.admin_access), so each model admin takes TrustAdminMixin. Targets
edited here pass the same checks as the targets page.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from trust.admin_access import TrustAdminMixin

from .models import NationalFigure, ReportRun, Target
from .targets import parse_value

PERCENT_FIELDS = ("attendance_rate", "persistent_absence_rate", "severe_absence_rate")
# The DfE's series start in the 2000s; the bounds catch a mistyped year.
FIRST_START_YEAR = 2000
LAST_START_YEAR = 2100


class NationalFigureForm(forms.ModelForm):
    class Meta:
        model = NationalFigure
        fields = [
            "start_year",
            "phase",
            "period",
            "attendance_rate",
            "persistent_absence_rate",
            "severe_absence_rate",
            "suspension_rate",
            "source",
        ]

    def clean_start_year(self) -> int:
        year = self.cleaned_data["start_year"]
        if not FIRST_START_YEAR <= year <= LAST_START_YEAR:
            raise ValidationError(
                f"{year} is not a valid start year; give the year the academic year starts "
                f"in, from {FIRST_START_YEAR} to {LAST_START_YEAR} (2025 for 2025/26)."
            )
        return year

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in PERCENT_FIELDS:
            value = cleaned.get(name)
            if value is not None and not Decimal(0) <= value <= Decimal(100):
                self.add_error(name, f"{value} is out of range; a percentage is from 0 to 100.")
        suspensions = cleaned.get("suspension_rate")
        if suspensions is not None and not Decimal(0) <= suspensions <= Decimal(1000):
            self.add_error(
                "suspension_rate",
                f"{suspensions} is out of range; suspensions per 100 pupils are from 0 to 1000.",
            )
        return cleaned


@admin.register(NationalFigure)
class NationalFigureAdmin(TrustAdminMixin, admin.ModelAdmin):
    form = NationalFigureForm
    list_display = [
        "year_label",
        "phase",
        "attendance_rate",
        "persistent_absence_rate",
        "severe_absence_rate",
        "suspension_rate",
        "period",
        "updated_at",
    ]
    list_display_links = ["year_label", "phase"]
    list_filter = ["phase", "start_year"]
    ordering = ["-start_year", "phase"]

    @admin.display(description="Academic year", ordering="start_year")
    def year_label(self, obj: NationalFigure) -> str:
        return obj.year_label


class TargetForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = ["measure", "academic_year", "academy", "value"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        measure = cleaned.get("measure")
        value = cleaned.get("value")
        if measure and value is not None:
            try:
                cleaned["value"] = parse_value(measure, value)
            except ValidationError as error:
                self.add_error(None, error)
        year = cleaned.get("academic_year")
        academy = cleaned.get("academy")
        if year is not None and academy is not None and academy.trust_id != year.trust_id:
            self.add_error(
                "academy", f"{academy.name} is not an academy of the trust of {year.name}."
            )
        return cleaned


@admin.register(Target)
class TargetAdmin(TrustAdminMixin, admin.ModelAdmin):
    form = TargetForm
    list_display = ["measure", "academic_year", "academy", "value", "updated_by", "updated_at"]
    list_filter = ["measure", "academic_year", "academy"]
    list_select_related = ["academic_year", "academy", "updated_by"]

    def save_model(self, request: HttpRequest, obj: Target, form: Any, change: bool) -> None:
        obj.updated_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(ReportRun)
class ReportRunAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "progress", "academy", "requested_by", "created_at"]
    list_filter = ["kind", "status", "scheduled"]
    readonly_fields = [f.name for f in ReportRun._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Runs are queued from the reports pages and the API, which check scope.
        return False
