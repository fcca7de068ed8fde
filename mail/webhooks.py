"""SendGrid's Event Webhook, received by anymail's tracking webhook view.

anymail checks the basic auth (ANYMAIL_WEBHOOK_SECRET) and, when
ANYMAIL_SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY holds SendGrid's public key, the
event's signature, then sends its `tracking` signal once per event. This module
refuses the webhook while no secret is configured (an open webhook could suppress any
address), answers anymail's refusals as 401 and an unreadable body as 400 in the
project's error shape, and stores what the signal carries.
"""

import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from cohortly.exceptions import error_body
from mail import services

logger = logging.getLogger(__name__)

_sendgrid_tracking = SendGridTrackingWebhookView.as_view()


def record_tracking_event(sender, event, esp_name, **kwargs):
    # Each event on its own (its own transaction): one whose values the database
    # still refuses is logged with what it carried and skipped, and the rest of the
    # batch (a real bounce among them) is stored. A database that can't be reached
    # fails the batch, which SendGrid then posts again.
    try:
        with transaction.atomic():
            services.delivery_event_record(event=event, provider=esp_name)
    except (DataError, IntegrityError, ValueError):
        # Its id and type, not the event: that holds the recipient's address.
        logger.exception(
            "%s event %r (%s) not stored, the rest of its batch is",
            esp_name,
            event.event_id,
            event.event_type,
        )


@csrf_exempt
def sendgrid_tracking(request, *args, **kwargs):
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return JsonResponse(
            error_body("permission_denied", "The webhook is off until ANYMAIL_WEBHOOK_SECRET is set."),
            status=403,
        )
    try:
        # Each event in a transaction of its own (record_tracking_event), not the
        # batch in one: SendGrid posts batches in parallel, naming the same messages
        # in other orders (delivered in one, opened in another), and a batch holding
        # each message's row to its end deadlocked with the others (a 500). After a
        # failure SendGrid posts the batch again, and the events already stored are
        # recognised by their ids.
        return _sendgrid_tracking(request, *args, **kwargs)
    except AnymailWebhookValidationFailure:
        response = JsonResponse(
            error_body("not_authenticated", "Missing or invalid webhook credentials or signature."),
            status=401,
        )
        response["WWW-Authenticate"] = 'Basic realm="anymail"'
        return response
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, OSError, RecursionError):
        # A body anymail can't read as SendGrid events (JSON nested deeper than
        # Python's recursion limit too), a time past what a datetime holds among
        # them: no event of the batch is stored.
        return JsonResponse(
            error_body("parse_error", "The body is not a list of SendGrid events."), status=400
        )
