"""Behaviour category pages, included under /behaviour/ in the behaviour namespace."""

from django.urls import path

from . import category_views

urlpatterns: list = [
    path("categories/", category_views.categories, name="categories"),
    path("categories/new/", category_views.category_new, name="category-new"),
    path("categories/<int:pk>/edit/", category_views.category_edit, name="category-edit"),
    path("categories/<int:pk>/retire/", category_views.category_retire, name="category-retire"),
    path(
        "categories/<int:pk>/reinstate/",
        category_views.category_reinstate,
        name="category-reinstate",
    ),
]
