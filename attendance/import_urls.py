"""URL patterns of the historical marks import."""

from django.urls import path

from . import import_views

urlpatterns = [
    path("import/", import_views.upload, name="import"),
    path("import/<str:token>/", import_views.preview, name="import-preview"),
    path("import/<str:token>/confirm/", import_views.confirm, name="import-confirm"),
]
