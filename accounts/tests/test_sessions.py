"""Logout means logged out: access tokens stop with their session or generation.

Each scenario runs with the user read from the database on every request and
with the cached user (what production runs with Redis), whose copy must never
let a revoked token through.
"""

import threading
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import tokens_for, user_logout_all, user_set_password, user_update
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from cohortly import authentication
from conftest import assert_error

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
LOGOUT_ALL = "/api/v1/auth/logout-all"
ME = "/api/v1/auth/me"
PASSWORD_CHANGE = "/api/v1/auth/password/change"
PASSWORD_RESET_CONFIRM = "/api/v1/auth/password/reset/confirm"

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "cached"])
def user_reads(request, shared_cache):
    """The user behind a token read from the database, or from the user cache."""
    shared_cache.USER_CACHE_SECONDS = 60 if request.param == "cached" else 0
    cache.clear()  # the stand-in outlives the test: its login counts and copies too
    return request.param


def login(client, email="ann@example.com", password=DEFAULT_PASSWORD) -> dict:
    response = client.post(LOGIN, {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me(client, tokens):
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")


def refresh(client, tokens):
    return client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")


def logout(client, tokens):
    response = client.post(
        LOGOUT, {"refresh": tokens["refresh"]}, format="json", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}"
    )
    assert response.status_code == 204, response.content


def session_of(tokens) -> str:
    return jwt.decode(tokens["access"], options={"verify_signature": False})["sid"]


def works(client, tokens) -> bool:
    return me(client, tokens).status_code == 200


def test_logout_all_stops_every_devices_access_token(user_reads, anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop, phone = login(anon_client), login(anon_client)
    UserFactory(email="bob@example.com")
    bob = login(anon_client, "bob@example.com")
    assert works(anon_client, laptop) and works(anon_client, phone)  # cached, where the cache is on

    response = anon_client.post(LOGOUT_ALL, HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    assert response.status_code == 204
    for tokens in (laptop, phone):
        assert_error(me(anon_client, tokens), 401, code="token_not_valid")
        assert_error(refresh(anon_client, tokens), 401)
    assert works(anon_client, bob)  # another user's sessions are theirs
    assert works(anon_client, login(anon_client))  # signing in again works


def test_a_plain_logout_ends_that_devices_session_only(user_reads, anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop, phone = login(anon_client), login(anon_client)
    early_phone_access = phone["access"]
    phone = refresh(anon_client, phone).json()  # the session goes on through refreshes
    assert works(anon_client, laptop) and works(anon_client, phone)

    response = anon_client.post(
        LOGOUT, {"refresh": laptop["refresh"]}, format="json", HTTP_AUTHORIZATION=f"Bearer {laptop['access']}"
    )
    assert response.status_code == 204
    assert_error(me(anon_client, laptop), 401, code="token_not_valid")
    assert_error(refresh(anon_client, laptop), 401)
    assert works(anon_client, phone)
    assert works(anon_client, {"access": early_phone_access})

    # The phone logs out with its refreshed pair: the access token issued before
    # that refresh belongs to the same session and stops too.
    response = anon_client.post(
        LOGOUT, {"refresh": phone["refresh"]}, format="json", HTTP_AUTHORIZATION=f"Bearer {phone['access']}"
    )
    assert response.status_code == 204
    assert_error(me(anon_client, phone), 401)
    assert_error(me(anon_client, {"access": early_phone_access}), 401)


def test_logging_out_with_another_devices_access_token_ends_both_sessions(user_reads, anon_client):
    """The refresh token names the session to end; the access token that signs the
    request is the device asking, so its session ends too."""
    UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop, phone, tablet = login(anon_client), login(anon_client), login(anon_client)
    response = anon_client.post(
        LOGOUT, {"refresh": phone["refresh"]}, format="json", HTTP_AUTHORIZATION=f"Bearer {laptop['access']}"
    )
    assert response.status_code == 204
    assert_error(me(anon_client, laptop), 401)
    assert_error(me(anon_client, phone), 401)
    assert works(anon_client, tablet)


def test_ended_sessions_are_forgotten_once_their_tokens_have_expired(anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    first, second = login(anon_client), login(anon_client)
    logout(anon_client, first)
    user.refresh_from_db()
    assert set(user.ended_sessions) == {session_of(first)}
    # That session's tokens have all expired (its refresh token's expiry passed):
    # the next logout keeps only what can still be presented.
    User.objects.filter(pk=user.pk).update(ended_sessions={session_of(first): 1})
    logout(anon_client, second)
    user.refresh_from_db()
    assert set(user.ended_sessions) == {session_of(second)}


def test_a_password_change_stops_other_devices_and_keeps_the_new_pair(user_reads, anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop, phone = login(anon_client), login(anon_client)
    assert works(anon_client, phone)
    response = anon_client.post(
        PASSWORD_CHANGE,
        {"old_password": DEFAULT_PASSWORD, "new_password": "Brand-New-Lantern-5"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {laptop['access']}",
    )
    assert response.status_code == 200
    fresh = response.json()
    assert_error(me(anon_client, phone), 401)
    assert_error(me(anon_client, laptop), 401)  # the pair it changed the password with, too
    assert works(anon_client, fresh)
    assert refresh(anon_client, fresh).status_code == 200


def test_a_password_reset_stops_every_access_token(user_reads, anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop = login(anon_client)
    assert works(anon_client, laptop)
    user.refresh_from_db()  # the link is made for the account as it is now (last login included)
    response = anon_client.post(
        PASSWORD_RESET_CONFIRM,
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "new_password": "Brand-New-Lantern-5",
        },
        format="json",
    )
    assert response.status_code in (200, 204), response.content
    assert_error(me(anon_client, laptop), 401)


def test_deactivation_stops_tokens_for_good_even_after_reactivation(user_reads, anon_client, admin_user):
    ann = UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop = login(anon_client)
    assert works(anon_client, laptop)
    user_update(actor=admin_user, user=ann, data={"is_active": False})
    assert_error(me(anon_client, laptop), 401)
    user_update(actor=admin_user, user=User.objects.get(pk=ann.pk), data={"is_active": True})
    assert_error(me(anon_client, laptop), 401)
    assert_error(refresh(anon_client, laptop), 401)
    assert works(anon_client, login(anon_client))


def test_a_role_change_stops_the_tokens_issued_under_the_old_role(user_reads, anon_client, admin_user):
    ann = UserFactory(email="ann@example.com", full_name="Ann Example", role=User.Role.SALES)
    laptop = login(anon_client)
    assert (
        anon_client.get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Bearer {laptop['access']}").status_code == 200
    )
    user_update(actor=admin_user, user=ann, data={"role": User.Role.STUDENT})
    assert_error(anon_client.get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Bearer {laptop['access']}"), 401)
    assert_error(refresh(anon_client, laptop), 401)
    fresh = login(anon_client)
    assert me(anon_client, fresh).json()["role"] == User.Role.STUDENT


def test_a_profile_change_ends_no_session(user_reads, anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop = login(anon_client)
    response = anon_client.patch(
        ME, {"full_name": "Ann Renamed"}, format="json", HTTP_AUTHORIZATION=f"Bearer {laptop['access']}"
    )
    assert response.status_code == 200
    assert me(anon_client, laptop).json()["full_name"] == "Ann Renamed"
    assert refresh(anon_client, laptop).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_racing_a_deactivation_cannot_put_the_active_user_back(shared_cache, anon_client, admin_user):
    """A request reads the user (still active), the deactivation commits, and only
    then does the request write its copy into the cache. The copy carries the
    version it was read under, which the deactivation moved on: it is never
    served, and the next request is refused."""
    shared_cache.USER_CACHE_SECONDS = 60
    cache.clear()
    ann = UserFactory(email="ann@example.com", full_name="Ann Example")
    tokens = login(anon_client)
    read_done, write_committed = threading.Event(), threading.Event()
    real_read = authentication._read_user

    def read_then_wait(user_id):
        user = real_read(user_id)
        read_done.set()
        assert write_committed.wait(10)  # the deactivation commits between the read and the cache write
        return user

    def racing_request():
        try:
            authentication.cached_user(ann.pk)
        finally:
            from django.db import connection

            connection.close()

    authentication._read_user = read_then_wait
    reader = threading.Thread(target=racing_request)
    reader.start()
    try:
        assert read_done.wait(10)
    finally:
        authentication._read_user = real_read
    user_update(actor=admin_user, user=User.objects.get(pk=ann.pk), data={"is_active": False})
    write_committed.set()
    reader.join(10)

    assert_error(me(anon_client, tokens), 401)
    assert authentication.cached_user(ann.pk).is_active is False


def test_the_service_level_logout_all_moves_the_generation_on(anon_client):
    ann = UserFactory(email="ann@example.com", full_name="Ann Example")
    before = ann.token_generation
    user_logout_all(user=ann)
    assert User.objects.get(pk=ann.pk).token_generation == before + 1
    user_set_password(user=ann, password="Brand-New-Lantern-5")
    assert User.objects.get(pk=ann.pk).token_generation == before + 2


def test_an_unproven_account_holds_no_session(user_reads, anon_client):
    """It can't sign in (accounts.backends); a token made for it anyway (one from
    before the rule, a bug elsewhere) opens nothing either."""
    ann = UserFactory(email="ann@example.com", full_name="Ann Example", email_verified_at=None)
    tokens = tokens_for(ann)
    assert_error(me(anon_client, tokens), 401)
    assert_error(refresh(anon_client, tokens), 401)


def test_logout_all_ends_the_users_browser_sessions_too(anon_client, client, admin_user):
    """The sales pages and the admin use sessions: an account logged out of every
    device (the API's logout-all, the admin's action) is signed out there too."""
    sam = UserFactory(email="sam@example.com", role=User.Role.SALES)
    assert (
        client.post("/sales/login/", {"username": sam.email, "password": DEFAULT_PASSWORD}).status_code == 302
    )
    assert client.get("/sales/").status_code == 200
    user_logout_all(user=User.objects.get(pk=sam.pk))
    response = client.get("/sales/")
    assert response.status_code == 302 and "/sales/login/" in response["Location"]


def test_an_update_through_a_stale_copy_brings_no_ended_session_back(user_reads, anon_client, admin_user):
    """An admin's form (or the API's object) was read before the user logged out
    everywhere: saving it changes what it changes, never the generation, ended
    sessions or password it still carries."""
    ann = UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop = login(anon_client)
    stale = User.objects.get(pk=ann.pk)
    phone = login(anon_client)
    logout(anon_client, phone)
    anon_client.post(LOGOUT_ALL, HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    user_set_password(user=User.objects.get(pk=ann.pk), password="Brand-New-Lantern-5")

    user_update(actor=admin_user, user=stale, data={"full_name": "Ann Renamed"})
    stored = User.objects.get(pk=ann.pk)
    assert stored.full_name == "Ann Renamed"
    assert stored.check_password("Brand-New-Lantern-5")
    assert_error(me(anon_client, laptop), 401)
    assert_error(me(anon_client, phone), 401)


def test_logging_out_after_another_tab_refreshed_the_same_session_ends_it(user_reads, anon_client):
    """One tab logs out while another refreshes with the same refresh token, and
    the refresh gets there first: the logout still ends the session, the pair
    that refresh issued included, where it used to answer 401 and leave it on."""
    UserFactory(email="ann@example.com", full_name="Ann Example")
    tab = login(anon_client)
    other_tab = refresh(anon_client, tab).json()  # spends tab's refresh token
    assert works(anon_client, other_tab)
    logout(anon_client, tab)  # 204
    for tokens in (tab, other_tab):
        assert_error(me(anon_client, tokens), 401, code="token_not_valid")
    assert_error(refresh(anon_client, other_tab), 401)


def test_a_spent_refresh_token_of_another_user_or_an_access_token_ends_nothing(anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    UserFactory(email="bob@example.com")
    ann, bob = login(anon_client), login(anon_client, "bob@example.com")
    refresh(anon_client, bob)  # spends bob's refresh token
    response = anon_client.post(
        LOGOUT, {"refresh": bob["refresh"]}, format="json", HTTP_AUTHORIZATION=f"Bearer {ann['access']}"
    )
    assert_error(response, 400, attr="refresh")
    # Not a refresh token, or not one at all: the caller's own access token is good, so
    # the answer is a 400 on the field, not a 401 that would send a client to sign in again.
    for wrong in (ann["access"], "garbage"):
        response = anon_client.post(
            LOGOUT, {"refresh": wrong}, format="json", HTTP_AUTHORIZATION=f"Bearer {ann['access']}"
        )
        assert_error(response, 400, attr="refresh")
    assert works(anon_client, ann)


def test_reusing_a_refresh_token_from_before_sessions_ends_what_it_forked_into(user_reads, anon_client):
    """Tokens issued before sessions existed carry no sid. Rotating one starts a
    session named after it, so that its reuse ends the thief's pair too."""
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.services import REFRESH_REUSE_GRACE

    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    old = RefreshToken.for_user(user)
    old["gen"] = user.token_generation  # as issued then: a generation, no session
    copy = {"refresh": str(old)}
    thief = refresh(anon_client, copy).json()
    assert works(anon_client, thief)
    BlacklistedToken.objects.update(
        blacklisted_at=timezone.now() - REFRESH_REUSE_GRACE - timedelta(seconds=1)
    )

    assert_error(refresh(anon_client, copy), 401, code="token_not_valid")
    assert_error(me(anon_client, thief), 401, code="token_not_valid")
    assert_error(refresh(anon_client, thief), 401)


def test_two_tabs_racing_for_one_refresh_keep_the_session(user_reads, anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    tab = login(anon_client)
    winner = refresh(anon_client, tab).json()
    assert_error(refresh(anon_client, tab), 401, code="token_not_valid")  # the other tab, a moment later
    assert works(anon_client, winner)
    assert refresh(anon_client, winner).status_code == 200


def test_a_refresh_token_used_again_later_ends_its_session_for_everyone_holding_it(user_reads, anon_client):
    """Rotation spends each refresh token; one presented again past the grace
    period is a copy (a thief's, or the user's while the thief refreshed first):
    the session ends, whoever holds its newer tokens. Other devices stay in."""
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    from accounts.services import REFRESH_REUSE_GRACE

    UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop, phone = login(anon_client), login(anon_client)
    stolen = dict(laptop)
    thief = refresh(anon_client, stolen).json()
    BlacklistedToken.objects.update(
        blacklisted_at=timezone.now() - REFRESH_REUSE_GRACE - timedelta(seconds=1)
    )

    response = refresh(anon_client, laptop)  # the user's copy, presented again
    body = assert_error(response, 401, code="token_not_valid")
    assert "its session has ended. Sign in again." in body["errors"][0]["detail"]
    assert_error(refresh(anon_client, thief), 401)
    assert_error(me(anon_client, thief), 401, code="token_not_valid")
    assert works(anon_client, phone)


def _logout_all(user, admin):
    user_logout_all(user=user)


def _change_password(user, admin):
    user_set_password(user=user, password="A-New-Secret-2026!")


def _deactivate(user, admin):
    user_update(actor=admin, user=user, data={"is_active": False})


@pytest.mark.parametrize(
    "end_all",
    [None, _logout_all, _change_password, _deactivate],
    ids=["logout", "all", "password", "inactive"],
)
def test_a_refresh_token_of_a_session_that_ended_is_refused_without_a_theft_alarm(
    user_reads, anon_client, admin_user, end_all
):
    """Logout, logout-all, a new password and a deactivation spend refresh tokens
    too. One of those presented later is revoked, not a copy that a thief rotated:
    it is refused as such, and nothing more is ended or written."""
    from django.utils import timezone

    from accounts.services import REFRESH_REUSE_GRACE

    ann = UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop = login(anon_client)
    logout(anon_client, laptop)
    if end_all is not None:
        laptop = login(anon_client)
        end_all(User.objects.get(pk=ann.pk), admin_user)
    BlacklistedToken.objects.update(
        blacklisted_at=timezone.now() - REFRESH_REUSE_GRACE - timedelta(seconds=1)
    )
    before = User.objects.values_list("token_generation", "ended_sessions", "updated_at").get(pk=ann.pk)

    body = assert_error(refresh(anon_client, laptop), 401, code="token_not_valid")
    assert "someone else's hands" not in body["errors"][0]["detail"]
    after = User.objects.values_list("token_generation", "ended_sessions", "updated_at").get(pk=ann.pk)
    assert after == before


@pytest.mark.parametrize("access", ["none", "expired"])
def test_a_device_whose_access_token_ran_out_still_logs_out(user_reads, anon_client, access):
    """The frontend logs out with what it has: the refresh token, and an access
    token that may have expired (sent anyway) or been dropped. The session ends
    all the same: its refresh token is spent and its access tokens refused."""
    UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop, phone = login(anon_client), login(anon_client)
    headers = {}
    if access == "expired":
        expired = AccessToken(laptop["access"])
        expired.set_exp(lifetime=-timedelta(minutes=1))
        headers["HTTP_AUTHORIZATION"] = f"Bearer {expired}"
        assert me(anon_client, {"access": str(expired)}).status_code == 401
    response = anon_client.post(LOGOUT, {"refresh": laptop["refresh"]}, format="json", **headers)
    assert response.status_code == 204, response.content
    assert refresh(anon_client, laptop).status_code == 401
    assert not works(anon_client, laptop)  # the session's live access token, too
    assert works(anon_client, phone)  # another device's session goes on
    assert refresh(anon_client, phone).status_code == 200


def test_a_refresh_token_of_a_deleted_user_logs_nothing_out(anon_client):
    ann = UserFactory(email="ann@example.com", full_name="Ann Example")
    tokens = login(anon_client)
    OutstandingToken.objects.filter(user=ann).delete()
    User.objects.filter(pk=ann.pk).delete()
    response = anon_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    assert_error(response, 400, attr="refresh")
    assert not BlacklistedToken.objects.exists()
    assert not OutstandingToken.objects.exists()
