"""Property-based fuzzing of every API operation from our own OpenAPI schema.

Schemathesis generates valid and invalid requests for each operation; each one
is sent anonymously and as each of the five roles. Every answer must be
documented by the schema (status, content type, body — errors included) and
none may be a server error. The example count is bounded to keep `make test`
within a few minutes; raise FUZZ_EXAMPLES for a deeper run.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from accounts.tests.factories import UserFactory
from cohortly import throttling
from cohortly.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


@pytest.fixture
def identities(db, monkeypatch):
    # Throttles would answer most generated requests with 429 and hide the rest.
    monkeypatch.setattr(
        throttling.FixedWindowThrottleMixin, "allow_request", lambda self, request, view: True
    )
    headers = {"anonymous": {}}
    for role in User.Role.values:
        user = UserFactory(role=role, email=f"fuzz-{role.lower()}@example.com")
        headers[role] = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}
    # Requests go straight to the WSGI app: keep Django from closing the test's
    # database connection at the end of each one (as django.test.Client does).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield headers
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_answers_as_documented(case, identities):
    for headers in identities.values():
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
