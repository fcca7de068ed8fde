"""URLs for the subprocess of test_observability: the project's, and two views that
log and fail the way application code does."""

import logging

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.views import APIView

from cohortly.urls import urlpatterns as project_urlpatterns

logger = logging.getLogger("cohortly.tests.app")


def works(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("SELECT 2")
    logger.warning("an application log line inside the request")
    return HttpResponse("ok")


@csrf_exempt
def fails(request):
    password = request.POST.get("password")  # noqa: F841 (a local the scrubber must hide)
    # An email body in a local variable (built at run time: Sentry also sends the source lines).
    body = "Dear Ada, your set-password link: https://example.com/reset/" + "-".join(["SECRET", "LINK"])  # noqa: F841
    email = request.POST.get("email")  # a person's address in a local, a log line and the error
    logger.error("could not reach %s", email)
    raise ZeroDivisionError(f"a bug in a view, for {email}")


class APIFails(APIView):
    """An API view failing: DRF's Request, not Django's, is the frames' `request`."""

    authentication_classes = permission_classes = throttle_classes = ()

    def get(self, request):
        raise ZeroDivisionError("a bug in an API view")


urlpatterns = [
    path("test/works", works),
    path("test/fails", fails),
    path("test/api-fails", APIFails.as_view()),
    *project_urlpatterns,
]
