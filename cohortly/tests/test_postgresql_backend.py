"""cohortly.postgresql: timestamptz values read through the fast path are the
values Django's own loader gives, and anything else still goes to Django's."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection, connections
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


@pytest.fixture
def health_checks(monkeypatch):
    """Counts the backend's health checks (a `SELECT 1` each)."""
    checks = []
    db = connections["default"]
    db.ensure_connection()
    monkeypatch.setattr(db, "is_usable", lambda: checks.append(1) or True)
    monkeypatch.setitem(db.settings_dict, "HEALTH_CHECK_DELAY", 5.0)
    enabled = db.health_check_enabled
    db.health_check_enabled = True
    yield checks
    db.health_check_enabled = enabled


def _request(*, fails=False):
    """What Django does around one request that runs a query."""
    connection.close_if_unusable_or_obsolete()  # request_started
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.errors_occurred = fails
    connection.close_if_unusable_or_obsolete()  # request_finished


@pytest.mark.django_db(transaction=True)
def test_a_connection_used_without_error_just_now_skips_the_next_health_check(health_checks):
    _request()  # the first use after connecting needs no check either
    _request()
    _request()
    assert health_checks == []


@pytest.mark.django_db(transaction=True)
def test_an_idle_connection_is_checked_before_use(health_checks):
    _request()
    connection.last_good_use -= 10  # idle for longer than HEALTH_CHECK_DELAY
    _request()
    assert len(health_checks) == 1


@pytest.mark.django_db(transaction=True)
def test_after_an_error_the_connection_is_checked_and_a_broken_one_replaced(health_checks, monkeypatch):
    db = connections["default"]
    _request()
    _request(fails=True)
    assert len(health_checks) == 1  # Django checks it as that request ends
    broken = db.connection
    monkeypatch.setattr(db, "is_usable", lambda: health_checks.append(1) and False)
    _request(fails=True)
    assert db.connection is None  # failed its check: closed, and no delay applies
    assert db.last_good_use is None
    _request()
    assert db.connection is not None and db.connection is not broken


@pytest.mark.django_db(transaction=True)
def test_without_a_delay_every_request_checks(health_checks, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "HEALTH_CHECK_DELAY", 0)
    _request()
    _request()
    _request()
    assert len(health_checks) == 3
