"""A shared cache of the bootcamp list and detail responses.

What these endpoints show depends only on the caller's scope (staff roles see
every bootcamp, everyone else the published ones) and on the URL, never on who
exactly asks; so a response is cached per (scope, URL) in Redis. Every write
that can change what they show moves a version number, which is part of every
key, so stale entries are never read again (they expire on their own):

- a bootcamp saved or deleted, its instructors or mentors changed;
- an enrollment saved or deleted (seats taken and left);
- a user's name changed, or a user deleted (instructors and mentors are listed by name).

These are caught with model signals rather than calls in each service, because
the admin, the services and the seeders all write these rows and a missed call
would serve stale data; the version moves again when the transaction commits,
so a reader who cached the old rows in between is not kept either (each entry
records the version it was built at and is used only at that version). A write
that bypasses the ORM's save() (QuerySet.update, raw SQL, bulk_create) is seen
after BOOTCAMP_CACHE_SECONDS at the latest. Authentication, permissions and
throttles run before the cache is consulted, on every request.

Without Redis the cache would itself be a database query, so it is off.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cohortly.counting import bump_version
from cohortly.renderers import JSONRenderer

VERSION_KEY = "bootcamps:listing-version"


def caching_enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.BOOTCAMP_CACHE_SECONDS > 0


def listing_changed() -> None:
    """Make every cached bootcamp response stale, now and again after commit."""
    if caching_enabled():
        bump_version(VERSION_KEY)


def cached_response(scope: str, url: str, build):
    """The response for (scope, url): `build()` returns its data, or None for a
    404. Cached, the JSON is kept rendered and served as it is.

    The entry holds the version it was built at; the version and the entry are
    read in one round trip (MGET) and an entry of another version is rebuilt."""
    if not caching_enabled():
        data = build()
        if data is None:
            raise NotFound()
        return Response(data)
    key = f"bootcamps:listing:{scope}:{hashlib.blake2b(url.encode(), digest_size=16).hexdigest()}"
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY) or 0
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        body = entry[1]
    else:
        data = build()
        body = None if data is None else JSONRenderer().render(data)
        cache.set(key, (version, body), settings.BOOTCAMP_CACHE_SECONDS)
    if body is None:
        raise NotFound()
    return HttpResponse(body, content_type="application/json")


# --- what invalidates (connected in BootcampsConfig.ready) ---------------------


def on_row_changed(sender, **kwargs):
    listing_changed()


def on_user_saved(sender, instance, update_fields=None, **kwargs):
    # Logins save last_login only: that changes nothing a bootcamp shows.
    if update_fields is None or "full_name" in update_fields:
        listing_changed()


def on_people_changed(sender, **kwargs):
    listing_changed()
    # The list's count depends on instructors and mentors too (?instructor=).
    from bootcamps.models import Bootcamp
    from cohortly.counting import model_changed

    model_changed(Bootcamp)


def connect_signals():
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from accounts.models import User
    from bootcamps.models import Bootcamp
    from cohortly.counting import connect_signals as connect_count_signals
    from enrollments.models import Enrollment

    connect_count_signals(Bootcamp)

    for model in (Bootcamp, Enrollment):
        post_save.connect(on_row_changed, sender=model, dispatch_uid=f"bootcamp-cache-{model.__name__}-save")
        post_delete.connect(on_row_changed, sender=model, dispatch_uid=f"bootcamp-cache-{model.__name__}-del")
    for relation in (Bootcamp.instructors.through, Bootcamp.mentors.through):
        m2m_changed.connect(
            on_people_changed, sender=relation, dispatch_uid=f"bootcamp-cache-{relation.__name__}"
        )
    post_save.connect(on_user_saved, sender=User, dispatch_uid="bootcamp-cache-user")
    # Deleting a user deletes their instructor and mentor rows by cascade, which
    # sends neither m2m_changed nor (for these auto-created tables) post_delete.
    post_delete.connect(on_people_changed, sender=User, dispatch_uid="bootcamp-cache-user-delete")
