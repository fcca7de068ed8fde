"""SendGrid's Event Webhook: real event payloads (the shape SendGrid's docs give)
posted to /anymail/sendgrid/tracking/, through anymail's view and its checks."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.urls import reverse

from mail.models import DeliveryEvent, OutboundEmail, SuppressedAddress
from mail.tests.conftest import basic_auth
from mail.tests.factories import OutboundEmailFactory

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")]

URL = "/anymail/sendgrid/tracking/"
Status = OutboundEmail.Status


def sendgrid_event(email: OutboundEmail, event: str, n: int = 1, **fields) -> dict:
    """One event as SendGrid posts it; anymail's SendGrid backend put `anymail_id`
    in the message's custom_args, which SendGrid merges into every event."""
    return {
        "email": email.to,
        "timestamp": 1767225600 + n,
        "smtp-id": f"<14c5d75ce93.dfd.64b469.{n}@ismtpd-555>",
        "event": event,
        "category": ["cohortly"],
        "sg_event_id": f"sg-event-{event}-{n}-{email.pk}",
        "sg_message_id": f"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.{n}",
        "anymail_id": email.provider_message_id,
        **fields,
    }


def post(client, events, **headers):
    return client.post(URL, data=json.dumps(events), content_type="application/json", **headers)


def test_the_url_is_anymails(webhook_settings):
    assert reverse("sendgrid-tracking") == URL


def test_each_event_lands_on_its_message(client, webhook_settings, webhook_auth):
    delivered, bounced, dropped, spam, unsubscribed = OutboundEmailFactory.create_batch(5)
    other = OutboundEmailFactory()
    events = [
        sendgrid_event(delivered, "processed", 1),
        sendgrid_event(delivered, "delivered", 2, response="250 2.0.0 OK 1767225602 mx.example.com", tls=1),
        sendgrid_event(
            bounced,
            "bounce",
            3,
            reason="550 5.1.1 The email account that you tried to reach does not exist.",
            status="5.1.1",
            type="bounce",
            bounce_classification="Invalid Address",
        ),
        sendgrid_event(dropped, "dropped", 4, reason="Bounced Address", status="5.0.0"),
        sendgrid_event(spam, "delivered", 5, response="250 OK"),
        sendgrid_event(spam, "spamreport", 6),
        sendgrid_event(unsubscribed, "unsubscribe", 7),
    ]
    response = post(client, events, **webhook_auth)
    assert response.status_code == 200, response.content

    def kinds(email):
        return list(email.events.order_by("occurred_at").values_list("provider_event", flat=True))

    assert kinds(delivered) == ["processed", "delivered"]
    assert kinds(bounced) == ["bounce"]
    assert kinds(dropped) == ["dropped"]
    assert kinds(spam) == ["delivered", "spamreport"]
    assert kinds(unsubscribed) == ["unsubscribe"]
    assert kinds(other) == []
    status = dict(OutboundEmail.objects.values_list("to", "status"))
    assert status[delivered.to] == Status.DELIVERED
    assert status[bounced.to] == Status.BOUNCED
    assert status[dropped.to] == Status.BOUNCED
    assert status[spam.to] == Status.DELIVERED
    assert status[unsubscribed.to] == Status.SENT
    assert status[other.to] == Status.SENT
    bounced.refresh_from_db()
    assert bounced.last_error.startswith("550 5.1.1")

    # Hard bounce, drop and spam report suppress the address; delivery and unsubscribe don't.
    assert dict(SuppressedAddress.objects.values_list("address", "reason")) == {
        bounced.to: SuppressedAddress.Reason.BOUNCED,
        dropped.to: SuppressedAddress.Reason.DROPPED,
        spam.to: SuppressedAddress.Reason.SPAM_REPORT,
    }


def test_a_soft_bounce_is_recorded_without_suppressing(client, webhook_settings, webhook_auth):
    email = OutboundEmailFactory()
    blocked = sendgrid_event(
        email, "bounce", reason="421 4.7.0 Try again later", status="4.7.0", type="blocked"
    )
    assert post(client, [blocked], **webhook_auth).status_code == 200
    email.refresh_from_db()
    assert email.status == Status.BOUNCED
    assert not SuppressedAddress.objects.exists()


def test_a_repeated_batch_changes_nothing(client, webhook_settings, webhook_auth):
    email = OutboundEmailFactory()
    events = [
        sendgrid_event(email, "delivered", 1),
        sendgrid_event(email, "bounce", 2, type="bounce", reason="550"),
    ]
    assert post(client, events, **webhook_auth).status_code == 200
    assert post(client, events, **webhook_auth).status_code == 200  # SendGrid retried
    assert DeliveryEvent.objects.count() == 2
    email.refresh_from_db()
    assert email.status == Status.BOUNCED  # a late "delivered" never hides a bounce


def test_an_event_for_an_unknown_message_is_kept(client, webhook_settings, webhook_auth):
    stranger = OutboundEmail(pk=0, to="stranger@example.com", provider_message_id="not-ours")
    assert post(client, [sendgrid_event(stranger, "spamreport")], **webhook_auth).status_code == 200
    event = DeliveryEvent.objects.get()
    assert event.email is None and event.recipient == "stranger@example.com"
    assert SuppressedAddress.objects.filter(address="stranger@example.com").exists()


@pytest.mark.parametrize(
    "headers",
    [{}, basic_auth("sendgrid:wrong"), basic_auth("someone:hook-secret-42")],
    ids=["no credentials", "wrong password", "wrong user"],
)
def test_without_the_right_credentials_nothing_is_stored(client, webhook_settings, headers):
    email = OutboundEmailFactory()
    response = post(client, [sendgrid_event(email, "bounce", type="bounce", reason="550")], **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["errors"][0]["code"] == "not_authenticated"
    assert not DeliveryEvent.objects.exists() and not SuppressedAddress.objects.exists()
    email.refresh_from_db()
    assert email.status == Status.SENT


def test_without_a_configured_secret_the_webhook_is_closed(client, settings, webhook_auth):
    settings.ANYMAIL = {}
    email = OutboundEmailFactory()
    response = post(client, [sendgrid_event(email, "spamreport")], **webhook_auth)
    assert response.status_code == 403
    assert response.json()["type"] == "client_error"
    assert not DeliveryEvent.objects.exists() and not SuppressedAddress.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"event": "bounce"}',
        "[1, 2]",
        '[{"email": "x@example.com"}]',
        # Nested deeper than Python's recursion limit: a 500 before.
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_an_unreadable_body_is_a_400_and_stores_nothing(client, webhook_settings, webhook_auth, body):
    response = client.post(URL, data=body, content_type="application/json", **webhook_auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert not DeliveryEvent.objects.exists()


def test_signed_events_are_verified_with_sendgrids_public_key(client, webhook_settings, webhook_auth):
    """SendGrid signs the timestamp and the body with ECDSA (P-256, SHA-256); the
    setting holds the public key as SendGrid's console shows it (base64 DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    webhook_settings.ANYMAIL = {
        **webhook_settings.ANYMAIL,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": base64.b64encode(public).decode(),
    }
    email = OutboundEmailFactory()
    body = json.dumps([sendgrid_event(email, "delivered")])
    timestamp = "1767225601"
    signature = base64.b64encode(
        key.sign(timestamp.encode() + body.encode(), ec.ECDSA(hashes.SHA256()))
    ).decode()

    def send(sig, **auth):
        return client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=sig,
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
            **auth,
        )

    forged = base64.b64encode(ec.generate_private_key(ec.SECP256R1()).sign(b"x", ec.ECDSA(hashes.SHA256())))
    assert send(forged.decode(), **webhook_auth).status_code == 401
    assert send(signature).status_code == 401  # the signature doesn't replace the basic auth
    assert not DeliveryEvent.objects.exists()
    assert send(signature, **webhook_auth).status_code == 200
    email.refresh_from_db()
    assert email.status == Status.DELIVERED


def test_sent_mail_carries_the_id_its_events_come_back_with(
    client, webhook_settings, webhook_auth, anon_client, django_capture_on_commit_callbacks
):
    """From a request to a delivery event: anymail's backend reports the message id
    after sending, the outbox keeps it, and SendGrid's event finds the row by it."""
    webhook_settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(
            "/api/v1/auth/register",
            {"email": "ada@example.com", "password": "Long-Secret-Phrase-9", "full_name": "Ada Lovelace"},
            format="json",
            HTTP_X_REQUEST_ID="req-signup-1",
        )
    assert response.status_code == 202
    email = OutboundEmail.objects.get(to="ada@example.com")
    assert (email.template, email.status, email.attempts, email.request_id) == (
        "welcome",
        "SENT",
        1,
        "req-signup-1",
    )
    assert email.provider_message_id != "" and [m.to for m in mail.outbox] == [["ada@example.com"]]
    bounce = sendgrid_event(email, "bounce", reason="550 5.1.1 No such user", type="bounce")
    assert post(client, [bounce], **webhook_auth).status_code == 200
    email.refresh_from_db()
    assert email.status == Status.BOUNCED


@pytest.mark.parametrize(
    "odd",
    [
        {"reason": "550 no such user\x00 here"},
        {"response": "\x00"},
        {"extra": float("nan")},
        {"extra": {"deep\x00key": ["a\x00b", float("inf")]}},
        {"sg_event_id": "x" * 300},
        {"email": "a" * 250 + "@example.com"},
        {"reason": "\ud800"},
        {"extra": {"\udfff": "\udbff"}},
    ],
    ids=[
        "nul in reason",
        "nul in response",
        "nan",
        "nested nul and inf",
        "long event id",
        "long email",
        "lone surrogate in reason",
        "lone surrogates in the payload",
    ],
)
def test_an_odd_event_is_stored_as_best_it_can_be_and_the_batch_still_counts(
    client, webhook_settings, webhook_auth, odd
):
    """PostgreSQL refuses NUL in text and NaN in JSON, and the columns have
    lengths: an event carrying any of them was a 500 that lost the real bounce
    in the same batch."""
    email, bounced = OutboundEmailFactory(), OutboundEmailFactory(to="gone@example.com")
    odd_event = {**sendgrid_event(email, "bounce", 1, type="bounce"), **odd}
    real_bounce = sendgrid_event(bounced, "bounce", 2, type="bounce", reason="550 5.1.1 unknown")
    body = json.dumps([odd_event, real_bounce])  # NaN and Infinity as Python writes them
    response = client.post(URL, data=body, content_type="application/json", **webhook_auth)
    assert response.status_code == 200, response.content[:300]
    assert SuppressedAddress.objects.filter(address="gone@example.com").exists()
    stored = DeliveryEvent.objects.get(provider_message_id=email.provider_message_id)
    assert "\x00" not in stored.detail and "\x00" not in json.dumps(stored.payload)
    assert len(stored.recipient) <= 254 and len(stored.provider_event_id) <= 255
    assert post(client, [odd_event, real_bounce], **webhook_auth).status_code == 200  # a retry is recognised
    assert DeliveryEvent.objects.count() == 2


@pytest.mark.parametrize("timestamp", [1e30, -1e30, "soon"])
def test_a_time_that_cannot_be_read_is_a_400_not_a_500(client, webhook_settings, webhook_auth, timestamp):
    email = OutboundEmailFactory()
    response = post(
        client, [sendgrid_event(email, "bounce", type="bounce", timestamp=timestamp)], **webhook_auth
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert not DeliveryEvent.objects.exists()


def test_a_bounce_reported_in_ascii_suppresses_the_address_registered_in_unicode(
    client, webhook_settings, webhook_auth
):
    from mail.selectors import suppression_for

    email = OutboundEmailFactory(to="zoe@xn--exmple-cua.com")
    bounce = {
        **sendgrid_event(email, "bounce", type="bounce", reason="550"),
        "email": "zoe@xn--exmple-cua.com",
    }
    assert post(client, [bounce], **webhook_auth).status_code == 200
    assert suppression_for("Zoe@Exämple.com") is not None


def test_a_suppression_is_logged_without_the_address(client, webhook_settings, webhook_auth, caplog):
    bounced = OutboundEmailFactory(to="private.person@example.com")
    event = sendgrid_event(bounced, "bounce", 7, reason="550 5.1.1 No such user", type="bounce")
    with caplog.at_level("INFO"):
        assert post(client, [event], **webhook_auth).status_code == 200
    assert SuppressedAddress.objects.filter(address="private.person@example.com").exists()
    recorded = DeliveryEvent.objects.get(provider_event_id=event["sg_event_id"])
    lines = [record.getMessage() for record in caplog.records]
    assert (
        f"an address is suppressed after SendGrid bounce (delivery event {recorded.pk}, "
        f"message {bounced.provider_message_id})"
    ) in lines
    assert not [line for line in lines if "private.person" in line]
