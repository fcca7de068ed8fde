"""A sales form is acted on once, however many times it is sent.

A double click, or a request retried by the browser, sent the same form twice,
and both were done: the note twice on the timeline, a carried note twice with an
unchanged status, the prospect's confirmation email twice for one new lead.

Every form of the sales pages carries a token of its own (`{% submit_once %}`,
a new one each time the form is shown). The first POST with a token claims it in
the shared cache, before anything is done; a POST whose token is claimed already
is the same form again. It waits for the first to finish and lands where that
one did, saying so. When the first doesn't succeed (a form error, a refusal, a
crash) it lets go of the token, and the second is then handled as it would have
been alone.

Without the cache (Redis down), or without a token, a form is handled as before:
this guards against a repeat, never against the form itself.
"""

import secrets
import time

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect

#: The hidden field every sales form carries.
FIELD = "submit_once"
#: How long a used token is remembered: longer than anyone keeps a page open
#: before sending its form again from the browser's history.
REMEMBER_SECONDS = 6 * 60 * 60
#: How long a repeat waits for the first to finish before saying it is under way.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
#: The claim's value until the first request has finished; then where it went.
PENDING = "pending"

REPEAT_DONE = "That form was sent twice; it was saved once."
REPEAT_PENDING = "That form was sent twice and is still being saved: reload this page in a moment to see it."


def new_token() -> str:
    return secrets.token_urlsafe(16)


def _key(request, token: str) -> str:
    return f"sales:submit-once:{request.user.pk}:{token}"


def _token(request) -> str | None:
    token = request.POST.get(FIELD, "")
    # A token this module made: 22 URL-safe characters. Anything else is ignored.
    if len(token) == 22 and token.isascii() and token.replace("-", "").replace("_", "").isalnum():
        return token
    return None


def _claim(key: str) -> str | None:
    """None: this request is the first with the token (or the cache can't tell):
    go on. Otherwise where the first one went, or PENDING if it hasn't finished
    within WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        # django-redis answers None for a cache it can't reach: go on, unguarded.
        if cache.add(key, PENDING, REMEMBER_SECONDS) is not False:
            return None
        outcome = cache.get(key)
        if outcome is not None and outcome != PENDING:
            return outcome
        if outcome is None:
            continue  # the first one let go meanwhile: claim it for this one
        if time.monotonic() >= deadline:
            return PENDING
        time.sleep(POLL_SECONDS)


class SubmitOnceMixin:
    """For a view whose POST ends in a redirect when it has acted (Post/Redirect/Get)
    and shows a page when it hasn't (errors, a confirmation to give). Put it after
    the mixin that checks who may post: a token is claimed for a signed-in user.

    `repeat_fallback(request)` is where a repeat lands while the first is still
    being saved."""

    def repeat_fallback(self, request) -> str:
        return request.path

    def dispatch(self, request, *args, **kwargs):
        token = _token(request) if request.method == "POST" else None
        if token is None:
            return super().dispatch(request, *args, **kwargs)
        key = _key(request, token)
        outcome = _claim(key)
        if outcome is not None:
            if outcome == PENDING:
                messages.info(request, REPEAT_PENDING)
                return redirect(self.repeat_fallback(request))
            messages.info(request, REPEAT_DONE)
            return redirect(outcome)
        try:
            response = super().dispatch(request, *args, **kwargs)
        except BaseException:
            cache.delete(key)
            raise
        if response.status_code in (301, 302, 303) and response.has_header("Location"):
            cache.set(key, response["Location"], REMEMBER_SECONDS)
        else:
            cache.delete(key)
        return response
