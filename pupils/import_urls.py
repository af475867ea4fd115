"""Pupil import pages: upload, preview, confirm, import runs and the review list."""

from django.urls import path

from . import import_views

urlpatterns: list = [
    path("", import_views.upload, name="import"),
    path("reviews/", import_views.review_list, name="review-list"),
    path("reviews/<int:pk>/", import_views.review_resolve, name="review-resolve"),
    path("runs/<int:pk>/", import_views.run_detail, name="import-run"),
    path("<slug:token>/", import_views.preview, name="import-preview"),
    path("<slug:token>/confirm/", import_views.confirm, name="import-confirm"),
]
