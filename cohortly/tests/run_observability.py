"""Run by test_observability in a fresh process (its settings come from the environment
at start): one request that works, one that fails, then flush Sentry."""

import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohortly.settings_test")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

settings.ROOT_URLCONF = "cohortly.tests.observability_urls"
client = Client(raise_request_exception=False)
assert client.get("/test/works", HTTP_X_REQUEST_ID="req-works-1").status_code == 200
failed = client.post(
    "/test/fails",
    {"password": "Hunter2-Very-Secret", "email": "ada@example.com"},
    HTTP_X_REQUEST_ID="req-fails-1",
    HTTP_AUTHORIZATION="Bearer TOKEN-THAT-MUST-NOT-LEAK",
)
assert failed.status_code == 500

import sentry_sdk  # noqa: E402

print("SENTRY_ACTIVE", sentry_sdk.get_client().is_active(), flush=True)
sentry_sdk.flush(timeout=5)
