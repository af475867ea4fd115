from django.urls import path

from trust import page_views

urlpatterns = [
    path("reports/", page_views.reports_home, name="reports-home"),
]
