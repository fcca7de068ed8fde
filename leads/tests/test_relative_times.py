"""The sales pages' relative times: hours under a day, calendar days (where the
reader is) beyond it, and the date when it is far away."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leads.templatetags.sales import relative_phrase

BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 7 December 2026, 01:30 in Berlin.
NOW = datetime(2026, 12, 7, 1, 30, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        (NOW + timedelta(seconds=30), "just now"),
        (NOW - timedelta(minutes=5), "5 min ago"),
        (NOW + timedelta(hours=5), "in 5 h"),
        (NOW + timedelta(hours=23), "in 23 h"),
        # Tomorrow afternoon, 37 hours ahead, is tomorrow, not "in 2 days".
        (datetime(2026, 12, 8, 14, 30, tzinfo=BERLIN), "tomorrow"),
        (datetime(2026, 12, 8, 23, 59, tzinfo=BERLIN), "tomorrow"),
        (datetime(2026, 12, 9, 0, 5, tzinfo=BERLIN), "in 2 days"),
        # 40 hours ago was Saturday evening: two calendar days, not "yesterday".
        (NOW - timedelta(hours=40), "2 days ago"),
        (datetime(2026, 12, 6, 0, 10, tzinfo=BERLIN), "yesterday"),
        (datetime(2026, 12, 20, 9, 0, tzinfo=BERLIN), "in 13 days"),
        (datetime(2026, 12, 21, 9, 0, tzinfo=BERLIN), "21 Dec"),
        (datetime(2027, 3, 1, 9, 0, tzinfo=BERLIN), "1 Mar 2027"),
    ],
)
def test_relative_phrase_counts_calendar_days_where_the_reader_is(value, phrase):
    with timezone.override(BERLIN):
        assert relative_phrase(value, NOW) == phrase


def test_a_25_hour_day_never_says_0_days():
    """Summer time ends in Berlin on 25 October 2026: 24 h 30 min after 00:10 is
    still that day, 23:40."""
    now = datetime(2026, 10, 25, 0, 10, tzinfo=BERLIN).astimezone(UTC)  # real hours, not wall-clock ones
    with timezone.override(BERLIN):
        assert relative_phrase(now + timedelta(hours=24, minutes=30), now) == "in 24 h"
        assert relative_phrase(now, now + timedelta(hours=24, minutes=30)) == "24 h ago"


def test_the_same_moment_is_tomorrow_in_one_zone_and_in_two_days_in_another():
    later = NOW + timedelta(hours=30)  # Tuesday 07:30 in Berlin; in New York, Sunday 19:30 to Tuesday 01:30
    with timezone.override(BERLIN):
        assert relative_phrase(later, NOW) == "tomorrow"
    with timezone.override(ZoneInfo("America/New_York")):
        assert relative_phrase(later, NOW) == "in 2 days"
