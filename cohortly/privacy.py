"""Email addresses kept out of what leaves the process for Sentry, and out of the
log lines that carry another program's words (a mail provider's refusal names the
recipient). The rest of what Sentry gets is scrubbed by key (cohortly.settings'
EventScrubber): request data, headers, every frame's local variables."""

import re

#: Something@somewhere.tld, as a provider's or a library's message writes an address.
ADDRESS = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")


def redact_addresses(text: str) -> str:
    return ADDRESS.sub("[address]", text)


def _redact_in(mapping: dict, *keys: str) -> None:
    for key in keys:
        if isinstance(mapping.get(key), str):
            mapping[key] = redact_addresses(mapping[key])


def _redact_deep(value):
    """Every string in `value` (a frame's variables as sentry-sdk sends them:
    strings, lists and dicts of them), its addresses redacted."""
    if isinstance(value, str):
        return redact_addresses(value)
    if isinstance(value, list):
        return [_redact_deep(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_deep(item) for key, item in value.items()}
    return value


def sentry_before_send(event: dict, hint) -> dict:
    """sentry-sdk's before_send: the addresses in an error's message, its
    exceptions' texts (the whole chain), the variables of their frames (an
    exception's repr is its text) and its breadcrumbs' messages."""
    _redact_in(event, "message")
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        _redact_in(logentry, "message", "formatted")
        if isinstance(logentry.get("params"), list | tuple):
            logentry["params"] = [redact_addresses(str(param)) for param in logentry["params"]]
    for exception in [
        *((event.get("exception") or {}).get("values") or []),
        *((event.get("threads") or {}).get("values") or []),
    ]:
        _redact_in(exception, "value")
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            if "vars" in frame:
                frame["vars"] = _redact_deep(frame["vars"])
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        _redact_in(crumb, "message")
    return event


def sentry_before_breadcrumb(crumb: dict, hint) -> dict:
    _redact_in(crumb, "message")
    return crumb
