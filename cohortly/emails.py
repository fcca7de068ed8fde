"""The email layer: every outgoing mail is recorded in the outbox and sent by a task after commit.

Rendering happens in the request (so templates fail loudly in tests); the outbox
(mail.models.OutboundEmail) records one row per recipient in the caller's
transaction, and mail.tasks.send_email_task sends it once that commits, retrying
with backoff when the provider fails. A failing provider never fails the request.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.timesince import timeuntil

from cohortly.locking import hold_name
from cohortly.middleware import current_request_id
from mail.selectors import mailbox_of, mailbox_recently_mailed
from mail.services import outbox_enqueue

#: At most this many of one email to one mailbox per window, for the emails anyone
#: can have sent to any address (a password reset, a registration, the lead form's
#: receipt): the per-client throttles alone let many clients keep mailing a chosen
#: address.
PER_ADDRESS_LIMIT = (3, timedelta(hours=1))


def send_templated_email(
    *,
    to: list[str] | str,
    template: str,
    context: dict,
    ignore_suppression: bool = False,
    limit_per_address: bool = False,
    counted_after: datetime | None = None,
) -> int:
    """Render templates/emails/<template>_subject.txt and <template>.txt and send
    them once the current transaction commits (at once outside a transaction).
    Returns how many recipients it was queued for.

    `ignore_suppression` is for mail the person has just asked for (a password
    reset): it goes out even to an address that bounced or reported spam.
    `limit_per_address` holds an email anyone may cause to PER_ADDRESS_LIMIT per
    mailbox (mail.selectors.mailbox_recently_mailed): past it, the mailbox gets
    no more of it until the window moves on. Only emails queued after
    `counted_after` count (a reset: those sent before the last sign-in no longer
    work, so they can't be used to keep the owner from a working link)."""
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [address for address in recipients if address]
    if not (limit_per_address and recipients):
        return _queue(recipients, template, context, ignore_suppression)
    with transaction.atomic():
        # Counted and queued under the mailbox's name: simultaneous requests
        # each counted the same two emails and sent a fourth and fifth.
        for mailbox in sorted({mailbox_of(address) for address in recipients}):
            hold_name(f"mailbox:{template}:{mailbox}")
        most, window = PER_ADDRESS_LIMIT
        since = max(filter(None, [timezone.now() - window, counted_after]))
        recipients = [
            address
            for address in recipients
            if mailbox_recently_mailed(address, template=template, since=since) < most
        ]
        return _queue(recipients, template, context, ignore_suppression)


def _lifetime(seconds: int) -> str:
    """A link's lifetime in words ("3 days", "1 hour, 30 minutes")."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now).replace("\xa0", " ")


def _queue(recipients: list[str], template: str, context: dict, ignore_suppression: bool) -> int:
    if not recipients:
        return 0
    context = {
        "frontend_url": settings.FRONTEND_URL,
        # How long the links these emails carry work: what the settings make them.
        "reset_link_lifetime": _lifetime(settings.PASSWORD_RESET_TIMEOUT),
        "verification_link_lifetime": _lifetime(settings.EMAIL_VERIFICATION_TIMEOUT),
        **context,
    }
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context, using="emails").split())
    body = render_to_string(f"emails/{template}.txt", context, using="emails")
    outbox_enqueue(
        to=recipients,
        template=template,
        subject=subject,
        body=body,
        request_id=current_request_id(),
        ignore_suppression=ignore_suppression,
    )
    return len(recipients)


def email_user(user, *, template: str, context: dict) -> int:
    """send_templated_email to a user about their own things (an enrollment, a
    grade), unless the account is deactivated: they can't sign in to see it, and
    the account is closed. Returns how many were queued (0 or 1)."""
    if not user.is_active:
        return 0
    return send_templated_email(to=user.email, template=template, context=context)
