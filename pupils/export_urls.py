"""Pupil downloads, included into the pupils namespace by pupils/urls.py."""

from django.urls import path

from . import export_views

urlpatterns = [
    path("<int:pk>/profile.pdf", export_views.pupil_profile_pdf, name="profile-pdf"),
    path("export.<str:fmt>", export_views.pupil_export, name="export"),
]
