"""Routes of the REST API, mounted at /api/v1/ by trust/urls.py."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from academies.api import AcademyViewSet, TutorGroupViewSet, YearGroupViewSet
from attendance.api import (
    AcademyAttendanceView,
    AttendanceMarkViewSet,
    PupilAttendanceView,
    TutorGroupAttendanceView,
    YearGroupAttendanceView,
)
from pupils.api import PupilViewSet
from staff.api import StaffViewSet

from .api import TokenView

router = DefaultRouter()
router.register("academies", AcademyViewSet, basename="academy")
router.register("year-groups", YearGroupViewSet, basename="year-group")
router.register("tutor-groups", TutorGroupViewSet, basename="tutor-group")
router.register("pupils", PupilViewSet, basename="pupil")
router.register("staff", StaffViewSet, basename="staff")

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    # Routed by hand rather than through the router, so the API root keeps
    # listing the five core resources only.
    path(
        "attendance-marks/",
        AttendanceMarkViewSet.as_view({"get": "list", "post": "create"}),
        name="attendance-mark-list",
    ),
    path("pupils/<int:pk>/attendance/", PupilAttendanceView.as_view(), name="pupil-attendance"),
    path(
        "tutor-groups/<int:pk>/attendance/",
        TutorGroupAttendanceView.as_view(),
        name="tutor-group-attendance",
    ),
    path(
        "year-groups/<int:pk>/attendance/",
        YearGroupAttendanceView.as_view(),
        name="year-group-attendance",
    ),
    path(
        "academies/<int:pk>/attendance/", AcademyAttendanceView.as_view(), name="academy-attendance"
    ),
    path("", include("behaviour.api_urls")),
    path("", include("progress.api_progress")),
    path("", include("appraisal.api_urls")),
    path("", include("reports.api_urls")),
    path("", include(router.urls)),
]
