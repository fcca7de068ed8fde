from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.permissions import PUBLIC, Role, RolePermission, has_role


def home(request):
    """The front door: where the docs, the admin and the sales workspace are."""
    links = {
        "api": "/api/v1/",
        "docs": reverse("swagger-ui"),
        "redoc": reverse("redoc"),
        "schema": reverse("schema"),
        "health": reverse("api:health"),
    }
    # A path of its own (ADMIN_URL) keeps scanners away: shown only to ADMINs signed in.
    if settings.ADMIN_URL == "admin/" or has_role(request.user, {Role.ADMIN}):
        links["admin"] = f"/{settings.ADMIN_URL}"
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"name": "Cohortly", "links": links})
    return render(request, "home.html", {"links": links})


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    from cohortly.exceptions import error_body

    return JsonResponse(error_body("not_found", "Not found."), status=404)


class ApiIndexSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    docs = serializers.DictField(child=serializers.URLField(), help_text="swagger, redoc and schema")
    resources = serializers.DictField(child=serializers.URLField(), help_text="each resource's list")


class ApiIndexView(GenericAPIView):
    """/api/ and /api/v1/: where the docs, the schema and each resource's list are."""

    authentication_classes = []
    permission_classes = [RolePermission]
    read_roles = write_roles = PUBLIC
    serializer_class = ApiIndexSerializer
    #: Each resource's list, by the name of its route.
    RESOURCES = {
        "auth": "api:auth-login",
        "users": "api:user-list",
        "bootcamps": "api:bootcamp-list",
        "enrollments": "api:enrollment-list",
        "assignments": "api:assignment-list",
        "submissions": "api:submission-list",
        "leads": "api:lead-list",
        "health": "api:health",
    }

    @extend_schema(summary="Index of the API", operation_id="api_index", tags=["meta"])
    def get(self, request):
        def link(name):
            return request.build_absolute_uri(reverse(name))

        return Response(
            {
                "name": "Cohortly API",
                "version": "v1",
                "docs": {"swagger": link("swagger-ui"), "redoc": link("redoc"), "schema": link("schema")},
                "resources": {resource: link(name) for resource, name in self.RESOURCES.items()},
            }
        )


@extend_schema(exclude=True)  # the same index as /api/v1/, which the schema documents
class UnversionedApiIndexView(ApiIndexView):
    pass
