from django.urls import path

from . import timeline_views, views

urlpatterns: list = [
    path("log/", views.incident_log, name="incident-log"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("tutor-groups/<int:pk>/points/", views.group_points, name="group-points"),
    path("classes/<int:pk>/points/", views.class_points, name="class-points"),
    path("pupils/<int:pk>/", timeline_views.pupil_timeline, name="pupil-timeline"),
    path("follow-ups/", timeline_views.follow_ups, name="follow-ups"),
]
