"""Grades import pages: upload, preview, confirm and import runs."""

from django.urls import path

from . import import_views

urlpatterns: list = [
    path("grades/import/", import_views.upload, name="grade-import"),
    path("grades/import/runs/<int:pk>/", import_views.run_detail, name="grade-import-run"),
    path("grades/import/<slug:token>/", import_views.preview, name="grade-import-preview"),
    path(
        "grades/import/<slug:token>/confirm/",
        import_views.confirm,
        name="grade-import-confirm",
    ),
]
