"""The read path's one cache seam.

Queries. django-cachalot caches the result of every SELECT on the tables in
CACHALOT_ONLY_CACHABLE_TABLES (settings) and drops them, table by table, on
every write it sees: a save or delete, QuerySet.update(), bulk_create, raw SQL
through Django's cursor, the admin, migrations; a write inside a transaction is
seen by other processes once it has committed. A paginated list's COUNT is one
of those SELECTs, so list counts are cached the same way. It is on only with
Redis (CACHALOT_ENABLED), the cache every worker shares.

cachalot records a transaction's invalidations after its COMMIT (and after its
on_commit hooks), and stamps a result with the time its query finished: for a
moment after a commit, and for a read that overlaps a write, the cache can lag
the database. Reads do not mind a moment's lag; a service that checks, then
writes (a seat count under the bootcamp's lock, the last active admin) does. So
requests that may write read the database itself (WritesReadTheDatabase).

Responses. The API's lists and details (CachedReadsMixin) keep their rendered
JSON under the key of the scope their selector returned (`Scoped.key`), the time
zone and the URL, stamped with cachalot's last invalidation of the tables the
selector reads (`Scoped.tables`). An entry is served only while every one of
those tables has a stamp and the newest is the one it was built at. The stamp
is read before the rows are, so a write that has committed before the build
starts always makes the entry stale. Authentication, permissions and throttles
run before the cache is consulted; object-level read permissions do not (a hit
never loads the object), so a view that needs them must not use the mixin.

Lost invalidations. A write whose invalidation never reaches Redis (its worker
is cut off from it or backing off, cohortly.redis_client; or Redis is away and
comes back with its old keys) leaves other processes the old entries until they
expire. Every query result and every table stamp expires CACHALOT_TIMEOUT
(QUERY_CACHE_SECONDS) after it is written, and those the write should have
dropped were written before it. A response is served only while the stamp it
was built at is still there (a missing stamp is "now"), so one built later from
an old query result dies with that stamp. QUERY_CACHE_SECONDS after the write,
no process reads the old rows through either cache (test_caching:
test_a_write_whose_invalidation_failed_is_seen_everywhere_within_the_bound).
"""

import contextlib
import hashlib
import time
from collections.abc import Callable
from urllib.parse import urlencode

from cachalot.cache import cachalot_caches
from cachalot.settings import cachalot_settings
from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework.response import Response

from cohortly.renderers import JSONRenderer


class Scoped:
    """What a scoping selector returns: the rows a user may see, the key of that
    scope, and the tables those rows are read from.

    Two callers with the same `key` see the same rows for the same request, so a
    response built for one may be served to the other. `tables` are the models
    (or auto-created through models) the queryset reads; the first is the
    resource's own. The queryset is built when first used: a response served
    from the cache needs only the key.
    """

    def __init__(self, key: str, tables: tuple[type[Model], ...], build: Callable[[], QuerySet]):
        self.key, self.tables, self._build = key, tables, build

    @cached_property
    def queryset(self) -> QuerySet:
        return self._build()


def response_cache_enabled() -> bool:
    return settings.CACHALOT_ENABLED and settings.RESPONSE_CACHE_SECONDS > 0


def stamp_and_entry(tables, key: str) -> tuple[float, object]:
    """cachalot's last invalidation of `tables` and the cache entry at `key`.

    The stamp is the one cachalot.api.get_last_invalidation computes (for one
    database and one cache; test_caching holds the two to each other), with
    cachalot's own rule for a table that has no stamp (never read yet, or its
    key expired or was evicted): it is stamped now, so whatever was cached
    before counts as older. get_last_invalidation can't say a stamp is missing,
    and would skip it: an evicted stamp could then revive an old entry. The
    table keys are read through the cache cachalot itself uses, so inside a
    transaction they include its own invalidations; stamps and entry come in
    one round trip.
    """
    db_alias = router.db_for_read(tables[0])
    keygen = cachalot_settings.CACHALOT_TABLE_KEYGEN
    table_keys = [keygen(db_alias, model._meta.db_table) for model in tables]
    cache = cachalot_caches.get_cache(db_alias=db_alias)
    found = cache.get_many([*table_keys, key])
    missing = {k: time.time() for k in table_keys if k not in found}
    if missing:
        cache.set_many(missing, cachalot_settings.CACHALOT_TIMEOUT)
        found.update(missing)
    return max(found[k] for k in table_keys), found.get(key)


def cached_json_response(scoped: Scoped, url: str, build: Callable[[], object]):
    """The JSON response for `url` in `scoped`'s scope: `build()` returns its data
    (or raises, e.g. Http404: errors are never cached)."""
    if not response_cache_enabled():
        return Response(build())
    ident = f"{scoped.key}|{timezone.get_current_timezone_name()}|{url}"
    digest = hashlib.blake2b(ident.encode(), digest_size=16).hexdigest()
    key = f"response:{scoped.tables[0]._meta.label_lower}:{digest}"
    stamp, entry = stamp_and_entry(scoped.tables, key)
    if entry is not None and entry[0] == stamp:
        return HttpResponse(entry[1], content_type="application/json", headers={"X-Cache": "hit"})
    body = JSONRenderer().render(build())
    caches[cachalot_settings.CACHALOT_CACHE].set(key, (stamp, body), settings.RESPONSE_CACHE_SECONDS)
    # Said in a header so that a load test (bench/mix.lua) or an operator can
    # tell the cache's hit rate from outside.
    return HttpResponse(body, content_type="application/json", headers={"X-Cache": "miss"})


class CachedReadsMixin:
    """A viewset whose rows come from one scoping selector (`scope`, a function of
    the user returning Scoped), and whose list and detail responses are cached
    under that scope's key (cached_json_response)."""

    scope: Callable[..., Scoped]

    def scoped(self) -> Scoped:
        if getattr(self, "_scoped", None) is None:
            self._scoped = type(self).scope(self.request.user)
        return self._scoped

    def get_queryset(self):
        return self.scoped().queryset

    def known_parameters(self) -> set[str]:
        """The query parameters this view reads: its filters, search, ordering,
        page, page size and format."""
        names = {"format"}
        if self.paginator is not None:
            names |= {self.paginator.page_query_param, self.paginator.page_size_query_param}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            names |= set(filterset_class.base_filters)
        for backend in self.filter_backends:
            names |= {getattr(backend, "search_param", None), getattr(backend, "ordering_param", None)}
        return names - {None}

    def cache_url(self, request) -> str | None:
        """The URL a response is cached under: the path and the parameters in
        one order (a query string's order means nothing), or None when the
        query string holds something that changes nothing but the links in the
        body — a parameter the view doesn't read, or a value given twice.
        Caching those would let anyone grow the cache at will."""
        params = request.query_params
        if set(params) - self.known_parameters():
            return None
        pairs = [(name, value) for name in sorted(params) for value in params.getlist(name)]
        if len(set(pairs)) != len(pairs):
            return None
        # A name's values keep their order: a single-valued parameter reads one of them.
        return request.build_absolute_uri(request.path) + ("?" + urlencode(pairs) if pairs else "")

    def _cached(self, build, request, *args, **kwargs):
        url = self.cache_url(request)
        if url is None:
            return build(request, *args, **kwargs)
        return cached_json_response(self.scoped(), url, lambda: build(request, *args, **kwargs).data)

    def list(self, request, *args, **kwargs):
        return self._cached(super().list, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._cached(super().retrieve, request, *args, **kwargs)


@contextlib.contextmanager
def reading_the_database():
    """The query cache off inside the block: for code that checks what it then
    writes, and for bulk jobs (import_legacy) whose reads never repeat."""
    if not apps.is_installed("cachalot"):
        yield
        return
    from cachalot.api import cachalot_disabled

    # cachalot_disabled() turns the cache back on only when its block ends
    # normally: an exception raised through it (a database error in the block)
    # would leave this thread's query cache off for good. So the block's
    # exception is held until cachalot's block has ended, then raised.
    error = None
    with cachalot_disabled():
        try:
            yield
        except BaseException as exc:
            error = exc
    if error is not None:
        raise error


def settle_query_cache_levels() -> None:
    """Leave every transaction level cachalot holds beyond the ones Django has open.

    cachalot opens its own level (where a transaction's invalidations and reads
    wait for the commit) as Django's atomic() is entered, before Django starts
    the transaction, and leaves it as the block exits. When starting the
    transaction fails (the database unreachable), the block is never entered, so
    never exited: cachalot keeps the level, and from then on the thread keeps
    its invalidations and query results to itself, serving its own stale
    results and never telling Redis of its writes. Outside the blocks Django has
    open there is no transaction, so such a level is closed as committed: what
    it holds was read from, or written to, the database as it is.
    """
    from cachalot.cache import cachalot_caches

    for connection in connections.all(initialized_only=True):
        levels = cachalot_caches.atomic_caches[connection.alias]
        while len(levels) > len(connection.atomic_blocks):
            cachalot_caches.exit_atomic(connection.alias, True)


def tables_changed(*models: type[Model]) -> None:
    """Tell the query cache these models' tables were written where cachalot can't
    see it (a COPY through the driver): their cached reads are dropped, at commit
    when inside a transaction, as for any write cachalot sees."""
    if not apps.is_installed("cachalot"):
        return
    from cachalot.api import invalidate

    for model in models:
        invalidate(model, db_alias=router.db_for_write(model))


class WritesReadTheDatabase:
    """Middleware: a request that may write (any method but GET, HEAD and
    OPTIONS) runs with the query cache off, so the services it calls check what
    the database holds, not what the cache last saw. Every request ends with
    the query cache's transaction levels settled (settle_query_cache_levels)."""

    def __init__(self, get_response):
        if not apps.is_installed("cachalot"):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        try:
            if request.method in ("GET", "HEAD", "OPTIONS"):
                return self.get_response(request)
            with reading_the_database():
                return self.get_response(request)
        finally:
            # A request that met a database outage leaves no query-cache level behind.
            settle_query_cache_levels()
