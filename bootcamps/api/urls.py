from bootcamps.api.views import BootcampViewSet
from cohortly.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("bootcamps", BootcampViewSet, basename="bootcamp")

urlpatterns = [*router.urls]
