#!/usr/bin/env python3
"""Cohortly's load benchmark: gunicorn on loopback, PostgreSQL, scale-1 data, wrk.

    make bench                      # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --only minimal,bootcamps_list --duration 5 --no-write
    .venv/bin/python bench/run.py --profile bootcamps_list     # also py-spy one worker
    .venv/bin/python bench/run.py --only mixed --duration 5 --no-write --no-uncached

Steps: install Debian's wrk if missing; create the benchmark database if
missing; migrate; load `seed_demo --scale N` unless it is loaded (then VACUUM ANALYZE,
as autovacuum would in time); start
gunicorn (DEBUG off, BENCH_ENDPOINTS=true) on 127.0.0.1 and time it to the first
200 from /api/v1/health; log in as the benchmark ADMIN and SALES users; then for
each endpoint a warm-up and a fixed-duration wrk run; then the resident memory
of the master and each worker. Most rows repeat one URL (bench/wrk.lua); two
run request lists drawn from the data with a fixed seed (bench/workload.py,
bench/mix.lua): the bootcamp list over random pages, and the mixed workload of
reads and 5% writes, whose changes are put back through the API after each run.
The minimal Django view (/bench/minimal) runs
first and last, and every endpoint is reported as a fraction of it. Results go
to bench/RESULTS.md (Markdown) and bench/out/ (JSON, server log, profiles).
The server is stopped at the end, on errors and on Ctrl-C alike.

Settings (environment; the defaults are the issue's targets' conditions):
  BENCH_DATABASE_URL   postgres://postgres@127.0.0.1:5432/cohortly_bench (its own database,
                       never DATABASE_URL, so a developer's database is never loaded with
                       200,000 rows by accident)
  BENCH_REDIS_URL      redis://127.0.0.1:6379/14 when Redis answers there ("" for none:
                       then the database cache holds the throttle counters)
  BENCH_SCALE 1   BENCH_WORKERS 2   BENCH_THREADS 1 (gunicorn threads per worker)
  BENCH_CONNECTIONS 32   BENCH_WRK_THREADS 2   BENCH_DURATION 10   BENCH_WARMUP 2
  BENCH_PORT 8765   BENCH_LEAD_SEARCH martin   BENCH_RATE 1000000/min (throttle rates)
  BENCH_MIX_SEED 17 (the request lists' seed)
Only the standard library: it runs before anything is installed, except wrk.
"""

# A driver of local tools (psql, wrk, gunicorn, apt-get) by their names, with fixed
# arguments and SQL of its own: the subprocess and SQL-string checks do not apply.
# ruff: noqa: S603, S607, S608

import argparse
import contextlib
import csv
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import workload  # bench/workload.py: this script's folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn") if (VENV_BIN / "gunicorn").exists() else "gunicorn"
HOST = "127.0.0.1"  # loopback only, always
SITE = [str(path) for path in (ROOT / ".venv" / "lib").glob("python3*/site-packages")]

# The benchmark logins that `seed_demo --scale` creates (demo/scale.py).
BENCH_ADMIN = ("bench-admin@cohortly.dev", "Bench-Admin-2026!")
BENCH_SALES = ("bench-sales@cohortly.dev", "Bench-Sales-2026!")

MB = 1024 * 1024


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


class BenchError(Exception):
    pass


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    role: str | None = None  # whose bearer token is sent
    body: str = ""
    note: str = ""
    result: dict = field(default_factory=dict)
    preflight: dict = field(default_factory=dict)
    #: A list-driven row (bench/mix.lua): one request list per wrk thread, from bench/workload.py.
    lists: list | None = None
    title: str = ""
    catalogue: object = None  # the workload.Catalogue the lists came from
    requests_file: Path | None = None  # the lists as bench/mix.lua reads them

    @property
    def label(self) -> str:
        return self.title or f"{self.method} {self.path}"

    @property
    def writes(self) -> bool:
        return bool(self.lists) and any(req.kind in workload.WRITES for items in self.lists for req in items)


# --- the machine and its tools --------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    log("wrk is not installed: installing Debian's package (apt-get update && apt-get install -y wrk)")
    if os.geteuid() != 0:
        raise BenchError("wrk is missing and this is not root: run `sudo apt-get install -y wrk` first.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(command, check=True, env=env, timeout=600)
    path = shutil.which("wrk")
    if not path:
        raise BenchError("apt-get install wrk did not give a wrk command.")
    return path


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As gunicorn binds: the last run's connections in TIME_WAIT don't count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_database(url: str, *, fresh: bool = False) -> str:
    """Creates the PostgreSQL database when it is missing (or anew); returns the server version."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise BenchError(f"The benchmark runs on PostgreSQL; BENCH_DATABASE_URL is {url!r}.")
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise BenchError("The benchmark stays on loopback: BENCH_DATABASE_URL must point at 127.0.0.1.")
    name = parts.path.lstrip("/")
    args = ["-h", parts.hostname, "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    ready = subprocess.run(["pg_isready", "-q", *args[:4]], env=env, timeout=30)
    if ready.returncode != 0:
        raise BenchError(f"PostgreSQL is not answering on {parts.hostname}:{parts.port or 5432}.")
    if fresh:
        log(f"dropping database {name} (--fresh)")
        subprocess.run(["dropdb", "--if-exists", *args, name], env=env, check=True, timeout=60)
    exists = subprocess.run(
        ["psql", *args, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    if exists.stdout.strip() != "1":
        log(f"creating database {name}")
        subprocess.run(["createdb", *args, name], env=env, check=True, timeout=60)
    version = subprocess.run(
        ["psql", *args, "-d", name, "-tAc", "SHOW server_version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return version.stdout.strip().split()[0] if version.returncode == 0 else "?"


def psql_rows(url: str, sql: str) -> list[list[str]]:
    """The rows of a query, as strings (psql's CSV output, so any text survives)."""
    parts = urlsplit(url)
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    result = subprocess.run(
        ["psql", url.split("?")[0], "-X", "--csv", "-t", "-c", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise BenchError(f"psql failed: {result.stderr.strip()[:300]}")
    return list(csv.reader(io.StringIO(result.stdout)))


def redis_stats(url: str) -> dict[str, int] | None:
    """keyspace_hits and keyspace_misses from INFO: counters of the whole Redis
    server (every database on it, every client), not of one database."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), timeout=2) as sock:
            sock.sendall(b"INFO stats\r\n")
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                header, _, rest = data.partition(b"\r\n")
                if header.startswith(b"$") and len(rest) >= int(header[1:]):
                    break
    except (OSError, ValueError):
        return None
    stats = dict(line.split(":", 1) for line in data.decode(errors="replace").splitlines() if ":" in line)
    try:
        return {"hits": int(stats["keyspace_hits"]), "misses": int(stats["keyspace_misses"])}
    except (KeyError, ValueError):
        return None


def psql_value(url: str, sql: str) -> str:
    parts = urlsplit(url)
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    result = subprocess.run(
        ["psql", url.split("?")[0], "-tAc", sql], env=env, capture_output=True, text=True, timeout=30
    )
    return result.stdout.strip()


def machine_facts() -> dict:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "loadavg_before": os.getloadavg(),
    }


def software_versions() -> str:
    code = (
        "import sys, django, rest_framework, gunicorn, psycopg; "
        "print(f'Python {sys.version.split()[0]}, Django {django.__version__}, "
        "DRF {rest_framework.__version__}, gunicorn {gunicorn.__version__}, psycopg {psycopg.__version__}')"
    )
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60)
    return result.stdout.strip() or "?"


def git_commit() -> str:
    def git(*args):
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "?"
    # The previous run's RESULTS.md, not yet committed, changes nothing measured.
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md")
    return f"{commit} + uncommitted changes" if changed else commit


# --- the server ------------------------------------------------------------------


def server_env(config) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"PORT", "DJANGO_SETTINGS_MODULE"}}
    rate = config.rate
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "SECURE_SSL_REDIRECT": "false",
            "BENCH_ENDPOINTS": "true",
            "DATABASE_URL": config.database_url,
            "REDIS_URL": config.redis_url,
            "CACHE_KEY_PREFIX": "cohortly-bench",
            # The limits stay on (their cost is part of each request); only high enough
            # that one client on loopback is never throttled.
            "THROTTLE_ANON_RATE": rate,
            "THROTTLE_USER_RATE": rate,
            "THROTTLE_LOGIN_RATE": rate,
            "THROTTLE_LOGIN_ADDRESS_RATE": rate,
            "JWT_ACCESS_TOKEN_LIFETIME_MINUTES": "120",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "GUNICORN_BIND": f"{HOST}:{config.port}",
            "WEB_CONCURRENCY": str(config.workers),
            "GUNICORN_THREADS": str(config.threads),
        }
    )
    # Prepared statements on a direct connection, as README's production advice says.
    env.setdefault("DB_PREPARED_STATEMENTS", "true")
    env.pop("GUNICORN_ACCESSLOG", None)
    return env


def manage(env: dict, *args: str, timeout: int = 600) -> str:
    log("manage.py " + " ".join(args))
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, timeout=timeout, capture_output=True, text=True
    )
    print(result.stdout + result.stderr, end="", flush=True)
    if result.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed ({result.returncode}).")
    return result.stdout


def request(port, method, path, *, token=None, body=None, timeout=10.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    def __init__(self, config, env, log_name="server.log"):
        self.config, self.env, self.log_name = config, env, log_name
        self.process = None
        self.startup_s = None

    def start(self) -> float:
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_file = open(OUT / self.log_name, "wb")  # noqa: SIM115 (closed in stop())
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one
        )
        deadline = started + 30
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = request(self.config.port, "GET", "/api/v1/health", timeout=2)
                if status == 200:
                    self.startup_s = time.perf_counter() - started
                    return self.startup_s
            time.sleep(0.01)
        raise BenchError(f"no 200 from /api/v1/health within 30 s:\n{self.log_tail()}")

    def log_tail(self, lines=30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((OUT / self.log_name).read_text(errors="replace").splitlines()[-lines:])
        return ""

    def workers(self) -> list[int]:
        pid = self.process.pid
        children = set()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                children.update(int(c) for c in (task / "children").read_text().split())
        if not children:  # kernels without /proc/<pid>/task/<tid>/children
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    with contextlib.suppress(OSError):
                        stat = (entry / "stat").read_text()
                        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                            children.add(int(entry.name))
        return sorted(children)

    def memory(self) -> list[dict]:
        rows = []
        for role, pid in [("master", self.process.pid)] + [("worker", p) for p in self.workers()]:
            status = Path(f"/proc/{pid}/status").read_text()
            fields = dict(re.findall(r"^(\w+):\s+(\d+) kB", status, re.MULTILINE))
            pss = None
            with contextlib.suppress(OSError):
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
                pss = int(match.group(1)) / 1024 if match else None
            rows.append(
                {
                    "role": role,
                    "pid": pid,
                    "rss_mb": int(fields.get("VmRSS", 0)) / 1024,
                    "hwm_mb": int(fields.get("VmHWM", 0)) / 1024,
                    "pss_mb": pss,
                }
            )
        return rows

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            log("server stopped")
        if getattr(self, "log_file", None):
            self.log_file.close()


# --- the load ----------------------------------------------------------------------


def token_for(tokens: dict, role: str | None) -> str | None:
    return tokens.get(role) if role else None


def run_wrk(config, endpoint: Endpoint, tokens: dict, seconds: int) -> dict:
    command = [config.wrk, f"-t{config.wrk_threads}", f"-c{config.connections}", f"-d{seconds}s"]
    command += ["--timeout", "10s"]
    if endpoint.lists is not None:
        command += ["-s", str(ROOT / "bench" / "mix.lua"), f"http://{HOST}:{config.port}/"]
        env = {
            **os.environ,
            "WRK_REQUESTS": str(endpoint.requests_file),
            "WRK_TOKEN_ADMIN": tokens.get("ADMIN", ""),
            "WRK_TOKEN_SALES": tokens.get("SALES", ""),
            # Answers are read: counted by kind, writes ordered, response cache hits counted.
            "WRK_TRACK": "1",
        }
    else:
        command += ["-s", str(ROOT / "bench" / "wrk.lua"), f"http://{HOST}:{config.port}{endpoint.path}"]
        token = token_for(tokens, endpoint.role)
        env = {
            **os.environ,
            "WRK_METHOD": endpoint.method,
            "WRK_BODY": endpoint.body,
            "WRK_TOKEN": token or "",
        }
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
            data["errors_total"] = sum(data["errors"].values())
            return data
    raise BenchError(f"wrk gave no result for {endpoint.label}:\n{result.stdout}\n{result.stderr}")


def drain(config) -> None:
    """Waits until the server has worked through requests that wrk left queued.

    wrk closes its connections when its time is up, but a sync worker still
    answers every request already in the listen queue: without this, a slow
    endpoint's leftovers would be counted against the next endpoint's run. The
    queue is first-in first-out, so one answered probe means it is empty.
    """
    with contextlib.suppress(OSError, http.client.HTTPException):
        request(config.port, "GET", "/bench/minimal", timeout=60)


def preflight(config, endpoint: Endpoint, tokens: dict) -> dict:
    if endpoint.lists is not None:
        return preflight_lists(config, endpoint, tokens)
    try:
        status, body = request(
            config.port,
            endpoint.method,
            endpoint.path,
            token=token_for(tokens, endpoint.role),
            body=endpoint.body or None,
        )
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "ok": False, "error": str(exc)}
    return {
        "status": status,
        "ok": 200 <= status < 300,
        "bytes": len(body),
        "body": body[:300].decode(errors="replace"),
    }


def preflight_lists(config, endpoint: Endpoint, tokens: dict) -> dict:
    """The first request of each kind in the first list, one at a time (an
    enroll followed by its cancel), then the data put back: every kind must
    answer 2xx before the list is loaded."""
    answered = {}
    first = {}
    for req in endpoint.lists[0]:
        first.setdefault(req.kind, req)
    try:
        for req in first.values():
            steps = [(req.kind, req.method, req.path, req.body)]
            if req.then:
                steps.append(("cancel", "POST", req.then, ""))
            for kind, method, path, body in steps:
                status, answer = request(
                    config.port, method, path, token=tokens.get(req.role), body=body or None
                )
                answered[kind] = {"status": status, "body": answer[:300].decode(errors="replace")}
                if not 200 <= status < 300:
                    return {
                        "status": status,
                        "ok": False,
                        "body": f"{kind} {method} {path}: {answered[kind]['body']}",
                    }
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "ok": False, "error": str(exc)}
    finally:
        if endpoint.writes:
            restore(config, endpoint, tokens)
    return {"status": 200, "ok": True, "kinds": {kind: a["status"] for kind, a in answered.items()}}


def restore(config, endpoint: Endpoint, tokens: dict) -> dict:
    """Puts back, through the API, what a run's last writes left changed (bench/workload.py).

    drain() proves the listen queue empty, not every worker idle: another
    worker may still be finishing a write that wrk sent last. So this waits a
    moment and goes over the data again until a pass finds nothing to put back.
    """

    def send(method, path, role, body):
        return request(config.port, method, path, token=tokens.get(role), body=body or None)[0]

    fixed = Counter()
    for _ in range(5):
        time.sleep(0.5)
        try:
            found = workload.restore(
                lambda sql: psql_rows(config.database_url, sql), send, endpoint.lists, endpoint.catalogue
            )
        except RuntimeError as exc:
            raise BenchError(str(exc)) from exc
        if not any(found.values()):
            break
        fixed.update(found)
    else:
        raise BenchError(f"{endpoint.label}: the data still changes after the run; is a worker stuck?")
    fixed = {what: fixed.get(what, 0) for what in ("enrollments", "leads", "descriptions")}
    if any(fixed.values()):
        log("put back after the run: " + ", ".join(f"{n} {what}" for what, n in fixed.items() if n))
    return fixed


def load(config, ep: Endpoint, tokens: dict) -> None:
    """Warm-up, then the measured wrk run of `ep` (its result and preflight set)."""
    ep.preflight = preflight(config, ep, tokens)
    if not ep.preflight["ok"]:
        answer = f"{ep.preflight.get('status')}, not loaded: {ep.preflight.get('body', '')[:120]}"
        log(f"{ep.label}: answered {answer}")
        return
    try:
        if config.warmup:
            run_wrk(config, ep, tokens, config.warmup)
            drain(config)
            if ep.writes:
                restore(config, ep, tokens)
        redis_before = redis_stats(config.redis_url) if config.redis_url and ep.lists is not None else None
        ep.result = run_wrk(config, ep, tokens, config.duration)
        drain(config)
        redis_after = redis_stats(config.redis_url) if redis_before else None
    finally:
        # Also when wrk failed: the next run (and the next `make bench`) starts from the same data.
        restored = restore(config, ep, tokens) if ep.writes else None
    res = ep.result
    if redis_before and redis_after:
        hits = redis_after["hits"] - redis_before["hits"]
        misses = redis_after["misses"] - redis_before["misses"]
        res["redis"] = {
            "hits": hits,
            "misses": misses,
            "hit_rate": hits / (hits + misses) if hits + misses else None,
        }
    if restored is not None:
        res["restored"] = restored
    log(
        f"{ep.label:<48} {res['rps']:8,.0f} req/s  p50 {ms(res['latency_us']['p50'])} ms  "
        f"p99 {ms(res['latency_us']['p99'])} ms  errors {res['errors_total']}"
    )
    if res.get("kinds"):
        log("  by kind (answers / not 2xx): " + kinds_text(res))
    if res.get("response_cache"):
        log(f"  response cache hit rate (X-Cache): {response_cache_text(res)}")
    if res.get("redis"):
        log(f"  Redis keyspace hit rate (whole server, during the run): {redis_text(res['redis'])}")


#: The rows run again with the response cache off (cohortly/caching.py).
UNCACHED = ("bootcamps_list", "bootcamps_random_pages", "bootcamp_detail", "mixed")
UNCACHED_NOTE = "cache off (`RESPONSE_CACHE_SECONDS=0`): every request queries"


def run_uncached(config, env, endpoints) -> list[Endpoint]:
    """The bootcamp rows and the mixed workload on a second server with the
    response cache off: what a request that misses the cache costs."""
    wanted = [ep for ep in endpoints if ep.name in UNCACHED and ep.result]
    if not wanted or config.no_uncached:
        return []
    server = Server(config, {**env, "RESPONSE_CACHE_SECONDS": "0"}, log_name="server-uncached.log")
    rows = []
    try:
        log("restarting gunicorn with the response cache off (RESPONSE_CACHE_SECONDS=0)")
        server.start()
        tokens = {"ADMIN": login(config, *BENCH_ADMIN), "SALES": login(config, *BENCH_SALES)}
        for ep in wanted:
            row = Endpoint(f"{ep.name}_uncached", ep.method, ep.path, ep.role, ep.body, note=UNCACHED_NOTE)
            row.lists, row.title, row.catalogue = ep.lists, ep.title, ep.catalogue
            row.requests_file = ep.requests_file
            load(config, row, tokens)
            rows.append(row)
    finally:
        server.stop()
    return rows


def login(config, email, password) -> str:
    status, body = request(
        config.port, "POST", "/api/v1/auth/login", body=json.dumps({"email": email, "password": password})
    )
    if status != 200:
        raise BenchError(f"login as {email} answered {status}: {body[:300]!r} (is the scale data loaded?)")
    return json.loads(body)["access"]


# --- profiling (optional) ---------------------------------------------------------


def profile(config, server: Server, endpoint: Endpoint, tokens: dict) -> Path | None:
    spy = shutil.which("py-spy", path=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    if not spy:
        log("py-spy is not installed (make profile installs it into .venv): no profile")
        return None
    worker = server.workers()[0]
    raw = OUT / f"profile-{endpoint.name}.txt"
    seconds = config.duration
    log(f"profiling worker {worker} on {endpoint.label} for {seconds}s")
    spy_process = subprocess.Popen(
        [spy, "record", "--pid", str(worker), "--duration", str(seconds), "--rate", "200", "--idle"]
        + ["--nonblocking", "--format", "raw", "--output", str(raw)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    try:
        run_wrk(config, endpoint, tokens, seconds)
        _, err = spy_process.communicate(timeout=seconds + 60)
        drain(config)
    finally:
        if endpoint.writes:
            restore(config, endpoint, tokens)
    if not raw.exists():
        log(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        return None
    summary = OUT / f"profile-{endpoint.name}.summary.txt"
    summary.write_text(summarize_profile(raw))
    top = OUT / f"profile-{endpoint.name}.top10.txt"
    top.write_text(costliest_frames(raw))
    log(f"the ten costliest frames on {endpoint.label} (self time, py-spy --idle):")
    print(top.read_text(), end="", flush=True)
    log(f"profile: {summary.relative_to(ROOT)}, {top.relative_to(ROOT)}")
    return summary


def _area(frame: str) -> str:
    """Which package a frame's code belongs to: the project's apps, an installed package, or stdlib."""
    match = re.search(r"\((.*?)(?::\d+)?\)$", frame)
    path = match.group(1) if match else frame
    if "site-packages/" in path:  # py-spy gives full paths for some frames
        path = path.split("site-packages/", 1)[1]
    path = path.removeprefix(str(ROOT) + "/")
    top = path.split("/", 1)[0].removesuffix(".py")
    if (ROOT / top).is_dir() and "/" in path:
        return f"app:{top}"
    if any(Path(site).joinpath(top).exists() or Path(site).joinpath(f"{top}.py").exists() for site in SITE):
        return top
    return "stdlib"


def _samples(raw: Path):
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def costliest_frames(raw: Path, top: int = 10) -> str:
    """The `top` functions with the most samples of their own (leaf frames), with their share."""
    own = Counter()
    for frames, samples in _samples(raw):
        own[frames[-1]] += samples
    total = sum(own.values())
    if not total:
        return "no samples\n"
    return "".join(
        f"{rank:2}. {100 * samples / total:5.1f}%  {frame}\n"
        for rank, (frame, samples) in enumerate(own.most_common(top), start=1)
    )


def summarize_profile(raw: Path, top: int = 30) -> str:
    """py-spy's collapsed stacks as tables: inclusive and self time by function, self time by package."""
    inclusive, own, areas = Counter(), Counter(), Counter()
    total = 0
    for frames, samples in _samples(raw):
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
        areas[_area(frames[-1])] += samples
    if not total:
        return "no samples\n"

    def table(title, counter, limit):
        lines = [f"## {title}", ""]
        for frame, samples in counter.most_common(limit):
            lines.append(f"{100 * samples / total:6.1f}%  {frame}")
        return "\n".join(lines) + "\n\n"

    header = f"{total} samples (py-spy, --idle: waiting on the database or for a request counts)\n\n"
    return (
        header
        + table("Self time by package (leaf frame)", areas, 25)
        + table("Inclusive time by function", inclusive, top * 2)
        + table("Self time by function", own, top)
    )


# --- results -------------------------------------------------------------------------


#: Requests/s of a bare Django view on the machine issue 5's targets were set on.
REFERENCE_RPS = (3500, 4400)


def ms(microseconds) -> str:
    return f"{microseconds / 1000:.1f}"


def evaluate_targets(endpoints: dict, baseline: float | None, startup_s: float | None, memory: list) -> list:
    def ratio(name):
        ep = endpoints.get(name)
        if not ep or not ep.result or not baseline:
            return None
        return ep.result["rps"] / baseline

    def clean(name):
        ep = endpoints.get(name)
        return bool(ep and ep.result and ep.result["errors_total"] == 0 and ep.preflight.get("ok"))

    def p99(name):
        ep = endpoints.get(name)
        return ep.result["latency_us"]["p99"] / 1000 if ep and ep.result else None

    rows = []

    def check(target, measured, ok, name=None, scaled="-"):
        if measured is None:
            rows.append((target, "not measured", "n/a", "-"))
            return
        if name and not clean(name):
            ok = False
            measured += " (with errors)"
        rows.append((target, measured, "PASS" if ok else "FAIL", scaled))

    def at_least(name, target, share):
        r = ratio(name)
        below_done = " (below 12%)" if name == "bootcamps_list" and r is not None and r < 0.12 else ""
        check(
            target, None if r is None else f"{100 * r:.0f}%{below_done}", r is not None and r >= share, name
        )

    def p99_under(name, target, limit_ms):
        p = p99(name)
        check(
            target,
            None if p is None else f"{p:.1f} ms",
            p is not None and p < limit_ms,
            name,
            scaled_p99(p, baseline),
        )

    at_least("bootcamps_list", "Bootcamp list (page 3, ADMIN) ≥ 25% of minimal (below 12%: not done)", 0.25)
    p99_under("bootcamps_list", "Bootcamp list p99 < 50 ms", 50)
    at_least("bootcamp_detail", "Bootcamp detail ≥ 35% of minimal", 0.35)
    at_least("health", "Health ≥ 80% of minimal", 0.80)
    check(
        "Startup (process start → first 200 on health) < 1.5 s",
        None if startup_s is None else f"{startup_s:.2f} s",
        startup_s is not None and startup_s < 1.5,
    )
    workers = [m for m in memory if m["role"] == "worker"]
    biggest = max((m["rss_mb"] for m in workers), default=None)
    check(
        "Each worker < 80 MB resident after the run",
        None if biggest is None else f"largest {biggest:.0f} MB",
        biggest is not None and biggest < 80,
    )
    p99_under("leads_search", "Lead search (100,000 leads, SALES) p99 < 100 ms", 100)
    p99_under("enrollments_list", "Enrollment list (page 2, ADMIN) p99 < 100 ms", 100)
    return rows


def scaled_p99(p99_ms: float | None, baseline: float | None) -> str:
    """A p99 scaled to the machine issue 5's targets were set on: with 32
    connections always busy, latency goes as 1/throughput, so on a machine where
    a bare Django view serves REFERENCE_RPS the same code would answer in about
    this much time. An estimate, labelled as one."""
    if p99_ms is None or not baseline:
        return "-"
    low, high = (p99_ms * baseline / rps for rps in reversed(REFERENCE_RPS))
    return f"{low:.0f}–{high:.0f} ms"


def mixed_targets(endpoints: dict, baseline: float | None, suffix: str = "") -> list:
    """Issue 17's targets: the mixed workload and the bootcamp list over random
    pages, each against the minimal view of the same run. A row with any answer
    that is not 2xx (or a socket error) fails."""
    rows = []

    def measured(name):
        ep = endpoints.get(name)
        return ep.result if ep and ep.result and baseline else None

    def verdict(res, ok):
        if res["errors_total"] or any(k["bad"] for k in res.get("kinds", {}).values()):
            return "FAIL", " (with errors)"
        return ("PASS" if ok else "FAIL"), ""

    for name, target, share in (
        ("mixed", "Mixed workload ≥ 20% of minimal", 0.20),
        ("bootcamps_random_pages", "Bootcamp list over random pages ≥ 20% of minimal", 0.20),
    ):
        res = measured(name)
        if res is None:
            rows.append((target + suffix, "not measured", "n/a", "-"))
            continue
        ratio = res["rps"] / baseline
        result, note = verdict(res, ratio >= share)
        rows.append((target + suffix, f"{100 * ratio:.0f}%{note}", result, "-"))
        if name == "mixed":
            p99 = res["latency_us"]["p99"] / 1000
            result, note = verdict(res, p99 <= 100)
            target = "Mixed workload p99 ≤ 100 ms (32 connections)"
            rows.append((target + suffix, f"{p99:.1f} ms{note}", result, scaled_p99(p99, baseline)))
    return rows


def kinds_text(res: dict) -> str:
    kinds = res.get("kinds") or {}
    order = ["list", "detail", "enrollments", "leads", "edit", "lead_status", "enroll", "cancel"]
    names = [k for k in order if k in kinds] + sorted(set(kinds) - set(order))
    return ", ".join(f"{k} {kinds[k]['n']:,}/{kinds[k]['bad']}" for k in names)


def write_share(res: dict) -> float | None:
    kinds = res.get("kinds") or {}
    answered = sum(k["n"] for k in kinds.values())
    writes = sum(kinds[k]["n"] for k in workload.WRITES if k in kinds)
    return writes / answered if answered else None


def response_cache_text(res: dict) -> str:
    counted = res.get("response_cache") or {}
    hits, misses = counted.get("hit", 0), counted.get("miss", 0)
    if not hits + misses:
        return "-"
    text = f"{100 * hits / (hits + misses):.1f}% ({hits:,} hits, {misses:,} misses)"
    kinds = res.get("kinds") or {}
    by_kind = [
        f"{kind} {100 * kinds[kind].get('hit', 0) / kinds[kind]['n']:.0f}%"
        for kind in ("list", "detail", "enrollments", "leads")
        if kinds.get(kind, {}).get("n") and "hit" in kinds[kind]
    ]
    return text + (f"; by kind: {', '.join(by_kind)}" if by_kind else "")


def redis_text(redis: dict) -> str:
    rate = redis.get("hit_rate")
    share = "-" if rate is None else f"{100 * rate:.1f}%"
    return f"{share} ({redis['hits']:,} hits, {redis['misses']:,} misses)"


def uncached_targets(rows: list[Endpoint], baseline: float | None) -> list:
    """The bootcamp targets measured on the runs with the cache off."""
    by_name = {ep.name.removesuffix("_uncached"): ep for ep in rows}
    if not by_name:
        return []
    targets = evaluate_targets(by_name, baseline, None, [])
    # Only the bootcamp rows that ran again (the list-driven ones have targets of their own).
    return [row for row in targets if row[0].startswith("Bootcamp") and row[2] != "n/a"]


def mixed_section(report: dict) -> list[str]:
    """The list-driven rows: what each kind answered, the cache, and issue 17's targets."""
    rows = [ep for ep in report["rows"] if ep.lists is not None and ep.result]
    if not rows and not report.get("targets_mixed"):
        return []
    seed = report["config"].get("mix_seed", workload.SEED)
    lines = [
        "",
        "## Mixed workload and random pages (issue 17)",
        "",
        f"Request lists drawn from the benchmark database with seed {seed} (`bench/workload.py`, run by",
        "`bench/mix.lua`): the bootcamp list at random pages over the whole catalogue, single bootcamps",
        "at random ids, the enrollment list at random pages, lead search for last names from the leads,",
        "and about 5% writes through the API: description edits (ADMIN), a re-enrollment and its",
        "cancellation (SALES), lead status changes CONTACTED ↔ LOST (SALES). What the last writes left",
        "changed is put back through the API after each run.",
        "",
        "| Row | Answers by kind (answers/not 2xx) | Writes | Response cache hit rate "
        "| Redis hit rate, whole server | Put back after |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for ep in rows:
        res = ep.result
        share = write_share(res)
        redis = redis_text(res["redis"]) if res.get("redis") else "-"
        restored = res.get("restored") or {}
        put_back = ", ".join(f"{n} {what}" for what, n in restored.items() if n) or "-"
        kinds = kinds_text(res) or "not counted (reads only)"
        writes = "-" if share is None else f"{100 * share:.1f}%"
        lines.append(
            f"| `{ep.name}` | {kinds} | {writes} | {response_cache_text(res)} | {redis} | {put_back} |"
        )
    lines += [
        "",
        "The response cache's hit rate counts the answers whose `X-Cache` header said `hit` or `miss`",
        "(lists and details; writes have none). The Redis hit rate is keyspace_hits / (hits + misses)",
        "over the run, from `INFO stats` of the",
        "server that holds the benchmark's database: it counts every read of every client of that server",
        "(the throttle's counters and the caches alike), not only the response cache's.",
        "",
        "| Target | Measured | Result | p99 at the issue's machine speed |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {t} | {m} | {r} | {x} |" for t, m, r, x in report.get("targets_mixed", [])]
    return lines


def write_results(path: Path, report: dict) -> None:
    cfg = report["config"]
    facts = report["machine"]
    baseline = report["baseline_rps"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/run.py` (`make bench`); rerun it to replace this file. Numbers from a",
        "shared machine are noisy: compare the ratios to the minimal Django view, measured in the same run.",
        "",
        f"- Date: {report['date']}",
        f"- Commit: {report['commit']}",
        f"- Command: `{report['command']}`",
        f"- Machine: {facts['nproc']} CPUs (`nproc`), {facts['cpu_model']}; load average before the run "
        f"{facts['loadavg_before'][0]:.2f}, after {facts['loadavg_after'][0]:.2f}",
        f"- Software: {report['software']}",
        f"- Server: gunicorn, {cfg['workers']} workers × {cfg['threads']} thread(s), DEBUG off, on "
        f"{HOST}:{cfg['port']}; PostgreSQL {report['postgres']} (`CONN_MAX_AGE` 60 s, health checks); "
        + ("Redis cache" if cfg["redis_url"] else "database cache (no Redis)"),
        f"- Load: wrk, {cfg['wrk_threads']} threads, {cfg['connections']} connections, "
        f"{cfg['warmup']} s warm-up then {cfg['duration']} s per endpoint, "
        f"on the same {facts['nproc']} CPUs as the server",
        f"- Data: `seed_demo --scale {cfg['scale']:g}`, {report.get('seed_note', '')}: {report['data']}",
        f"- Throttles: THROTTLE_USER_RATE, THROTTLE_ANON_RATE and the two THROTTLE_LOGIN_ rates raised to "
        f"`{cfg['rate']}` for the run (the throttles still count every request; only the limit is higher)",
        "",
        "| Endpoint | Token | Req/s | × minimal | p50 ms | p99 ms | Errors | Notes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for ep in report["rows"]:
        pre = ep.preflight
        if not ep.result:
            note = f"not run: answered {pre.get('status')} {pre.get('error', '')}".strip()
            lines.append(f"| `{ep.label}` | {ep.role or '-'} | - | - | - | - | - | {note} |")
            continue
        res = ep.result
        errors = res["errors"]
        socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
        error_text = str(res["errors_total"])
        if res["errors_total"]:
            error_text = f"{errors['status']} HTTP ≥400, {socket_errors} socket"
        ratio = "-"
        if baseline:
            ratio = (
                f"{res['rps'] / baseline:.2f}"
                if res["rps"] >= baseline / 10
                else f"{res['rps'] / baseline:.3f}"
            )
        note = ep.note
        if pre.get("status") and not pre.get("ok"):
            note = f"answered {pre['status']} before the run " + note
        lines.append(
            f"| `{ep.label}` | {ep.role or '-'} | {res['rps']:,.0f} | {ratio} "
            f"| {ms(res['latency_us']['p50'])} | {ms(res['latency_us']['p99'])} | {error_text} | {note} |"
        )
    lines += [
        "",
        f"Baseline (mean of the two minimal-view runs): {baseline:,.0f} req/s." if baseline else "",
        f"Startup: {report['startup_s']:.2f} s from process start to the first 200 on /api/v1/health "
        f"({cfg['workers']} workers, preload_app)."
        if report["startup_s"]
        else "",
        f"PostgreSQL connections opened while the load ran: {report['db_sessions']} for "
        f"{report['requests']:,} measured requests, warm-ups not counted "
        "(persistent connections: `CONN_MAX_AGE`)."
        if report.get("db_sessions") is not None
        else "",
        "",
        "Resident memory after the run (VmRSS; PSS splits pages shared by preload_app's fork):",
        "",
        "| Process | PID | RSS MB | Peak RSS MB | PSS MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for m in report["memory"]:
        pss = f"{m['pss_mb']:.1f}" if m["pss_mb"] is not None else "-"
        lines.append(f"| {m['role']} | {m['pid']} | {m['rss_mb']:.1f} | {m['hwm_mb']:.1f} | {pss} |")
    if report["memory_before_login"]:
        before = ", ".join(
            f"{m['role']} {m['rss_mb']:.1f} MB"
            for m in report["memory_before_login"]
            if m["role"] == "worker"
        )
        lines += [
            "",
            f"Before the login run (the only Argon2 hashing; its 100 MiB work area sets the peak): {before}.",
        ]
    low, high = REFERENCE_RPS
    lines += [
        "",
        "## Targets (issue 5)",
        "",
        "Result is what was measured here. The last column scales a p99 to the machine the issue's",
        f"targets were set on, where a bare Django view serves {low:,}–{high:,} req/s (this run: "
        f"{report['baseline_rps']:,.0f}): an estimate, not a measurement."
        if report.get("baseline_rps")
        else None,
        "",
        "| Target | Measured | Result | p99 at the issue's machine speed |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {t} | {m} | {r} | {x} |" for t, m, r, x in report["targets"]]
    if report.get("targets_uncached"):
        lines += [
            "",
            "## Without the cache",
            "",
            "The bootcamp rows above are repeated requests, answered from the Redis response cache",
            "(`cohortly/caching.py`) after authentication, permissions and the throttle have run. The",
            "same requests were run again on a second server with the response cache off"
            " (`RESPONSE_CACHE_SECONDS=0`;",
            'the rows noted "cache off" in the first table): what a request that misses the',
            "cache costs.",
            "",
            "| Target | Measured, cache off | Result | p99 at the issue's machine speed |",
            "| --- | --- | --- | --- |",
        ]
        lines += [f"| {t} | {m} | {r} | {x} |" for t, m, r, x in report["targets_uncached"]]
    lines += mixed_section(report)
    lines += profile_section(path.with_name("PROFILE-MIXED.md"))
    lines.append("")
    path.write_text("\n".join(line for line in lines if line is not None) + "\n")


def profile_section(profile: Path) -> list[str]:
    """bench/PROFILE-MIXED.md (the mix's ten costliest frames before and after
    issue 17's changes, kept by hand from `make profile PROFILE=mixed`), one
    heading level down, so that this file, rewritten by every run, keeps them."""
    if not profile.exists():
        return []
    text = profile.read_text().strip().splitlines()
    return ["", *(("#" + line) if line.startswith("#") else line for line in text)]


# --- main ---------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default=os.environ.get("BENCH_ONLY", ""), help="comma-separated endpoint names"
    )
    parser.add_argument("--duration", type=int, default=env_int("BENCH_DURATION", 10))
    parser.add_argument("--warmup", type=int, default=env_int("BENCH_WARMUP", 2))
    parser.add_argument("--connections", type=int, default=env_int("BENCH_CONNECTIONS", 32))
    parser.add_argument("--wrk-threads", type=int, default=env_int("BENCH_WRK_THREADS", 2))
    parser.add_argument("--workers", type=int, default=env_int("BENCH_WORKERS", 2))
    parser.add_argument("--threads", type=int, default=env_int("BENCH_THREADS", 1))
    parser.add_argument("--port", type=int, default=env_int("BENCH_PORT", 8765))
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument(
        "--mix-seed",
        type=int,
        default=env_int("BENCH_MIX_SEED", workload.SEED),
        help="the seed the mixed workload's and random pages' request lists are drawn with",
    )
    parser.add_argument(
        "--profile", default="", help="comma-separated endpoint names to py-spy after the run"
    )
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the benchmark database")
    parser.add_argument("--no-write", action="store_true", help="don't replace bench/RESULTS.md")
    parser.add_argument(
        "--no-uncached",
        action="store_true",
        help="skip the second server that reruns the bootcamp rows and the mix with the response cache off",
    )
    parser.add_argument("--list", action="store_true", help="list the endpoint names and exit")
    args = parser.parse_args(argv)
    args.database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cohortly_bench"
    )
    args.redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    args.rate = os.environ.get("BENCH_RATE", "1000000/min")
    args.lead_search = os.environ.get("BENCH_LEAD_SEARCH", "martin")
    return args


def endpoints_for(config, bootcamp_id) -> list[Endpoint]:
    """The rows in the order they run. The two list-driven rows get their lists
    from the data (prepare_lists) once the server is up."""
    login_body = json.dumps({"email": BENCH_SALES[0], "password": BENCH_SALES[1]})
    return [
        Endpoint("minimal", "GET", "/bench/minimal"),
        Endpoint("health", "GET", "/api/v1/health"),
        Endpoint("bootcamps_list", "GET", "/api/v1/bootcamps/?page=3", "ADMIN"),
        Endpoint(
            "bootcamps_random_pages",
            "GET",
            "/api/v1/bootcamps/?page=",
            "ADMIN",
            lists=[],
            title="GET /api/v1/bootcamps/?page=(random)",
        ),
        Endpoint("bootcamp_detail", "GET", f"/api/v1/bootcamps/{bootcamp_id}/", "ADMIN"),
        Endpoint("enrollments_list", "GET", "/api/v1/enrollments/?page=2", "ADMIN"),
        Endpoint("leads_search", "GET", f"/api/v1/leads/?search={quote(config.lead_search)}", "SALES"),
        Endpoint(
            "mixed", "MIX", "", "ADMIN+SALES", lists=[], title=f"mixed workload (seed {config.mix_seed})"
        ),
        Endpoint("login", "POST", "/api/v1/auth/login", None, login_body),
        Endpoint("minimal_again", "GET", "/bench/minimal"),
    ]


ENDPOINT_NOTES = {
    "minimal": "baseline: plain JsonResponse, middleware only",
    "minimal_again": "baseline again, after the endpoints above",
    "login": "Argon2 password check per request, by design",
    "bootcamps_random_pages": "a page drawn at random from all pages for each request",
    "mixed": "bench/workload.py: bootcamp pages and ids, enrollment pages, lead search; 5% writes",
}


def page_count(config, path: str, token: str) -> int:
    """How many pages a list has for this token (its count over its page size)."""
    status, body = request(config.port, "GET", path, token=token)
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body[:200]!r}")
    data = json.loads(body)
    return max(1, -(-data["count"] // max(1, len(data["results"]))))


def prepare_lists(config, endpoints: list[Endpoint], tokens: dict) -> None:
    """Draws the list-driven rows' requests from the benchmark database (bench/workload.py)."""
    wanted = [ep for ep in endpoints if ep.lists is not None]
    if not wanted:
        return
    catalogue = workload.read_catalogue(
        lambda sql: psql_rows(config.database_url, sql),
        bootcamp_pages=page_count(config, "/api/v1/bootcamps/", tokens["ADMIN"]),
        enrollment_pages=page_count(config, "/api/v1/enrollments/", tokens["ADMIN"]),
    )
    for ep in wanted:
        build = workload.mixed if ep.name == "mixed" else workload.random_pages
        try:
            ep.lists = build(catalogue, seed=config.mix_seed, threads=config.wrk_threads)
        except ValueError as exc:
            raise BenchError(str(exc)) from exc
        ep.catalogue = catalogue
        ep.requests_file = OUT / f"requests-{ep.name}.tsv"
        OUT.mkdir(parents=True, exist_ok=True)
        workload.write_lists(ep.requests_file, ep.lists)
        if ep.name == "bootcamps_random_pages":
            ep.title = f"GET /api/v1/bootcamps/?page=(random 1–{catalogue.bootcamp_pages})"
            ep.path = f"/api/v1/bootcamps/?page=1..{catalogue.bootcamp_pages}"
    log(
        f"request lists (seed {config.mix_seed}): {catalogue.bootcamp_pages} bootcamp pages, "
        f"{catalogue.enrollment_pages} enrollment pages, {len(catalogue.search_terms)} search terms, "
        f"{len(catalogue.pairs)} re-enrollable enrollments, {len(catalogue.leads)} CONTACTED leads; "
        f"in {OUT.relative_to(ROOT)}/requests-*.tsv"
    )


def main(argv=None) -> int:
    config = parse_args(argv)
    if config.list:
        print("\n".join(ep.name for ep in endpoints_for(config, 1)))
        return 0
    only = {name.strip() for name in config.only.split(",") if name.strip()}
    profiles = {name.strip() for name in config.profile.split(",") if name.strip()}
    command = os.environ.get("BENCH_COMMAND") or " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])])
    facts = machine_facts()
    config.wrk = ensure_wrk()
    if config.redis_url and not redis_answers(config.redis_url):
        log(f"Redis does not answer at {config.redis_url}: using the database cache")
        config.redis_url = ""
    if not port_is_free(config.port):
        raise BenchError(f"port {config.port} on {HOST} is taken (set BENCH_PORT)")
    postgres = ensure_database(config.database_url, fresh=config.fresh)
    env = server_env(config)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "createcachetable")
    # WhiteNoise indexes the collected files when a worker starts, as in production.
    manage(env, "collectstatic", "--no-input", "-v", "0")
    seeding = time.perf_counter()
    seeded = manage(env, "seed_demo", "--scale", f"{config.scale:g}", "--without-debug", timeout=900)
    seeding = time.perf_counter() - seeding
    seed_note = "already loaded" if "already loaded" in seeded else f"loaded by this run in {seeding:.0f} s"
    if "already loaded" not in seeded:
        # Freshly loaded tables have no statistics and an empty visibility map:
        # until autovacuum comes round, the planner guesses and every index-only
        # scan reads the heap too. A database that has run for a while has both.
        psql_rows(config.database_url, "VACUUM ANALYZE")
    data = ", ".join(
        f"{int(psql_value(config.database_url, f'SELECT count(*) FROM {table}') or 0):,} {label}"
        for table, label in (
            ("accounts_user", "users"),
            ("bootcamps_bootcamp", "bootcamps"),
            ("enrollments_enrollment", "enrollments"),
            ("leads_lead", "leads"),
        )
    )

    server = Server(config, env)
    try:
        log(f"starting gunicorn ({config.workers} workers) on {HOST}:{config.port}")
        startup = server.start()
        log(f"first 200 on /api/v1/health after {startup:.2f}s")
        tokens = {"ADMIN": login(config, *BENCH_ADMIN), "SALES": login(config, *BENCH_SALES)}

        memory_before_login = None
        db_sessions = None
        bootcamp_id = None
        status, body = request(config.port, "GET", "/api/v1/bootcamps/?page=3", token=tokens["ADMIN"])
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
            bootcamp_id = json.loads(body)["results"][0]["id"]
        if bootcamp_id is None:
            bootcamp_id = psql_value(
                config.database_url,
                "SELECT id FROM bootcamps_bootcamp ORDER BY start_date, id OFFSET 40 LIMIT 1",
            )
        sessions_sql = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        sessions_before = psql_value(config.database_url, sessions_sql)
        endpoints = [
            ep
            for ep in endpoints_for(config, bootcamp_id)
            if not only or ep.name in only | {"minimal", "minimal_again"}
        ]
        prepare_lists(config, endpoints, tokens)
        for ep in endpoints:
            ep.note = ENDPOINT_NOTES.get(ep.name, "")
            if ep.name == "login":
                memory_before_login = server.memory()
            load(config, ep, tokens)
        sessions_after = psql_value(config.database_url, sessions_sql)
        with contextlib.suppress(ValueError):
            # Each reading is a psql session of its own: the second one counts itself.
            db_sessions = int(sessions_after) - int(sessions_before) - 1
        memory = server.memory()
        for m in memory_before_login or []:
            log(f"before login: {m['role']:<6} pid {m['pid']}: RSS {m['rss_mb']:.1f} MB")
        for m in memory:
            log(f"{m['role']:<6} pid {m['pid']}: RSS {m['rss_mb']:.1f} MB (peak {m['hwm_mb']:.1f} MB)")
        for ep in endpoints:
            if ep.name in profiles and ep.result:
                profile(config, server, ep, tokens)
    finally:
        server.stop()
    uncached = run_uncached(config, env, endpoints)

    baseline_runs = [ep.result["rps"] for ep in endpoints if ep.name.startswith("minimal") and ep.result]
    baseline = sum(baseline_runs) / len(baseline_runs) if baseline_runs else None
    by_name = {ep.name: ep for ep in endpoints}
    facts["loadavg_after"] = os.getloadavg()
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "software": software_versions(),
        "command": command,
        "machine": facts,
        "postgres": postgres,
        "seed_note": seed_note,
        "data": data,
        "config": {
            key: getattr(config, key)
            for key in (
                "workers",
                "threads",
                "connections",
                "wrk_threads",
                "duration",
                "warmup",
                "port",
                "scale",
                "rate",
                "redis_url",
                "mix_seed",
            )
        },
        "startup_s": server.startup_s,
        "baseline_rps": baseline,
        "rows": endpoints + uncached,
        "memory": memory,
        "memory_before_login": memory_before_login,
        "db_sessions": db_sessions,
        "requests": sum(ep.result["requests"] for ep in endpoints if ep.result),
    }
    report["targets"] = evaluate_targets(by_name, baseline, server.startup_s, memory)
    report["targets_uncached"] = uncached_targets(uncached, baseline)
    report["targets_mixed"] = mixed_targets(by_name, baseline)
    if any(ep.lists is not None for ep in uncached):
        off = {ep.name.removesuffix("_uncached"): ep for ep in uncached}
        report["targets_mixed"] += mixed_targets(off, baseline, ", cache off")
    (OUT / "results.json").write_text(
        json.dumps(
            {
                **report,
                "rows": [
                    {
                        "name": ep.name,
                        "label": ep.label,
                        "role": ep.role,
                        "preflight": ep.preflight,
                        "result": ep.result,
                    }
                    for ep in endpoints + uncached
                ],
            },
            indent=2,
            default=str,
        )
    )
    for target, measured, verdict, scaled in report["targets"]:
        at_reference = "" if scaled == "-" else f" (at the issue's machine speed: {scaled})"
        log(f"{verdict:<4} {target}: {measured}{at_reference}")
    for target, measured, verdict, _scaled in report["targets_uncached"]:
        log(f"{verdict:<4} {target}, cache off: {measured}")
    for target, measured, verdict, _scaled in report["targets_mixed"]:
        log(f"{verdict:<4} {target}: {measured}")
    if config.no_write:
        log("results: bench/out/results.json (bench/RESULTS.md left as it was)")
    else:
        write_results(RESULTS, report)
        log(f"results: {RESULTS.relative_to(ROOT)} and bench/out/results.json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"[bench] error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("[bench] interrupted", file=sys.stderr)
        sys.exit(130)
