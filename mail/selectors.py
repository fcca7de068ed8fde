"""Reads of the outbox and the suppression list."""

import contextlib
from collections import Counter

from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils.encoding import punycode

from mail.models import SuppressedAddress


def normalize(address: str) -> str:
    """An email address as Cohortly stores and compares it: trimmed, lower-cased,
    and an internationalised domain in its ASCII (IDNA) form, which is how mail is
    sent to it and how the provider reports on it ("zoe@exämple.com" is
    "zoe@xn--exmple-cua.com"): one mailbox, one spelling. A domain IDNA can't
    write is left as it is, for the address's validation
    (cohortly.models.email_validator) to refuse."""
    address = (address or "").strip().lower()
    local, at, domain = address.rpartition("@")
    if at and not domain.isascii():
        with contextlib.suppress(UnicodeError):
            address = f"{local}@{punycode(domain)}"
    return address


def recently_mailed(addresses: list[str], *, template: str, since) -> Counter:
    """How many `template` emails each of `addresses` was queued since `since`."""
    from mail.models import OutboundEmail

    rows = OutboundEmail.objects.filter(to__in=addresses, template=template, created_at__gte=since)
    return Counter(rows.values_list("to", flat=True))


def suppression_for(address: str) -> SuppressedAddress | None:
    """Why `address` gets no more mail, or None when it may be mailed."""
    return SuppressedAddress.objects.filter(address=normalize(address)).first()


def is_suppressed(field: str = "email") -> Exists:
    """An annotation: whether the row's email `field` is on the suppression list
    (one subquery in the list's own query, not one query per row)."""
    return Exists(SuppressedAddress.objects.filter(address=Lower(OuterRef(field))))
