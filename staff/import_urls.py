"""Staff import pages: upload, preview, confirm and import runs."""

from django.urls import path

from . import import_views

urlpatterns: list = [
    path("", import_views.upload, name="import"),
    path("runs/<int:pk>/", import_views.run_detail, name="import-run"),
    path("<slug:token>/", import_views.preview, name="import-preview"),
    path("<slug:token>/confirm/", import_views.confirm, name="import-confirm"),
]
