"""Pages of report runs: the Reports page, a run's progress and its PDF."""

from django.urls import path

from . import run_views

urlpatterns = [
    path("reports/", run_views.reports_home, name="reports-home"),
    path("reports/runs/<int:pk>/", run_views.run_detail, name="report-run"),
    path("reports/runs/<int:pk>/progress/", run_views.run_progress, name="report-run-progress"),
    path("reports/runs/<int:pk>/download/", run_views.run_download, name="report-run-download"),
]
