from django.urls import path

from . import summary_views

urlpatterns = [
    path(
        "year-groups/<int:pk>/heatmap/",
        summary_views.year_group_heatmap,
        name="year-group-heatmap",
    ),
    path(
        "year-groups/<int:pk>/heatmap/pupils/",
        summary_views.year_group_heatmap_pupils,
        name="year-group-heatmap-pupils",
    ),
    path(
        "academies/<int:pk>/summary/",
        summary_views.academy_summary_page,
        name="academy-summary",
    ),
    path("summary/", summary_views.trust_summary_page, name="trust-summary"),
]
