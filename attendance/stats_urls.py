"""URL patterns of the attendance figure pages."""

from django.urls import path

from . import stats_views

urlpatterns = [
    path("pupils/<int:pupil_id>/", stats_views.pupil_attendance, name="pupil"),
    path("year-groups/<int:year_group_id>/", stats_views.year_group_attendance, name="year-group"),
    path("academies/<int:academy_id>/", stats_views.academy_attendance, name="academy"),
]
