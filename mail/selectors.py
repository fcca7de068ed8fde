"""Reads of the outbox and the suppression list."""

import contextlib

from django.db.models import Exists, OuterRef, Q
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


def mailbox_of(address: str) -> str:
    """The mailbox an address is delivered to: normalised, without a +tag."""
    local, _, domain = normalize(address).rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def mailbox_recently_mailed(address: str, *, template: str, since) -> int:
    """How many `template` emails went to `address`'s mailbox since `since`. Its
    sub-addresses count as the mailbox (name+tag@domain is delivered to
    name@domain), and a send given up on doesn't count: it reached nobody. One
    that failed with a retry due counts: the retry sends it once the provider
    is back."""
    from mail.models import OutboundEmail

    local, _, domain = mailbox_of(address).rpartition("@")
    mailbox = Q(to=f"{local}@{domain}") | Q(to__startswith=f"{local}+", to__endswith=f"@{domain}")
    rows = OutboundEmail.objects.filter(mailbox, template=template, created_at__gte=since)
    return rows.exclude(status=OutboundEmail.Status.FAILED, next_attempt_at__isnull=True).count()


def suppression_for(address: str) -> SuppressedAddress | None:
    """Why `address` gets no more mail, or None when it may be mailed."""
    return SuppressedAddress.objects.filter(address=normalize(address)).first()


def is_suppressed(field: str = "email") -> Exists:
    """An annotation: whether the row's email `field` is on the suppression list
    (one subquery in the list's own query, not one query per row)."""
    return Exists(SuppressedAddress.objects.filter(address=Lower(OuterRef(field))))
