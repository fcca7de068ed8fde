"""Reads of the outbox and the suppression list."""

from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower

from mail.models import SuppressedAddress


def normalize(address: str) -> str:
    return (address or "").strip().lower()


def suppression_for(address: str) -> SuppressedAddress | None:
    """Why `address` gets no more mail, or None when it may be mailed."""
    return SuppressedAddress.objects.filter(address=normalize(address)).first()


def is_suppressed(field: str = "email") -> Exists:
    """An annotation: whether the row's email `field` is on the suppression list
    (one subquery in the list's own query, not one query per row)."""
    return Exists(SuppressedAddress.objects.filter(address=Lower(OuterRef(field))))
