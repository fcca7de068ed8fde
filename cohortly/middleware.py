"""Request ids, one log line per request, and the request metrics."""

import logging
import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.utils.functional import empty

from cohortly import metrics

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
logger = logging.getLogger("cohortly.request")

# An incoming id is kept only when it is short and harmless to echo and log.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    return request_id_var.get()


@contextmanager
def logged_for_request(request_id: str):
    """Log lines written inside carry `request_id` (work a request caused, done later)."""
    token = request_id_var.set(request_id or "-")
    try:
        yield
    finally:
        request_id_var.reset(token)


def loggable(text: str) -> str:
    """What a client wrote (a path, a parameter's name) as it goes into a log line:
    control characters escaped, as Django escapes its own request lines, so that a
    "%0A" in a URL can't start a made-up line of a plain log."""
    return text.encode("unicode_escape").decode("ascii")


class RequestIDLogFilter(logging.Filter):
    def filter(self, record):
        request_id = request_id_var.get()
        if request_id == "-":
            # Django logs an error answer ("Service Unavailable: <path>") once the
            # middleware has returned and given the context back; its record
            # carries the request, which carries the id.
            request_id = getattr(getattr(record, "request", None), "request_id", "-")
        record.request_id = request_id
        return True


def _user_id(request):
    # Never force a lazy session lookup just to log: DRF replaces request.user
    # with the authenticated user, the session middleware leaves a lazy object.
    user = request.__dict__.get("user")
    if user is None:
        return "-"
    wrapped = getattr(user, "_wrapped", None)
    if wrapped is empty:
        return "-"
    if getattr(user, "is_authenticated", False):
        return str(user.pk)
    return "-"


class QueryStats:
    """The queries a request ran and the time they took."""

    __slots__ = ("count", "seconds")

    def __init__(self):
        self.count = 0
        self.seconds = 0.0


_query_stats: ContextVar[QueryStats | None] = ContextVar("query_stats", default=None)


def _count_query(execute, sql, params, many, context):
    stats = _query_stats.get()
    if stats is None:  # outside a request: a task, a management command
        return execute(sql, params, many, context)
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        stats.seconds += time.perf_counter() - started
        stats.count += 1


def count_queries_on(connection, **kwargs):
    """Add the query counter to a database connection's execute wrappers (the hook
    behind Django's `connection.execute_wrapper()`), once per connection rather than
    once per request: entering `execute_wrapper()` on every request costs more."""
    if _count_query not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _count_query)


connection_created.connect(count_queries_on, dispatch_uid="cohortly-count-queries")


_ROUTES: dict[str, str] = {}
#: Methods that get their own label (any other string a client sends is "OTHER").
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(request) -> str:
    """The URL pattern that answered, e.g. "api/v1/bootcamps/(?P<pk>[0-9]+)/?" or
    "sales/leads/<int:pk>/": a bounded set of values, unlike paths."""
    match = request.resolver_match
    if match is None or match.route is None:
        return "<unmatched>"
    route = _ROUTES.get(match.route)
    if route is None:
        route = _ROUTES.setdefault(match.route, match.route.replace("^", "").replace("$", "") or "/")
    return route


#: Each (route, method, status)'s histogram child: prometheus-client's labels() checks
#: and locks on every call, a dict lookup is a tenth of its cost.
_REQUEST_SECONDS: dict[tuple[str, str, int], object] = {}


def _request_seconds(route: str, method: str, status: int):
    key = (route, method, status)
    child = _REQUEST_SECONDS.get(key)
    if child is None:
        child = _REQUEST_SECONDS.setdefault(key, metrics.REQUEST_SECONDS.labels(route, method, str(status)))
    return child


class HeadAnswersHaveNoBody:
    """A HEAD request is answered as its GET, without the body. Django leaves
    dropping it to the server, and gunicorn does so with a warning each time:
    an uptime monitor probing with HEAD filled the log. Outermost, so the
    Content-Length CommonMiddleware wrote (the GET's length, which HEAD keeps)
    and everything else the response says stays as it is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD":
            if response.streaming:
                response.streaming_content = []
            else:
                response.content = b""
        return response


class CredentialedAnswersAreNotStored:
    """An answer to a request that carried credentials (a bearer token, or a
    session cookie: the sales pages, the admin) holds what only that user may
    see: no browser or proxy keeps it (Cache-Control: no-store), so the back
    button after signing out on a shared computer shows nothing. A view that set
    its own Cache-Control keeps it; anonymous answers (the public catalogue) are
    left alone. Only the request's headers are read: nothing here may need the
    database (a session's user), which can be down while this answers a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response and (
            "Authorization" in request.headers or settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            response["Cache-Control"] = "no-store, private"
        return response


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Connections opened before this middleware was loaded (a test's) count too.
        for connection in connections.all(initialized_only=True):
            count_queries_on(connection)

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        stats = QueryStats()
        stats_token = _query_stats.set(stats)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            duration = time.perf_counter() - started
            route = route_template(request)
            method = request.method if request.method in _METHODS else "OTHER"
            status = response.status_code
            _request_seconds(route, method, status).observe(duration)
            if stats.count:
                metrics.DB_QUERIES.labels(route, method).inc(stats.count)
                metrics.DB_SECONDS.labels(route, method).inc(stats.seconds)
            cache_result = response.headers.get("X-Cache")
            if cache_result:
                metrics.RESPONSE_CACHE.labels(cache_result).inc()
            user_id = _user_id(request)
            path = loggable(request.path)
            logger.info(
                "%s %s %s %.1fms user=%s db=%d/%.1fms",
                method,
                path,
                status,
                duration * 1000,
                user_id,
                stats.count,
                stats.seconds * 1000,
                extra={
                    "user_id": user_id,
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "db_time_ms": round(stats.seconds * 1000, 2),
                    "db_queries": stats.count,
                },
            )
            return response
        finally:
            _query_stats.reset(stats_token)
            request_id_var.reset(token)


def view_methods(view_func) -> set[str] | None:
    """The HTTP methods (lower case) a DRF view serves on its route, or None for
    a plain Django view (which answers other methods itself, as health does)."""
    view_class = getattr(view_func, "cls", None)
    if view_class is None:
        return None
    actions = getattr(view_func, "actions", None) or {}
    methods = {m for m in view_class.http_method_names if m in actions or hasattr(view_class, m)}
    if "get" in methods and "head" in view_class.http_method_names:
        methods.add("head")  # Django's View.setup, and DRF's viewsets, answer HEAD as GET
    return methods


class UnservedMethodsAre405:
    """An API request whose method its view doesn't serve (TRACE, PUT where only
    PATCH is, a made-up verb) is a 405 in the error shape before anything else
    runs. DRF authenticates and checks permissions first, so an anonymous TRACE
    would be a 401 and would tell the caller more about the route than its methods."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith("/api/"):
            return None
        allowed = view_methods(view_func)
        if allowed is None or request.method.lower() in allowed:
            return None
        # Imported here: logging's config loads this module before DRF's settings are ready.
        from cohortly.exceptions import method_not_allowed

        return method_not_allowed(request.method, allowed)


class DatabaseUnavailableIs503:
    """Outside the API (whose exception handler does the same), a database that
    can't be reached is a 503 that says so: the sales pages and the admin get a
    page, the mail provider's webhook the error shape (it posts again later),
    and the log one line instead of a traceback per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from cohortly.locking import is_database_outage

        if request.path.startswith("/api/") or not is_database_outage(exception):
            return None
        from django.http import JsonResponse
        from django.template.response import SimpleTemplateResponse

        from cohortly.exceptions import OUTAGE_RETRY_AFTER, error_body

        logging.getLogger("cohortly.database").error("database unavailable: %s", exception)
        if request.path.startswith("/anymail/"):
            body = error_body(
                "service_unavailable", "The database is unavailable; try again.", "server_error"
            )
            response = JsonResponse(body, status=503)
        else:
            response = SimpleTemplateResponse("503.html", status=503).render()
        response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
        return response
