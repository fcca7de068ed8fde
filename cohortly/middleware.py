"""Request ids and one log line per request."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.utils.functional import empty

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
logger = logging.getLogger("cohortly.request")

# An incoming id is kept only when it is short and harmless to echo and log.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    return request_id_var.get()


class RequestIDLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id_var.get()
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


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            duration_ms = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %s %.1fms user=%s",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                _user_id(request),
            )
            return response
        finally:
            request_id_var.reset(token)
