"""One error shape for the whole API.

Every error under /api/ is JSON shaped by drf-standardized-errors:
    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"code": str, "detail": str, "attr": str | null}]}
Services raise Django's ValidationError (from full_clean) or the domain errors
of cohortly.errors, which know nothing of HTTP: this is where both become
responses (a 400 per field; 404, 403, 409 or 503 with the error's own code; 429
with Retry-After).
"""

import logging

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, OperationalError
from django.http import JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from drf_standardized_errors.handler import exception_handler  # noqa: F401
from rest_framework import exceptions, status
from rest_framework.settings import api_settings

from cohortly import errors, locking
from cohortly.http import posted_from_here

logger = logging.getLogger(__name__)


class APIConflict(exceptions.APIException):
    """The request is valid but clashes with the current state (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


#: Seconds a client waits before trying again while the database is away (every
#: 503 says so in Retry-After, as the schema promises; a Busy lock wait, less).
OUTAGE_RETRY_AFTER = 10


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; try again shortly."
    default_code = "service_unavailable"
    wait = OUTAGE_RETRY_AFTER  # sent as Retry-After


#: Each domain error as the API answers it (the error's message and code are kept).
DOMAIN_ERRORS_AS_HTTP = {
    errors.NotFound: exceptions.NotFound,
    errors.NotAllowed: exceptions.PermissionDenied,
    errors.Conflict: APIConflict,
    errors.Busy: ServiceUnavailable,
}
#: Seconds a client waits before retrying a Busy answer (a lock wait is short).
BUSY_RETRY_AFTER = 1


def domain_error_to_drf(exc: errors.DomainError) -> exceptions.APIException | None:
    if isinstance(exc, errors.TooManyAttempts):
        # DRF's own 429, worded as every other throttle's, with Retry-After.
        return exceptions.Throttled(wait=exc.wait)
    for domain_class, api_class in DOMAIN_ERRORS_AS_HTTP.items():
        if isinstance(exc, domain_class):
            converted = api_class(exc.message, code=exc.code)
            if isinstance(exc, errors.Busy):
                converted.wait = BUSY_RETRY_AFTER  # sent as Retry-After
            return converted
    return None


def django_validation_error_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): [
                exceptions.ErrorDetail(str(message), code=error.code or "invalid")
                for error in errors
                for message in error.messages
            ]
            for field, errors in exc.error_dict.items()
        }
    else:
        detail = {
            api_settings.NON_FIELD_ERRORS_KEY: [
                exceptions.ErrorDetail(str(message), code=error.code or "invalid")
                for error in exc.error_list
                for message in error.messages
            ]
        }
    return exceptions.ValidationError(detail)


def _suspicious_detail(exc) -> str:
    if isinstance(exc, TooManyFieldsSent):
        return f"Too many parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} are read."
    return BAD_REQUEST


#: What a request Django refuses before reading it (a SuspiciousOperation) is told.
BAD_REQUEST = "Bad request."


class ExceptionHandler(BaseExceptionHandler):
    def convert_known_exceptions(self, exc):
        if isinstance(exc, errors.DomainError):
            return domain_error_to_drf(exc) or exc
        if isinstance(exc, DjangoValidationError):
            return django_validation_error_to_drf(exc)
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, SuspiciousOperation):
            # Django answers these with a 400 outside a view (handler400); read
            # in one (DRF reads the query string there), they were 500s.
            return exceptions.ParseError(_suspicious_detail(exc))
        if isinstance(exc, OperationalError) and locking.is_lock_timeout(exc):
            # A lock wait past LOCK_TIMEOUT after the first lock of a transaction
            # (lock_row turns its own into Busy).
            return domain_error_to_drf(errors.Busy())
        unreachable = isinstance(exc, DatabaseError) and "could not connect" in str(exc)
        if locking.is_database_outage(exc) or unreachable:
            logger.error("database unavailable: %s", exc)
            return ServiceUnavailable()
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            # simplejwt puts a dict of token details in its errors: one plain error instead.
            code = (
                exc.get_codes().get("code", "token_not_valid") if isinstance(exc.get_codes(), dict) else None
            )
            flat = exceptions.AuthenticationFailed(
                str(exc.detail.get("detail", "Given token not valid.")), code=str(code or "token_not_valid")
            )
            flat.auth_header = getattr(exc, "auth_header", None)
            flat.status_code = exc.status_code
            return flat
        return super().convert_known_exceptions(exc)

    def report_exception(self, exc, response):
        # A 503 (the database away, or a lock wait that ran out: Busy) is expected
        # and the same every time: said in one line (the outage above; Django's
        # "Service Unavailable: <path>"), not with a traceback per request, which
        # would bury the log while the database is away. Every other server error
        # is reported whole.
        if isinstance(exc, ServiceUnavailable):
            return
        super().report_exception(exc, response)


def error_body(code: str, detail: str, error_type: str = "client_error") -> dict:
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": None}]}


def method_not_allowed(method: str, allowed) -> JsonResponse:
    """A 405 in the error shape, with the methods that are allowed."""
    response = JsonResponse(error_body("method_not_allowed", f'Method "{method}" not allowed.'), status=405)
    response["Allow"] = ", ".join(sorted(m.upper() for m in allowed))
    return response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if _wants_json(request):
        return JsonResponse(error_body("error", "A server error occurred.", "server_error"), status=500)
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request, exception=None):
    if _wants_json(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(error_body("payload_too_large", PayloadTooLarge.default_detail), status=413)
        # parse_error: the one code every operation's schema lists for a 400 that no field causes.
        detail = _suspicious_detail(exception) if exception is not None else BAD_REQUEST
        return JsonResponse(error_body("parse_error", detail), status=400)
    # In the site's style, as the other error pages (Django's own has no request
    # to render one with).
    return render(request, "400.html", {"too_big": isinstance(exception, RequestDataTooBig)}, status=400)


def handler403(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            error_body("permission_denied", "You do not have permission to perform this action."),
            status=403,
        )
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """The API never uses cookies for auth, but a form POST to an unknown /api/
    path still meets the CSRF check first: answer in the API's shape there.

    A page's form (its token outdated by a sign-in in another tab, say) gets the
    site's page, which says whether cookies are missing, and shows a note the
    form carried so that it can be copied before the page is reloaded."""
    if _wants_json(request):
        return JsonResponse(error_body("csrf_failed", f"CSRF verification failed: {reason}"), status=403)
    context = {
        "no_cookie": reason == REASON_NO_CSRF_COOKIE,
        "unsaved": request.POST.get("body", "").strip() if posted_from_here(request) else "",
    }
    return render(request, "403_csrf.html", context, status=403)
