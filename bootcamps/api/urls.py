from cohortly.routers import OptionalSlashRouter

router = OptionalSlashRouter()

urlpatterns = [*router.urls]
