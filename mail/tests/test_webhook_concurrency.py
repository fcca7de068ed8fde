"""SendGrid posts its event batches in parallel, and the events of one set of
messages (an announcement to a whole bootcamp: delivered, then opened in another
order) come in batches that list them in different orders. Real concurrent
posts at a live server, on PostgreSQL (SQLite serialises every writer)."""

import base64
import logging
import time
from collections import Counter

import pytest
import requests

from cohortly.tests.live_servers import RaceServerThread, race
from mail.models import DeliveryEvent, OutboundEmail, SuppressedAddress
from mail.tests.factories import OutboundEmailFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning"),
]

URL = "/anymail/sendgrid/tracking/"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"sendgrid:hook-secret-42").decode()}


@pytest.fixture
def race_server(transactional_db, webhook_settings):
    with RaceServerThread.running() as thread:
        yield thread


def event(email: OutboundEmail, kind: str, **fields) -> dict:
    return {
        "email": email.to,
        "timestamp": int(time.time()),
        "event": kind,
        "sg_event_id": f"{kind}-{email.pk}",
        "anymail_id": email.provider_message_id,
        **fields,
    }


def test_batches_naming_the_same_messages_in_other_orders_are_all_stored(race_server):
    emails = OutboundEmailFactory.create_batch(30)
    batches = [
        [event(email, "delivered") for email in emails],
        [event(email, "open") for email in reversed(emails)],
        [event(email, "bounce", type="bounce", reason="550 no such user") for email in emails[1::2]]
        + [event(email, "bounce", type="bounce", reason="550 no such user") for email in emails[::2]][::-1],
    ]

    responses = race(
        [
            lambda session, batch=batch: session.post(
                f"{race_server.url}{URL}", json=batch, headers=AUTH, timeout=60
            )
            for batch in batches
        ]
    )

    codes = Counter(r.status_code if isinstance(r, requests.Response) else repr(r) for r in responses)
    assert codes == {200: 3}, codes
    assert DeliveryEvent.objects.count() == 90
    assert Counter(DeliveryEvent.objects.values_list("event_type", flat=True)) == {
        "delivered": 30,
        "opened": 30,
        "bounced": 30,
    }
    # A bounce is final, whichever batch got in first.
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundEmail.Status.BOUNCED}
    assert SuppressedAddress.objects.count() == 30


def test_a_batch_posted_again_while_its_first_post_is_stored_is_a_quiet_repeat(race_server, caplog):
    """SendGrid posts a batch again when its first post took too long; both then
    store the same events at once. Each event is stored once, and the repeats are
    no error (each was logged as one, with its traceback, for Sentry)."""
    emails = OutboundEmailFactory.create_batch(30)
    batch = [event(email, "delivered") for email in emails]

    responses = race(
        [
            lambda session: session.post(f"{race_server.url}{URL}", json=batch, headers=AUTH, timeout=60)
            for _ in range(3)
        ]
    )

    codes = Counter(r.status_code if isinstance(r, requests.Response) else repr(r) for r in responses)
    assert codes == {200: 3}, codes
    assert DeliveryEvent.objects.count() == 30
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundEmail.Status.DELIVERED}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
