"""Gunicorn settings, read from the environment (`gunicorn -c gunicorn.conf.py cohortly.wsgi`).

Every value has a default that suits one machine; hosts set only what differs.

  GUNICORN_BIND            where to listen (default 127.0.0.1:8000, or 0.0.0.0:$PORT when the host
                           sets PORT, as Render and Railway do)
  WEB_CONCURRENCY          worker processes (alias GUNICORN_WORKERS; default: the CPU count)
  GUNICORN_THREADS         threads per worker (default 1: sync workers; more switches to gthread)
  GUNICORN_TIMEOUT         seconds before a silent worker is killed and replaced (default 30)
  GUNICORN_GRACEFUL_TIMEOUT  seconds a worker gets to finish on restart/shutdown (default 30)
  GUNICORN_KEEPALIVE       seconds to hold an idle keep-alive connection (gthread only; default 5)
  GUNICORN_MAX_REQUESTS    recycle a worker after this many requests (default 0: never), with
  GUNICORN_MAX_REQUESTS_JITTER  a random spread so workers don't restart together (default 10%)
  GUNICORN_ACCESSLOG       an access log file, "-" for stdout (default: none; the app's request
                           middleware already logs one line per request with its request id)
  GUNICORN_LOGLEVEL        gunicorn's own log level (default info)
  GUNICORN_PRELOAD         import the app once in the master before forking (default true)
  GUNICORN_CONTROL_SOCKET  a path for gunicorn's control socket (default: none, see below)
  FORWARDED_ALLOW_IPS      read by gunicorn itself: proxies trusted for X-Forwarded-* headers
  PROMETHEUS_MULTIPROC_DIR where the workers' metrics files live (default: a new directory in
                           /dev/shm or the temporary folder); an earlier run's metrics files
                           there are removed as gunicorn starts, nothing else

Sync workers also collect the previous request's garbage as each request starts (see
pre_request below).
"""

import gc
import os
import re
import shutil
import sys
import tempfile


def _refuse(message: str):
    # One line naming the variable (gunicorn prints a traceback for an exception
    # raised here, and would start a master without workers for a 0).
    sys.exit(f"gunicorn.conf.py: {message}")


def _int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdecimal()) or int(value) < minimum:
        _refuse(f"{name} must be a whole number, {minimum} or more (it is {value!r}).")
    return int(value)


_YES, _NO = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in _YES | _NO:
        _refuse(f"{name} must be true or false (it is {value!r}).")
    return value in _YES


def _cpu_count() -> int:
    # The CPUs this process may run on (a container's limit), not the host's.
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _bind() -> str:
    if os.environ.get("GUNICORN_BIND"):
        return os.environ["GUNICORN_BIND"]
    if os.environ.get("PORT"):
        # A platform (Render, Railway, Heroku-style) routes its load balancer to $PORT.
        return f"0.0.0.0:{os.environ['PORT']}"
    return "127.0.0.1:8000"


wsgi_app = "cohortly.wsgi:application"
bind = [_bind()]
workers = _int("WEB_CONCURRENCY", _int("GUNICORN_WORKERS", _cpu_count(), minimum=1), minimum=1)
threads = _int("GUNICORN_THREADS", 1, minimum=1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)

# Django, DRF and every app module are imported once in the master; workers
# share those pages copy-on-write, start in milliseconds, and a broken import
# fails the deploy at once instead of in a crash-looping worker. No database
# connection is opened at import time, so none is shared across the fork.
preload_app = _bool("GUNICORN_PRELOAD", True)

# The worker heartbeat file: in memory where the host has /dev/shm (a disk-backed
# /tmp, as in some containers, can stall workers on fsync and get them killed).
_SHM = "/dev/shm"  # noqa: S108 (gunicorn's own files, not shared temporary data)
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM

# /metrics (cohortly.metrics) sums every worker's counts: prometheus-client's multiprocess
# mode, where each worker writes its own files here. Set before the app is imported,
# which is when the client reads it.
# A directory this server makes for itself goes when it stops, so restarts don't leave one
# behind each in /dev/shm. The master that made it is noted beside it: gunicorn reads this
# file again on a reload (HUP) in the same master, which keeps it; a new master started by
# an upgrade (USR2) inherits both and neither makes nor removes one.
_MADE_BY = "COHORTLY_METRICS_DIR_MADE_BY"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="cohortly-metrics-", dir=_SHM if os.path.isdir(_SHM) else None
    )
    os.environ[_MADE_BY] = str(os.getpid())


# The files prometheus-client writes there: <type>_<pid>.db (a gauge's type names its mode).
_METRICS_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_[0-9]+\.db")


def on_starting(server):
    # Counts from a previous run in a reused directory would be added to this one's.
    # Only prometheus-client's own files go: the directory is the operator's to name,
    # and PROMETHEUS_MULTIPROC_DIR=/tmp must not empty /tmp.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for entry in os.scandir(directory):
        if _METRICS_FILE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            os.remove(entry.path)


def on_exit(server):
    # Not while a master this one started by an upgrade (USR2) still uses the directory.
    made_here = os.environ.get(_MADE_BY) == str(os.getpid())
    if made_here and not getattr(server, "reexec_pid", 0):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    # What prometheus-client asks of a multiprocess server: a gone worker's live gauges go.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "").strip().lower() or "info"
if loglevel not in ("debug", "info", "warning", "error", "critical"):
    # gunicorn reads a level it doesn't know as info; under LOG_FORMAT=json the same
    # value stopped the start with "Unable to configure logger 'gunicorn.error'".
    _refuse(f"GUNICORN_LOGLEVEL must be debug, info, warning, error or critical (it is {loglevel!r}).")


def _json_logging(level: str) -> dict:
    """gunicorn's own lines (a worker booted, timed out, killed) as the app writes
    its lines under LOG_FORMAT=json: one JSON object each, so a log pipeline that
    parses the app's lines reads gunicorn's too."""
    formatter = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "{asctime}{levelname}{name}{message}",
        "style": "{",
        "rename_fields": {"asctime": "time", "levelname": "level"},
    }

    def handler(stream):
        return {"class": "logging.StreamHandler", "formatter": "json", "stream": stream}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatter},
        "handlers": {"error_console": handler("ext://sys.stderr"), "console": handler("ext://sys.stdout")},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": ["error_console"], "propagate": False},
            # gunicorn turns its access log on whenever a logging config is given: off
            # here unless GUNICORN_ACCESSLOG asks for it, as without LOG_FORMAT=json (its
            # lines carry the query string, where a lead search holds an email or phone).
            "gunicorn.access": (
                {"level": "INFO", "handlers": ["console"], "propagate": False}
                if accesslog
                else {"level": "CRITICAL", "handlers": [], "propagate": False}
            ),
        },
        "root": {"level": "INFO", "handlers": []},
    }


# The app reads LOG_FORMAT from its .env too; gunicorn's lines follow the environment's.
if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = _json_logging(loglevel)
proc_name = "cohortly"

# Gunicorn's control socket defaults to one path per user ($HOME/.gunicorn),
# which two servers on one machine (or a read-only home in a container) would
# fight over; it is opt-in here.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


# Every request leaves its objects in reference cycles (DRF's request, view and response
# point at each other; so do Django's request and its messages storage), which only
# Python's cyclic collector frees. Whatever is alive when a collection runs in the middle
# of a request moves to an older generation, and that garbage piled up there between rare
# full collections: 10-15 MB more per worker under load, kept by the allocator afterwards.
# Collecting the two young generations as the next request starts (its headers parsed,
# the app not yet called), when the last one's objects are all unreachable, frees most of
# them at once, for about 50 us; the little a mid-request collection had already moved to
# the oldest generation waits for a full collection, as before. Sync workers only, however
# they were chosen (GUNICORN_THREADS, --threads, GUNICORN_CMD_ARGS): with threads, another
# request's live objects would be moved to the oldest generation instead.
def pre_request(worker, req):
    worker.log.debug("%s %s", req.method, req.path)  # gunicorn's own pre_request
    if worker.cfg.worker_class_str == "sync":
        gc.collect(1)
