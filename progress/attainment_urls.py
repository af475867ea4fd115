from django.urls import path

from . import attainment_views

urlpatterns: list = [
    path(
        "pupils/<int:pk>/attainment8/",
        attainment_views.pupil_attainment8_page,
        name="pupil-attainment8",
    ),
    path(
        "academies/<int:pk>/attainment8/",
        attainment_views.academy_attainment8_page,
        name="academy-attainment8",
    ),
]
