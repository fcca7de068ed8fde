"""The busy API lists, paginated without redoing work that can't have changed.

Counts. The count of a filtered list is cached in Redis under a version of
the models it depends on, which every write moves.

Counting every lead that matches a search costs far more than reading the page
of 20 that is shown (the matches are spread over the whole table). The count
only changes when a row of the models it depends on changes, so it is cached
per list, user and filter parameters, and per version of those models. The version moves on every save
and delete through the ORM (signals, connected for the models listed in
COUNTED_MODELS), immediately and again after commit, so a cached count is
never older than the last committed write; writes that bypass the ORM are
seen after COUNT_CACHE_SECONDS. Without Redis every count is run.

Page queries. Building a list's queryset (the caller's scope, the filterset,
search, ordering) and compiling it to SQL cost the ORM more than PostgreSQL
takes to run the query. Under the same versions, the same caller (id and role),
time zone and query parameters give the same SQL, parameters and all, so each
worker keeps the compiled SQL of the last few hundred such lists and runs a
page of it with its LIMIT/OFFSET. The queryset is still built, and
the filters validated, whenever one is not kept: on the first request of its
kind in a worker and after any write to the models the list depends on. The
rows are what QuerySet.values() returns (the backend's converters applied).
Without Redis there are no versions to key on, and every page is built.

On PostgreSQL the kept SQL carries its parameters as quoted literals, rendered
by the backend's own compose_sql() (psycopg's quoting, as Django's default
client-side cursors do for every query). A statement without parameters is
planned once per connection when prepared (DB_PREPARED_STATEMENTS) and its
plan fits its own values; one with a search pattern as a parameter was planned
afresh on every run (PostgreSQL's generic plan can't know how many rows
'%term%' matches), which cost lead search as much as running it did.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models.query import ValuesIterable
from django.utils import timezone
from django.utils.functional import cached_property

from cohortly.models import MAX_ID
from cohortly.pagination import PageNumberPagination
from cohortly.recent import RecentlyUsed


def _enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.COUNT_CACHE_SECONDS > 0


def _version_key(model) -> str:
    return f"count-version:{model._meta.label_lower}"


def bump_version(key: str) -> None:
    """Move the version number stored at `key` now and again when the current
    transaction commits (a reader in between may have cached what is changing)."""

    def bump():
        try:
            cache.add(key, 0, None)
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, None)

    bump()
    transaction.on_commit(bump, robust=True)


def model_changed(sender, update_fields=None, **kwargs):
    """Signal receiver: counts over `sender` are stale, now and after commit."""
    if not _enabled():
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login changes no row anyone counts by
    bump_version(_version_key(sender))  # entries record the versions they were counted at


def connect_signals(*models):
    from django.db.models.signals import post_delete, post_save

    for model in models:
        label = model._meta.label_lower
        post_save.connect(model_changed, sender=model, dispatch_uid=f"count-version-save-{label}")
        post_delete.connect(model_changed, sender=model, dispatch_uid=f"count-version-delete-{label}")


#: Query parameters that never change what is counted.
NOT_COUNTED = frozenset({"page", "page_size", "ordering", "format"})


class CachedCountPaginator(Paginator):
    #: The models whose rows the count depends on (the list's own model when empty).
    depends_on: tuple = ()
    #: What identifies the counted rows: set by the pagination from the request
    #: (the view, the user whose scope it is, the filter parameters).
    count_key: str | None = None
    #: The versions of `depends_on` the count was read at (None: not known).
    versions: tuple | None = None

    @cached_property
    def count(self):
        queryset = self.object_list
        model = getattr(queryset, "model", None)
        if not _enabled() or model is None or self.count_key is None:
            return super().count
        version_keys = [_version_key(m) for m in (self.depends_on or (model,))]
        key = f"count:{model._meta.label_lower}:{self.count_key}"
        found = cache.get_many([*version_keys, key])  # one round trip
        versions = tuple(found.get(k) or 0 for k in version_keys)
        self.versions = versions
        entry = found.get(key)
        if entry is not None and entry[0] == versions:
            return entry[1]
        count = super().count
        cache.set(key, (versions, count), settings.COUNT_CACHE_SECONDS)
        return count


def cached_count_pagination(*depends_on):
    """The project's pagination with the count cached as described above, for a
    list whose count depends on the rows of `depends_on` (their saves and
    deletes must be tracked: connect_signals(*depends_on) in an app's ready())."""

    paginator = type("CachedCountPaginator", (CachedCountPaginator,), {"depends_on": depends_on})
    return type("CachedCountPagination", (CachedCountPagination,), {"django_paginator_class": paginator})


def list_key(request, view, *, ignore=frozenset({"page", "page_size", "format"})) -> str:
    """What fixes a list's rows and their order: the view, the caller (their
    scope, and filters such as owner=me), the time zone (date filters) and the
    query parameters. Cheaper to key on than the SQL, which would have to be
    compiled to be hashed."""
    user = request.user
    params = sorted(
        (name, tuple(values)) for name, values in request.query_params.lists() if name not in ignore
    )
    ident = repr(
        (
            type(view).__name__,
            getattr(user, "pk", None),
            getattr(user, "role", None),
            timezone.get_current_timezone_name(),
            params,
        )
    )
    return hashlib.blake2b(ident.encode(), digest_size=16).hexdigest()


def _values_shape(queryset, compiler):
    """The column names in row order, as ValuesIterable names them, and the
    backend's converters for them."""
    query = queryset.query
    if query.selected:
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    return names, list(compiler.get_converters(fields).items())


def _values_rows(connection, names, converters, rows) -> list[dict]:
    """Database rows as QuerySet.values() gives them."""
    if not converters:
        return [dict(zip(names, row, strict=True)) for row in rows]
    result = []
    for row in rows:
        row = list(row)
        for position, (row_converters, expression) in converters:
            value = row[position]
            for converter in row_converters:
                value = converter(value, expression, connection)
            row[position] = value
        result.append(dict(zip(names, row, strict=True)))
    return result


class CompiledPage:
    """One list's SQL without LIMIT/OFFSET, and how to turn its rows into what
    QuerySet.values() gives."""

    def __init__(self, queryset):
        if queryset._iterable_class is not ValuesIterable:
            raise TypeError("CompiledPage takes a values() queryset.")
        self.using = queryset.db
        compiler = queryset.query.get_compiler(using=self.using)
        self.sql, self.params = compiler.as_sql()
        connection = connections[self.using]
        if connection.vendor == "postgresql" and self.params:
            # Quoted by psycopg; `%` is then literal text, so the query runs with no
            # parameters at all (None, not an empty tuple, keeps it unparsed).
            self.sql, self.params = connection.ops.compose_sql(self.sql, self.params), None
        self.names, self.converters = _values_shape(queryset, compiler)

    def rows(self, offset: int, limit: int) -> list[dict]:
        if limit <= 0:
            return []
        connection = connections[self.using]
        with connection.cursor() as cursor:
            # Whole numbers written into the text, as Django does: a list without
            # other parameters is then planned once per connection when prepared.
            cursor.execute(f"{self.sql} LIMIT {int(limit)} OFFSET {int(offset)}", self.params)
            rows = cursor.fetchall()
        return _values_rows(connection, self.names, self.converters, rows)


#: Stands for the primary key while a lookup is compiled: no row has it.
_STAND_IN_PK = -(2**62) - 12345


class CompiledLookup:
    """One row of a values() queryset by primary key, compiled to SQL once.

    `build(pk)` returns the (scoped) values() queryset filtered on pk; it is
    called once, with a stand-in key no row has, and get() runs that SQL with
    the real key in its slots: the same row QuerySet.first() would give,
    without building and compiling the queryset on every request (that cost
    the ORM twice what the query itself takes).
    """

    def __init__(self, build):
        queryset = build(_STAND_IN_PK)
        if queryset._iterable_class is not ValuesIterable:
            raise TypeError("CompiledLookup takes a values() queryset.")
        self.using = queryset.db
        compiler = queryset.query.get_compiler(using=self.using)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slots = [i for i, value in enumerate(self.params) if value == _STAND_IN_PK]
        if not self.slots:
            raise ValueError("build(pk) must filter on the primary key it is given.")
        self.names, self.converters = _values_shape(queryset, compiler)

    def get(self, pk: int) -> dict | None:
        if not 1 <= pk <= MAX_ID:
            return None  # no row has it, and the database would refuse the number
        params = list(self.params)
        for slot in self.slots:
            params[slot] = pk
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchmany(1)
        found = _values_rows(connection, self.names, self.converters, rows)
        return found[0] if found else None


#: This worker's compiled list queries, the most recently used few hundred.
compiled_pages = RecentlyUsed(256)


class ListRows:
    """What a list view hands the paginator instead of a queryset: `build()`
    makes the (scoped, filtered, ordered) values() queryset, and is called
    only when its count or its compiled SQL isn't already known (so a filter
    error still surfaces as the 400 it is, the first time)."""

    ordered = True

    def __init__(self, model, build, key: str):
        self.model, self._build, self.key = model, build, key
        self.paginator: CachedCountPaginator | None = None

    @cached_property
    def queryset(self):
        return self._build()

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, page: slice) -> list[dict]:
        versions = self.paginator.versions if self.paginator is not None else None
        key = (self.key, versions)
        compiled = compiled_pages.get(key) if versions is not None else None
        if compiled is None:
            compiled = CompiledPage(self.queryset)
            if versions is not None:
                compiled_pages.put(key, compiled)
        return compiled.rows(offset=page.start, limit=page.stop - page.start)


class CachedCountPagination(PageNumberPagination):
    django_paginator_class = CachedCountPaginator

    def paginate_queryset(self, queryset, request, view=None):
        count_key = list_key(request, view, ignore=NOT_COUNTED)
        paginator_class = type(self).django_paginator_class

        def paginator(object_list, *args, **kwargs):
            instance = paginator_class(object_list, *args, **kwargs)
            instance.count_key = count_key
            if isinstance(object_list, ListRows):
                object_list.paginator = instance
            return instance

        self.django_paginator_class = paginator  # for this request's pagination only
        return super().paginate_queryset(queryset, request, view)

    def paginate_rows(self, model, build, request, view) -> list[dict]:
        """A page of `build()`'s rows (a values() queryset), with its SQL
        compiled once per kind of list (see the module's docstring)."""
        return self.paginate_queryset(ListRows(model, build, list_key(request, view)), request, view)
