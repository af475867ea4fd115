from django.urls import include, path

app_name = "staff"

urlpatterns: list = [
    path("import/", include("staff.import_urls")),
]
