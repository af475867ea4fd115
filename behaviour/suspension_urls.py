from django.urls import path

from . import suspension_views

urlpatterns: list = [
    path("suspensions/", suspension_views.suspension_register, name="suspension-register"),
    path("suspensions/new/", suspension_views.suspension_new, name="suspension-new"),
    path("suspensions/<int:pk>/", suspension_views.suspension_detail, name="suspension-detail"),
]
