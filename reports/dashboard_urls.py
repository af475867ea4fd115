"""The year group dashboard. The trust and academy dashboards keep their
addresses, /trust/ and /academy/, in trust.page_urls."""

from django.urls import path

from . import dashboard_views

urlpatterns = [
    path(
        "dashboards/year-groups/<int:pk>/",
        dashboard_views.year_group_dashboard,
        name="year-group-dashboard",
    ),
]
