"""Real gunicorn servers on loopback for the multi-process tests.

They run the project against the test database (PostgreSQL only: an in-memory
SQLite database can't be shared between processes) and, where given, Redis.
"""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import requests
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_servers() -> str:
    """The URL of the database this test session created (test_<name>)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def gunicorn(
    *,
    workers: int = 2,
    env: dict | None = None,
    timeout: float = 30.0,
    config: str = "python:cohortly.tests.gunicorn_test_config",
    output=None,
):
    """Start `gunicorn cohortly.wsgi` with `workers` processes; yield its base URL.
    `config` is gunicorn's --config (the project's gunicorn.conf.py to test its hooks);
    `output`, an open file, takes what the server prints (its log)."""
    port = free_port()
    server_env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "cohortly.settings_test",
        "DATABASE_URL": database_url_for_servers(),
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "cohortly.wsgi:application",
            "--config",
            config,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
        ],
        cwd=BASE_DIR,
        env=server_env,
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                printed = process.stdout.read().decode() if output is None else "(see its output file)"
                raise RuntimeError(f"gunicorn exited: {printed[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not become healthy in time")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(
    method: str,
    url: str,
    *,
    json_body: dict | None = None,
    token: str | None = None,
    headers: dict | None = None,
):
    """(status, body bytes) of one HTTP request; never raises on an HTTP error."""
    import json

    data = None if json_body is None else json.dumps(json_body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


#: How long a racing request may take (seconds).
RACE_TIMEOUT = 60


class RaceServer(ThreadedWSGIServer):
    # Django's test server listens with a backlog of 10; 25 simultaneous
    # connections would overflow it and be reset before reaching the app.
    request_queue_size = 128


class RaceServerThread(LiveServerThread):
    """A threaded live server in this process (one thread and one database
    connection per request, like pytest-django's) that accepts a burst of
    connections: for real concurrent requests against the test database."""

    server_class = RaceServer

    @classmethod
    @contextlib.contextmanager
    def running(cls):
        thread = cls("127.0.0.1", static_handler=lambda app: app)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        thread.url = f"http://127.0.0.1:{thread.port}"
        try:
            yield thread
        finally:
            thread.terminate()


def race(calls):
    """Run every call in its own thread, released together by a barrier.
    Returns the responses in the order of `calls`."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        with requests.Session() as session:  # one connection per thread
            barrier.wait()
            try:
                results[i] = call(session)
            except Exception as exc:  # surfaced by the assertions below
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT)
    return results
