from django.db import models

from cohortly.models import TimeStampedModel


class OutboundEmail(TimeStampedModel):
    """One email to one recipient, recorded when it is queued and kept whatever happens."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "queued"
        SENT = "SENT", "sent"
        DELIVERED = "DELIVERED", "delivered"
        FAILED = "FAILED", "failed"
        BOUNCED = "BOUNCED", "bounced"
        # Never handed to the provider: the address is on the suppression list.
        SUPPRESSED = "SUPPRESSED", "not sent (suppressed)"

    to = models.EmailField(max_length=254, db_index=True)
    template = models.CharField(max_length=100)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    #: Sent even to a suppressed address: a password reset the person asked for.
    ignore_suppression = models.BooleanField(default=False)
    #: The provider's id for the message (anymail_status.message_id): events find it by this.
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: When an automatic retry is due; empty once sent or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox email"
        verbose_name_plural = "outbox"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["QUEUED", "SENT", "DELIVERED", "FAILED", "BOUNCED", "SUPPRESSED"]
                ),
                name="mail_outboundemail_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.template} to {self.to}"


class DeliveryEvent(models.Model):
    """What the provider reported about a message (SendGrid's Event Webhook)."""

    email = models.ForeignKey(
        OutboundEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    #: anymail's normalized event type: delivered, bounced, rejected, complained, unsubscribed ...
    event_type = models.CharField(max_length=20)
    #: The provider's own name for it (bounce, dropped, spamreport ...).
    provider_event = models.CharField(max_length=40, blank=True)
    recipient = models.EmailField(max_length=254, blank=True, db_index=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    provider_event_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.provider_event or self.event_type} for {self.recipient}"


class SuppressedAddress(TimeStampedModel):
    """An address Cohortly mails no more (but a password reset the person asks for)."""

    class Reason(models.TextChoices):
        BOUNCED = "BOUNCED", "hard bounce"
        DROPPED = "DROPPED", "dropped by the provider"
        SPAM_REPORT = "SPAM_REPORT", "marked as spam"

    #: Always lower case (mail.services.normalize).
    address = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "suppressed addresses"

    def __str__(self):
        return f"{self.address} ({self.get_reason_display()})"
