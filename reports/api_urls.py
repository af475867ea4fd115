"""Report run routes of the REST API, included under /api/v1/ in the api namespace."""

from rest_framework.routers import SimpleRouter

from .api import ReportRunViewSet

router = SimpleRouter()
router.register("report-runs", ReportRunViewSet, basename="report-run")

urlpatterns = router.urls
