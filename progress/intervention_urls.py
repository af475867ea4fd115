from django.urls import path

from . import intervention_views as views

urlpatterns = [
    path(
        "year-groups/<int:pk>/underperformance/",
        views.underperformance_page,
        name="underperformance",
    ),
    path("interventions/", views.intervention_list, name="intervention-list"),
    path("interventions/new/", views.intervention_new, name="intervention-new"),
    path("interventions/<int:pk>/", views.intervention_detail, name="intervention-detail"),
    path("interventions/<int:pk>/edit/", views.intervention_edit, name="intervention-edit"),
    path(
        "interventions/<int:pk>/review/",
        views.intervention_review_page,
        name="intervention-review",
    ),
    path("what-works/", views.what_works_page, name="what-works"),
]
