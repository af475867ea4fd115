from django.urls import path

from . import parent_views

urlpatterns: list = [
    path("pupils/<int:pk>/contacts/", parent_views.parent_contacts, name="parent-contacts"),
    path("pupils/<int:pk>/letter.pdf", parent_views.parent_letter, name="parent-letter"),
    path(
        "year-groups/<int:pk>/letters/",
        parent_views.year_group_letters_page,
        name="year-group-letters-page",
    ),
    path(
        "year-groups/<int:pk>/letters.pdf",
        parent_views.year_group_letters,
        name="year-group-letters",
    ),
]
