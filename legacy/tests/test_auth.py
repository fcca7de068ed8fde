"""Passwords and sessions survive the switch: the Node backend's bcrypt hashes and JWTs."""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import user_logout_all
from accounts.tests.factories import UserFactory
from conftest import assert_error, auth_client
from legacy.hashers import LegacyBcryptPasswordHasher
from legacy.models import LegacyRefreshToken
from legacy.tests.conftest import ACCESS_SECRET, REFRESH_SECRET
from legacy.tokens import token_hash

pytestmark = pytest.mark.django_db

NODE_HASHES = json.loads((Path(__file__).with_name("node_hashes.json")).read_text())
LOGIN, REFRESH, ME = "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/me"


def imported_user(node_hash: str = NODE_HASHES[0]["hash"], **fields) -> User:
    """A user as import_legacy leaves one: the Node id, its hash kept as it is."""
    user_id = uuid.uuid4()
    user = UserFactory(id=user_id, legacy_id=user_id, **fields)
    User.objects.filter(pk=user_id).update(password=LegacyBcryptPasswordHasher.wrap(node_hash))
    user.refresh_from_db()
    return user


# --- passwords --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def production_hashers(settings):
    """The hashers production has (the suite's own settings use a fast MD5)."""
    import cohortly.settings

    settings.PASSWORD_HASHERS = cohortly.settings.PASSWORD_HASHERS


@pytest.mark.parametrize("entry", NODE_HASHES, ids=[entry["hash"][:7] for entry in NODE_HASHES])
def test_every_node_hash_style_logs_in_and_is_upgraded_to_argon2(anon_client, entry):
    user = imported_user(entry["hash"])

    response = anon_client.post(LOGIN, {"email": user.email, "password": entry["password"]})

    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == str(user.pk)
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    # The upgraded hash holds the same password (all of it: the 80-byte one too).
    assert user.check_password(entry["password"])
    assert anon_client.post(LOGIN, {"email": user.email, "password": entry["password"]}).status_code == 200


def test_a_wrong_password_against_a_node_hash_is_the_usual_401_and_upgrades_nothing(anon_client):
    user = imported_user()
    stored = user.password

    wrong = anon_client.post(LOGIN, {"email": user.email, "password": "Not-the-password-1"})
    unknown = anon_client.post(LOGIN, {"email": "nobody@node.example", "password": "Not-the-password-1"})

    assert wrong.json() == unknown.json()
    assert_error(wrong, 401, "invalid_credentials")
    user.refresh_from_db()
    assert user.password == stored


def test_only_the_first_72_bytes_count_as_in_the_node_libraries():
    entry = NODE_HASHES[3]
    user = imported_user(entry["hash"])
    assert len(entry["password"].encode()) == 80
    assert user.check_password(entry["password"][:72] + "different tail")
    assert not user.check_password(entry["password"][:71])


def test_a_node_password_longer_than_a_new_one_may_be_still_signs_in(anon_client):
    """The Node backend set no limit; Cohortly's new passwords stop at 128."""
    import bcrypt

    password = "correct horse battery staple " * 6  # 174 characters
    user = imported_user(
        bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode(), full_name="Lea Long"
    )
    response = anon_client.post(LOGIN, {"email": user.email, "password": password})
    assert response.status_code == 200, response.content
    assert_error(anon_client.post(LOGIN, {"email": user.email, "password": "x" * 4097}), 400)
    # And it is the current password a change asks for.
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    changed = anon_client.post(
        "/api/v1/auth/password/change", {"old_password": password, "new_password": "Shorter-Now-2027"}
    )
    assert changed.status_code == 200, changed.content


def test_a_damaged_hash_refuses_every_password_without_an_error():
    user = imported_user("$2b$10$tooshort")
    assert not user.check_password("anything")


# --- tokens -------------------------------------------------------------------------------


def node_access_token(user, *, secret=ACCESS_SECRET, algorithm="HS256", minutes=15, **claims):
    now = int(time.time())
    payload = {"userId": str(user.pk), "role": user.role, "iat": now, "exp": now + minutes * 60, **claims}
    return jwt.encode(payload, secret, algorithm=algorithm)


def node_refresh_token(user, *, expires_in_days=7, revoked=False, secret=REFRESH_SECRET):
    """A refresh token the Node backend issued, and the row import_legacy brought over for it."""
    now = int(time.time())
    raw = jwt.encode(
        {"userId": str(user.pk), "iat": now, "exp": now + expires_in_days * 86400, "jti": uuid.uuid4().hex},
        secret,
        algorithm="HS256",
    )
    LegacyRefreshToken.objects.create(
        legacy_id=uuid.uuid4(),
        user=user,
        token_hash=token_hash(raw),
        expires_at=datetime.now(UTC) + timedelta(days=expires_in_days),
        revoked_at=datetime.now(UTC) if revoked else None,
        created_at=datetime.now(UTC),
    )
    return raw


def me_with(anon_client, token):
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return anon_client.get(ME)


def test_a_node_access_token_authenticates_the_imported_user(anon_client, cutover):
    user = imported_user(role="SALES")
    response = me_with(anon_client, node_access_token(user))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(user.pk) and response.json()["role"] == "SALES"


def test_cohortly_tokens_still_work_beside_node_tokens(cutover):
    user = UserFactory()
    assert auth_client(user).get(ME).json()["id"] == str(user.pk)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda user: node_access_token(user, secret="a-wrong-secret-" + "z" * 20), id="wrong-secret"
        ),
        pytest.param(lambda user: node_access_token(user, minutes=-1), id="expired"),
        pytest.param(lambda user: node_access_token(user, algorithm="HS512"), id="HS512"),
        pytest.param(
            lambda user: jwt.encode(
                {"userId": str(user.pk), "iat": int(time.time()), "exp": int(time.time()) + 600},
                None,
                algorithm="none",
            ),
            id="alg-none",
        ),
        pytest.param(lambda user: node_access_token(user, secret=REFRESH_SECRET), id="a-refresh-token"),
        pytest.param(lambda user: node_access_token(user, userId=str(uuid.uuid4())), id="unknown-user"),
        pytest.param(lambda user: node_access_token(user, userId="not-a-uuid"), id="not-a-uuid"),
        pytest.param(lambda user: node_access_token(user) + "=", id="padded"),
        pytest.param(lambda user: node_access_token(user, iat=str(int(time.time()))), id="iat-as-text"),
    ],
)
def test_forged_or_stale_node_access_tokens_are_plain_bad_tokens(anon_client, cutover, forge):
    user = imported_user()
    response = me_with(anon_client, forge(user))
    assert_error(response, 401)
    assert response.json() == me_with(anon_client, "garbage.token.here").json()


def test_a_node_refresh_token_is_not_an_access_token_even_under_one_secret(anon_client, cutover):
    """Node's access tokens carry the role, its refresh tokens don't. With both
    secrets set to one value (a deployment that used one for both), a refresh
    token, valid for 7 days and never revoked by a logout here, opened the API
    as an access token."""
    cutover.LEGACY_JWT_REFRESH_SECRET = ACCESS_SECRET
    user = imported_user()
    refresh = node_refresh_token(user, secret=ACCESS_SECRET)
    response = me_with(anon_client, refresh)
    assert_error(response, 401)
    assert me_with(anon_client, node_access_token(user)).status_code == 200


def test_a_node_clock_a_little_ahead_is_forgiven(anon_client, cutover):
    """Node's jsonwebtoken never checks iat; PyJWT refused one a second ahead."""
    user = imported_user()
    now = int(time.time())
    ahead = node_access_token(user, iat=now + 5)
    assert me_with(anon_client, ahead).status_code == 200
    assert_error(me_with(anon_client, node_access_token(user, iat=now + 300)), 401)


def test_node_tokens_of_users_cohortly_made_or_deactivated_are_refused(anon_client, cutover):
    native = UserFactory()  # not imported: its id never was a Node user's
    inactive = imported_user(is_active=False)
    assert_error(me_with(anon_client, node_access_token(native)), 401)
    assert_error(me_with(anon_client, node_access_token(inactive)), 401)


def test_node_tokens_open_nothing_once_the_users_sessions_were_ended_in_cohortly(anon_client, cutover):
    """A logout-all (or a password change, reset, role change or deactivation) in
    Cohortly ends the sessions the Node backend opened too."""
    user = imported_user()
    access, refresh = node_access_token(user), node_refresh_token(user)
    assert me_with(anon_client, access).status_code == 200

    user_logout_all(user=user)
    assert_error(me_with(anon_client, access), 401)
    anon_client.credentials()
    assert_error(anon_client.post(REFRESH, {"refresh": refresh}), 401)
    assert not LegacyRefreshToken.objects.filter(spent_at__isnull=False).exists()


def test_node_access_tokens_stop_at_legacy_tokens_until_and_when_unset(anon_client, cutover):
    user = imported_user()
    token = node_access_token(user)
    assert me_with(anon_client, token).status_code == 200

    cutover.LEGACY_TOKENS_UNTIL = timezone.now() - timedelta(seconds=1)
    assert_error(me_with(anon_client, token), 401)

    cutover.LEGACY_TOKENS_UNTIL = timezone.now() + timedelta(days=1)
    cutover.LEGACY_JWT_SECRET = ""
    assert_error(me_with(anon_client, token), 401)


def test_a_node_refresh_token_is_exchanged_once_for_a_cohortly_pair(anon_client, cutover):
    user = imported_user()
    raw = node_refresh_token(user)

    first = anon_client.post(REFRESH, {"refresh": raw})
    assert first.status_code == 200, first.content
    assert me_with(anon_client, first.json()["access"]).json()["id"] == str(user.pk)
    anon_client.credentials()
    # The new Cohortly refresh token works as any other.
    assert anon_client.post(REFRESH, {"refresh": first.json()["refresh"]}).status_code == 200

    second = anon_client.post(REFRESH, {"refresh": raw})
    assert_error(second, 401)
    assert LegacyRefreshToken.objects.get().spent_at is not None


@pytest.mark.parametrize(
    "case",
    ["revoked", "expired-row", "not-imported", "unset", "after-until", "wrong-secret", "inactive"],
)
def test_node_refresh_tokens_that_must_not_work_are_401(anon_client, cutover, case):
    user = imported_user(is_active=case != "inactive")
    if case == "revoked":
        raw = node_refresh_token(user, revoked=True)
    elif case == "expired-row":
        raw = node_refresh_token(user)
        LegacyRefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "not-imported":
        raw = node_refresh_token(user)
        LegacyRefreshToken.objects.all().delete()
    elif case == "wrong-secret":
        raw = node_refresh_token(user, secret="another-secret-" + "q" * 20)
    else:
        raw = node_refresh_token(user)
    if case == "unset":
        cutover.LEGACY_JWT_REFRESH_SECRET = ""
    if case == "after-until":
        cutover.LEGACY_TOKENS_UNTIL = timezone.now() - timedelta(seconds=1)

    assert_error(anon_client.post(REFRESH, {"refresh": raw}), 401)
    assert not LegacyRefreshToken.objects.filter(spent_at__isnull=False).exists()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_exchanges_of_one_node_refresh_token_across_processes_give_exactly_one_pair():
    from cohortly.tests.live_servers import gunicorn, request

    user = imported_user()
    raw = node_refresh_token(user)
    env = {
        "LEGACY_JWT_SECRET": ACCESS_SECRET,
        "LEGACY_JWT_REFRESH_SECRET": REFRESH_SECRET,
        "LEGACY_TOKENS_UNTIL": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "THROTTLE_ANON_RATE": "100000/min",
    }
    with gunicorn(workers=2, env=env) as base, ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: request("POST", f"{base}{REFRESH}", json_body={"refresh": raw}), range(8))
        )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * 7, results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_password_reset_while_a_node_hash_is_checked_is_not_undone_by_its_upgrade():
    """The first login re-hashes the Node password with Argon2, and saved that over
    whatever the row held by then: a reset confirmed meanwhile was undone, and the
    old password worked again. Here the reset holds the row while the login checks."""
    import threading

    import psycopg
    from django import db
    from django.contrib.auth.hashers import make_password

    from cohortly.tests.live_servers import database_url_for_servers

    entry = NODE_HASHES[0]
    user = imported_user(entry["hash"])
    new_password = make_password("Reset-Meanwhile-2026!")
    url = database_url_for_servers()
    checked = {}

    def log_in():
        try:
            checked["ok"] = User.objects.get(pk=user.pk).check_password(entry["password"])
        finally:
            db.connection.close()

    with psycopg.connect(url) as resetting, psycopg.connect(url, autocommit=True) as watching:
        resetting.execute("UPDATE accounts_user SET password = %s WHERE id = %s", [new_password, user.pk])
        login = threading.Thread(target=log_in)
        login.start()
        deadline, waiting = time.monotonic() + 30, 0
        while time.monotonic() < deadline and not waiting:  # until the upgrade waits for the row
            waiting = watching.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()[0]
            time.sleep(0.02)
        assert waiting, "the login's upgrade never reached the row"
        resetting.commit()
        login.join(30)
    assert checked == {"ok": False}  # verified against a password that was replaced meanwhile
    user.refresh_from_db()
    assert user.password == new_password
