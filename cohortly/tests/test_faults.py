"""Faults: a dead database, a dead or hanging Redis, a failing mail provider."""

import logging
import os
import time
from datetime import timedelta
from unittest import mock
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD
from bootcamps.tests.factories import BootcampFactory
from cohortly.tests.live_servers import free_port
from cohortly.tests.openapi_checks import assert_documented
from cohortly.tests.redis_setup import use_redis_at
from cohortly.tests.tcp_proxy import TCPProxy
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


# --- Redis is a cache, not a dependency ------------------------------------------

REDIS_LOGGER = "cohortly.redis_client"


def _assert_degraded(response):
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"] == {"database": "ok", "cache": "unavailable"}
    assert_documented(response)


@pytest.fixture
def hanging_redis():
    """A Redis that accepts connections and never answers."""
    listener = TCPProxy("127.0.0.1", free_port())  # never forwards: black-holed from the start
    listener.cut("blackhole")
    yield listener
    listener.stop()


def _wait_for_accepted(listener, count):
    """The listener's thread counts a connection just after the client has made it."""
    deadline = time.monotonic() + 5
    while listener.accepted < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return listener.accepted


def test_redis_refusing_connections_takes_nothing_down_and_is_logged_once(
    settings, anon_client, student_client, student_user, caplog
):
    """Nothing listens on Redis's port. No backoff here: every Redis call of every
    request really tries it, and the log still says so once."""
    use_redis_at(settings, f"redis://127.0.0.1:{free_port()}/0")
    settings.REDIS_BACKOFF_SECONDS = 0
    camp = BootcampFactory(title="Open camp")
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            _assert_degraded(anon_client.get("/api/v1/health/"))
            assert anon_client.get("/api/v1/bootcamps/").json()["count"] == 1
            assert student_client.get(f"/api/v1/bootcamps/{camp.pk}/").json()["title"] == "Open camp"
            assert student_client.get("/api/v1/auth/me").json()["email"] == student_user.email
        login = anon_client.post(
            "/api/v1/auth/login", {"email": student_user.email, "password": DEFAULT_PASSWORD}, format="json"
        )
        assert login.status_code == 200 and login.json()["access"]
        renamed = student_client.patch("/api/v1/auth/me", {"full_name": "Renamed Student"}, format="json")
        assert renamed.status_code == 200
        enrolled = student_client.post("/api/v1/enrollments/", {"bootcamp": camp.pk}, format="json")
        assert enrolled.status_code == 201
        assert student_client.get("/api/v1/auth/me").json()["full_name"] == "Renamed Student"
        assert student_client.get(f"/api/v1/bootcamps/{camp.pk}/").json()["seats_taken"] == 1

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in warnings] == [(REDIS_LOGGER, "WARNING")], [
        r.getMessage() for r in warnings
    ]
    assert "Connection refused" in warnings[0].getMessage()


def test_a_hanging_redis_costs_one_timeout_then_the_worker_skips_it(
    settings, hanging_redis, anon_client, student_client, caplog
):
    """Redis accepts and never answers: the first call waits for the socket
    timeout, and every call in the backoff window after it skips Redis (the
    listener sees no second connection) until the window is over."""
    use_redis_at(settings, f"redis://127.0.0.1:{hanging_redis.port}/0")
    settings.REDIS_BACKOFF_SECONDS = 60  # longer than this part of the test
    camp = BootcampFactory()
    with caplog.at_level(logging.WARNING, logger=REDIS_LOGGER):
        # An anonymous request's first Redis call is the throttle's pipeline.
        assert anon_client.get("/api/v1/bootcamps/").status_code == 200
    assert _wait_for_accepted(hanging_redis, 1) == 1
    (warning,) = [r for r in caplog.records if r.name == REDIS_LOGGER]
    assert "TimeoutError" in warning.getMessage()  # the socket timeout ended the wait
    pool = cache.client.get_client().connection_pool
    assert pool.connection_kwargs["socket_timeout"] == pool.connection_kwargs["socket_connect_timeout"] == 0.1

    for _ in range(5):
        _assert_degraded(anon_client.get("/api/v1/health/"))
        assert anon_client.get("/api/v1/bootcamps/").status_code == 200
        assert student_client.get(f"/api/v1/bootcamps/{camp.pk}/").status_code == 200
        assert student_client.get("/api/v1/auth/me").status_code == 200
    assert hanging_redis.accepted == 1, "a call inside the backoff window waited on Redis"

    # Once the window is over, one call tries Redis again (here the health probe's PING).
    settings.REDIS_BACKOFF_SECONDS = 0.2
    time.sleep(0.3)
    _assert_degraded(anon_client.get("/api/v1/health/"))
    assert _wait_for_accepted(hanging_redis, 2) == 2


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
def test_redis_coming_back_is_used_again_and_logged_once_each_way(settings, anon_client, caplog):
    """Redis behind a proxy that is cut, then restored."""
    real = urlparse(os.environ["REDIS_URL"])
    proxy = TCPProxy(real.hostname, real.port or 6379)
    proxy.start()
    try:
        use_redis_at(settings, f"redis://127.0.0.1:{proxy.port}{real.path}")
        settings.REDIS_BACKOFF_SECONDS = 0.2
        with caplog.at_level(logging.INFO, logger=REDIS_LOGGER):
            assert anon_client.get("/api/v1/health/").json()["status"] == "healthy"
            proxy.cut("down")
            for _ in range(3):
                _assert_degraded(anon_client.get("/api/v1/health/"))
                time.sleep(0.25)  # past the backoff: each probe really tries
            proxy.start()
            time.sleep(0.25)
            assert anon_client.get("/api/v1/health/").json()["checks"]["cache"] == "ok"
            assert anon_client.get("/api/v1/health/").json()["status"] == "healthy"
    finally:
        proxy.stop()
    said = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records if r.name == REDIS_LOGGER]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
    assert "Redis answers again" in caplog.records[-1].getMessage()


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
    (failure,) = [r for r in caplog.records if "retry queued" in r.getMessage()]
    assert "req-42" in failure.getMessage()
    assert failure.request_id == "req-42"  # the field a search of the logs by request id reads
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


@pytest.fixture
def erring_redis():
    """A Redis that answers every command with an error (as one out of memory, a
    read-only replica or one lacking a command would): an answer, not an outage."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve(conn):
        with conn:
            while not stop.is_set():
                data = conn.recv(65536)
                if not data:
                    return
                # One error per command in what arrived (RESP arrays start with "*").
                conn.sendall(b"-ERR this Redis refuses everything\r\n" * max(1, data.count(b"*")))

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    server.close()


def test_a_redis_answering_errors_lets_logins_through_and_is_logged(
    settings, anon_client, caplog, erring_redis
):
    """Throttles fail open on any Redis trouble; an error answer (not a lost
    connection, which the Redis client logs) is logged by the throttle itself,
    once a minute."""
    from cohortly import throttling

    use_redis_at(settings, erring_redis)
    throttling._last_outage_log = float("-inf")
    user = User.objects.create_user(email="ann@example.com", password=DEFAULT_PASSWORD, full_name="Ann")
    User.objects.filter(pk=user.pk).update(email_verified_at=timezone.now())
    body = {"email": user.email, "password": DEFAULT_PASSWORD}
    with caplog.at_level(logging.WARNING, logger="cohortly.throttling"):
        statuses = [anon_client.post("/api/v1/auth/login", body, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    logged = [r for r in caplog.records if r.name == "cohortly.throttling"]
    assert len(logged) == 1 and "let through" in logged[0].getMessage()


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")  # anymail's notice about SendGrid
def test_a_hung_mail_provider_costs_a_request_email_timeout_not_gunicorns(
    settings, anon_client, django_capture_on_commit_callbacks
):
    """With the immediate task backend a send runs inside the request: a provider
    that accepts the connection and never answers is given up after the timeout
    (ANYMAIL REQUESTS_TIMEOUT, EMAIL_TIMEOUT by default; 1 s here), the request
    still answers, and the outbox shows the failure."""
    import socket

    from mail.models import OutboundEmail

    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    port = listener.getsockname()[1]
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {
        "SENDGRID_API_KEY": "SG.test",
        "SENDGRID_API_URL": f"http://127.0.0.1:{port}/v3/",
        "REQUESTS_TIMEOUT": 1.0,
    }
    try:
        with django_capture_on_commit_callbacks(execute=True):  # the send, as the commit runs it
            response = anon_client.post(REGISTER, NEW_USER, format="json")
    finally:
        listener.close()
    assert response.status_code == 202
    email = OutboundEmail.objects.get(to="fault@example.com")
    assert email.status == OutboundEmail.Status.FAILED
    assert "timed out" in email.last_error.lower() or "timeout" in email.last_error.lower(), email.last_error
