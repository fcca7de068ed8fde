"""Whole local days as datetime bounds, for filters and reports by date."""

import re
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

#: The earliest moment a datetime holds: no stored time is before it.
EARLIEST = datetime.min.replace(tzinfo=UTC)


def site_today() -> date:
    """Today in the site's time zone (TIME_ZONE), whatever zone a page renders
    in: the day the rules go by (whether a bootcamp has ended), which a sales
    rep's browser zone (a cookie) must not move."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


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


#: What a moment given as text must start with: a date and a time, the two
#: joined by T or a space (Python's fromisoformat takes any character there, and
#: read "2026-12-21-05:00", "the 21st in New York", as 05:00 UTC).
_DATE_AND_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}", re.ASCII)
DATE_ONLY_MESSAGE = (
    "Give a time too, e.g. 2026-12-21T18:00:00Z: "
    "a date alone would mean the first moment of that day, in UTC."
)
#: A date and time with no offset, as a browser's datetime-local input sends it.
_ZONE_AT_END = re.compile(r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:\.[0-9]+)?)?)?)\Z", re.ASCII)
NO_OFFSET_MESSAGE = (
    "Give the time zone too, e.g. 2026-12-21T18:00:00+01:00 or 2026-12-21T17:00:00Z: "
    "a time alone would be read as UTC, whatever clock it was read from."
)
#: The UTC offsets clocks keep: from -12:00 (Baker Island) to +14:00 (Kiribati).
#: Python reads up to ±23:59, so "+23:59" for "-00:01" moved a deadline by a day.
_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})?", re.ASCII)
BAD_OFFSET_MESSAGE = "A UTC offset runs from -12:00 to +14:00."
#: The codes moment_text_problem answers, with their messages (a field declares them).
MOMENT_MESSAGES = {
    "date_only": DATE_ONLY_MESSAGE,
    "no_offset": NO_OFFSET_MESSAGE,
    "bad_offset": BAD_OFFSET_MESSAGE,
}


def _offset_minutes(zone: str) -> int:
    match = _OFFSET.match(zone)
    if match is None:  # Z
        return 0
    minutes = int(match[2]) * 60 + int(match[3] or 0)
    return -minutes if match[1] == "-" else minutes


def moment_text_problem(text: str) -> str | None:
    """Why `text` can't be read as a moment: "date_only" for a date without a
    time (which Python reads as that day's midnight UTC, where whoever sent it
    meant the day), "no_offset" for a date and time without a UTC offset (read
    as UTC, where whoever sent it meant their own clock: 18:00 in Berlin stored
    as 19:00 there), "bad_offset" for an offset no clock keeps, "invalid" for
    anything not written date, T, time; None when it may be parsed."""
    text = text.strip()
    if _DATE_AND_TIME.match(text):
        zone = _ZONE_AT_END.search(text)
        if zone is None:
            return "no_offset"
        return None if -12 * 60 <= _offset_minutes(zone[0]) <= 14 * 60 else "bad_offset"
    try:
        date.fromisoformat(text)
    except ValueError:
        return "invalid"
    return "date_only"
