from django.contrib import admin

from trust.admin_access import TrustAdminMixin

from .models import Contact, Enrolment, FsmPeriod, Pupil, PupilReview, SenNeed


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 0
    raw_id_fields = ["tutor_group", "year_group"]


class ContactInline(admin.StackedInline):
    model = Contact
    extra = 0


class FsmInline(admin.TabularInline):
    model = FsmPeriod
    extra = 0


class SenNeedInline(admin.TabularInline):
    model = SenNeed
    extra = 0


@admin.register(Pupil)
class PupilAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["upn", "legal_surname", "legal_forename", "date_of_birth", "sen_status"]
    list_filter = ["sen_status", "eal"]
    search_fields = ["upn", "search_name"]
    inlines = [EnrolmentInline, ContactInline, FsmInline, SenNeedInline]


@admin.register(PupilReview)
class PupilReviewAdmin(TrustAdminMixin, admin.ModelAdmin):
    list_display = ["existing_pupil", "academy", "reason", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["existing_pupil"]
