from django.urls import include, path

app_name = "progress"

urlpatterns: list = [
    path("", include("progress.class_urls")),
    path("", include("progress.target_urls")),
    path("", include("progress.import_urls")),
    path("", include("progress.summary_urls")),
    path("", include("progress.attainment_urls")),
    path("", include("progress.intervention_urls")),
    path("", include("progress.parent_urls")),
]
