"""What a worker runs on: the fast Redis reply parser, and the client every
Redis call goes through (cohortly.redis_client), configured from the environment."""

import json
import logging
import os
import subprocess
import sys
from unittest import mock

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from cohortly.redis_client import Breaker, RedisSkipped
from cohortly.tests.live_servers import BASE_DIR
from cohortly.tests.redis_setup import REDIS_OPTIONS

PRINT_CACHE_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'OPTIONS': s.CACHES['default']['OPTIONS'], "
    "'RESPONSE_CACHE_SECONDS': s.RESPONSE_CACHE_SECONDS, 'USER_CACHE_SECONDS': s.USER_CACHE_SECONDS}))"
)


def test_redis_replies_are_parsed_by_hiredis():
    from redis.utils import HIREDIS_AVAILABLE

    assert HIREDIS_AVAILABLE, "hiredis (requirements.txt) is not installed: redis-py falls back to Python"


def _settings_with(**env):
    return subprocess.run(
        [sys.executable, "-c", PRINT_CACHE_SETTINGS],
        cwd=BASE_DIR,
        # Production's settings (settings_test relaxes the Redis timeout), DEBUG for a dev key.
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "cohortly.settings",
            "DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_redis_waits_100_ms_at_most_by_default_and_goes_through_the_breaker():
    """The fault tests (test_faults.py) run on these very options."""
    result = _settings_with(REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["OPTIONS"] == REDIS_OPTIONS
    result = _settings_with(REDIS_URL="redis://127.0.0.1:6379/0", REDIS_TIMEOUT_MS="40")
    options = json.loads(result.stdout)["OPTIONS"]
    assert options["SOCKET_CONNECT_TIMEOUT"] == options["SOCKET_TIMEOUT"] == 0.04


def test_nothing_is_cached_in_redis_for_longer_than_a_minute_by_default():
    """The bound on stale reads after a lost invalidation (SECURITY.md): the
    responses and the user behind a token."""
    bound = json.loads(_settings_with(REDIS_URL="redis://127.0.0.1:6379/0").stdout)
    assert bound["RESPONSE_CACHE_SECONDS"] == bound["USER_CACHE_SECONDS"] == 60


def test_a_redis_timeout_of_zero_is_refused():
    """django-redis would read 0 as no timeout at all: a hung Redis would hang every request."""
    result = _settings_with(REDIS_URL="redis://127.0.0.1:6379/0", REDIS_TIMEOUT_MS="0")
    assert result.returncode != 0
    assert "REDIS_TIMEOUT_MS must be a positive number" in result.stderr


def test_an_outage_is_logged_once_a_minute_and_its_end_once(settings, caplog):
    """The breaker alone, on a clock the test moves (the faults themselves are
    real in test_faults.py): Redis fails every second for three minutes."""
    settings.REDIS_BACKOFF_SECONDS = 1
    clock = [1000.0]
    breaker = Breaker()
    with (
        mock.patch("cohortly.redis_client.time.monotonic", lambda: clock[0]),
        caplog.at_level(logging.INFO, logger="cohortly.redis_client"),
    ):
        for _ in range(180):
            breaker.before_call()  # the backoff is over: this call tries Redis
            breaker.failed(RedisConnectionError("Connection refused"))
            clock[0] += 0.5
            with pytest.raises(RedisSkipped):  # inside the backoff: skipped
                breaker.before_call()
            clock[0] += 0.5
        breaker.before_call()
        breaker.answered()
        breaker.before_call()  # and Redis is called again
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING", "WARNING", "INFO"]
    assert caplog.records[-1].getMessage() == "Redis answers again after 180.0 s"
