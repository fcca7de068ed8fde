"""Fixed-window throttles on the shared cache.

DRF's stock throttles store every request's timestamp per client and rewrite
that list on each request. A fixed window needs one atomic increment (Redis
INCR) and holds the same limit. A cache outage lets requests through and is
logged rather than failing them all.
"""

import logging
import time

from django.core.cache import cache
from rest_framework import throttling

logger = logging.getLogger(__name__)


class FixedWindowThrottleMixin:
    cache = cache

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = int(time.time())
        window_start = now - now % self.duration
        self.window_ends = window_start + self.duration
        key = f"{self.key}:{window_start}"
        try:
            # add() is a no-op when the key exists, so the window's expiry is
            # set once; incr() is atomic on Redis.
            self.cache.add(key, 0, self.duration + 1)
            count = self.cache.incr(key)
        except ValueError:
            # The key expired between add() and incr(): a fresh window.
            self.cache.set(key, 1, self.duration + 1)
            count = 1
        except Exception:
            logger.warning("throttle cache unavailable; request allowed", exc_info=True)
            return True
        if count is None:  # a cache that swallowed an error (IGNORE_EXCEPTIONS)
            return True
        return count <= self.num_requests

    def wait(self):
        return max(1, self.window_ends - int(time.time()))


class AnonRateThrottle(FixedWindowThrottleMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FixedWindowThrottleMixin, throttling.UserRateThrottle):
    pass


class ScopedAnonThrottle(FixedWindowThrottleMixin, throttling.SimpleRateThrottle):
    """Per client IP, whoever is logged in: for login, register and public forms."""

    scope: str

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(ScopedAnonThrottle):
    scope = "login"


class RegisterRateThrottle(ScopedAnonThrottle):
    scope = "register"


class PasswordResetRateThrottle(ScopedAnonThrottle):
    scope = "password_reset"


class LeadCaptureRateThrottle(ScopedAnonThrottle):
    scope = "lead_capture"
