"""The email layer: every outgoing mail is recorded in the outbox and sent by a task after commit.

Rendering happens in the request (so templates fail loudly in tests); the outbox
(mail.models.OutboundEmail) records one row per recipient in the caller's
transaction, and mail.tasks.send_email_task sends it once that commits, retrying
with backoff when the provider fails. A failing provider never fails the request.
"""

from django.conf import settings
from django.template.loader import render_to_string

from cohortly.middleware import current_request_id
from mail.services import outbox_enqueue


def send_templated_email(
    *, to: list[str] | str, template: str, context: dict, ignore_suppression: bool = False
) -> None:
    """Render templates/emails/<template>_subject.txt and <template>.txt and send
    them once the current transaction commits (at once outside a transaction).

    `ignore_suppression` is for mail the person has just asked for (a password
    reset): it goes out even to an address that bounced or reported spam."""
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [address for address in recipients if address]
    if not recipients:
        return
    context = {"frontend_url": settings.FRONTEND_URL, **context}
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
