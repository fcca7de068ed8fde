"""Faults: a dead database, a dead Redis, a failing mail provider."""

import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from cohortly.tests.openapi_checks import assert_documented
from conftest import assert_error

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
NEW_USER = {"email": "fault@example.com", "password": "Quiet-Harbour-77", "full_name": "Fault Person"}


def test_api_answers_503_in_the_error_shape_when_the_database_is_down(student_client):
    student_client.raise_request_exception = False  # the 503 is reported like any server error
    with mock.patch.object(
        connection, "ensure_connection", side_effect=OperationalError("connection refused")
    ):
        response = student_client.get("/api/v1/auth/me")
    body = assert_error(response, 503, code="service_unavailable")
    assert body["type"] == "server_error"
    # and it recovers by itself once the database answers again
    assert student_client.get("/api/v1/auth/me").status_code == 200


def test_app_keeps_serving_when_redis_is_down(settings, anon_client, student_client, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
        }
    }
    with caplog.at_level(logging.WARNING):
        assert student_client.get("/api/v1/auth/me").status_code == 200  # throttled views still answer
        login = anon_client.post(
            "/api/v1/auth/login", {"email": "x@example.com", "password": "y"}, format="json"
        )
    assert login.status_code == 401  # the login throttle degrades open, the request is answered
    # Only the database makes an instance unready: without Redis it still serves.
    health = anon_client.get("/api/v1/health/")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"] == {"database": "ok", "cache": "unavailable"}
    assert_documented(health)


@pytest.mark.django_db(transaction=True)  # the worker manages its own connections and transactions
def test_failing_mail_provider_never_fails_the_request_and_the_mail_is_retried(settings, anon_client, caplog):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = "cohortly.tests.failing_email.FailingBackend"
    response = anon_client.post(REGISTER, NEW_USER, format="json", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 202
    assert User.objects.filter(email="fault@example.com").exists()
    stored = DBTaskResult.objects.get()
    assert stored.status == "READY" and stored.task_path == "mail.tasks.send_email_task"

    # The worker tries, the provider fails: logged with the request id, a retry is queued with backoff.
    with caplog.at_level(logging.ERROR):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert any("req-42" in r.getMessage() and "retry queued" in r.getMessage() for r in caplog.records)
    stored.refresh_from_db()
    assert stored.status == "FAILED"
    retry = DBTaskResult.objects.exclude(pk=stored.pk).get()
    assert retry.status == "READY" and retry.run_after > timezone.now() + timedelta(seconds=20)
    assert retry.args_kwargs["kwargs"]["attempt"] == 2

    # The provider is back and the backoff has passed: the mail goes out, nothing lost.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    retry.refresh_from_db()
    assert retry.status == "SUCCESSFUL"
    assert [m.to for m in mail.outbox] == [["fault@example.com"]]


def test_security_headers_are_present(client):
    response = client.get("/api/v1/health", secure=True)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
