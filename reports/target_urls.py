"""The targets page, under /dashboards/targets/."""

from django.urls import path

from . import target_views

urlpatterns = [
    path("", target_views.targets_page, name="report-targets"),
]
