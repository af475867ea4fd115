from django.urls import include, path

app_name = "behaviour"

urlpatterns: list = [
    path("", include("behaviour.incident_urls")),
    path("", include("behaviour.suspension_urls")),
    path("", include("behaviour.analysis_urls")),
    path("", include("behaviour.category_urls")),
]
