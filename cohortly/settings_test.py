"""Test settings: production-shaped (DEBUG off) but fast and self-contained."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x7Qm2pL9vR4tY8wZ3nB6cF1hJ5kD0sG" * 2)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("HEALTH_CHECK_INTERVAL", "0")  # every health request probes
# A loaded test machine can keep Redis from answering within production's 100 ms:
# the breaker would then skip Redis for seconds and turn the cache hits and
# throttle counts the tests assert into misses. The fault tests use production's
# options themselves (cohortly/tests/redis_setup.py).
os.environ.setdefault("REDIS_TIMEOUT_MS", "1000")

from cohortly.settings import *  # noqa: F403

# Hashing with Argon2 is deliberately slow; tests only need a working hasher.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "legacy.hashers.LegacyBcryptPasswordHasher",
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
