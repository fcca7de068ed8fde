from cohortly.routers import OptionalSlashRouter
from leads.api.views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = [*router.urls]
