from django.urls import path

from . import views

urlpatterns = [
    path("classes/", views.class_list_page, name="class-list"),
    path("classes/<int:pk>/", views.class_detail, name="class-detail"),
    path("classes/<int:pk>/grades/<int:point_pk>/", views.grade_grid, name="grade-grid"),
    path("pupils/<int:pk>/", views.pupil_progress_page, name="pupil-progress"),
    path("assessment-points/", views.assessment_points, name="assessment-points"),
]
