"""Logs and errors, in a fresh process with the settings a deploy would give it:
LOG_FORMAT=json writes one JSON object per line; with SENTRY_DSN an error reaches
Sentry (a local server speaking Sentry's envelope protocol stands in for it)
scrubbed of passwords, tokens and email bodies; without it nothing is sent."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cohortly.tests.live_servers import BASE_DIR

pytestmark = pytest.mark.slow


class SentryStandIn(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        self.server.received.append(data)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SentryStandIn)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "LOG_", "DATABASE_", "REDIS_"))
    }
    return subprocess.run(
        [sys.executable, "cohortly/tests/run_observability.py"],
        cwd=BASE_DIR,
        env={
            **clean,
            "DATABASE_URL": "sqlite:///:memory:",
            "LOG_LEVEL": "INFO",
            "PYTHONWARNINGS": "ignore",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_json_logs_one_object_per_line_with_the_request_id():
    result = run({"LOG_FORMAT": "json"})
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert lines, result.stderr
    request_log = next(
        r for r in lines if r["name"] == "cohortly.request" and r["request_id"] == "req-works-1"
    )
    assert request_log["level"] == "INFO" and request_log["time"]
    assert (
        request_log["method"] == "GET"
        and request_log["route"] == "test/works"
        and request_log["status"] == 200
    )
    assert request_log["user_id"] == "-"
    assert request_log["db_queries"] == 2
    assert request_log["duration_ms"] >= request_log["db_time_ms"] >= 0
    app_log = next(r for r in lines if r["name"] == "cohortly.tests.app")
    assert app_log["request_id"] == "req-works-1" and app_log["level"] == "WARNING"
    failed = next(r for r in lines if r["name"] == "cohortly.request" and r["request_id"] == "req-fails-1")
    assert failed["status"] == 500
    # No query string (a search for a person), Django's own lines about a failed request included.
    django_lines = [r for r in lines if r["name"] == "django.request"]
    assert django_lines and all(r["message"].endswith("/test/fails") for r in django_lines[:2])
    for secret in ("Zebedee", "plain.person", "query.person"):
        assert secret not in result.stderr


def test_the_dev_servers_own_request_lines_are_not_written():
    """runserver logs each 4xx with its query string (a search for a name or an
    address) and no request id: the request logger's line says it already."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "DATABASE_", "REDIS_"))}
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.server').warning("
        "'\"GET /api/v1/leads/?search=ada%40example.com HTTP/1.1\" 400 129'); "
        "logging.getLogger('cohortly.tests.app').warning('the app still logs')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "cohortly.settings", "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "the app still logs" in result.stderr
    assert "ada%40example.com" not in result.stderr


def test_plain_logs_stay_one_readable_line():
    result = run({})
    line = next(
        line for line in result.stderr.splitlines() if "[req-works-1]" in line and "GET /test/works" in line
    )
    assert "200" in line and "db=2/" in line


def test_errors_go_to_sentry_scrubbed_with_the_release(sentry_server):
    dsn = f"http://public0123456789abcdef@127.0.0.1:{sentry_server.server_port}/1"
    # Traces on: a transaction carries the request too.
    result = run({"SENTRY_DSN": dsn, "SENTRY_RELEASE": "0123abc-release", "SENTRY_TRACES_SAMPLE_RATE": "1"})
    assert "SENTRY_ACTIVE True" in result.stdout
    envelopes = b"\n".join(sentry_server.received).decode()
    events = [
        json.loads(line)
        for line in envelopes.splitlines()
        if line.startswith("{") and '"exception"' in line and "a bug in a view" in line
    ]
    assert len(events) == 2, envelopes[:2000]
    api_events = [
        json.loads(line)
        for line in envelopes.splitlines()
        if line.startswith("{") and '"exception"' in line and "a bug in an API view" in line
    ]
    assert len(api_events) == 1, envelopes[:2000]
    # DRF's request in the API view's frames, its query string cut off.
    assert "<rest_framework.request.Request: GET '/test/api-fails'>" in json.dumps(api_events[0])
    event = events[0]
    assert event["release"] == "0123abc-release"
    assert event["exception"]["values"][-1]["value"] == "a bug in a view, for [address]"
    assert event["transaction"] == "/test/fails"
    assert event["request"]["data"]["password"] == "[Filtered]"
    # The address posted, in the request's data, a local, a log line and the error's text.
    assert event["request"]["data"]["email"] == "[Filtered]"
    # The search: in its query string, the Referer header, the request's repr in a frame.
    searched = events[1]
    assert "query_string" not in searched["request"]
    assert searched["request"]["url"].endswith("/test/fails")
    assert searched["request"]["headers"]["Referer"] == "http://testserver/admin/"
    secrets = ("Hunter2-Very-Secret", "TOKEN-THAT-MUST-NOT-LEAK", "SECRET-LINK", "ada@example.com")
    assert '"type":"transaction"' in envelopes.replace(" ", "")
    for secret in (*secrets, "query.person", "plain.person", "referer.person", "Zebedee"):
        assert secret not in envelopes
    assert "[Filtered]" in envelopes


def test_the_release_is_the_git_commit_by_default(sentry_server):
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True, check=False
    ).stdout.strip()
    if not commit:
        pytest.skip("not a git checkout")
    dsn = f"http://public0123456789abcdef@127.0.0.1:{sentry_server.server_port}/1"
    run({"SENTRY_DSN": dsn})
    envelopes = b"\n".join(sentry_server.received).decode()
    assert f'"release":"{commit}"' in envelopes.replace(" ", "")


def test_without_a_dsn_nothing_is_sent(sentry_server):
    result = run({})
    assert "SENTRY_ACTIVE False" in result.stdout
    assert sentry_server.received == []
