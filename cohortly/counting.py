"""Exact page counts without recounting: the count of a filtered list, cached
in Redis under a version of the model that every write moves.

Counting every lead that matches a search costs far more than reading the page
of 20 that is shown (the matches are spread over the whole table). The count
only changes when a row of the models it depends on changes, so it is cached
per list, user and filter parameters, and per version of those models. The version moves on every save
and delete through the ORM (signals, connected for the models listed in
COUNTED_MODELS), immediately and again after commit, so a cached count is
never older than the last committed write; writes that bypass the ORM are
seen after COUNT_CACHE_SECONDS. Without Redis every count is run.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.utils.functional import cached_property

from cohortly.pagination import PageNumberPagination


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


class CachedCountPagination(PageNumberPagination):
    django_paginator_class = CachedCountPaginator

    def paginate_queryset(self, queryset, request, view=None):
        # The rows counted are fixed by the view, the user (their scope, and
        # filters such as owner=me) and the filter parameters: cheaper to key on
        # than the SQL, which would have to be compiled to be hashed.
        params = sorted(
            (name, tuple(values)) for name, values in request.query_params.lists() if name not in NOT_COUNTED
        )
        ident = repr((type(view).__name__, getattr(request.user, "pk", None), params))
        count_key = hashlib.blake2b(ident.encode(), digest_size=16).hexdigest()
        paginator_class = type(self).django_paginator_class

        def paginator(*args, **kwargs):
            instance = paginator_class(*args, **kwargs)
            instance.count_key = count_key
            return instance

        self.django_paginator_class = paginator  # for this request's pagination only
        return super().paginate_queryset(queryset, request, view)
