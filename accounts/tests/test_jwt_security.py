"""JWT edge cases: every forged, stale or misused token is a 401 in the error shape."""

import base64
import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import assert_error

ME = "/api/v1/auth/me"
pytestmark = pytest.mark.django_db


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _call(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(ME)


def test_valid_token_works():
    user = UserFactory()
    assert _call(str(AccessToken.for_user(user))).status_code == 200


def test_expired_token_is_refused():
    token = AccessToken.for_user(UserFactory())
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert_error(_call(str(token)), 401, code="token_not_valid")


def test_tampered_signature_is_refused():
    token = str(AccessToken.for_user(UserFactory()))
    header, payload, signature = token.split(".")
    forged = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    assert_error(_call(f"{header}.{payload}.{forged}"), 401)


def test_tampered_payload_is_refused():
    victim = UserFactory(role=User.Role.ADMIN)
    token = str(AccessToken.for_user(UserFactory()))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = str(victim.pk)
    assert_error(_call(f"{header}.{_b64(claims)}.{signature}"), 401)


def test_alg_none_is_refused():
    user = UserFactory(role=User.Role.ADMIN)
    claims = json.loads(base64.urlsafe_b64decode(str(AccessToken.for_user(user)).split(".")[1] + "=="))
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert_error(_call(unsigned), 401)


def test_refresh_token_cannot_be_used_as_access_token():
    refresh = RefreshToken.for_user(UserFactory())
    assert_error(_call(str(refresh)), 401)


def test_token_of_deleted_user_is_refused():
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    User.objects.filter(pk=user.pk).delete()
    assert_error(_call(token), 401)


def test_token_of_deactivated_user_is_refused_at_once():
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert_error(_call(token), 401)


@pytest.mark.parametrize("header", ["Bearer", "Bearer  ", "Token abc", "Bearer a.b", "Basic dXNlcjpwYXNz"])
def test_malformed_authorization_headers(header):
    client = APIClient()
    response = client.get(ME, HTTP_AUTHORIZATION=header)
    assert_error(response, 401)


@pytest.mark.parametrize(
    "respell", [lambda t: t + "=", lambda t: t + "==", lambda t: t.replace(".", "=.", 1)]
)
def test_non_canonical_encodings_of_a_valid_token_are_refused(respell):
    """A decoder forgives padding; a token counts only in its one canonical spelling."""
    user = UserFactory()
    access = str(AccessToken.for_user(user))
    assert _call(access).status_code == 200
    assert_error(_call(respell(access)), 401, code="token_not_valid")
    refresh = str(RefreshToken.for_user(user))
    anon = APIClient()
    response = anon.post("/api/v1/auth/refresh", {"refresh": respell(refresh)}, format="json")
    assert_error(response, 401, code="token_not_valid")
    logout = APIClient()
    logout.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    # At logout the caller's access token is good: the refresh token is the field's 400.
    response = logout.post("/api/v1/auth/logout", {"refresh": respell(refresh)}, format="json")
    assert_error(response, 400, attr="refresh")
    # Refused without being spent: the canonical token still refreshes once.
    assert anon.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json").status_code == 200


@pytest.mark.parametrize("exp", [10**30, 2**63, -(10**30)])
def test_a_signed_token_expiring_beyond_the_calendar_is_a_401_not_a_500(exp):
    """Only a holder of the signing key can make one; still a bad token, in the
    API's words, wherever a token comes in: a request, a refresh, a logout."""
    user = UserFactory()
    access = AccessToken.for_user(user)
    access.payload["exp"] = exp
    assert_error(_call(str(access)), 401, code="token_not_valid")

    refresh = RefreshToken.for_user(user)
    refresh.payload["exp"] = exp
    client = APIClient()
    assert_error(client.post("/api/v1/auth/refresh", {"refresh": str(refresh)}, format="json"), 401)
    client.force_authenticate(user)
    answer = client.post("/api/v1/auth/logout", {"refresh": str(refresh)}, format="json")
    assert_error(answer, 400)
