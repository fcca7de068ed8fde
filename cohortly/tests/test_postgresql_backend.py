"""cohortly.postgresql: timestamptz values read through the fast path are the
values Django's own loader gives, and anything else still goes to Django's."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from django.utils import timezone

from cohortly.postgresql.base import FastTzLoader

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

VALUES = [
    dt.datetime(2026, 11, 27, 15, 33, 40, 480000, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 27, 15, 33, 40, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
]


def read(value, *, session_sql=None):
    with connection.cursor() as cursor:
        if session_sql:
            cursor.execute(session_sql)
        cursor.execute("SELECT %s::timestamptz", [value])
        return cursor.fetchone()[0]


def test_the_connection_reads_timestamptz_through_the_fast_loader():
    from psycopg.pq import Format

    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, Format.TEXT)  # timestamptz
    assert issubclass(loader, FastTzLoader)
    assert loader.timezone == connection.timezone


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_values_and_tzinfo_match_djangos_loader(value):
    fast = read(value)
    assert fast == value
    assert fast.tzinfo is connection.timezone
    # Django's own loader, registered on one cursor, gives the same object.
    with connection.cursor() as cursor:
        django_loader = type("DjangoLoader", (BaseTzLoader,), {"timezone": connection.timezone})
        cursor.cursor.adapters.register_loader("timestamptz", django_loader)
        cursor.execute("SELECT %s::timestamptz", [value])
        slow = cursor.fetchone()[0]
    assert (fast, fast.tzinfo, fast.microsecond) == (slow, slow.tzinfo, slow.microsecond)


def test_another_datestyle_falls_back_to_djangos_parser():
    value = dt.datetime(2026, 11, 27, 15, 33, 40, 480000, tzinfo=dt.UTC)
    try:
        assert read(value, session_sql="SET DateStyle TO 'ISO, DMY'") == value
        # psycopg's own loader refuses a non-ISO style with a clear error, as before.
        with pytest.raises(Exception, match="DateStyle"):
            read(value, session_sql="SET DateStyle TO 'Postgres, DMY'")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET DateStyle TO 'ISO, MDY'")


def test_orm_reads_aware_datetimes_in_the_current_time_zone():
    from leads.tests.factories import LeadFactory

    lead = LeadFactory()
    stored = type(lead).objects.values_list("created_at", flat=True).get(pk=lead.pk)
    assert stored == lead.created_at
    assert timezone.is_aware(stored)
