"""Staff import pages: upload, preview and confirm."""

from django.urls import path

from . import import_views

urlpatterns: list = [
    path("", import_views.upload, name="import"),
    path("<slug:token>/", import_views.preview, name="import-preview"),
    path("<slug:token>/confirm/", import_views.confirm, name="import-confirm"),
]
