from django.urls import path

from . import completion_views

urlpatterns: list = [
    path("completion/", completion_views.completion, name="completion"),
    path("completion/trust/", completion_views.trust_completion, name="trust-completion"),
]
