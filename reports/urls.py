"""Pages of the reports app. Each module below is one part of the app."""

from django.urls import include, path

urlpatterns = [
    path("", include("reports.dashboard_urls")),
    path("", include("reports.run_urls")),
    path("dashboards/targets/", include("reports.target_urls")),
    path("pupils/", include("reports.profile_urls")),
]
