from django.urls import path

from . import views

app_name = "academies"

urlpatterns = [
    path("", views.academy_list, name="list"),
    path("<int:pk>/", views.academy_detail, name="detail"),
    path("year-groups/<int:pk>/", views.year_group_detail, name="year-group"),
    path("tutor-groups/<int:pk>/", views.tutor_group_detail, name="tutor-group"),
]
