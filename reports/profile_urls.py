"""The pupil overview, included at /pupils/ beside the pupil pages."""

from django.urls import path

from . import profile_views

urlpatterns = [
    path("<int:pk>/overview/", profile_views.pupil_overview_page, name="pupil-overview"),
]
