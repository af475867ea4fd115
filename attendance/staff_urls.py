"""Staff absence pages, mounted at /attendance/staff-absence/."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path("", staff_views.overview, name="staff_absence"),
    path("staff/<int:staff_id>/", staff_views.person, name="staff_absence_person"),
    path("staff/<int:staff_id>/record/", staff_views.record, name="staff_absence_record"),
    path("<int:absence_id>/edit/", staff_views.edit, name="staff_absence_edit"),
    path("<int:absence_id>/delete/", staff_views.delete, name="staff_absence_delete"),
]
