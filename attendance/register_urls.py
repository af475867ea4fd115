"""URL patterns of the register pages and the morning view."""

from django.urls import path

from . import views

urlpatterns = [
    path("registers/", views.register_list, name="register-list"),
    path(
        "registers/<int:tutor_group_id>/<str:day>/cover/",
        views.register_cover,
        name="register-cover",
    ),
    path(
        "registers/<int:tutor_group_id>/<str:day>/<str:session>/",
        views.register,
        name="register",
    ),
    path("morning/", views.morning, name="morning"),
    path("morning/calls/<int:pupil_id>/", views.call_log, name="call-log"),
]
