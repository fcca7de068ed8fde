"""The read path's one cache seam.

Responses. The API's lists and details (CachedReadsMixin) keep their rendered
JSON in Redis under the key of the scope their selector returned (`Scoped.key`),
the time zone and the URL. Each entry names the tags it depends on and the time
its build began (Redis's clock, in ms); it is served while every one of its tags
exists and was last moved before that time. A write moves the tags of what it
changed, so it makes stale only the entries that showed it:

- `<table>:<pk>`, a row: every entry that shows the row, its related rows
  included (a bootcamp's people, an enrollment's student and bootcamp, a lead's
  owner, bootcamp and conversion). Moved by every save or delete of the row,
  and by writes that change what is shown with it (`changes_also`: an
  enrollment moves its bootcamp, whose seats and waitlist it changes). A save
  of only fields that no response reads (`unread_by_responses`: a user's last
  login, password and sessions) moves no tag at all.
- `<table>:rows`: every list of the table; moved when a row is created or deleted.
- `<table>.<field>`: the lists whose query reads the field: the fields its scope
  narrows on (`Scoped.depends`), those of the filters and search the request
  uses, and those of the ordering in effect. Moved by a save of that field (a
  save without `update_fields` moves every field's tag), `<table>.*` by any
  save of the table (for an ordering on a computed value), and a many-to-many
  field's by a change to its rows.
- `<table>:epoch`: every entry on the table; moved by a write the model layer
  doesn't announce: QuerySet.update(), bulk_create, raw SQL, a COPY
  (tables_changed). Every write statement goes through a database execute
  wrapper; one that no save, delete or many-to-many signal explains moves the
  epoch of its table (of every cached table when it can't be parsed).

Tags are moved at once and again when the transaction commits: a build that
began before the commit, and so may have read the old rows, is always older
than the second move. A tag that has expired or been evicted makes its entries
stale; one a build finds missing is created just older than the build.
Authentication, permissions and throttles run before the cache is consulted;
object-level read permissions do not (a hit never loads the object), so a view
that needs them must not use the mixin.

Lost invalidations. A move that never reaches Redis (the worker is cut off from
it or backing off, cohortly.redis_client) leaves other processes the entries it
should have made stale until they expire: RESPONSE_CACHE_SECONDS after they were
written, never longer (test_caching:
test_a_write_whose_invalidation_failed_is_seen_everywhere_within_the_bound).
"""

import functools
import hashlib
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import Model, QuerySet, signals
from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from redis.exceptions import RedisError
from rest_framework.response import Response

from cohortly.filters import OrderingFilter
from cohortly.pagination import page_number_digits
from cohortly.renderers import JSONRenderer

logger = logging.getLogger(__name__)

#: The tables whose rows cached responses show: every table a Scoped names must be
#: here (test_caching holds them to each other). Writes to other tables move no tag.
CACHED_TABLES = frozenset(
    {
        "accounts_user",
        "bootcamps_bootcamp",
        "bootcamps_bootcamp_instructors",
        "bootcamps_bootcamp_mentors",
        "enrollments_enrollment",
        "leads_lead",
    }
)


class Scoped:
    """What a scoping selector returns: the rows a user may see, the key of that
    scope, and what the cache needs to know of those rows.

    Two callers with the same `key` see the same rows for the same request, so a
    response built for one may be served to the other. `tables` are the models
    (or auto-created through models) the queryset reads; the first is the
    resource's own. `depends` are the (model, field path) pairs the scope
    narrows on, so that a list is stale when they change (a bootcamp leaving
    PUBLISHED, an instructor leaving a bootcamp). `shows(row)` returns the
    other rows shown with one of its rows (a bootcamp's people); the rows its
    foreign keys point to are always counted. The queryset is built when first
    used: a response served from the cache needs only the key.
    """

    def __init__(
        self,
        key: str,
        tables: tuple[type[Model], ...],
        build: Callable[[], QuerySet],
        *,
        depends: Iterable[tuple[type[Model], str]] = (),
        shows: Callable[[Model], Iterable[Model]] | None = None,
    ):
        self.key, self.tables, self._build = key, tables, build
        self.depends, self.shows = tuple(depends), shows

    @cached_property
    def queryset(self) -> QuerySet:
        return self._build()


# --- tags ---------------------------------------------------------------------------


def row_tag(model: type[Model] | Model, pk) -> str:
    return f"{model._meta.db_table}:{pk}"


def rows_tag(model: type[Model]) -> str:
    return f"{model._meta.db_table}:rows"


def field_tag(model: type[Model], name: str) -> str:
    return f"{model._meta.db_table}.{name}"


def any_field_tag(model: type[Model]) -> str:
    return f"{model._meta.db_table}.*"


def epoch_tag(table: str) -> str:
    return f"{table}:epoch"


def path_tags(model: type[Model], path: str) -> list[str]:
    """The tags of a lookup path as a filter, search or ordering reads it:
    `student__full_name` on an enrollment is its `student` and the user's
    `full_name`. A name that is no field (an annotation) depends on every field."""
    tags = []
    for part in path.lstrip("-^=@$").split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            if not tags:  # an annotation: computed from any of the row's fields
                tags.append(any_field_tag(model))
            break  # else a lookup (`__icontains`) after the field
        if field.is_relation and field.auto_created and not field.concrete:
            # A reverse relation: the rows of the other table, joined by its field.
            tags += [rows_tag(field.related_model), field_tag(field.related_model, field.field.name)]
        else:
            tags.append(field_tag(model, field.name))
        if not field.is_relation:
            break
        model = field.related_model
    return tags


def tags_published() -> bool:
    """Whether writes move their tags: whenever the cache is Redis, even in a
    process that serves nothing from it (RESPONSE_CACHE_SECONDS=0), since
    another process sharing that Redis may."""
    return bool(settings.REDIS_URL) and caches["default"].__class__.__module__.startswith("django_redis")


def response_cache_enabled() -> bool:
    return settings.RESPONSE_CACHE_SECONDS > 0 and tags_published()


def _tag_seconds() -> int:
    """How long a tag is kept: longer than any entry it stamps lives (twice this
    process's RESPONSE_CACHE_SECONDS, two minutes at least). A tag that expires
    before its entries only makes them stale."""
    return max(2 * settings.RESPONSE_CACHE_SECONDS, 120)


# One round trip each. Keys other than KEYS[1] are named in the entry itself,
# which a Redis Cluster would refuse; a single Redis (or a replica set) is fine.
_LOOKUP = """
local entry = redis.call('HMGET', KEYS[1], 'built', 'tags', 'body')
if entry[1] then
  local built = tonumber(entry[1])
  local fresh = true
  if entry[2] ~= '' then
    local tags = {}
    for tag in string.gmatch(entry[2], '[^\\t]+') do tags[#tags + 1] = tag end
    local stamps = redis.call('MGET', unpack(tags))
    for i = 1, #tags do
      local stamp = tonumber(stamps[i])
      if stamp == nil or stamp >= built then
        fresh = false
        break
      end
    end
  end
  if fresh then return entry[3] end
end
local now = redis.call('TIME')
return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
"""
# ARGV: built, entry seconds, tag seconds, then per entry its number of tags and
# its body; KEYS: per entry its key, then its tags.
_STORE = """
local built, seconds, tag_seconds = ARGV[1], ARGV[2], ARGV[3]
local k, a = 1, 4
while a <= #ARGV do
  local count = tonumber(ARGV[a])
  local tags = {}
  for i = 1, count do
    tags[i] = KEYS[k + i]
    redis.call('SET', tags[i], tonumber(built) - 1, 'NX', 'EX', tag_seconds)
  end
  redis.call('HSET', KEYS[k], 'built', built, 'tags', table.concat(tags, '\\t'), 'body', ARGV[a + 1])
  redis.call('EXPIRE', KEYS[k], seconds)
  k, a = k + count + 1, a + 2
end
"""
_BUMP = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
for i = 1, #KEYS do redis.call('SET', KEYS[i], ms, 'EX', ARGV[1]) end
return ms
"""
_scripts: dict[str, object] = {}


def _run(name: str, keys: list[str], args: list) -> object:
    """Runs one of the scripts above on the default cache's Redis (through its
    client, so through the breaker of cohortly.redis_client)."""
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    script = _scripts.get(name)
    if script is None:
        source = {"lookup": _LOOKUP, "store": _STORE, "bump": _BUMP}[name]
        script = _scripts[name] = client.register_script(source)
    return script(keys=keys, args=args, client=client)


def _tag_key(tag: str) -> str:
    return caches["default"].make_key(f"tag:{tag}")


def bump(tags: Iterable[str]) -> None:
    """Moves `tags` to now; again when the transaction commits, if there is one.
    Redis being away loses the move (see "Lost invalidations" above)."""
    if not tags_published():
        return
    keys = sorted({_tag_key(tag) for tag in tags})
    if not keys:
        return

    def send():
        try:
            _run("bump", keys, [_tag_seconds()])
        except RedisError as exc:
            # Unreachable: said once a minute by cohortly.redis_client.
            logger.debug("Cache tags not moved: %s", exc)

    send()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(send, robust=True)


# --- what writes move ------------------------------------------------------------------

#: model -> foreign keys whose row a write of the model changes too
_ALSO_CHANGES: dict[type[Model], tuple[str, ...]] = {}


def changes_also(model: type[Model], *foreign_keys: str) -> None:
    """Declares that a write of `model` changes what the rows its `foreign_keys`
    point to show (an enrollment: its bootcamp's seats and waitlist)."""
    _ALSO_CHANGES[model] = tuple(foreign_keys)


#: model -> fields that no cached response reads (shows, filters, orders or scopes on)
_UNREAD: dict[type[Model], frozenset[str]] = {}


def unread_by_responses(model: type[Model], *fields: str) -> None:
    """Declares fields of `model` that no cached response reads (a user's password,
    last login and session bookkeeping): a save of those alone moves no tag, so a
    login or a logout leaves every page that shows the user cached."""
    _UNREAD[model] = frozenset(model._meta.get_field(name).name for name in fields)


_state = threading.local()


def _announced() -> dict[str, int]:
    """Per thread: table -> saves, deletes and many-to-many changes under way,
    whose statements their signals account for."""
    counts = getattr(_state, "announced", None)
    if counts is None:
        counts = _state.announced = defaultdict(int)
    return counts


def _cached(model: type[Model]) -> bool:
    return model._meta.db_table in CACHED_TABLES


def _row_tags(instance: Model) -> list[str]:
    tags = [row_tag(instance, instance.pk)]
    for name in _ALSO_CHANGES.get(type(instance), ()):
        field = instance._meta.get_field(name)
        value = getattr(instance, field.attname)
        if value is not None:
            tags.append(row_tag(field.related_model, value))
    return tags


def _before_write(sender, **kwargs):
    if _cached(sender):
        _announced()[sender._meta.db_table] += 1


def _after_write(sender, tags: list[str]):
    if _cached(sender):
        counts = _announced()
        counts[sender._meta.db_table] = max(0, counts[sender._meta.db_table] - 1)
        bump(tags)


def _saved(sender, instance, created, update_fields, raw=False, **kwargs):
    names = (
        {sender._meta.get_field(name).name for name in update_fields}
        if update_fields is not None and not created
        else None
    )
    if names is not None and names <= _UNREAD.get(sender, frozenset()):
        return _after_write(sender, [])
    tags = _row_tags(instance)
    if created:
        tags.append(rows_tag(sender))
    else:
        names = names if names is not None else {field.name for field in sender._meta.concrete_fields}
        tags += [field_tag(sender, name) for name in names] + [any_field_tag(sender)]
    _after_write(sender, tags)


def _deleted(sender, instance, **kwargs):
    _after_write(sender, [*_row_tags(instance), rows_tag(sender)])


@functools.cache
def _m2m_field(through: type[Model]):
    for model in apps.get_models():
        for field in model._meta.many_to_many:
            if field.remote_field.through is through:
                return model, field
    return None, None


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action.startswith("pre_"):
        return _before_write(sender)
    owner, field = _m2m_field(sender)
    tags = [epoch_tag(sender._meta.db_table)] if owner is None else [field_tag(owner, field.name)]
    if not reverse:
        tags.append(row_tag(instance, instance.pk))
    elif pk_set is None:  # cleared from the other side: any of the owner's rows
        tags.append(epoch_tag(owner._meta.db_table))
    else:
        tags += [row_tag(owner, pk) for pk in pk_set]
    _after_write(sender, tags)


_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_READS = ("SELECT", "SAVEPO", "RELEAS", "ROLLBA", "BEGIN", "COMMIT", "SET ", "SHOW ", "EXPLAI", "PRAGMA")


def _watch_writes(execute, sql, params, many, context):
    """Execute wrapper: a write statement to a cached table that no signal
    announced moves the table's epoch (of every cached table if unparsed)."""
    head = sql.lstrip()[:6].upper()
    if head.startswith(_READS) or not tags_published():
        return execute(sql, params, many, context)
    try:
        result = execute(sql, params, many, context)
    except Exception:
        # The save or delete that announced it will never say it is done.
        _announced().clear()
        raise
    match = _WRITE.match(sql)
    if match is None:
        bump(epoch_tag(table) for table in CACHED_TABLES)
    elif match[1] in CACHED_TABLES and not _announced()[match[1]]:
        bump([epoch_tag(match[1])])
    return result


def _watch_connection(sender, connection, **kwargs):
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


def _request_started(**kwargs):
    _announced().clear()


def connect_signals() -> None:
    """Called once, when the apps are ready (cohortly.apps.CohortlyConfig)."""
    from django.core.signals import request_started
    from django.db.backends.signals import connection_created

    for model in apps.get_models(include_auto_created=True):
        if not _cached(model):
            continue
        uid = f"cohortly.caching:{model._meta.label_lower}"
        if model._meta.auto_created:
            signals.m2m_changed.connect(_m2m_changed, sender=model, dispatch_uid=uid)
            continue
        signals.pre_save.connect(_before_write, sender=model, dispatch_uid=uid)
        signals.post_save.connect(_saved, sender=model, dispatch_uid=uid)
        signals.pre_delete.connect(_before_write, sender=model, dispatch_uid=uid)
        signals.post_delete.connect(_deleted, sender=model, dispatch_uid=uid)
    connection_created.connect(_watch_connection, dispatch_uid="cohortly.caching")
    request_started.connect(_request_started, dispatch_uid="cohortly.caching")
    for connection in connections.all(initialized_only=True):
        _watch_connection(None, connection)


def tables_changed(*models: type[Model]) -> None:
    """Tell the response cache these models' tables were written where it can't
    see it (a COPY through the driver): every entry that reads them is stale, now
    and again at commit, as for any other write."""
    bump(epoch_tag(model._meta.db_table) for model in models)


# --- the response cache ---------------------------------------------------------


def _lookup(key: str):
    """The entry's body (bytes) while fresh, else Redis's time now in ms (int)."""
    return _run("lookup", [key], [])


def _store(entries: list[tuple[str, list[str], bytes]], built: int) -> None:
    """Stores (key, tags, body) entries built from reads that began at `built`,
    in one round trip."""
    keys, args = [], [built, settings.RESPONSE_CACHE_SECONDS, _tag_seconds()]
    for key, tags, body in entries:
        tag_keys = sorted({_tag_key(tag) for tag in tags})
        keys += [key, *tag_keys]
        args += [len(tag_keys), body]
    _run("store", keys, args)


def response_key(scoped: Scoped, url: str, kind: str = "response") -> str:
    # The release: a deploy's code never serves what the previous one rendered.
    ident = f"{settings.RELEASE}|{scoped.key}|{timezone.get_current_timezone_name()}|{url}"
    digest = hashlib.blake2b(ident.encode(), digest_size=16).hexdigest()
    return caches["default"].make_key(f"{kind}:{scoped.tables[0]._meta.label_lower}:{digest}")


class Built:
    """What a response cache miss built: the response's data and tags (None: not
    to be cached), and `more`: other responses of the same scope its rows make
    (url, data, tags), stored with it."""

    def __init__(self, data, tags: list[str] | None = None, more=()):
        self.data, self.tags, self.more = data, tags, more


def _epochs(scoped: Scoped) -> list[str]:
    return [epoch_tag(model._meta.db_table) for model in scoped.tables]


def _keep(entries: list[tuple[str, list[str], bytes]], built: int) -> None:
    try:
        _store(entries, built)
    except RedisError as exc:
        logger.debug("Not cached: %s", exc)


def cached_json_response(scoped: Scoped, url: str, build: Callable[[int | None], Built]):
    """The JSON response for `url` in `scoped`'s scope: `build(started)` returns
    what it is made of (or raises, e.g. Http404: errors are never cached).
    `started` is when the build began (Redis's clock, ms; None when nothing is
    cached): whatever else it caches on the way is stamped no later."""
    if not response_cache_enabled():
        return Response(build(None).data)
    key = response_key(scoped, url)
    try:
        found = _lookup(key)
    except RedisError:
        return Response(build(None).data)
    if isinstance(found, bytes):
        return HttpResponse(found, content_type="application/json", headers={"X-Cache": "hit"})
    built = build(int(found))
    body = JSONRenderer().render(built.data)
    if built.tags is not None:
        epochs = _epochs(scoped)
        entries = [(key, [*built.tags, *epochs], body)]
        entries += [
            (response_key(scoped, other), [*tags, *epochs], JSONRenderer().render(data))
            for other, data, tags in built.more
        ]
        _keep(entries, int(found))
    # Said in a header so that a load test (bench/mix.lua) or an operator can
    # tell the cache's hit rate from outside.
    return HttpResponse(body, content_type="application/json", headers={"X-Cache": "miss"})


def cached_count(scoped: Scoped, url: str, tags: list[str], count: Callable[[], int], started: int) -> int:
    """A list's row count (`count()`), kept apart from its pages under `url`
    (the list's URL without its page parameters) and `tags`: what decides which
    rows are in the list, never how they are ordered or what they show. A
    re-enrollment moves every page of enrollments by date, but not their count;
    a COUNT over a large table costs more than the page it is counted for.

    Counted for a response whose build began at `started`, and stamped with
    that time: a tag the count creates is then older than the response too."""
    key = response_key(scoped, url, kind="count")
    try:
        found = _lookup(key)
    except RedisError:
        return count()
    if isinstance(found, bytes):
        return int(found)
    counted = count()
    _keep([(key, [*tags, *_epochs(scoped)], str(counted).encode())], started)
    return counted


def _url(request, pairs: list[tuple[str, str]]) -> str:
    """The request's path as an absolute URL with `pairs` as its query string."""
    return request.build_absolute_uri(request.path) + ("?" + urlencode(pairs) if pairs else "")


class CachedReadsMixin:
    """A viewset whose rows come from one scoping selector (`scope`, a function of
    the user returning Scoped), and whose list and detail responses are cached
    under that scope's key (cached_json_response), tagged with the rows they
    show and, for a list, the fields its query reads."""

    scope: Callable[..., Scoped]
    #: A row's detail response is the row as the list shows it (one serializer,
    #: one scope): a list page built from the database also stores the detail
    #: response of each of its rows, under `<list path>/<pk>/`.
    details_from_list = False

    def scoped(self) -> Scoped:
        if getattr(self, "_scoped", None) is None:
            self._scoped = type(self).scope(self.request.user)
        return self._scoped

    def get_queryset(self):
        return self.scoped().queryset

    def get_object(self):
        obj = super().get_object()
        self._shown = [obj]
        return obj

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._shown = page
        return page

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
        if self.paginator is not None:
            # ?page=01, 001, …: page 1 (as the paginator reads it), one entry.
            page = self.paginator.page_query_param
            pairs = [(n, (page_number_digits(v) or v) if n == page else v) for n, v in pairs]
        # A name's values keep their order: a single-valued parameter reads one of them.
        return _url(request, pairs)

    # -- tags

    def shown_tags(self, rows) -> list[str]:
        """The rows a response shows: each row, the rows its foreign keys point
        to in cached tables, and the scope's `shows`."""
        shows = self.scoped().shows
        tags = []
        for row in rows:
            tags.append(row_tag(row, row.pk))
            for field in row._meta.concrete_fields:
                if field.is_relation and _cached(field.related_model):
                    value = getattr(row, field.attname)
                    if value is not None:
                        tags.append(row_tag(field.related_model, value))
            if shows is not None:
                tags += [row_tag(other, other.pk) for other in shows(row)]
        return tags

    def list_tags(self, request, ordering: bool = True) -> list[str]:
        """What a list's query reads besides its rows: the table's rows (created,
        deleted), the fields its scope narrows on, and those of the filters,
        search and (unless `ordering` is False: a count) ordering in effect."""
        scoped = self.scoped()
        model = scoped.tables[0]
        tags = [rows_tag(model)]
        for owner, path in scoped.depends:
            tags += path_tags(owner, path)
        params = request.query_params
        filterset_class = getattr(self, "filterset_class", None)
        ordered = False
        if filterset_class is not None:
            reads = getattr(filterset_class, "method_fields", {})
            for name, filter_ in filterset_class.base_filters.items():
                if isinstance(filter_, OrderingFilter):
                    ordered = True
                    if not ordering:
                        continue
                    terms = filter_.field.widget.value_from_datadict(params, None, name) or []
                    fields = [filter_.get_ordering_value(term) for term in terms] or list(filter_.default)
                    if not fields:
                        fields = list(model._meta.ordering)
                    for path in [*fields, filter_.tie_breaker]:
                        tags += path_tags(model, path if isinstance(path, str) else str(path))
                elif name in params:
                    if filter_.method is not None:
                        if name not in reads:
                            raise ImproperlyConfigured(
                                f"{filterset_class.__name__}.method_fields must name the fields "
                                f"the `{name}` filter reads, for the response cache."
                            )
                        paths = reads[name]
                    else:
                        paths = [filter_.field_name]
                    for path in paths:
                        tags += path_tags(model, path)
        if ordering and not ordered:
            for path in model._meta.ordering:
                tags += path_tags(model, path)
        for backend in self.filter_backends:
            search_param = getattr(backend, "search_param", None)
            if search_param and params.get(search_param):
                for path in getattr(self, "search_fields", ()):
                    tags += path_tags(model, path)
        return tags

    def _cached(self, build, is_list, request, *args, **kwargs):
        url = self.cache_url(request)
        if url is None:
            return build(request, *args, **kwargs)
        if is_list:
            self._count_url = self.count_url(request, url)

        def data_and_tags(started):
            self._shown, self._started = None, started
            response = build(request, *args, **kwargs)
            if response.status_code != 200 or self._shown is None:
                return Built(response.data)
            tags = self.shown_tags(self._shown)
            if not is_list:
                return Built(response.data, tags)
            tags += self.list_tags(request)
            return Built(response.data, tags, self.details_of(request, response.data))

        return cached_json_response(self.scoped(), url, data_and_tags)

    def count_url(self, request, url: str) -> str:
        """The URL a list's count is cached under: its cache URL without the page
        and the page size, which change which rows a page shows, not how many
        the list holds."""
        paged = set()
        if self.paginator is not None:
            paged = {self.paginator.page_query_param, self.paginator.page_size_query_param}
        return _url(request, [pair for pair in parse_qsl(urlsplit(url).query) if pair[0] not in paged])

    def count_rows(self, count: Callable[[], int]) -> int:
        """How many rows the list holds: the paginator asks (cohortly.pagination);
        `count()` counts them in the database. Cached apart from the pages
        (cached_count) while the list's response is cached."""
        url, started = getattr(self, "_count_url", None), getattr(self, "_started", None)
        if url is None or started is None:
            return count()
        return cached_count(self.scoped(), url, self.list_tags(self.request, ordering=False), count, started)

    def details_of(self, request, data):
        """The detail responses of a list page's rows (details_from_list)."""
        if not self.details_from_list or not isinstance(data, dict):
            return []
        results = data.get("results")
        if results is None or len(results) != len(self._shown):
            return []
        base = request.build_absolute_uri(request.path).rstrip("/")
        return [
            (f"{base}/{row.pk}/", item, self.shown_tags([row]))
            for row, item in zip(self._shown, results, strict=True)
        ]

    def list(self, request, *args, **kwargs):
        return self._cached(super().list, True, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._cached(super().retrieve, False, request, *args, **kwargs)
