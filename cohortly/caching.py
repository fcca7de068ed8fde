"""The read path's one cache seam.

Queries. django-cachalot caches the result of every SELECT on the tables in
CACHALOT_ONLY_CACHABLE_TABLES (settings) and drops them, table by table, on
every write it sees: a save or delete, QuerySet.update(), bulk_create, raw SQL
through Django's cursor, the admin, migrations; a write inside a transaction is
seen by other processes when it commits. A paginated list's COUNT is one of
those SELECTs, so list counts are cached the same way. It is on only with Redis
(CACHALOT_ENABLED), the cache every worker shares.

Responses. A response whose body depends only on the caller's scope and the URL
(the bootcamp list and detail) is kept rendered, under a key made of the scope
key its selector returned (`Scoped.key`) and the URL, stamped with cachalot's
last invalidation of the tables the selector reads (`Scoped.tables`). An entry
stamped with anything else is rebuilt. The stamp is read before the rows are,
so a write that commits while an entry is being built makes that entry stale,
never the other way round. Authentication, permissions and throttles run before
the cache is consulted.
"""

import hashlib
from collections.abc import Callable

from cachalot.cache import cachalot_caches
from cachalot.settings import cachalot_settings
from django.conf import settings
from django.core.cache import cache
from django.db import router
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
    """cachalot's last invalidation of `tables`, as cachalot.api.get_last_invalidation
    computes it for one database and one cache, and the cache entry at `key`, in
    one round trip to Redis instead of two (the second cost the bootcamp detail
    over 10% of its throughput). It reads cachalot's table keys through the
    cache cachalot itself uses, so inside a transaction it sees that
    transaction's own invalidations; test_caching holds it to get_last_invalidation."""
    db_alias = router.db_for_read(tables[0])
    keygen = cachalot_settings.CACHALOT_TABLE_KEYGEN
    table_keys = [keygen(db_alias, model._meta.db_table) for model in tables]
    found = cachalot_caches.get_cache(db_alias=db_alias).get_many([*table_keys, key])
    stamps = [found[k] for k in table_keys if k in found]
    return (max(stamps) if stamps else 0.0), found.get(key)


def cached_json_response(scoped: Scoped, url: str, build: Callable[[], object]):
    """The JSON response for `url` in `scoped`'s scope: `build()` returns its data
    (or raises, e.g. Http404: errors are never cached)."""
    if not response_cache_enabled():
        return Response(build())
    ident = f"{scoped.key}|{timezone.get_current_timezone_name()}|{url}"
    digest = hashlib.blake2b(ident.encode(), digest_size=16).hexdigest()
    key = f"response:{scoped.tables[0]._meta.label_lower}:{digest}"
    stamp, entry = stamp_and_entry(scoped.tables, key)
    if stamp and entry is not None and entry[0] == stamp:
        return HttpResponse(entry[1], content_type="application/json", headers={"X-Cache": "hit"})
    body = JSONRenderer().render(build())
    if stamp:
        # No stamp: cachalot has not seen these tables yet (a cold cache); the
        # build just read them, so the next request has one to check against.
        cache.set(key, (stamp, body), settings.RESPONSE_CACHE_SECONDS)
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

    def list(self, request, *args, **kwargs):
        build = super().list
        return cached_json_response(
            self.scoped(), request.build_absolute_uri(), lambda: build(request, *args, **kwargs).data
        )

    def retrieve(self, request, *args, **kwargs):
        build = super().retrieve
        return cached_json_response(
            self.scoped(), request.build_absolute_uri(), lambda: build(request, *args, **kwargs).data
        )
