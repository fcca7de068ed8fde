"""Cross-cutting behaviour: health, docs, error shape, slashes, request ids, CORS, settings."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from cohortly.tests.openapi_checks import assert_documented
from conftest import assert_error

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_health_checks_the_database(anon_client):
    response = anon_client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"]["database"] == "ok"


def test_health_is_503_when_the_database_fails(anon_client):
    with mock.patch("cohortly.health._database_ok", return_value=False):
        response = anon_client.get("/api/v1/health/")
    body = assert_error(response, 503, code="service_unavailable", attr="database")
    assert body["type"] == "server_error"
    assert body["errors"] == [
        {"code": "service_unavailable", "detail": "The database is unavailable.", "attr": "database"}
    ]
    assert response["Retry-After"] == "10"  # as the schema says every 503 does
    assert_documented(response)


def test_home_links_docs_and_admin(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "/api/docs" in page.text and "/admin/" in page.text
    data = client.get("/", HTTP_ACCEPT="application/json").json()
    assert data["links"]["docs"] == "/api/docs" and data["links"]["admin"] == "/admin/"


def test_home_keeps_an_admin_path_of_its_own_from_everyone_but_admins(client, settings, make_user):
    """ADMIN_URL of its own keeps scanners away; the front door gave it to anyone."""
    settings.ADMIN_URL = "backoffice-7c1e/"
    assert "backoffice" not in client.get("/").text
    assert "admin" not in client.get("/", HTTP_ACCEPT="application/json").json()["links"]
    client.force_login(make_user("SALES"))
    assert "backoffice" not in client.get("/").text
    client.force_login(make_user("ADMIN"))
    assert 'href="/backoffice-7c1e/"' in client.get("/").text


def test_docs_are_served_without_a_cdn(client):
    for url in ("/api/docs", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        assert "drf_spectacular_sidecar" in page.text
        assert "cdn.jsdelivr" not in page.text and "unpkg.com" not in page.text


def test_health_probes_at_most_once_per_interval(anon_client, settings):
    settings.HEALTH_CHECK_INTERVAL = 60
    from cohortly import health

    health._last.update(at=float("-inf"), checks=None)
    with mock.patch("cohortly.health._database_ok", return_value=True) as probe:
        for _ in range(3):
            assert anon_client.get("/api/v1/health").status_code == 200
    assert probe.call_count == 1
    health._last.update(at=float("-inf"), checks=None)


def test_a_missing_cache_table_makes_the_instance_degraded(anon_client, settings, caplog):
    """Without Redis the throttles count in the database cache. A deploy that ran
    `migrate` but not `createcachetable` has none, and the throttles refuse
    nothing: health says so, where it used to say healthy."""
    if settings.REDIS_URL:
        pytest.skip("the database cache is the default only without Redis")
    from django.db import connection

    from cohortly import health

    health._last.update(at=float("-inf"), checks=None)
    assert anon_client.get("/api/v1/health").json()["checks"] == {"database": "ok", "cache": "ok"}
    health._last.update(at=float("-inf"), checks=None)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE cohortly_cache")  # undone with the test's transaction
    body = anon_client.get("/api/v1/health").json()
    health._last.update(at=float("-inf"), checks=None)
    assert (body["status"], body["checks"]) == ("degraded", {"database": "ok", "cache": "unavailable"})
    assert "health: cache unavailable" in caplog.text


def test_with_the_database_down_the_database_cache_is_not_asked_again(anon_client, settings):
    """Each try waits out the connect timeout: a balancer's probe would time out."""
    if settings.REDIS_URL:
        pytest.skip("the database cache is the default only without Redis")
    from cohortly import health

    health._last.update(at=float("-inf"), checks=None)
    with (
        mock.patch("cohortly.health._database_ok", return_value=False),
        mock.patch("cohortly.health._cache_ok") as cache_probe,
    ):
        response = anon_client.get("/api/v1/health")
    health._last.update(at=float("-inf"), checks=None)
    assert response.status_code == 503
    assert cache_probe.call_count == 0
    assert health._checks()["cache"] == "ok"  # asked again once the database is back


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_health_answers_405_to_other_methods(method):
    # As a real client meets it: CSRF checked (the test client skips that by default).
    client = APIClient(enforce_csrf_checks=True)
    for path in ("/api/v1/health", "/api/v1/health/"):
        response = getattr(client, method)(path, {}, format="json")
        assert_error(response, 405, code="method_not_allowed")
        assert response["Allow"] == "GET, HEAD"


def test_health_answers_head_as_every_get_route_does(anon_client):
    # An uptime monitor probing with HEAD read a 405 as the instance down.
    for path in ("/api/v1/health", "/api/v1/health/", "/api/v1/bootcamps/"):
        response = anon_client.head(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.content == b""


def test_schema_is_openapi_with_jwt_and_error_responses(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    login = schema["paths"]["/api/v1/auth/login/"]["post"]
    assert {"200", "400", "401", "429"} <= set(login["responses"])
    assert set(schema["paths"]["/api/v1/health/"]["get"]["responses"]) == {"200", "405", "503"}


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi:")


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/register/"])
def test_routes_answer_with_and_without_trailing_slash_without_redirect(anon_client, path):
    response = anon_client.post(
        path, {"email": "slash@example.com", "password": "Quiet-Harbour-77", "full_name": "S"}, format="json"
    )
    assert response.status_code == 202


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/users/"])
def test_router_routes_answer_both_ways(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_unknown_api_route_is_json_404(anon_client):
    assert_error(anon_client.get("/api/v1/does-not-exist/"), 404, code="not_found")
    assert_error(anon_client.post("/api/v2/anything", {}, format="json"), 404, code="not_found")


def test_wrong_method_is_json_405(anon_client):
    assert_error(anon_client.get("/api/v1/auth/login"), 405, code="method_not_allowed")


def test_wrong_content_type_is_json_415(anon_client):
    response = anon_client.post(
        "/api/v1/auth/login", "email=a", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, code="unsupported_media_type")


@pytest.mark.parametrize("body", ["{not json", "[]", '"a string"', "null", "12"])
def test_malformed_or_non_object_json_is_400(anon_client, body):
    response = anon_client.post("/api/v1/auth/register", body, content_type="application/json")
    assert_error(response, 400)


def test_unhandled_exception_is_json_500_without_traceback(anon_client, caplog):
    anon_client.raise_request_exception = False
    with (
        mock.patch(
            "accounts.api.views.services.password_reset_request", side_effect=RuntimeError("secret detail")
        ),
        caplog.at_level(logging.ERROR),
    ):
        response = anon_client.post("/api/v1/auth/password/reset", {"email": "a@example.com"}, format="json")
    body = assert_error(response, 500)
    assert body["type"] == "server_error"
    assert "secret detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_request_id_is_kept_or_generated_and_logged(anon_client, caplog):
    with caplog.at_level(logging.INFO, logger="cohortly.request"):
        response = anon_client.get("/api/v1/health", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    line = next(r for r in caplog.records if r.name == "cohortly.request")
    assert line.request_id == "abc-123"
    assert "GET /api/v1/health 200" in line.getMessage()
    generated = anon_client.get("/api/v1/health")["X-Request-ID"]
    assert len(generated) == 32
    # Header injection or junk is replaced, not echoed.
    assert anon_client.get("/api/v1/health", HTTP_X_REQUEST_ID="bad id\nx")["X-Request-ID"] != "bad id\nx"


def test_djangos_line_for_an_error_answer_carries_the_request_id(anon_client):
    """Django writes "Service Unavailable: <path>" (every request of a database
    outage) after the middleware has returned: the line still names the request."""
    from cohortly.middleware import RequestIDLogFilter

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RequestIDLogFilter())
    django_request = logging.getLogger("django.request")
    django_request.addHandler(handler)
    try:
        with mock.patch("cohortly.health._database_ok", return_value=False):
            response = anon_client.get("/api/v1/health", HTTP_X_REQUEST_ID="outage-7")
    finally:
        django_request.removeHandler(handler)
    assert response.status_code == 503
    assert [(r.getMessage(), r.request_id) for r in records] == [
        ("Service Unavailable: /api/v1/health", "outage-7")
    ]


def test_a_line_break_in_the_path_cant_start_a_made_up_log_line(anon_client, caplog):
    forged = "2026-12-08 02:00:00,000 ERROR cohortly.payments [req-1] refund sent"
    with caplog.at_level(logging.INFO, logger="cohortly.request"):
        response = anon_client.get(f"/api/v1/x%0A{forged}%0A")
    assert response.status_code == 404
    line = next(r for r in caplog.records if r.name == "cohortly.request")
    assert "\n" not in line.getMessage() and "\n" not in line.path
    assert line.getMessage().startswith(f"GET /api/v1/x\\n{forged}\\n 404 ")


def test_request_log_names_the_user(student_client, student_user, caplog):
    with caplog.at_level(logging.INFO, logger="cohortly.request"):
        student_client.get("/api/v1/auth/me")
    line = next(r for r in caplog.records if r.name == "cohortly.request")
    assert f"user={student_user.pk}" in line.getMessage()


def test_cors_allows_only_configured_origins(anon_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    ok = anon_client.get("/api/v1/health", HTTP_ORIGIN="https://app.example.com")
    assert ok["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = anon_client.get("/api/v1/health", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other


def test_a_browser_frontend_may_send_a_request_id_and_read_a_download_name(anon_client, settings):
    # The README invites an X-Request-ID; the preflight refused it, so the browser sent nothing.
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    preflight = anon_client.options(
        "/api/v1/bootcamps/",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,x-request-id",
    )
    assert preflight.status_code == 200
    allowed = {name.strip() for name in preflight["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id"} <= allowed
    answer = anon_client.get("/api/v1/bootcamps/", HTTP_ORIGIN="https://app.example.com")
    exposed = {name.strip().lower() for name in answer["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "retry-after", "content-disposition"} <= exposed


def test_oversized_body_is_413_in_the_error_shape(anon_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = {"email": "big@example.com", "password": "Quiet-Harbour-77", "full_name": "x" * 5000}
    response = anon_client.post("/api/v1/auth/register", payload, format="json")
    assert_error(response, 413, code="payload_too_large")


def _python(*args, env, timeout=120):
    # Only what the documented environment says: nothing leaks in from the test run.
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=timeout
    )


def _manage(*args, env):
    return _python("manage.py", *args, env=env)


def _production_env():
    env = {}
    for line in (BASE_DIR / ".env.production.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    env["SECRET_KEY"] = "k8Jq2w-" + "Zr5vT9xLp3Nc7Hb1Md6Gf4Ks0Wy8Qe2Ua" * 2
    env["DATABASE_URL"] = "sqlite:////tmp/cohortly-deploy-check.sqlite3"
    # The example's other <…> stand-ins, filled in as the operator would.
    for key, value in env.items():
        if "<" in value:
            env[key] = re.sub(r"<[^>]*>", "Xy7" + "q" * 40, value)
    return env


def test_deploy_check_is_clean_for_the_documented_production_environment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("unset", "change", "said"),
    [
        ("FRONTEND_URL", {}, "cohortly.W001"),
        ("SITE_URL", {"FRONTEND_URL": "http://127.0.0.1:8000"}, "cohortly.W004"),
        (None, {"SITE_URL": "http://cohortly.example.com"}, "cohortly.W004"),
        (None, {"FRONTEND_URL": "cohortly.example.com"}, "cohortly.W001"),
        ("DEFAULT_FROM_EMAIL", {}, "cohortly.W002"),
        (None, {"TASKS_BACKEND": "immediate"}, "cohortly.W003"),
        ("SENTRY_RELEASE", {}, "cohortly.W005"),
        ("EMAIL_BACKEND", {}, "cohortly.W006"),
        ("ANYMAIL_SENDGRID_API_KEY", {}, "cohortly.W006"),
    ],
)
def test_the_deploy_check_says_what_would_quietly_break_email(unset, change, said):
    """Each started cleanly with DEBUG off and then failed people quietly: links
    to 127.0.0.1 in every welcome email, a sender the provider refuses, mail
    sent inside requests. `check --deploy` says so."""
    env = {**_production_env(), **change}
    env.pop(unset, None)
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0 and said in result.stdout + result.stderr


def test_a_mail_server_named_on_this_machine_is_taken_at_its_word():
    env = {**_production_env(), "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    env["EMAIL_HOST"] = "127.0.0.1"
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_email_backend_that_doesnt_import_is_an_error_of_every_check():
    env = {**_production_env(), "EMAIL_BACKEND": "anymail.backends.sendgird.EmailBackend"}
    result = _manage("check", env=env)
    assert result.returncode != 0 and "cohortly.E001" in result.stdout + result.stderr


def test_refuses_to_start_without_a_real_secret_key_when_debug_is_off():
    env = _production_env()
    env.pop("SECRET_KEY")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    env["SECRET_KEY"] = "django-insecure-short"
    assert _manage("check", env=env).returncode != 0


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        (
            "ANYMAIL_WEBHOOK_SECRET",
            "sendgrid:<a long random password>",
            "still holds the example's <…> text",
        ),
        ("SECRET_KEY", '<a long random value: python -c "import secrets">' * 2, "still holds the example's"),
        (
            "SENTRY_RELEASE",
            "<the commit deployed: git rev-parse HEAD>",
            "SENTRY_RELEASE still holds the example's",
        ),
        (
            "THROTTLE_LOGIN_RATE",
            "ten",
            "THROTTLE_LOGIN_RATE must be a number of requests per s, min, hour or day",
        ),
        ("THROTTLE_USER_RATE", "100/fortnight", "THROTTLE_USER_RATE must be"),
        # DRF reads a period by its first letter: this was 100 a minute.
        ("THROTTLE_REGISTER_RATE", "100/month", "THROTTLE_REGISTER_RATE must be"),
        ("REDIS_URL", "http://redis.example.com:6379/0", "REDIS_URL must be a redis://"),
        ("JWT_SIGNING_KEY", "changeme", "JWT_SIGNING_KEY must be a long random value"),
        ("SECURE_SSL_REDIRECT", "enabled", "SECURE_SSL_REDIRECT must be true or false (it is 'enabled')"),
        # django-environ read "t" as false.
        ("SESSION_COOKIE_SECURE", "t", "SESSION_COOKIE_SECURE must be true or false (it is 't')"),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT must be a whole number (it is 'smtp')"),
        ("DB_CONN_MAX_AGE", "abc", "DB_CONN_MAX_AGE must be a whole number"),
        ("TASKS_BACKEND", "db", "TASKS_BACKEND must be immediate or database (it is 'db')"),
        ("DATABASE_URL", "nonsense", "DATABASE_URL must be a postgres://"),
        ("DATABASE_URL", "postgress://u@h/db", "DATABASE_URL must be a postgres://"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", "0", "must be 1 or more"),
        ("EMAIL_MAX_ATTEMPTS", "0", "EMAIL_MAX_ATTEMPTS must be 1 or more"),
        ("PASSWORD_RESET_TIMEOUT", "0", "PASSWORD_RESET_TIMEOUT must be a number of seconds, 60 or more"),
        ("EMAIL_VERIFICATION_TIMEOUT", "0", "EMAIL_VERIFICATION_TIMEOUT must be a number of seconds"),
        (
            "ANYMAIL_REQUESTS_TIMEOUT",
            "ten",
            "ANYMAIL_REQUESTS_TIMEOUT must be a number of seconds (it is 'ten')",
        ),
        (
            "ANYMAIL_REQUESTS_TIMEOUT",
            "-1",
            "ANYMAIL_REQUESTS_TIMEOUT must be a number of seconds, more than 0",
        ),
        ("ADMIN_URL", "backoffice", "ADMIN_URL must be a path without a leading slash and ending in one"),
        ("ADMIN_URL", "/backoffice/", "ADMIN_URL must be a path"),
        ("REDIS_URL", "redis://:p#ss@127.0.0.1:6379/12", "REDIS_URL can't be read"),
        ("REDIS_URL", "redis://127.0.0.1:notaport/0", "REDIS_URL can't be read"),
        ("NUM_PROXIES", "-1", "NUM_PROXIES must be 0 or more"),
        ("TIME_ZONE", "Mars/Base", "TIME_ZONE must be an IANA time zone name such as UTC"),
        ("TIME_ZONE", "../etc/passwd", "TIME_ZONE must be an IANA time zone name"),
        ("SENTRY_DSN", "https://<key>@<org>.ingest.sentry.io/<project id>", "SENTRY_DSN still holds"),
        ("SENTRY_DSN", "sentry.example.com/1", "SENTRY_DSN must be the DSN your Sentry project shows"),
        (
            "ANYMAIL_POSTMARK_SERVER_TOKEN",
            "<your Postmark server token>",
            "ANYMAIL_POSTMARK_SERVER_TOKEN still",
        ),
        ("ANYMAIL_DEBUG_API_REQUESTS", "maybe", "ANYMAIL_DEBUG_API_REQUESTS must be true or false"),
        ("EMAIL_USE_SSL", "sometimes", "EMAIL_USE_SSL must be true or false"),
        ("EMAIL_TIMEOUT", "0", "EMAIL_TIMEOUT must be a number of seconds, more than 0"),
        ("DATA_UPLOAD_MAX_MEMORY_SIZE", "0", "DATA_UPLOAD_MAX_MEMORY_SIZE must be a number of bytes"),
        ("SECURE_HSTS_SECONDS", "-1", "SECURE_HSTS_SECONDS must be a number of seconds, 0 (off) or more"),
        ("EMAIL_PORT", "70000", "EMAIL_PORT must be a port number, 1 to 65535"),
    ],
)
def test_a_value_that_would_break_requests_later_stops_the_start_now(name, value, said):
    """Each of these started, passed `check` and the health check, and then
    failed every request it touched (or let anyone forge what it guards)."""
    env = {**_production_env(), name: value}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert said in result.stderr
    assert _manage("check", env=_production_env()).returncode == 0


def test_a_redis_url_that_cant_be_read_stops_the_start_without_printing_its_password():
    env = {**_production_env(), "REDIS_URL": "redis://:Hunter2Secret#x@127.0.0.1:6379/0"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "Hunter2Secret" not in result.stdout + result.stderr
    assert "REDIS_URL can't be read" in result.stderr and "# as %23" in result.stderr


def test_a_database_wait_of_zero_and_two_kinds_of_smtp_encryption_stop_the_start():
    env = {**_production_env(), "DATABASE_URL": "postgres://u@db.example.com/cohortly"}
    result = _manage("check", env={**env, "DB_CONNECT_TIMEOUT": "0"})
    assert result.returncode != 0 and "DB_CONNECT_TIMEOUT must be a positive number" in result.stderr
    result = _manage("check", env={**_production_env(), "EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"})
    assert result.returncode != 0 and "not both" in result.stderr


@pytest.mark.parametrize(("value", "dumping"), [("false", False), ("0", False), ("true", True)])
def test_anymails_yes_no_settings_are_read_as_yes_or_no(value, dumping):
    """ "false" was passed on as text, which is true: every send's API key,
    recipients and links went to the log, and `check --deploy` said nothing."""
    env = {**_production_env(), "ANYMAIL_DEBUG_API_REQUESTS": value}
    shown = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ANYMAIL['DEBUG_API_REQUESTS'])",
        env=env,
    )
    assert shown.stdout.strip().splitlines()[-1] == str(dumping), shown.stderr
    checked = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert ("anymail.W002" in checked.stderr + checked.stdout) is dumping
    assert (checked.returncode != 0) is dumping


def test_rates_and_urls_written_as_drf_and_redis_read_them_start():
    env = {**_production_env(), "THROTTLE_USER_RATE": "1000/days", "THROTTLE_LOGIN_RATE": "10/mins"}
    env["REDIS_URL"] = "REDIS://redis.example.com:6379/0"
    result = _manage("check", env=env)
    assert result.returncode == 0, result.stderr


_SQLITE_WRITERS = """
import threading, time
import django
django.setup()
from django.db import connection, connections, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE tally (n integer)")
failures = []

def writer():
    try:
        with transaction.atomic():  # read, then write: what a service does
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM tally")
                time.sleep(0.05)
                cursor.execute("INSERT INTO tally VALUES (1)")
    except Exception as exc:
        failures.append(repr(exc))
    finally:
        connections.close_all()

threads = [threading.Thread(target=writer) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT COUNT(*) FROM tally")
    print(cursor.fetchone()[0], failures)
"""


def test_the_embedded_database_queues_concurrent_writers_instead_of_failing(tmp_path):
    # `make run`'s SQLite: eight transactions that read and then write, at once.
    # Each waits for the write lock in turn; none fails with "database is locked".
    env = {
        "DJANGO_SETTINGS_MODULE": "cohortly.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    result = _python("-c", _SQLITE_WRITERS, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8 []"


def test_createcachetable_makes_the_database_cache_even_while_redis_is_configured(tmp_path):
    """Deploys run createcachetable; with REDIS_URL set it made nothing, and a
    deployment that later dropped Redis had throttles counting nothing."""
    import sqlite3

    env = {
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = _manage("createcachetable", env=env)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "cohortly_cache" in tables


@pytest.mark.parametrize(
    "env, seconds", [({}, 10.0), ({"EMAIL_TIMEOUT": "4"}, 4.0), ({"ANYMAIL_REQUESTS_TIMEOUT": "2.5"}, 2.5)]
)
def test_the_mail_providers_timeout_is_email_timeout_unless_set(env, seconds):
    """anymail's own default is 30 s, all of gunicorn's request timeout."""
    code = "from django.conf import settings; print(settings.ANYMAIL['REQUESTS_TIMEOUT'])"
    result = _manage("shell", "-c", code, env={"DEBUG": "true", **env})
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip().splitlines()[-1]) == seconds


def test_every_documented_route_resolves_with_and_without_its_trailing_slash():
    """The README's promise, for every path of the schema: both forms reach the
    same view (no redirect, which would drop a POST's body)."""
    import re

    from django.urls import Resolver404, resolve

    from cohortly.tests.openapi_checks import api_schema

    unresolved = []
    for path in api_schema()["paths"]:
        concrete = re.sub(r"\{[^}]+\}", "1", path).rstrip("/")
        views = set()
        for form in (concrete, concrete + "/"):
            try:
                views.add(resolve(form).func.__name__)
            except Resolver404:
                unresolved.append(form)
        assert len(views) <= 1, (path, views)
    assert unresolved == []


def test_answers_to_credentialed_requests_are_not_stored_by_browsers(client_for, client, make_user):
    """Signed in (a token, or the sales pages' session): no-store, so the back
    button after signing out shows nothing. Anonymous: the public catalogue
    stays cacheable. A view's own header is kept."""
    from bootcamps.tests.factories import BootcampFactory

    BootcampFactory()
    sales_api, _ = client_for("SALES")
    for path in ("/api/v1/leads/", "/api/v1/bootcamps/", "/api/v1/does-not-exist/"):
        assert sales_api.get(path)["Cache-Control"] == "no-store, private", path
    anonymous = client_for(None)[0].get("/api/v1/bootcamps/")
    assert anonymous.status_code == 200 and "Cache-Control" not in anonymous

    client.force_login(make_user("SALES"))
    page = client.get("/sales/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store, private"
    assert client.get("/sales/leads/export.csv")["Cache-Control"] == "no-store"  # its own


@pytest.mark.parametrize("role, offers_post", [("STUDENT", False), ("SALES", False), ("ADMIN", True)])
def test_options_offers_an_action_only_to_the_roles_that_may_call_it(client_for, role, offers_post):
    """A generated UI reads OPTIONS for its buttons: a student is not offered the
    staff's status change of their own enrollment."""
    from enrollments.tests.factories import EnrollmentFactory

    client, user = client_for(role)
    enrollment = EnrollmentFactory(student=user) if role == "STUDENT" else EnrollmentFactory()
    response = client.options(f"/api/v1/enrollments/{enrollment.pk}/status/")
    assert response.status_code == 200
    assert ("POST" in response.json().get("actions", {})) is offers_post


@pytest.mark.parametrize("role", [None, "STUDENT", "SALES"])
def test_options_describes_a_route_to_whoever_may_use_any_of_its_methods(client_for, role):
    """The lead list's route takes the public form's POST: its OPTIONS answered
    401 to anonymous callers and 403 to students, who may post there."""
    client, _ = client_for(role)
    response = client.options("/api/v1/leads/")
    assert response.status_code == 200, response.content
    # The form's fields, as the form's serializer takes them (not the staff's read-only view).
    form = response.json()["actions"]["POST"]
    assert form["full_name"]["read_only"] is False and form["email"]["required"] is True
    assert "converted_student" not in form
    assert "GET, POST" in response["Allow"]
    # A route nobody anonymous may use at all is still a 401.
    if role is None:
        assert_error(client.options("/api/v1/users/"), 401)
    elif role == "STUDENT":
        assert_error(client.options("/api/v1/users/"), 403)


def test_a_request_for_another_host_is_a_400_and_a_line_not_a_traceback(client, caplog, settings):
    settings.ALLOWED_HOSTS = ["cohortly.example.com"]
    with caplog.at_level(logging.INFO):
        response = client.get("/api/v1/health", HTTP_HOST="scanner.invalid")
    assert response.status_code == 400
    assert not [record for record in caplog.records if record.exc_info]
    assert not [record for record in caplog.records if record.name.startswith("django.security")]
    (line,) = [record for record in caplog.records if record.name == "cohortly.request"]
    assert line.status == 400


def test_options_describes_a_post_with_the_serializer_its_action_takes(client_for):
    """A viewset answers OPTIONS as the action "metadata": enrolling and creating a
    user were described with their read serializers, nothing writable."""
    admin, _ = client_for("ADMIN")
    enroll = admin.options("/api/v1/enrollments/").json()["actions"]["POST"]
    assert set(enroll) == {"bootcamp", "student"}
    user = admin.options("/api/v1/users/").json()["actions"]["POST"]
    assert user["role"]["read_only"] is False and "password" in user and "date_joined" not in user
    # Still only what the caller may call.
    student, _ = client_for("STUDENT")
    assert "POST" in student.options("/api/v1/enrollments/").json()["actions"]
    assert_error(student.options("/api/v1/users/"), 403)


def test_options_describes_coursework_posts_with_what_they_take(client_for):
    """Creating an assignment, handing work in, grading and returning it built
    their serializers in the view: OPTIONS described each POST with the
    assignment or submission it answers, every field read-only."""
    from assignments.tests.factories import AssignmentFactory, SubmissionFactory, enroll

    admin, _ = client_for("ADMIN")

    def writable(client, path):
        response = client.options(path)
        assert response.status_code == 200, response.content
        return {name for name, field in response.json()["actions"]["POST"].items() if not field["read_only"]}

    assert writable(admin, "/api/v1/assignments/") == {
        "bootcamp",
        "title",
        "description",
        "due_at",
        "max_score",
        "is_published",
    }
    submission = SubmissionFactory()
    assert writable(admin, f"/api/v1/submissions/{submission.pk}/grade/") == {
        "score",
        "feedback",
        "submitted_at",
    }
    assert writable(admin, f"/api/v1/submissions/{submission.pk}/return/") == {"feedback"}
    student, user = client_for("STUDENT")
    assignment = AssignmentFactory()
    enroll(user, assignment.bootcamp)
    assert writable(student, f"/api/v1/assignments/{assignment.pk}/submissions/") == {"content", "link"}
