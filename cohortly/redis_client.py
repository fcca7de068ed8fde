"""The Redis client behind every cache call, with one circuit breaker per process.

Redis is a cache here, never a dependency. django-redis builds its clients from
this class (CACHES' REDIS_CLIENT_CLASS option), so every Redis call the project
makes goes through it: the cache API, the response cache and its tags (whose
scripts run on this client), the user behind a token, the throttle counters and
the health probe.

A call waits at most REDIS_TIMEOUT_MS to connect and as long for the reply (the
connection pool's timeouts, settings.py). After a connection error or a
timeout this process stops calling Redis for REDIS_BACKOFF_SECONDS: every call
in that window fails at once with RedisSkipped, a ConnectionError, which
django-redis's IGNORE_EXCEPTIONS turns into a miss (get) or a no-op (set,
delete), and which the throttle answers by letting the request through. When
the window is over one call tries Redis again while the others keep skipping
until it has answered. So a worker pays the timeout at most once per window,
and a request at most once, however many Redis calls it makes.

The outage is logged by this module alone: a warning when it starts and at most
once a minute while it lasts, an info line when Redis answers again.
"""

import logging
import threading
import time

import redis
from django.conf import settings
from redis.client import Pipeline as BasePipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

#: Seconds between two warnings about one outage, in one process.
LOG_EVERY_SECONDS = 60

#: What says Redis can't be reached; any other RedisError is an answer from it.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class RedisSkipped(RedisConnectionError):
    """Raised instead of calling Redis while this process backs off."""


class Breaker:
    """Whether this process calls Redis now. Cheap while Redis answers: one
    attribute read per call; the lock is taken only during an outage."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        #: monotonic time of the last failure (or of the last try after a
        #: backoff); None while Redis answers.
        self.failed_at: float | None = None
        self._down_since = 0.0
        self._last_warning = float("-inf")
        self._warned_this_outage = False

    def before_call(self) -> None:
        """Raise RedisSkipped inside the backoff window; past it, let this one
        call try while every other call keeps skipping until it has answered."""
        if self.failed_at is None:
            return
        with self._lock:
            if self.failed_at is None:
                return
            now = time.monotonic()
            if now - self.failed_at < settings.REDIS_BACKOFF_SECONDS:
                raise RedisSkipped("Redis is skipped for a few seconds after a failure")
            self.failed_at = now

    def call(self, send, *args, **kwargs):
        """`send(*args, **kwargs)`, one round trip to Redis, through the breaker:
        skipped inside a backoff window; a connection error or timeout opens it;
        any answer (an error reply included) closes it."""
        self.before_call()
        try:
            result = send(*args, **kwargs)
        except UNREACHABLE as exc:
            self.failed(exc)
            raise
        except RedisError:
            self.answered()
            raise
        self.answered()
        return result

    def failed(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            if self.failed_at is None:
                self._down_since = now
                self._warned_this_outage = False
            self.failed_at = now
            warn = now - self._last_warning >= LOG_EVERY_SECONDS
            if warn:
                self._last_warning = now
                self._warned_this_outage = True
        if warn:
            logger.warning(
                "Redis unavailable (%s: %s): serving without the cache and letting throttled "
                "requests through; trying again every %g s, logged at most once a minute",
                type(exc).__name__,
                exc,
                settings.REDIS_BACKOFF_SECONDS,
            )

    def answered(self) -> None:
        if self.failed_at is None:
            return
        with self._lock:
            if self.failed_at is None:
                return
            self.failed_at = None
            down_for = time.monotonic() - self._down_since
            # An outage too short to have been warned about (one within a minute
            # of the last warning) comes back quietly too: two lines a minute at most.
            say = self._warned_this_outage
        if say:
            logger.info("Redis answers again after %.1f s", down_for)


#: One per process: every client django-redis makes shares it.
breaker = Breaker()


class Redis(redis.Redis):
    """redis.Redis whose every command, and every pipeline, passes the breaker."""

    def execute_command(self, *args, **options):
        return breaker.call(super().execute_command, *args, **options)

    def pipeline(self, transaction=True, shard_hint=None):
        return Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


class Pipeline(BasePipeline):
    """A pipeline is one round trip: the breaker is passed once, at execute()."""

    def execute(self, raise_on_error: bool = True):
        return breaker.call(super().execute, raise_on_error)
