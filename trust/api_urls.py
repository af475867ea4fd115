"""Routes of the REST API, mounted at /api/v1/ by trust/urls.py."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from academies.api import AcademyViewSet, TutorGroupViewSet, YearGroupViewSet
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
    path("", include(router.urls)),
]
