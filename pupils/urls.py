from django.urls import include, path

app_name = "pupils"

urlpatterns: list = [
    path("import/", include("pupils.import_urls")),
]
