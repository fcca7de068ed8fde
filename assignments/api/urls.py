from django.urls import re_path

from assignments.api.views import AssignmentViewSet, GradebookCSVView, GradebookView, SubmissionViewSet
from cohortly.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("submissions", SubmissionViewSet, basename="submission")

urlpatterns = [
    *router.urls,
    re_path(
        r"^bootcamps/(?P<bootcamp_pk>[0-9]+)/gradebook/?$", GradebookView.as_view(), name="bootcamp-gradebook"
    ),
    re_path(
        r"^bootcamps/(?P<bootcamp_pk>[0-9]+)/gradebook\.csv/?$",
        GradebookCSVView.as_view(),
        name="bootcamp-gradebook-csv",
    ),
]
