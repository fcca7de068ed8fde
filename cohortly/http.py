"""Small facts about a request that more than one app asks."""

from django.utils.http import url_has_allowed_host_and_scheme


def posted_from_here(request) -> bool:
    """Whether the browser says the request comes from one of this site's own
    pages (its Origin, else its Referer, names this host). A page that shows
    back what was posted (a note the form couldn't save) shows it only then:
    another site's form could put any words there."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    return url_has_allowed_host_and_scheme(
        source, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
