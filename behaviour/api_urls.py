"""Behaviour routes of the REST API, included under /api/v1/ in the api namespace."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("behaviour.api_incidents")),
    path("", include("behaviour.api_suspensions")),
    path("", include("behaviour.api_analysis")),
    path("", include("behaviour.api_categories")),
]
