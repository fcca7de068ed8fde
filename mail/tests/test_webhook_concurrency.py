"""SendGrid posts its event batches in parallel, and the events of one set of
messages (an announcement to a whole bootcamp: delivered, then opened in another
order) come in batches that list them in different orders. Real concurrent
posts at a live server, on PostgreSQL (SQLite serialises every writer)."""

import base64
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
