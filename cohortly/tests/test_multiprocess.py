"""Limits that must hold across processes: throttles shared through Redis."""

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from cohortly.tests.live_servers import gunicorn, request

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)"),
]


def test_login_throttle_holds_across_workers_and_servers():
    """Two servers with two workers each share one Redis: the login limit is
    counted once for the client, not per process."""
    env = {
        "REDIS_URL": os.environ["REDIS_URL"],
        "CACHE_KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
        "THROTTLE_LOGIN_RATE": "6/hour",  # an hour window: the test never straddles two,
    }
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    with gunicorn(workers=2, env=env) as first, gunicorn(workers=2, env=env) as second:
        urls = [f"{(first, second)[i % 2]}/api/v1/auth/login" for i in range(20)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda url: request("POST", url, json_body=body)[0], urls))
    assert statuses.count(401) == 6, statuses
    assert statuses.count(429) == 14, statuses
