from django.urls import include, path

app_name = "appraisal"

urlpatterns: list = [
    path("", include("appraisal.appraisal_urls")),
    path("", include("appraisal.completion_urls")),
    path("portfolio/", include("appraisal.portfolio_urls")),
    path("cpd/", include("appraisal.cpd_urls")),
]
