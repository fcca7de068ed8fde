"""Sending one outbox email: a django-tasks task, retried with backoff.

In development and tests the immediate backend runs it at once; in production the
database backend stores it and `manage.py db_worker` runs it. A failing provider
never fails the request that caused the mail, and the row stays FAILED (visible in
the admin's outbox) until a retry delivers it or EMAIL_MAX_ATTEMPTS are spent.
"""

import logging
from datetime import timedelta

from anymail.exceptions import AnymailConfigurationError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.utils import timezone
from django_tasks import default_task_backend, task

from cohortly.middleware import logged_for_request
from cohortly.privacy import redact_addresses
from mail.models import OutboundEmail
from mail.selectors import suppression_for

logger = logging.getLogger(__name__)
Status = OutboundEmail.Status


class EmailDeliveryError(Exception):
    """Raised by the task so the attempt is recorded as failed (its retry is queued)."""


def _claim(email_id: int, attempt: int) -> OutboundEmail | None:
    """Take attempt `attempt` of the email, once: a scheduled retry and a "retry now"
    from the admin can't both send it, and a sent email is never sent again. A
    retry is QUEUED again while it is under way: a "retry now" takes only a
    FAILED email, or one stuck (mail.services.outbox_retry), not one being sent."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status__in=[Status.QUEUED, Status.FAILED], attempts=attempt - 1
    ).update(
        status=Status.QUEUED, attempts=F("attempts") + 1, next_attempt_at=None, updated_at=timezone.now()
    )
    return OutboundEmail.objects.get(pk=email_id) if claimed else None


#: Errors of the settings, not of the moment (an EMAIL_BACKEND that doesn't
#: import, a provider's missing key): no retry sends what they stop.
CONFIGURATION_ERRORS = (ImportError, ImproperlyConfigured, AnymailConfigurationError)


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt `attempt`: 1 min, 5 min, 25 min, 2 h 5 min,
    then 6 h at most, so that the default five attempts outlast a provider's
    outage of a few hours instead of giving up after minutes."""
    return min(timedelta(minutes=5 ** (attempt - 1)), timedelta(hours=6))


@task()
def send_email_task(*, email_id: int, attempt: int = 1):
    email = _claim(email_id, attempt)
    if email is None:
        logger.info("email %s: attempt %d is no longer due (sent, retried or given up)", email_id, attempt)
        return 0
    # The worker's lines about it carry the request id of the request that caused it,
    # as that request's own lines do: one search of the logs finds both.
    with logged_for_request(email.request_id):
        return _send(email, attempt)


def _send(email: OutboundEmail, attempt: int) -> int:
    suppression = None if email.ignore_suppression else suppression_for(email.to)
    if suppression is not None:
        email.status = Status.SUPPRESSED
        email.last_error = (
            f"Not sent: {suppression.address} is suppressed ({suppression.get_reason_display()})."
        )
        email.save(update_fields=["status", "last_error", "updated_at"])
        # The outbox row, not the address or the subject: log lines (and Sentry, which
        # takes every ERROR line) carry no personal data; the back office shows the row.
        logger.warning(
            "not sending email %s (%s): its address is on the suppression list (%s); request %s",
            email.pk,
            email.template,
            suppression.get_reason_display(),
            email.request_id or "-",
        )
        return 0
    message = EmailMultiAlternatives(subject=email.subject, body=email.body, to=[email.to])
    try:
        message.send()
    except Exception as exc:
        # A setting that is wrong fails every attempt alike: given up at once, and
        # said as such, rather than retried for hours.
        misconfigured = isinstance(exc, CONFIGURATION_ERRORS)
        will_retry = (
            not misconfigured
            and attempt < settings.EMAIL_MAX_ATTEMPTS
            and default_task_backend.supports_defer
        )
        # One line: the task runner logs the traceback of the EmailDeliveryError
        # raised below. A provider's outage of a thousand emails is then a thousand
        # tracebacks an attempt, not two thousand.
        logger.error(
            "sending email %s (%s) failed (attempt %d of %d, request %s): %s: %s%s",
            email.pk,
            email.template,
            attempt,
            settings.EMAIL_MAX_ATTEMPTS,
            email.request_id or "-",
            type(exc).__name__,
            redact_addresses(str(exc)),
            "; retry queued" if will_retry else "; giving up",
        )
        email.status = Status.FAILED
        email.last_error = f"{'Configuration: ' if misconfigured else ''}{type(exc).__name__}: {exc}"
        if will_retry:
            email.next_attempt_at = timezone.now() + retry_delay(attempt)
            send_email_task.using(run_after=email.next_attempt_at).enqueue(
                email_id=email.pk, attempt=attempt + 1
            )
        email.save(update_fields=["status", "last_error", "next_attempt_at", "updated_at"])
        # Not chained: the task runner logs this error's traceback, and the provider's
        # words (its refusal names the recipient) are in last_error, in the outbox.
        raise EmailDeliveryError(f"{type(exc).__name__}: {redact_addresses(str(exc))}") from None
    # anymail's backends say which id the provider's events will carry.
    status = getattr(message, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    # A delivery event may already have moved it on; only a queued or failed row becomes SENT.
    OutboundEmail.objects.filter(pk=email.pk, status__in=[Status.QUEUED, Status.FAILED]).update(
        status=Status.SENT, last_error="", updated_at=timezone.now()
    )
    OutboundEmail.objects.filter(pk=email.pk).update(
        sent_at=timezone.now(), provider_message_id="" if message_id is None else str(message_id)
    )
    return 1
