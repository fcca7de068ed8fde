"""Django's PostgreSQL backend with a faster reader for timestamptz columns,
and persistent connections' health checks spaced out under load.

Django reads every `timestamptz` value through psycopg's pure-Python loader
(it subclasses it to attach the connection's time zone), which parses the text
field by field: on a page of leads, with four timestamps a row, that was a
tenth of the request. PostgreSQL's ISO output is what `datetime.fromisoformat`
parses in C, so that is tried first; anything it does not take (another
DateStyle, BC dates, 'infinity') goes to Django's loader as before. The result
is the same datetime, with the same tzinfo, as Django's.

Health checks (CONN_HEALTH_CHECKS) cost a `SELECT 1` round trip at the start of
every request that uses the database. Like PgBouncer's server_check_delay, a
connection that served a request without an error less than
HEALTH_CHECK_DELAY seconds ago (DB_HEALTH_CHECK_DELAY) is used without that
check; an idle one is checked as before. Should the server drop it in that
window, that one request fails with the API's 503, Django closes the broken
connection when the request ends, and the next request connects anew.

Used as the ENGINE when DATABASE_URL names PostgreSQL (cohortly.settings).
"""

import time
from datetime import datetime

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader


class FastTzLoader(BaseTzLoader):
    def load(self, data):
        try:
            value = datetime.fromisoformat(bytes(data).decode())
        except ValueError:
            return super().load(data)
        return value.replace(tzinfo=self.timezone)


def register_fast_tzloader(tz, context) -> None:
    loader = type("SpecificFastTzLoader", (FastTzLoader,), {"timezone": tz})
    context.adapters.register_loader("timestamptz", loader)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: When a request last finished with this connection used and no error.
        self.last_good_use: float | None = None

    def close_if_unusable_or_obsolete(self):
        # Runs as each request starts and ends. `health_check_done` is set once
        # the request has taken a cursor, so at the end of a request it means
        # the connection was used; errors_occurred, that a query failed.
        if self.connection is not None and self.health_check_done and not self.errors_occurred:
            self.last_good_use = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self):
        delay = self.settings_dict.get("HEALTH_CHECK_DELAY") or 0
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.errors_occurred
            and self.last_good_use is not None
            and time.monotonic() - self.last_good_use < delay
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self):
        super().close()
        self.last_good_use = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        register_fast_tzloader(self.timezone, connection)
        return connection

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        # Where Django registered its own loader on the cursor (its time zone
        # differs from the connection's), put ours in its place.
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
        if self.timezone != loader.timezone:
            register_fast_tzloader(self.timezone, cursor)
        return cursor
