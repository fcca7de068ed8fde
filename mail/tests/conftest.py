import base64

import pytest


@pytest.fixture
def webhook_settings(settings):
    """The webhook as production configures it: basic auth, the SendGrid backend's ids."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": "sendgrid:hook-secret-42"}
    return settings


def basic_auth(credentials: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


@pytest.fixture
def webhook_auth():
    return basic_auth("sendgrid:hook-secret-42")
