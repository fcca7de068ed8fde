"""Whole local days as datetime bounds, for filters and reports by date."""

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

#: The earliest moment a datetime holds: no stored time is before it.
EARLIEST = datetime.min.replace(tzinfo=UTC)


def _midnight(day: date) -> datetime | None:
    """Midnight at the start of `day` in the current time zone, or None where
    that moment is outside what a datetime holds in UTC (0001-01-01 east of
    UTC, 9999-12-31 west of it): a database compares in UTC."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    try:
        start.astimezone(UTC)
    except OverflowError:
        return None
    return start


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone (EARLIEST when
    that is before the first moment there is)."""
    return _midnight(day) or EARLIEST


def day_end(day: date) -> datetime | None:
    """The (exclusive) end of `day`: the next day's start, or None when there is
    no such moment (after 9999-12-31, the last day a date holds): no bound."""
    return None if day >= date.max else _midnight(day + timedelta(days=1))
