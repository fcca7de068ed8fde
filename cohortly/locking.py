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
    _bound_lock_waits()
    try:
        return queryset.select_for_update().get(pk=pk)
    except queryset.model.DoesNotExist as exc:
        raise NotFound(f"This {queryset.model._meta.verbose_name} no longer exists.") from exc
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise Busy(busy_message) from exc
        raise


def _bound_lock_waits() -> None:
    """From here to the end of the transaction, a lock wait gives up after LOCK_TIMEOUT."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])


def hold_row(model: type[Model], pk) -> bool:
    """Keep the row of `model` with this pk from being deleted until the
    transaction ends, for a write that will refer to it; True if it exists.

    On PostgreSQL this is FOR KEY SHARE, the lock its own foreign-key check
    takes, but now rather than at COMMIT (where Django's deferred constraints
    check it): it waits for a delete in progress (and then finds no row) and
    makes a later delete wait, yet neither waits for nor blocks other holders
    or writers of the row's other columns. Django's select_for_update has no
    KEY SHARE, hence the SQL. Waits are bounded as lock_row's are (Busy)."""
    if connection.vendor != "postgresql":
        return model._default_manager.filter(pk=pk).exists()  # one writer at a time anyway
    _bound_lock_waits()
    quote = connection.ops.quote_name
    sql = (
        f"SELECT 1 FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} = %s FOR KEY SHARE"  # noqa: S608 (quoted model names; the value is a parameter)
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            return cursor.fetchone() is not None
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise Busy() from exc
        raise


def hold_name(name: str) -> None:
    """Hold `name` until the transaction ends (PostgreSQL's transaction-scoped
    advisory lock on its hash): whoever holds it next waits, then reads what
    this transaction wrote. For a check-then-write with no row to lock, such as
    counting the emails a mailbox got before queueing one more. On SQLite a
    transaction already holds the one write lock from its start (IMMEDIATE).
    Waits are bounded as lock_row's are (Busy)."""
    if connection.vendor != "postgresql":
        return
    _bound_lock_waits()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise Busy() from exc
        raise
