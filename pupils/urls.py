from django.urls import include, path

from . import views

app_name = "pupils"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.profile, name="profile"),
    path("<int:pk>/sensitive/", views.sensitive, name="sensitive"),
    path("<int:pk>/audit/", views.audit, name="audit"),
    path("import/", include("pupils.import_urls")),
    path("", include("pupils.export_urls")),
]
