"""Cross-cutting pages: the role landing pages."""

from django.urls import path

from appraisal import views as appraisal_views
from reports import dashboard_views

from . import page_views

urlpatterns = [
    path("trust/", dashboard_views.trust_dashboard, name="trust-dashboard"),
    path("academy/", dashboard_views.academy_dashboard, name="academy-dashboard"),
    path("my-year/", page_views.my_year, name="my-year"),
    path("my-classes/", page_views.my_classes, name="my-classes"),
    path("my-appraisal/", appraisal_views.my_appraisal, name="my-appraisal"),
]
