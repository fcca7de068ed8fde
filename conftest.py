"""Fixtures shared by every app's tests: users and API clients for each role."""

import contextlib

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import tokens_for
from accounts.tests.factories import UserFactory

ROLES = [role.value for role in User.Role]


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if on_sqlite and "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the shared cache; each test starts from zero,
    with Redis called again whatever the test before did to it."""
    from cohortly.redis_client import breaker

    breaker.reset()
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        # Without database access (the cache table lives there) there is nothing to clear.
        with contextlib.suppress(Exception):
            cache.clear()
    yield


def auth_client(user: User | None) -> APIClient:
    """An API client that sends a real JWT access token for `user`."""
    client = APIClient()
    if user is not None:
        token = tokens_for(user)["access"]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        client.user = user
    return client


@pytest.fixture
def make_user(db):
    def _make(role=User.Role.STUDENT, **kwargs):
        return UserFactory(role=role, **kwargs)

    return _make


@pytest.fixture
def admin_user(make_user):
    return make_user(User.Role.ADMIN, email="admin@example.com", full_name="Ada Admin")


@pytest.fixture
def sales_user(make_user):
    return make_user(User.Role.SALES, email="sales@example.com", full_name="Sam Sales")


@pytest.fixture
def instructor_user(make_user):
    return make_user(User.Role.INSTRUCTOR, email="instructor@example.com", full_name="Iris Instructor")


@pytest.fixture
def mentor_user(make_user):
    return make_user(User.Role.MENTOR, email="mentor@example.com", full_name="Milo Mentor")


@pytest.fixture
def student_user(make_user):
    return make_user(User.Role.STUDENT, email="student@example.com", full_name="Stella Student")


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def admin_web(admin_user):
    """A browser's client (session, CSRF-free) signed in as an ADMIN: the admin's pages."""
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return auth_client(admin_user)


@pytest.fixture
def sales_client(sales_user):
    return auth_client(sales_user)


@pytest.fixture
def instructor_client(instructor_user):
    return auth_client(instructor_user)


@pytest.fixture
def mentor_client(mentor_user):
    return auth_client(mentor_user)


@pytest.fixture
def student_client(student_user):
    return auth_client(student_user)


@pytest.fixture
def client_for(make_user):
    """client_for("SALES") -> (client, user); client_for(None) -> anonymous client."""

    def _client_for(role, **kwargs):
        if role is None:
            return APIClient(), None
        user = make_user(role, **kwargs)
        return auth_client(user), user

    return _client_for


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


def assert_error(response, status, code=None, attr=None):
    """The API's one error shape: {"type", "errors": [{"code", "detail", "attr"}]}."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["errors"], body
    if code is not None:
        assert code in [e["code"] for e in body["errors"]], body
    if attr is not None:
        assert attr in [e["attr"] for e in body["errors"]], body
    return body


def in_thread(target, results: dict, key):
    """A thread that runs `target()` on a connection of its own and puts what it
    returned, or raised, in `results[key]` (PostgreSQL races)."""
    import threading

    from django.db import close_old_connections

    def run():
        try:
            results[key] = target()
        except Exception as exc:
            results[key] = exc
        finally:
            close_old_connections()
            connection.close()

    return threading.Thread(target=run)


def race_behind_held(hold, then, *, seconds: float = 0.5) -> dict:
    """`hold()` runs in a transaction that stays open `seconds` more, keeping its
    row locks; `then()` starts once hold() returned, on another connection.
    {"held": what hold returned, "then": what then returned or raised}."""
    import threading
    import time

    from django.db import transaction

    results, held = {}, threading.Event()

    def holding():
        with transaction.atomic():
            results["held"] = hold()
            held.set()
            time.sleep(seconds)

    def following():
        held.wait(5)
        return then()

    threads = [in_thread(holding, results, "holding"), in_thread(following, results, "then")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    return results


@pytest.fixture
def hold_lock():
    """hold_lock(obj): another connection (a thread of its own) takes the row lock
    of `obj` (a model instance) and keeps it until release() (or the test's end).
    PostgreSQL: SQLite has no row locks."""
    import threading

    from django.db import connection as db_connection
    from django.db import transaction

    releases = []

    def hold(obj):
        locked, done = threading.Event(), threading.Event()

        def run():
            try:
                with transaction.atomic():
                    type(obj).objects.select_for_update().get(pk=obj.pk)
                    locked.set()
                    done.wait(30)
            finally:
                db_connection.close()

        thread = threading.Thread(target=run)
        thread.start()

        def release():
            done.set()
            thread.join(30)

        releases.append(release)
        assert locked.wait(10), "the other connection never got the lock"
        return release

    yield hold
    for release in releases:
        release()


@pytest.fixture
def no_query_cache(settings):
    """Every query runs: for tests of the queries themselves, not of what the
    response cache (cohortly.caching) would answer instead."""
    settings.RESPONSE_CACHE_SECONDS = 0


@pytest.fixture
def shared_cache(settings):
    """The caches production has with Redis (the user behind a token, the query
    cache, bootcamp responses), on a local-memory stand-in; each test turns on
    the ones it checks (USER_CACHE_SECONDS, RESPONSE_CACHE_SECONDS)."""
    settings.REDIS_URL = settings.REDIS_URL or "redis://stand-in"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.USER_CACHE_SECONDS = 0
    settings.RESPONSE_CACHE_SECONDS = 0
    return settings
