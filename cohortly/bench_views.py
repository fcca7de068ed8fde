"""The benchmark's baseline: the cheapest answer Django itself can give.

Mounted at /bench/minimal only when BENCH_ENDPOINTS=true (never in production).
It passes through the same middleware as every other request, but no DRF, no
authentication, no throttling and no database: each API endpoint's requests/s
is reported as a fraction of this one, measured in the same run.
"""

from django.http import JsonResponse


def minimal(request):
    return JsonResponse({"status": "ok"})
