"""Appraisal routes of the REST API, included under /api/v1/ in the api namespace."""

from rest_framework.routers import SimpleRouter

from .api import (
    AppraisalViewSet,
    CycleViewSet,
    ObjectiveViewSet,
    PortfolioEntryViewSet,
    ReviewViewSet,
)

router = SimpleRouter()
router.register("appraisal-cycles", CycleViewSet, basename="appraisal-cycle")
router.register("appraisals", AppraisalViewSet, basename="appraisal")
router.register("objectives", ObjectiveViewSet, basename="appraisal-objective")
router.register("objective-reviews", ReviewViewSet, basename="appraisal-objective-review")
router.register("portfolio-entries", PortfolioEntryViewSet, basename="appraisal-portfolio-entry")

urlpatterns = router.urls
