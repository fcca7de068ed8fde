"""Writes of the outbox, the delivery events and the suppression list."""

import logging
import math
from datetime import timedelta

from anymail.signals import AnymailTrackingEvent, EventType
from django.db import IntegrityError, transaction
from django.utils import timezone

from cohortly import errors
from mail.models import DeliveryEvent, OutboundEmail, SuppressedAddress
from mail.selectors import normalize
from mail.tasks import send_email_task

logger = logging.getLogger(__name__)
Status = OutboundEmail.Status


def _enqueue(email: OutboundEmail, attempt: int) -> None:
    try:
        send_email_task.enqueue(email_id=email.pk, attempt=attempt)
    except Exception as exc:
        # The task store itself failing must not fail a committed request; the row
        # shows the failure and the admin's "retry now" sends it.
        logger.exception(
            "could not enqueue email %s (%s, request %s)", email.pk, email.template, email.request_id or "-"
        )
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=Status.FAILED, last_error=f"Could not be queued: {type(exc).__name__}: {exc}"
        )


def outbox_enqueue(
    *,
    to: list[str],
    template: str,
    subject: str,
    body: str,
    request_id: str,
    ignore_suppression: bool = False,
) -> list[OutboundEmail]:
    """Record one email per recipient now (in the caller's transaction, so a rolled-back
    request leaves none) and hand them to the task queue once it commits."""
    emails = [
        OutboundEmail.objects.create(
            to=address,
            template=template,
            subject=subject[:255],
            body=body,
            request_id="" if request_id == "-" else request_id,
            ignore_suppression=ignore_suppression,
        )
        for address in to
    ]
    for email in emails:
        transaction.on_commit(lambda email=email: _enqueue(email, 1), robust=True)
    return emails


#: A QUEUED email untouched this long: its worker stopped while sending (killed,
#: the machine gone), or its task was never queued (the process died between the
#: commit and handing it over) or was lost. Far past any send's timeout; and an
#: attempt is taken once (mail.tasks._claim), so a send still under way, or a
#: task that does turn up later, never sends it twice.
STUCK_AFTER = timedelta(minutes=10)


def outbox_is_stuck(email: OutboundEmail) -> bool:
    return email.status == Status.QUEUED and email.updated_at < timezone.now() - STUCK_AFTER


def outbox_retry(*, email: OutboundEmail) -> None:
    """Send a FAILED email again now, whatever its attempts so far; or a QUEUED
    one whose attempt stopped half-way (outbox_is_stuck)."""
    if email.status != Status.FAILED and not outbox_is_stuck(email):
        minutes = int(STUCK_AFTER.total_seconds() // 60)
        raise errors.Conflict(
            "Only failed emails are retried, and queued ones untouched for over "
            f"{minutes} minutes; this one is {email.get_status_display()}."
        )
    _enqueue(email, email.attempts + 1)


@transaction.atomic
def suppression_add(*, address: str, reason: str, detail: str = "") -> SuppressedAddress:
    suppressed, _ = SuppressedAddress.objects.update_or_create(
        address=normalize(address), defaults={"reason": reason, "detail": detail[:1000]}
    )
    return suppressed


@transaction.atomic
def suppression_remove(*, address: str) -> int:
    deleted, _ = SuppressedAddress.objects.filter(address=normalize(address)).delete()
    return deleted


#: The status a message takes on each event (others are recorded and change nothing).
STATUS_AFTER = {
    EventType.DELIVERED: Status.DELIVERED,
    EventType.BOUNCED: Status.BOUNCED,
    EventType.REJECTED: Status.BOUNCED,  # SendGrid's "dropped": never sent on
}


def _suppression_reason(event: AnymailTrackingEvent) -> str | None:
    if event.event_type == EventType.BOUNCED:
        # SendGrid's "blocked" is a soft bounce (the receiver refused for now); "bounce" is hard.
        return SuppressedAddress.Reason.BOUNCED if event.esp_event.get("type", "bounce") == "bounce" else None
    if event.event_type == EventType.REJECTED:
        return SuppressedAddress.Reason.DROPPED
    if event.event_type == EventType.COMPLAINED:
        return SuppressedAddress.Reason.SPAM_REPORT
    return None


def _storable(value):
    """`value` (a provider's JSON) as PostgreSQL stores it: no NUL characters in
    text (keys too), no lone surrogates (JSON can escape them, UTF-8 can't hold
    them: each becomes U+FFFD), and no NaN or infinity, which JSON can't hold."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {_storable(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _text(value, limit: int | None = None) -> str:
    text = _storable(str(value or ""))
    return text[:limit] if limit else text


@transaction.atomic
def delivery_event_record(*, event: AnymailTrackingEvent, provider: str) -> DeliveryEvent | None:
    """Store one provider event on the message it belongs to (by anymail's message id),
    move the message's status on, and suppress the address after a hard bounce, a drop
    or a spam report. A repeated event (providers retry their webhooks) changes nothing."""
    # Whatever the provider sent is stored as best it can be (_storable, cut to
    # the columns' lengths): one odd event must not lose its batch's bounces.
    esp_event = _storable(event.esp_event) if isinstance(event.esp_event, dict) else {}
    event_id = _text(event.event_id, 255) or None
    if event_id and DeliveryEvent.objects.filter(provider_event_id=event_id).exists():
        return None
    message_id = _text(event.message_id, 255)
    email = None
    if message_id:
        email = OutboundEmail.objects.select_for_update().filter(provider_message_id=message_id).first()
    detail = _text(event.mta_response or esp_event.get("reason") or event.reject_reason)
    # An address past 254 characters is no address: kept on no event, suppressed nowhere.
    recipient = normalize(_text(event.recipient))
    recipient = recipient if len(recipient) <= 254 else ""
    try:
        with transaction.atomic():
            recorded = DeliveryEvent.objects.create(
                email=email,
                event_type=_text(event.event_type, 20),
                provider_event=_text(esp_event.get("event"), 40),
                recipient=recipient,
                provider_message_id=message_id,
                provider_event_id=event_id,
                occurred_at=event.timestamp,
                detail=detail,
                payload=esp_event,
            )
    except IntegrityError:
        # The same event posted again while its first post was being stored (SendGrid
        # retries a batch it waited too long for): a repeat, not an error to log.
        if event_id and DeliveryEvent.objects.filter(provider_event_id=event_id).exists():
            return None
        raise
    new_status = STATUS_AFTER.get(event.event_type)
    # A bounce or a drop is final; a late "delivered" never hides it.
    if email is not None and new_status and email.status != Status.BOUNCED:
        email.status = new_status
        if new_status == Status.BOUNCED:
            email.last_error = detail
        email.save(update_fields=["status", "last_error", "updated_at"])
    reason = _suppression_reason(event)
    if reason and recipient:
        suppression_add(
            address=recipient, reason=reason, detail=f"{provider} {recorded.provider_event}: {detail}"
        )
        logger.warning(
            "an address is suppressed after %s %s (delivery event %s, message %s)",
            provider,
            recorded.provider_event,
            recorded.pk,
            message_id,
        )
    return recorded
