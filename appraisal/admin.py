"""Admin pages for appraisal settings and a read-only view of appraisal records.

Trust administrators manage the standard sets and the CPD offer. Appraisal
content is private to the appraisee, the appraiser, the headteacher and
trust HR, so only Django superusers see the records below. They are
read-only because every change goes through appraisal.services, which
checks the status and keeps a signed-off record unchanged.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from trust.admin_access import TrustAdminMixin

from .models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    CpdBooking,
    CpdEvent,
    Deadline,
    DevelopmentNeed,
    Objective,
    ObjectiveReview,
    PortfolioEntry,
    Signature,
    Standard,
    StandardSet,
)


class StandardInline(admin.TabularInline):
    model = Standard
    extra = 0


@admin.register(StandardSet)
class StandardSetAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["name", "is_active"]
    inlines = [StandardInline]


@admin.register(CpdEvent)
class CpdEventAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "starts_on", "ends_on", "places", "cancelled"]
    list_filter = ["kind", "cancelled"]
    search_fields = ["title", "provider"]


class DeadlineInline(admin.TabularInline):
    model = Deadline
    extra = 0


@admin.register(AppraisalCycle)
class AppraisalCycleAdmin(admin.ModelAdmin):
    list_display = ["academic_year", "uses_pay_recommendation"]
    inlines = [DeadlineInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """A view-only admin page: adding, changing and deleting are disabled."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Appraisal)
class AppraisalAdmin(ReadOnlyAdmin):
    list_display = ["appraisee", "appraiser", "cycle", "academy", "track", "status"]
    list_filter = ["status", "track", "cycle"]
    search_fields = ["appraisee__last_name", "appraisee__first_name"]
    list_select_related = ["appraisee", "appraiser", "cycle__academic_year", "academy"]


@admin.register(Objective)
class ObjectiveAdmin(ReadOnlyAdmin):
    list_display = ["title", "appraisal", "weighting", "measure"]
    list_select_related = ["appraisal__appraisee", "appraisal__cycle__academic_year"]


@admin.register(ObjectiveReview)
class ObjectiveReviewAdmin(ReadOnlyAdmin):
    list_display = ["objective", "kind", "outcome"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["appraisal", "document", "party", "staff", "signed_at", "agrees"]


@admin.register(Annotation)
class AnnotationAdmin(ReadOnlyAdmin):
    list_display = ["appraisal", "author", "created_at"]


@admin.register(DevelopmentNeed)
class DevelopmentNeedAdmin(ReadOnlyAdmin):
    list_display = ["description", "appraisal", "dismissed"]


@admin.register(PortfolioEntry)
class PortfolioEntryAdmin(ReadOnlyAdmin):
    list_display = ["title", "staff", "kind", "started_on", "hours"]


@admin.register(CpdBooking)
class CpdBookingAdmin(ReadOnlyAdmin):
    list_display = ["event", "staff", "status", "attendance"]
