"""Formatting helpers shared by the hand-written presenters of the busiest
read endpoints: the same strings DRF's fields render."""

from django.utils import timezone
from rest_framework import serializers

_decimal_2 = serializers.DecimalField(max_digits=12, decimal_places=2)


def datetime_str(value, tz=None) -> str | None:
    """What DRF's DateTimeField renders: local time, ISO 8601, "Z" for UTC.
    `tz`: the current time zone, looked up once per list by the caller rather
    than once per value (the lookup cost more than the formatting)."""
    if value is None:
        return None
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def date_str(value) -> str | None:
    return None if value is None else value.isoformat()


def decimal_str(value) -> str | None:
    """A money or score value with 2 places, as a string (COERCE_DECIMAL_TO_STRING)."""
    return None if value is None else _decimal_2.to_representation(value)
