"""A worker doesn't load what it never uses (cohortly/__init__.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
import django
django.setup()
import cohortly.urls
from rest_framework import compat
assert compat.requests is None and compat.pygments is None, (compat.requests, compat.pygments)
assert "requests" not in sys.modules and "pygments" not in sys.modules
from anymail.backends.postmark import EmailBackend  # anymail's HTTP backends still get requests
assert "requests" in sys.modules
print("ok")
"""


def test_drf_compat_leaves_requests_and_pygments_until_something_uses_them():
    env = {"DJANGO_SETTINGS_MODULE": "cohortly.settings", "PATH": "/usr/bin:/bin", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_redis_replies_are_parsed_by_hiredis():
    from redis.utils import HIREDIS_AVAILABLE

    assert HIREDIS_AVAILABLE, "hiredis (requirements.txt) is not installed: redis-py falls back to Python"
