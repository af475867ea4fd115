from django.urls import path

from . import target_views

urlpatterns: list = [
    path("targets/generate/", target_views.tmg_generate_page, name="tmg-generate"),
    path("estimate-tables/", target_views.estimate_tables, name="estimate-tables"),
    path("estimate-tables/<int:pk>/", target_views.estimate_table_detail, name="estimate-table"),
    path(
        "estimate-tables/upload/<slug:token>/",
        target_views.estimate_preview,
        name="estimate-table-preview",
    ),
    path(
        "estimate-tables/upload/<slug:token>/confirm/",
        target_views.estimate_confirm,
        name="estimate-table-confirm",
    ),
    path("pupils/<int:pk>/targets/", target_views.tmg_edit, name="tmg-edit"),
]
