"""The email layer: every outgoing mail is a task, enqueued after commit.

Rendering happens in the request (so templates fail loudly in tests); sending
happens in a django-tasks task. In development and tests the immediate backend
runs it at once; in production the database backend stores it and
`manage.py db_worker` sends it, retrying with exponential backoff when the
provider fails. A failing provider never fails the request that caused the mail.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import default_task_backend, task

from cohortly.middleware import current_request_id

logger = logging.getLogger(__name__)


class EmailDeliveryError(Exception):
    """Raised by the task so the attempt is recorded as failed (its retry is queued)."""


@task()
def send_email_task(*, to: list[str], subject: str, body: str, request_id: str = "-", attempt: int = 1):
    try:
        EmailMultiAlternatives(subject=subject, body=body, to=to).send()
    except Exception as exc:
        will_retry = attempt < settings.EMAIL_MAX_ATTEMPTS and default_task_backend.supports_defer
        logger.exception(
            "sending email %r to %s failed (attempt %d of %d, request %s)%s",
            subject,
            ", ".join(to),
            attempt,
            settings.EMAIL_MAX_ATTEMPTS,
            request_id,
            "; retry queued" if will_retry else "",
        )
        if will_retry:
            # Exponential backoff: 30 s, 1 min, 2 min, 4 min ...
            delay = timedelta(seconds=30 * 2 ** (attempt - 1))
            send_email_task.using(run_after=timezone.now() + delay).enqueue(
                to=to, subject=subject, body=body, request_id=request_id, attempt=attempt + 1
            )
        raise EmailDeliveryError(str(exc)) from exc
    return len(to)


def _enqueue(to, subject, body, request_id):
    try:
        send_email_task.enqueue(to=to, subject=subject, body=body, request_id=request_id)
    except Exception:
        # The task store itself failing must not fail a committed request.
        logger.exception("could not enqueue email %r to %s (request %s)", subject, to, request_id)


def send_templated_email(*, to: list[str] | str, template: str, context: dict) -> None:
    """Render templates/emails/<template>_subject.txt and <template>.txt and send
    them once the current transaction commits (at once outside a transaction)."""
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [address for address in recipients if address]
    if not recipients:
        return
    context = {"frontend_url": settings.FRONTEND_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context, using="emails").split())
    body = render_to_string(f"emails/{template}.txt", context, using="emails")
    request_id = current_request_id()
    transaction.on_commit(lambda: _enqueue(recipients, subject, body, request_id), robust=True)
