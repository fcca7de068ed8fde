"""Domain errors know no HTTP; the API's exception handler gives each its
status, in the API's one error shape, with the error's own message and code."""

import ast
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from cohortly import errors
from conftest import assert_error

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "bootcamps", "enrollments", "assignments", "leads"]


def answer(exc):
    class Refusing(APIView):
        permission_classes = [AllowAny]
        authentication_classes = []

        def post(self, request):
            raise exc

    response = Refusing.as_view()(APIRequestFactory().post("/api/v1/anything/"))
    response.render()
    response.json = lambda: json.loads(response.content)
    return response


@pytest.mark.parametrize(
    "exc, status, code, detail",
    [
        (errors.NotFound("The user to update no longer exists."), 404, "not_found", None),
        (errors.NotAllowed("Only students hand in work."), 403, "permission_denied", None),
        (errors.NotAllowed(), 403, "permission_denied", errors.NotAllowed.default_message),
        (errors.Conflict("Already there.", code="already_enrolled"), 409, "already_enrolled", None),
        (errors.Conflict(), 409, "conflict", errors.Conflict.default_message),
        (errors.Busy(), 503, "busy", errors.Busy.default_message),
    ],
)
def test_each_domain_error_gets_its_status_message_and_code(exc, status, code, detail):
    response = answer(exc)
    body = assert_error(response, status, code)
    assert body == {
        "type": "server_error" if status >= 500 else "client_error",
        "errors": [{"code": code, "detail": detail or exc.message, "attr": None}],
    }


def test_busy_says_when_to_retry():
    assert answer(errors.Busy())["Retry-After"] == "1"


def test_a_database_outage_says_when_to_retry():
    """Every 503 carries Retry-After, as the schema says; the API's outage
    answer had none (the pages' and the webhook's had)."""
    from django.db import OperationalError

    response = answer(OperationalError("connection failed: could not connect to server: Connection refused"))
    assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "10"


def test_a_validation_error_is_a_400_on_its_field_with_its_code():
    exc = ValidationError({"capacity": ValidationError("Too low.", code="below_seats_taken")})
    body = assert_error(answer(exc), 400, "below_seats_taken", "capacity")
    assert body["type"] == "validation_error"
    assert body["errors"] == [{"code": "below_seats_taken", "detail": "Too low.", "attr": "capacity"}]


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_services_know_no_http():
    """Services raise cohortly.errors or ValidationError: nothing of DRF."""
    for app in APPS:
        imported = _imports(ROOT / app / "services.py")
        http = sorted(
            name
            for name in imported
            if name in ("rest_framework", "cohortly.exceptions") or name.startswith("rest_framework.")
        )
        assert http == [], f"{app}/services.py imports {http}"


def _database_error(cause):
    """The OperationalError Django raises, with the driver's error as its cause."""
    from django.db import OperationalError

    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


@pytest.mark.parametrize(
    "cause, outage",
    [
        ("connection refused", True),  # the driver never reached a server: no SQLSTATE
        ("AdminShutdown", True),
        ("ConnectionFailure", True),
        ("LockNotAvailable", True),  # a lock wait that ran out: retry
        ("DeadlockDetected", False),  # a bug to see whole
        ("SerializationFailure", False),
    ],
)
def test_only_an_unreachable_database_is_a_503_page(rf, cause, outage):
    """Outside the API, a database that can't be reached is a 503 page; anything
    else it refused stays a 500 with its traceback (the middleware steps aside)."""
    import psycopg

    from cohortly.middleware import DatabaseUnavailableIs503

    error = getattr(psycopg.errors, cause)(cause) if cause[0].isupper() else psycopg.OperationalError(cause)
    response = DatabaseUnavailableIs503(lambda request: None).process_exception(
        rf.get("/sales/"), _database_error(error)
    )
    if outage:
        assert response.status_code == 503 and b"Cohortly is unavailable for a moment" in response.content
    else:
        assert response is None
