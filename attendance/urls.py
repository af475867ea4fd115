from django.urls import include, path

app_name = "attendance"

urlpatterns: list = [
    path("", include("attendance.register_urls")),
    path("", include("attendance.stats_urls")),
    path("", include("attendance.import_urls")),
    path("staff-absence/", include("attendance.staff_urls")),
]
