"""Fixed-window throttles on the shared cache.

DRF's stock throttles store every request's timestamp per client and rewrite
that list on each request. A fixed window needs one atomic increment (Redis
INCR) and holds the same limit. A cache outage lets requests through rather
than failing them all. Redis's is logged, and Redis skipped for a few seconds,
by its client (cohortly.redis_client) for every caller alike.
"""

import hashlib
import logging
import time

from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import throttling

from cohortly import locking, metrics

logger = logging.getLogger(__name__)


_last_outage_log = float("-inf")


def _log_outage(exc: Exception | None = None):
    # The cache's failures other than an outage: one line a minute per process
    # is enough to notice them.
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log > 60:
        _last_outage_log = now
        logger.warning("throttle cache unavailable; requests are let through", exc_info=exc)


def _hit_windows(cache, windows: list[tuple[str, int]]) -> list[int | None]:
    """Count one request in each window (key, ttl); return the windows' counts.

    On Redis the windows are counted in one transaction (MULTI: INCR and EXPIRE
    NX per key), so concurrent requests see several counters move together."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    if get_client is not None:
        pipe = get_client(write=True).pipeline(transaction=True)
        for key, ttl in windows:
            raw_key = cache.client.make_key(key)
            pipe.incr(raw_key)
            pipe.expire(raw_key, ttl, nx=True)
        return pipe.execute()[::2]
    counts = []
    for key, ttl in windows:
        # add() is a no-op when the key exists, so the expiry is set once.
        cache.add(key, 0, ttl)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add() and incr(): a fresh window
            cache.set(key, 1, ttl)
            counts.append(1)
    return counts


class FixedWindowThrottleMixin:
    cache = cache

    def window(self, request, view) -> tuple[str, int] | None:
        """The window this request counts in now (its key and its ttl), or None
        when this throttle doesn't apply to it."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return None
        now = int(time.time())
        window_start = now - now % self.duration
        self.window_ends = window_start + self.duration
        return f"{self.key}:{window_start}", self.duration + 1

    def allows(self, count: int | None) -> bool:
        if count is None:  # a cache that swallowed an error (IGNORE_EXCEPTIONS)
            _log_outage()
            return True
        if count <= self.num_requests:
            return True
        metrics.THROTTLE_REFUSALS.labels(self.scope).inc()
        return False

    def allow_request(self, request, view):
        return not refusing([self], request, view)

    def wait(self):
        return max(1, self.window_ends - int(time.time()))


def refusing(throttles, request, view=None) -> list:
    """Count one request against every throttle in `throttles` at once and return
    those whose limit it is over. A cache outage refuses nothing."""
    counted = [(throttle, window) for throttle in throttles if (window := throttle.window(request, view))]
    if not counted:
        return []
    try:
        counts = _hit_windows(counted[0][0].cache, [window for _, window in counted])
    except (RedisConnectionError, RedisTimeoutError):  # said once a minute by cohortly.redis_client
        return []
    except RedisError as exc:
        # An answer, not an outage (out of memory, a read-only replica, a command
        # this Redis lacks): the client doesn't log it, so this does, once a minute.
        _log_outage(exc)
        return []
    except Exception as exc:
        if locking.is_database_outage(exc):
            # The database cache (no Redis), away with the database: the request
            # can't be served either. Its 503 now, after this one wait for the
            # database, rather than after each throttle's wait and then the view's
            # (a login waited four times DB_CONNECT_TIMEOUT for a blackholed database).
            raise
        _log_outage(exc)
        return []
    pairs = zip(counted, counts, strict=True)
    return [throttle for (throttle, _), count in pairs if not throttle.allows(count)]


class AnonRateThrottle(FixedWindowThrottleMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FixedWindowThrottleMixin, throttling.UserRateThrottle):
    pass


class ScopedAnonThrottle(FixedWindowThrottleMixin, throttling.SimpleRateThrottle):
    """Per client IP, whoever is logged in: for login, register and public forms.
    An OPTIONS request does none of the work these limits guard (no password
    checked, no email sent), so it doesn't spend them."""

    scope: str

    def get_cache_key(self, request, view):
        if request.method == "OPTIONS":
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(ScopedAnonThrottle):
    """Password attempts per client address, whichever accounts they try
    (THROTTLE_LOGIN_ADDRESS_RATE): higher than an account's limit, since a
    classroom or an office signs in from one address."""

    scope = "login"
    rate_key = "login_address"

    def get_rate(self):
        return self.THROTTLE_RATES[self.rate_key]


class LoginAccountRateThrottle(LoginRateThrottle):
    """Per account, from whatever address, at the login rate (THROTTLE_LOGIN_RATE).

    `account` is the email as submitted, normalised by the caller; it is hashed
    so that no address is a cache key. accounts.login_throttle uses both."""

    scope = "login_account"
    rate_key = "login"

    def __init__(self, account: str):
        self.account = account
        super().__init__()

    def get_cache_key(self, request, view):
        if not self.account:
            return None
        ident = hashlib.sha256(self.account.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterRateThrottle(ScopedAnonThrottle):
    scope = "register"


class PasswordResetRateThrottle(ScopedAnonThrottle):
    scope = "password_reset"


class LeadCaptureRateThrottle(ScopedAnonThrottle):
    scope = "lead_capture"
