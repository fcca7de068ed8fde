"""The user behind a JWT is cached in Redis; every change through the services drops it."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import profile_update, user_delete, user_update
from cohortly.authentication import user_cache_key
from conftest import assert_error

ME = "/api/v1/auth/me"
pytestmark = pytest.mark.django_db


@pytest.fixture
def user_cache(shared_cache):
    shared_cache.USER_CACHE_SECONDS = 60
    return cache


def _user_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME)
    return response, [q for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"]]


def test_second_request_does_not_read_the_user(user_cache, student_client):
    first, reads = _user_queries(student_client)
    assert first.status_code == 200 and len(reads) == 1
    second, reads = _user_queries(student_client)
    assert second.status_code == 200 and reads == []


def test_deactivation_through_the_service_is_immediate(user_cache, student_client, student_user, admin_user):
    assert student_client.get(ME).status_code == 200
    user_update(actor=admin_user, user=student_user, data={"is_active": False})
    assert_error(student_client.get(ME), 401)


def test_a_deleted_users_token_stops_working_at_once(user_cache, student_client, student_user, admin_user):
    assert student_client.get(ME).status_code == 200
    assert cache.get(user_cache_key(student_user.pk)) is not None
    user_delete(actor=admin_user, users=[student_user])
    assert_error(student_client.get(ME), 401)


def test_any_delete_drops_the_cached_user(user_cache, student_client, student_user):
    assert student_client.get(ME).status_code == 200
    User.objects.filter(pk=student_user.pk).delete()  # a script, a cascade: not the service
    assert_error(student_client.get(ME), 401)


def test_profile_change_is_seen_at_once(user_cache, student_client, student_user):
    student_client.get(ME)
    profile_update(user=User.objects.get(pk=student_user.pk), data={"full_name": "Renamed Person"})
    assert student_client.get(ME).json()["full_name"] == "Renamed Person"


def test_raw_deactivation_takes_effect_when_the_cached_copy_expires(user_cache, student_client, student_user):
    student_client.get(ME)
    User.objects.filter(pk=student_user.pk).update(is_active=False)
    assert student_client.get(ME).status_code == 200  # the cached copy, for at most USER_CACHE_SECONDS
    cache.delete(user_cache_key(student_user.pk))  # what expiry does
    assert_error(student_client.get(ME), 401)


def test_password_change_checks_the_stored_password_not_the_cached_one(
    user_cache, student_client, student_user
):
    student_client.get(ME)
    other = User.objects.get(pk=student_user.pk)
    other.set_password("Changed-Elsewhere-9")
    other.save()
    response = student_client.post(
        "/api/v1/auth/password/change",
        {"old_password": "Correct-Horse-42", "new_password": "Brand-New-Lantern-5"},
        format="json",
    )
    assert_error(response, 400, attr="old_password")
