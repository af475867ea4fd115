"""Routes of the REST API, mounted at /api/v1/ by trust/urls.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from academies.api import AcademyViewSet, TutorGroupViewSet, YearGroupViewSet
from pupils.api import PupilViewSet
from staff.api import StaffViewSet

from .api import TokenView

# The schema and its documentation pages describe every endpoint, so only
# signed-in staff may read them.
# NOTE: the usual place for this is SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]
# in trust/settings.py. drf-spectacular reads that setting when its view
# classes are defined, so setting it there makes these lines redundant.
for schema_view in (SpectacularAPIView, SpectacularSwaggerView, SpectacularRedocView):
    schema_view.permission_classes = [IsAuthenticated]

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
