"""Email addresses kept out of what leaves the process for Sentry, and out of the
log lines that carry another program's words (a mail provider's refusal names the
recipient). Sentry's scrubber (cohortly.settings' EventScrubber) replaces values
by their key: request data, headers, every frame's local variables. An address
also travels in text: a message, an exception's words, a URL's query string (a
search, percent-encoded by the browser), a header such as Referer."""

import re

#: Something@somewhere.tld as text writes it, or a URL with the @ encoded as %40.
ADDRESS = re.compile(r"[\w.%+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")

#: Parts of an event that say what ran, never who: left as they are.
_ABOUT_THE_SOFTWARE = frozenset({"sdk", "modules", "platform", "release", "environment", "level"})


#: A request as a frame variable shows it (its repr: Django's WSGIRequest, DRF's
#: rest_framework.request.Request; quoted '…' or "…"): its query string cut off.
_REQUEST_REPR_QUERY = re.compile(r"""(<[\w.]*Request: \w+ (['"])[^?'"]*)\?[^>]*?\2>""")


def redact_addresses(text: str) -> str:
    return ADDRESS.sub("[address]", text)


def _scrub_text(text: str) -> str:
    return redact_addresses(_REQUEST_REPR_QUERY.sub(r"\1\2>", text))


def _without_query(url):
    return url.split("?", 1)[0] if isinstance(url, str) else url


def _redact_deep(value):
    """`value` with the addresses redacted in every string it holds (an event's
    parts as sentry-sdk sends them: strings, numbers, lists and dicts)."""
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, list | tuple):
        return [_redact_deep(item) for item in value]
    if isinstance(value, dict):
        return {_redact_deep(key): _redact_deep(item) for key, item in value.items()}
    return value


def sentry_before_send(event: dict, hint) -> dict:
    """sentry-sdk's before_send and before_send_transaction (a trace carries the
    request too): no query string (a search holds a name, a phone,
    an address: the app's own log lines leave it out too), in the request, its
    Referer or a request's repr; and the addresses in every string of the event,
    wherever it is (its message, its exceptions' words and frames' variables,
    headers, tags, contexts, extra, breadcrumbs)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("query_string", None)
        if "url" in request:
            request["url"] = _without_query(request["url"])
        headers = request.get("headers")
        if isinstance(headers, dict):
            for name in [name for name in headers if name.lower() == "referer"]:
                headers[name] = _without_query(headers[name])
    return {key: value if key in _ABOUT_THE_SOFTWARE else _redact_deep(value) for key, value in event.items()}


def sentry_before_breadcrumb(crumb: dict, hint) -> dict:
    return _redact_deep(crumb)
