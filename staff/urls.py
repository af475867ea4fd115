from django.urls import include, path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/audit/", views.audit, name="audit"),
    path("import/", include("staff.import_urls")),
]
