from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt


def home(request):
    """The front door: where the docs, the admin and the sales workspace are."""
    links = {
        "api": "/api/v1/",
        "docs": reverse("swagger-ui"),
        "redoc": reverse("redoc"),
        "schema": reverse("schema"),
        "admin": f"/{settings.ADMIN_URL}",
        "health": reverse("api:health"),
    }
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"name": "Cohortly", "links": links})
    return render(request, "home.html", {"links": links})


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    from cohortly.exceptions import error_body

    return JsonResponse(error_body("not_found", "Not found."), status=404)
