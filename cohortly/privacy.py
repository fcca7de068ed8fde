"""Email addresses kept out of what leaves the process for Sentry, and out of the
log lines that carry another program's words (a mail provider's refusal names the
recipient). Sentry's scrubber (cohortly.settings' EventScrubber) replaces values
by their key: request data, headers, every frame's local variables. An address
also travels in text: a message, an exception's words, a URL's query string (a
search, percent-encoded by the browser), a header such as Referer."""

import re

#: Something@somewhere.tld as text writes it, or a URL with the @ encoded as %40.
ADDRESS = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)

#: Parts of an event that say what ran, never who: left as they are.
_ABOUT_THE_SOFTWARE = frozenset({"sdk", "modules", "platform", "release", "environment", "level"})


def redact_addresses(text: str) -> str:
    return ADDRESS.sub("[address]", text)


def _redact_deep(value):
    """`value` with the addresses redacted in every string it holds (an event's
    parts as sentry-sdk sends them: strings, numbers, lists and dicts)."""
    if isinstance(value, str):
        return redact_addresses(value)
    if isinstance(value, list | tuple):
        return [_redact_deep(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_deep(item) for key, item in value.items()}
    return value


def sentry_before_send(event: dict, hint) -> dict:
    """sentry-sdk's before_send: every string of the event, wherever it is (its
    message, its exceptions' words and frames' variables, the request's URL,
    query string and headers, tags, contexts, extra, breadcrumbs)."""
    return {key: value if key in _ABOUT_THE_SOFTWARE else _redact_deep(value) for key, value in event.items()}


def sentry_before_breadcrumb(crumb: dict, hint) -> dict:
    return _redact_deep(crumb)
