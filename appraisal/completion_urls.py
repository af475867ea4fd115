from django.urls import path

from . import completion_views, cycle_views, pdf_views

urlpatterns: list = [
    path("completion/", completion_views.completion, name="completion"),
    path("completion/trust/", completion_views.trust_completion, name="trust-completion"),
    path("cycles/", cycle_views.cycle_list, name="cycles"),
    path("cycles/new/", cycle_views.cycle_create, name="cycle-create"),
    path("cycles/<int:pk>/deadlines/", cycle_views.cycle_deadlines, name="cycle-deadlines"),
    path("cycles/<int:pk>/settings/", cycle_views.cycle_settings, name="cycle-settings"),
    path(
        "cycles/<int:pk>/academies/<int:academy_pk>/deadlines/",
        cycle_views.academy_deadlines,
        name="academy-deadlines",
    ),
    path("cycles/<int:pk>/open/", cycle_views.cycle_open_all, name="cycle-open-all"),
    path("<int:pk>/record.pdf", pdf_views.record_pdf, name="record-pdf"),
]
