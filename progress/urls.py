from django.urls import include, path

app_name = "progress"

urlpatterns: list = [
    path("", include("progress.class_urls")),
    path("", include("progress.target_urls")),
    path("", include("progress.import_urls")),
]
