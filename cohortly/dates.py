"""Whole local days as datetime bounds, for filters and reports by date."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(day: date) -> datetime | None:
    """The (exclusive) end of `day`: the next day's start, or None after the
    last day a date can hold (9999-12-31), which has no next day: no bound."""
    return None if day >= date.max else day_start(day + timedelta(days=1))
