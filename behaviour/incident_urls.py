from django.urls import path

from . import views

urlpatterns: list = [
    path("log/", views.incident_log, name="incident-log"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("tutor-groups/<int:pk>/points/", views.group_points, name="group-points"),
]
