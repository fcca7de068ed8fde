"""Row locks that give up instead of hanging a worker.

A write that uses capacity up locks the row that holds it (SELECT ... FOR
UPDATE), as pretix does with its quotas. Should another transaction keep that
lock (a stuck request, a long admin action), waiting for it without a limit
would tie up a worker per request queued behind it. On PostgreSQL the wait is
bounded by LOCK_TIMEOUT, as pretix bounds its own (3 s); past it the service
raises Busy, which the API answers as a 503 with Retry-After, and the pages and
the admin show as a "try again" message. SQLite serialises writers anyway and
has no lock_timeout.
"""

from django.db import InterfaceError, OperationalError, connection
from django.db.models import Model, QuerySet

from cohortly.errors import Busy, NotFound

#: How long a transaction waits for a row lock another one holds.
LOCK_TIMEOUT = "3s"
#: PostgreSQL's lock_not_available, what lock_timeout raises.
LOCK_NOT_AVAILABLE = "55P03"


def is_lock_timeout(exc: OperationalError) -> bool:
    """True when `exc` is PostgreSQL giving up on a lock wait (lock_timeout)."""
    return getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE


#: PostgreSQL's SQLSTATEs of a server going away: admin_shutdown, crash_shutdown,
#: cannot_connect_now (class 08, connection_exception, is checked apart).
SHUTDOWN = frozenset({"57P01", "57P02", "57P03"})


def is_database_outage(exc: Exception) -> bool:
    """A database that can't be reached, or a lock wait that ran out: worth a
    retry (a 503). Anything else the database refused (a deadlock, a bad query)
    is a bug to see whole, a 500 with its traceback. The API's exception handler
    and the pages' middleware both ask this."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    # No SQLSTATE: the driver never reached a server (or SQLite's "database is locked").
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in SHUTDOWN or is_lock_timeout(exc)


def lock_row(queryset: QuerySet, *, pk, busy_message: str | None = None) -> Model:
    """Lock the row of `queryset` with this pk for the rest of the transaction
    and return it. Must run in a transaction. A row deleted since the request
    read it (another request's delete, committed meanwhile) is NotFound: the
    API's 404, a page's error message.

    From here to the end of the transaction every lock wait is bounded by
    LOCK_TIMEOUT (SET LOCAL); running out raises Busy, and the transaction
    (or the savepoint of the service's atomic block) rolls back."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
    try:
        return queryset.select_for_update().get(pk=pk)
    except queryset.model.DoesNotExist as exc:
        raise NotFound(f"This {queryset.model._meta.verbose_name} no longer exists.") from exc
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise Busy(busy_message) from exc
        raise
