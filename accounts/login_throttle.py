"""One limit on password guesses, whichever way in.

Every login (the API's, the sales workspace's, the admin's) calls
`login_attempt_check` right before it checks a password, so a guess costs the
same on every path and they all share one count.
"""

from math import ceil

from accounts.models import normalize_email
from cohortly.errors import TooManyAttempts
from cohortly.throttling import LoginAccountRateThrottle, LoginRateThrottle, refusing


def login_attempt_check(*, request, email: str | None) -> None:
    """Count one attempt at a password, then refuse it if a limit is spent.

    The attempt counts once against the client's address (DRF's get_ident, so
    NUM_PROXIES is honoured) and once against the account (the normalised
    `email`; an unknown email counts alike, so the limit says nothing about
    which accounts exist): THROTTLE_LOGIN_ADDRESS_RATE and THROTTLE_LOGIN_RATE,
    in fixed windows of the shared cache, so every worker and server sees one
    count. The address's limit is the higher one: a bootcamp's classroom signs
    in from one address at nine, one person tries one account. Every
    attempt counts, right password or wrong: a person signs in a few times a
    minute at most, and a limit on failures only would need a second counter.

    Raises TooManyAttempts once either limit is spent in the current window.
    The caller must then refuse without checking the password, so the right
    password is refused too until the window ends. If the cache is down the
    attempt is let through (cohortly.redis_client logs it)."""
    throttles = [LoginRateThrottle(), LoginAccountRateThrottle(normalize_email(email or ""))]
    # Both counted at once (one Redis transaction): at the limit, concurrent
    # attempts can't each find a different counter spent and all be refused.
    refused = refusing(throttles, request)
    if refused:
        wait = max(throttle.wait() for throttle in refused)
        raise TooManyAttempts(f"Too many sign-in attempts. Try again in {_duration(wait)}.", wait=wait)


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = ceil(seconds / 60)
    return f"{minutes} minutes"
