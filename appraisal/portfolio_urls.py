from django.urls import path

from . import portfolio_views as views

urlpatterns: list = [
    path("", views.portfolio_page, name="portfolio"),
    path("staff/<int:staff_pk>/", views.portfolio_staff, name="portfolio-staff"),
    path("entries/add/", views.entry_add, name="portfolio-entry-add"),
    path("entries/<int:pk>/edit/", views.entry_edit, name="portfolio-entry-edit"),
    path("entries/<int:pk>/delete/", views.entry_delete, name="portfolio-entry-delete"),
    path("entries/<int:pk>/evidence/", views.evidence_add, name="evidence-add"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="evidence-delete"),
    path("needs/<int:pk>/dismiss/", views.need_dismiss, name="portfolio-need-dismiss"),
]
