"""Every API route of version 1, registered in one router."""

from django.urls import include, re_path

from accounts.api.urls import auth_urlpatterns
from accounts.api.views import UserViewSet
from cohortly.health import health
from cohortly.routers import OptionalSlashRouter
from cohortly.views import ApiIndexView

router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    re_path(r"^$", ApiIndexView.as_view(), name="index"),
    re_path(r"^health/?$", health, name="health"),
    re_path(r"^auth/", include(auth_urlpatterns)),
    re_path(r"^", include(router.urls)),
    re_path(r"^", include("bootcamps.api.urls")),
    re_path(r"^", include("enrollments.api.urls")),
    re_path(r"^", include("assignments.api.urls")),
    re_path(r"^", include("leads.api.urls")),
]
