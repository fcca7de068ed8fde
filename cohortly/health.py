import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import PUBLIC, RolePermission

logger = logging.getLogger(__name__)


def _check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception as exc:
        logger.error("health: database check failed: %s", exc)
        return False


def _check_cache() -> bool:
    try:
        # set then get: a cache that swallows errors (IGNORE_EXCEPTIONS) answers None.
        cache.set("health:probe", "ok", 60)
        return cache.get("health:probe") == "ok"
    except Exception as exc:
        logger.error("health: cache check failed: %s", exc)
        return False


HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["healthy", "unhealthy"]),
        "checks": serializers.DictField(child=serializers.CharField()),
        "duration_ms": serializers.FloatField(),
    },
)


class HealthView(APIView):
    """Liveness and readiness: checks the database, and Redis when configured."""

    authentication_classes = []
    permission_classes = [RolePermission]
    throttle_classes = []
    read_roles = PUBLIC

    @extend_schema(tags=["platform"], responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request):
        started = time.perf_counter()
        checks = {"database": "ok" if _check_database() else "unavailable"}
        if settings.REDIS_URL:
            checks["cache"] = "ok" if _check_cache() else "unavailable"
        healthy = all(value == "ok" for value in checks.values())
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "checks": checks,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        return Response(body, status=200 if healthy else 503)
