"""A sales form is acted on once, however many times it is sent.

A double click, or a request retried by the browser, sent the same form twice,
and both were done: the note twice on the timeline, a carried note twice with an
unchanged status, the prospect's confirmation email twice for one new lead.

Every form of the sales pages carries a token of its own (`{% submit_once_field %}`,
a new one each time the form is shown). The first POST of a form claims it, before
anything is done: a row of SentForm, whose unique key is the user, the token and a
digest of what the form said. A POST that finds its claim taken is the same form
again: it waits for the first to finish and lands where that one did, saying so.
When the first doesn't act (a form error, a refusal, a crash) it lets go of the
claim, and the second is then handled as it would have been alone. The same token
with other words (a form restored by the browser and edited) is a new form.

A POST without a token (an old page) is handled as before.
"""

import hashlib
import json
import logging
import secrets
import time
from datetime import timedelta

from django.contrib import messages
from django.db import DatabaseError, IntegrityError, transaction
from django.shortcuts import redirect
from django.utils import timezone

from leads.models import SentForm

logger = logging.getLogger(__name__)

#: The hidden field every sales form carries.
FIELD = "submit_once"
#: How long a form's claim is kept (housekeeping deletes older ones): longer than
#: anyone keeps a page open before sending its form again from the browser's history.
KEEP = timedelta(days=1)
#: How long a repeat waits for the first to finish before saying it is under way.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
#: A claim still unfinished after this long was abandoned (its worker killed, its
#: database connection lost before it could let go): longer than any request runs
#: (gunicorn's timeout), so the form can be sent again rather than refused for a day.
ABANDONED_AFTER = timedelta(minutes=2)

REPEAT_DONE = "That form was sent twice; it was saved once."
REPEAT_PENDING = "That form was sent twice and is still being saved: reload this page in a moment to see it."


def new_token() -> str:
    return secrets.token_urlsafe(16)


def _token(request) -> str | None:
    token = request.POST.get(FIELD, "")
    # A token this module made: 22 URL-safe characters. Anything else is ignored.
    if len(token) == 22 and token.isascii() and token.replace("-", "").replace("_", "").isalnum():
        return token
    return None


def _digest(request) -> str:
    """What the form said, apart from its CSRF token and its own token."""
    said = sorted(
        (name, value)
        for name, values in request.POST.lists()
        if name not in (FIELD, "csrfmiddlewaretoken")
        for value in values
    )
    return hashlib.sha256(json.dumps(said).encode()).hexdigest()


def _claim(key: dict) -> tuple[SentForm | None, str]:
    """(the claim, "") when this request is the first to send the form; else
    (None, where the first one went), or (None, "") if it hasn't finished within
    WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            with transaction.atomic():
                return SentForm.objects.create(**key), ""
        except IntegrityError:
            pass
        # One abandoned long ago is gone, and this request claims the form anew
        # (the delete is conditional: of two waiters, one wins).
        abandoned = timezone.now() - ABANDONED_AFTER
        if SentForm.objects.filter(**key, outcome="", created_at__lt=abandoned).delete()[0]:
            continue
        outcome = SentForm.objects.filter(**key).values_list("outcome", flat=True).first()
        if outcome:
            return None, outcome
        if time.monotonic() >= deadline:
            return None, ""
        # Still being done, or let go meanwhile (then the next pass claims it).
        time.sleep(POLL_SECONDS)


class SubmitOnceMixin:
    """For a view whose POST ends in a redirect when it has acted (Post/Redirect/Get)
    and shows a page when it hasn't (errors, a confirmation to give). Put it after
    the mixin that checks who may post: a form is claimed for a signed-in user.

    `repeat_fallback(request)` is where a repeat lands while the first is still
    being saved."""

    def repeat_fallback(self, request) -> str:
        return request.path

    def dispatch(self, request, *args, **kwargs):
        token = _token(request) if request.method == "POST" else None
        if token is None:
            return super().dispatch(request, *args, **kwargs)
        claim, outcome = _claim({"user": request.user, "token": token, "digest": _digest(request)})
        if claim is None:
            messages.info(request, REPEAT_DONE if outcome else REPEAT_PENDING)
            return redirect(outcome or self.repeat_fallback(request))
        try:
            response = super().dispatch(request, *args, **kwargs)
        except BaseException:
            _let_go(claim)
            raise
        if response.status_code in (301, 302, 303) and response.has_header("Location"):
            SentForm.objects.filter(pk=claim.pk).update(outcome=response["Location"])
        else:
            _let_go(claim)
        return response


def _let_go(claim: SentForm) -> None:
    """The form wasn't acted on: it can be sent again. When the database can't be
    told now (the error that failed the request, again), the claim is abandoned
    and taken back after ABANDONED_AFTER; the request's own error stands."""
    try:
        SentForm.objects.filter(pk=claim.pk).delete()
    except DatabaseError:
        logger.warning("Could not let go of sales form claim %s: it lapses", claim.pk, exc_info=True)
