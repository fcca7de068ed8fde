"""Prometheus metrics, through prometheus-client.

Under gunicorn every worker writes its counts into files in PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py creates it and tells the client when a worker exits), and /metrics
sums them, so an instance reports one number, whichever worker answers the scrape.
Without that directory (runserver, tests) the counts live in the process.

Per request this costs a histogram observation and, when the request ran queries,
two counter increments: a few microseconds, no database or Redis round trip. Numbers
that belong to the database (seats left, the task queue, the outbox) are read when
Prometheus scrapes, by the collectors apps register with `register_scrape_collector`.
"""

import logging
import os
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "cohortly_http_request_duration_seconds",
    "Time to answer a request, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_QUERIES = Counter("cohortly_db_queries", "Database queries run by requests.", ["route", "method"])
DB_SECONDS = Counter("cohortly_db_query_seconds", "Time requests spent in queries.", ["route", "method"])
RESPONSE_CACHE = Counter("cohortly_response_cache", "API responses from the cache (hit) or not.", ["result"])
THROTTLE_REFUSALS = Counter("cohortly_throttle_refusals", "Requests refused by a rate limit.", ["scope"])
ENROLLMENTS = Counter(
    "cohortly_enrollments", "Enrollments by outcome: active, waitlisted, promoted, cancelled.", ["outcome"]
)
LEADS = Counter("cohortly_leads", "Leads by outcome: captured, deduplicated, converted.", ["outcome"])


def count_after_commit(counter: Counter, label: str) -> None:
    """Count a business event once its transaction commits (a rollback never happened)."""
    child = counter.labels(label)
    transaction.on_commit(child.inc)


# --- Numbers read at scrape time -------------------------------------------------

_SCRAPE_COLLECTORS: list[Callable[[], Iterable[Metric]]] = []


def register_scrape_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """`collect()` yields metric families when /metrics is scraped (from an app's ready())."""
    if collect not in _SCRAPE_COLLECTORS:
        _SCRAPE_COLLECTORS.append(collect)


def task_queue_collector() -> Iterable[Metric]:
    """Tasks stored by the database backend (TASKS_BACKEND=database), by status:
    READY is the queue's depth, FAILED the failed attempts kept."""
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    family = GaugeMetricFamily("cohortly_tasks", "Stored background tasks by status.", labels=["status"])
    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")).order_by())
    for status in ("READY", "RUNNING", "FAILED", "SUCCESSFUL"):
        family.add_metric([status.lower()], counts.get(status, 0))
    yield family


class _ScrapeTime:
    def collect(self):
        for collect in _SCRAPE_COLLECTORS:
            try:
                yield from collect()
            except DatabaseError as exc:
                # The request metrics still answer while the database is away, and at
                # once: each further collector would wait out the connect timeout again
                # (a scrape past Prometheus's 10 s gets nothing). One line, as every
                # request's during an outage.
                logger.warning(
                    "metrics: database numbers left out (%s failed: %s)",
                    collect.__qualname__,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                )
                return


def _process_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@csrf_exempt
def metrics_view(request):
    """/metrics for Prometheus: only with `Authorization: Bearer <METRICS_TOKEN>`,
    a 404 otherwise, whatever the method (and always while METRICS_TOKEN is unset):
    nothing tells a caller without the token that it is there."""
    token = settings.METRICS_TOKEN
    if not token or not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    body = _process_metrics() + generate_latest(_ScrapeTime())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
