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

# Through the WSGI handler, as a server calls it (sentry-sdk then reads the URL's query
# string and the headers too): a search for an address, percent-encoded as browsers send it.
import io  # noqa: E402

from django.core.wsgi import get_wsgi_application  # noqa: E402

statuses = []
for path in ("/test/fails", "/test/api-fails"):
    get_wsgi_application()(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "search=Zebedee&q=plain.person@example.com&email=query.person%40example.com",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "HTTP_REFERER": "http://testserver/admin/?q=referer.person@example.com",
            "HTTP_X_REQUEST_ID": "req-fails-2",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
        },
        lambda status, headers, exc_info=None: statuses.append(status),
    )
assert [status[:3] for status in statuses] == ["500", "500"], statuses

import sentry_sdk  # noqa: E402

print("SENTRY_ACTIVE", sentry_sdk.get_client().is_active(), flush=True)
sentry_sdk.flush(timeout=5)
