"""Appraisal pages under /appraisal/: the appraisees list, one appraisal and
its forms. /my-appraisal/ is routed in trust/page_urls.py to views.my_appraisal."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("appraisees/", views.appraisees, name="appraisees"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/objectives/add/", views.objective_add, name="objective-add"),
    path("<int:pk>/objectives/sign/", views.objectives_sign, name="objectives-sign"),
    path("<int:pk>/mid-year/", views.mid_year, name="mid-year"),
    path("<int:pk>/final-review/", views.final_review, name="final-review"),
    path("<int:pk>/final-review/sign/", views.final_sign, name="final-sign"),
    path("<int:pk>/appraiser/", views.appraiser_change, name="appraiser"),
    path("<int:pk>/notes/add/", views.annotate, name="annotate"),
    path("objectives/<int:pk>/edit/", views.objective_edit, name="objective-edit"),
    path("objectives/<int:pk>/delete/", views.objective_delete, name="objective-delete"),
    path("objectives/<int:pk>/review/<str:kind>/", views.review, name="review"),
]
