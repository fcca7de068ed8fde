"""A real server losing its database: bounded 503s in the API's shape, then recovery."""

import json
import time

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from cohortly.tests.live_servers import database_url_for_servers, gunicorn, request
from cohortly.tests.tcp_proxy import TCPProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _timed(method, url, **kwargs):
    started = time.monotonic()
    status, body = request(method, url, **kwargs)
    return status, body, time.monotonic() - started


def test_database_outage_gives_bounded_503s_and_service_resumes_by_itself():
    settings = connection.settings_dict
    proxy = TCPProxy(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    proxy.start()
    user = UserFactory(role="STUDENT")
    token = str(AccessToken.for_user(user))
    db_url = database_url_for_servers().replace(f":{settings['PORT'] or 5432}/", f":{proxy.port}/")
    assert f":{proxy.port}/" in db_url, db_url
    env = {"DATABASE_URL": db_url, "DB_CONNECT_TIMEOUT": "2", "METRICS_TOKEN": "metrics-token-0123456789"}
    try:
        with gunicorn(workers=1, env=env) as base:
            assert request("GET", f"{base}/api/v1/auth/me", token=token)[0] == 200

            for mode in ("down", "blackhole"):  # refused at once / never answers
                proxy.cut(mode)
                status, body, took = _timed("GET", f"{base}/api/v1/health")
                assert status == 503, body
                error = json.loads(body)
                assert set(error) == {"type", "errors"}, error
                assert [e["attr"] for e in error["errors"]] == ["database"]
                assert took < 6, f"health took {took:.1f}s with the database {mode}"

                status, body, took = _timed("GET", f"{base}/api/v1/auth/me", token=token)
                assert status == 503, body
                error = json.loads(body)
                assert error["type"] == "server_error"
                assert error["errors"][0]["code"] == "service_unavailable"
                assert took < 6

                # Prometheus still gets the request metrics, in one connect timeout, not
                # one per database number (past its 10 s scrape timeout it gets nothing).
                status, body, took = _timed("GET", f"{base}/metrics", token="metrics-token-0123456789")
                assert status == 200, body[:300]
                assert b"cohortly_http_request" in body and b"cohortly_tasks" not in body
                assert took < 4, f"/metrics took {took:.1f}s with the database {mode}"

                # The pages say so too (a signed-in page reads its session from the database).
                for page in ("/sales/", "/admin/"):
                    status, body, took = _timed(
                        "GET", f"{base}{page}", headers={"Cookie": "sessionid=" + "a1" * 16}
                    )
                    assert status == 503, (page, body[:300])
                    assert b"Cohortly is unavailable for a moment" in body, body[:300]
                    assert took < 6

                proxy.start()
                deadline = time.monotonic() + 15
                while request("GET", f"{base}/api/v1/health")[0] != 200:
                    assert time.monotonic() < deadline, "did not recover"
                    time.sleep(0.2)
                assert request("GET", f"{base}/api/v1/auth/me", token=token)[0] == 200
    finally:
        proxy.stop()


def test_an_outage_is_logged_in_one_line_a_request_without_a_traceback(tmp_path):
    """While the database is away every request fails the same way: a traceback
    each (the API's error report, the throttle's cache) would bury the log."""
    settings = connection.settings_dict
    proxy = TCPProxy(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    proxy.start()
    token = str(AccessToken.for_user(UserFactory(role="STUDENT")))
    db_url = database_url_for_servers().replace(f":{settings['PORT'] or 5432}/", f":{proxy.port}/")
    # Without Redis the throttles count in the database cache, which is down too.
    env = {
        "DATABASE_URL": db_url,
        "DB_CONNECT_TIMEOUT": "2",
        "REDIS_URL": "",
        "METRICS_TOKEN": "metrics-0123456789",
    }
    log = tmp_path / "server.log"
    try:
        with log.open("wb") as output, gunicorn(workers=1, env=env, output=output) as base:
            proxy.cut("down")
            # Signed in (the user is read first), then anonymous (the throttle counts first).
            for path, bearer in [("/api/v1/auth/me", token), ("/api/v1/bootcamps/1/", token)] + [
                ("/api/v1/bootcamps/", None)
            ] * 2:
                status, body = request("GET", f"{base}{path}", token=bearer)
                assert status == 503 and b"service_unavailable" in body, (path, body)
            assert request("GET", f"{base}/metrics", token="metrics-0123456789")[0] == 200
    finally:
        proxy.stop()
    printed = log.read_text()
    assert printed.count("database unavailable: connection failed") == 4, printed
    assert "throttle cache unavailable" not in printed  # the request's own 503 line says it
    assert printed.count("metrics: database numbers left out") == 1, printed
    assert "Traceback" not in printed, printed


def test_without_redis_a_request_waits_for_an_unanswering_database_once():
    """Without Redis the throttles count in the database: each of a request's
    throttles waited out the connect timeout in turn, then the view (a login four
    times DB_CONNECT_TIMEOUT, 20 s with the default 5 s)."""
    settings = connection.settings_dict
    proxy = TCPProxy(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    proxy.start()
    db_url = database_url_for_servers().replace(f":{settings['PORT'] or 5432}/", f":{proxy.port}/")
    env = {"DATABASE_URL": db_url, "DB_CONNECT_TIMEOUT": "2", "REDIS_URL": ""}
    login = {"email": "ada@example.com", "password": "Long-Secret-Phrase-9"}
    try:
        with gunicorn(workers=1, env=env) as base:
            proxy.cut("blackhole")
            for method, path, body in [
                ("GET", "/api/v1/bootcamps/", None),
                ("POST", "/api/v1/auth/login", login),
            ]:
                status, answer, took = _timed(method, f"{base}{path}", json_body=body)
                assert status == 503 and b"service_unavailable" in answer, (path, answer)
                assert took < 3.5, f"{path} took {took:.1f}s: more than one wait of 2 s"
    finally:
        proxy.stop()


def test_only_an_unreachable_database_or_a_lock_wait_is_an_outage():
    """A deadlock or a bad query is a bug to see whole (a 500 with its traceback),
    not "try again later": the API and the pages classify alike."""
    import psycopg
    from django.db import InterfaceError, OperationalError

    from cohortly.locking import is_database_outage

    def raised_by(error):
        exc = OperationalError(str(error))
        exc.__cause__ = error
        return exc

    assert is_database_outage(raised_by(psycopg.errors.LockNotAvailable("lock timeout")))
    assert is_database_outage(raised_by(psycopg.errors.AdminShutdown("terminating")))
    assert is_database_outage(raised_by(psycopg.OperationalError("connection refused")))  # no SQLSTATE
    assert is_database_outage(InterfaceError("connection already closed"))
    assert not is_database_outage(raised_by(psycopg.errors.DeadlockDetected("deadlock detected")))
    assert not is_database_outage(raised_by(psycopg.errors.QueryCanceled("statement timeout")))
