"""GET /api/v1/health: liveness and readiness for the load balancer.

It is hit every few seconds by every balancer and is the benchmark's cheapest
endpoint, so it is a plain Django view (no DRF machinery) and costs one round
trip to each dependency: PostgreSQL is pinged once (the ping Django's own
CONN_HEALTH_CHECKS would make anyway), Redis once (PING). It is documented in
the OpenAPI schema by cohortly.openapi.add_health_path.

Only the database makes an instance unready (503). Redis is a cache: without
it every request is still served, so the answer is 200 with the cache reported
unavailable and the status `degraded`, and a balancer keeps the instance.
Redis is probed through the client's breaker (cohortly.redis_client): while a
worker backs off it says unavailable without calling Redis, so it reports
Redis's return at most REDIS_BACKOFF_SECONDS (plus HEALTH_CHECK_INTERVAL) late.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import RedisError

from accounts.permissions import PUBLIC

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        if connection.connection is not None:
            # A real ping on the persistent connection (Django's own health
            # check runs only when a query takes a cursor, which this doesn't).
            if connection.is_usable():
                return True
            connection.close()
        # No connection (or a dead one just closed): a successful connect is proof enough.
        connection.ensure_connection()
        return True
    except Exception as exc:
        logger.error("health: database unavailable: %s", exc)
        return False


def _cache_ok() -> bool:
    try:
        get_client = getattr(getattr(cache, "client", None), "get_client", None)
        if get_client is not None:
            return bool(get_client(write=True).ping())
        # Set then get: a cache that swallows errors answers None.
        cache.set("health:probe", "ok", 60)
        return cache.get("health:probe") == "ok"
    except RedisError:  # an outage: cohortly.redis_client says so, once a minute
        return False
    except Exception as exc:
        logger.error("health: cache unavailable: %s", exc)
        return False


_last = {"at": float("-inf"), "checks": None}


def _checks() -> dict:
    """The dependencies' state, probed at most once per HEALTH_CHECK_INTERVAL
    seconds in each worker: balancers poll every few seconds each, and an
    answer a second old says as much about PostgreSQL as a fresh one."""
    now = time.monotonic()
    if _last["checks"] is not None and now - _last["at"] < settings.HEALTH_CHECK_INTERVAL:
        return _last["checks"]
    checks = {"database": "ok" if _database_ok() else "unavailable"}
    # Redis, or the database cache without it: either way the throttles count in
    # it (and refuse nothing while it's away), so a missing cache table, never
    # made by `createcachetable`, shows here as a degraded instance. The database
    # cache is down with the database: not asked twice (each try waits out the
    # connect timeout).
    database_cache = isinstance(caches["default"], DatabaseCache)
    if database_cache and checks["database"] != "ok":
        checks["cache"] = "unavailable"
    else:
        checks["cache"] = "ok" if _cache_ok() else "unavailable"
    _last.update(at=now, checks=checks)
    return checks


def _method_not_allowed(request) -> JsonResponse:
    from cohortly.exceptions import method_not_allowed  # only on this rare path: the view stays lean

    return method_not_allowed(request.method, ["GET", "HEAD"])


def _unavailable(down: list[str]) -> JsonResponse:
    """A 503 in the API's error shape: one error per dependency down that makes
    the instance unready (only the database does), named in `attr`."""
    from cohortly.exceptions import ServiceUnavailable  # only on this rare path: the view stays lean

    errors = [
        {"code": ServiceUnavailable.default_code, "detail": f"The {name} is unavailable.", "attr": name}
        for name in down
    ]
    return JsonResponse(
        {"type": "server_error", "errors": errors},
        status=503,
        headers={"Retry-After": str(ServiceUnavailable.wait)},
    )


# It only ever reads, and CSRF would otherwise answer every other method 403
# before the view could say 405.
@csrf_exempt
def health(request):
    # HEAD as every GET route answers it (an uptime monitor's probe); the server sends no body.
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request)
    started = time.perf_counter()
    checks = _checks()
    if checks["database"] != "ok":
        return _unavailable(["database"])
    body = {
        "status": "healthy" if all(value == "ok" for value in checks.values()) else "degraded",
        "checks": checks,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    return JsonResponse(body)


# For the access policy (cohortly.policy): anyone may call it, with GET only (and HEAD, as
# for every GET route).
health.read_roles = PUBLIC
health.http_methods = ("GET",)
