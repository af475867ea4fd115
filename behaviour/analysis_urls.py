"""URL patterns of the behaviour analysis pages."""

from django.urls import path

from . import analysis_views

urlpatterns: list = [
    path("analysis/", analysis_views.trust_analysis, name="trust-analysis"),
    path("academies/<int:pk>/analysis/", analysis_views.academy_analysis, name="academy-analysis"),
    path(
        "year-groups/<int:pk>/analysis/",
        analysis_views.year_group_analysis,
        name="year-group-analysis",
    ),
    path("top-negative/", analysis_views.top_negative, name="top-negative"),
]
