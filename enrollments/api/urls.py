from cohortly.routers import OptionalSlashRouter
from enrollments.api.views import EnrollmentViewSet

router = OptionalSlashRouter()
router.register("enrollments", EnrollmentViewSet, basename="enrollment")

urlpatterns = [*router.urls]
