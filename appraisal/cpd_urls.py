from django.urls import path

from . import cpd_views as views

urlpatterns = [
    path("", views.offer_page, name="cpd-offer"),
    path("new/", views.event_add, name="cpd-event-add"),
    path("summary/", views.summary_page, name="cpd-summary"),
    path("<int:pk>/", views.event_page, name="cpd-event"),
    path("<int:pk>/edit/", views.event_edit, name="cpd-event-edit"),
    path("<int:pk>/cancel/", views.event_cancel_page, name="cpd-event-cancel"),
    path("<int:pk>/book/", views.book_place, name="cpd-book"),
    path("<int:pk>/cancel-place/", views.cancel_place, name="cpd-place-cancel"),
    path(
        "<int:pk>/bookings/<int:booking_pk>/cancel/",
        views.cancel_booking,
        name="cpd-booking-cancel",
    ),
    path("<int:pk>/attendance/", views.attendance_page, name="cpd-attendance"),
]
