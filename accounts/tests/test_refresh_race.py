"""A refresh token is spent exactly once, however many requests race for it."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import refresh_token_spend
from accounts.tests.factories import UserFactory
from conftest import assert_error

REFRESH = "/api/v1/auth/refresh"


@pytest.mark.django_db
def test_a_refresh_token_is_spent_by_its_first_use_only(anon_client):
    user = UserFactory()
    token = RefreshToken.for_user(user)
    assert refresh_token_spend(token=token) is True
    assert refresh_token_spend(token=token) is False
    assert BlacklistedToken.objects.filter(token__jti=token["jti"]).count() == 1
    assert_error(anon_client.post(REFRESH, {"refresh": str(token)}, format="json"), 401, "token_not_valid")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_across_processes_give_exactly_one_pair():
    """Eight requests with one refresh token through two gunicorn workers: one
    new pair, seven 401s in the error shape, and one blacklist row."""
    import json

    from cohortly.tests.live_servers import gunicorn, request

    user = UserFactory()
    raw = str(RefreshToken.for_user(user))
    env = {"THROTTLE_ANON_RATE": "100000/min"}
    with gunicorn(workers=2, env=env) as base, ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: request("POST", f"{base}{REFRESH}", json_body={"refresh": raw}), range(8))
        )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * 7, results
    for status, body in results:
        body = json.loads(body)
        if status == 200:
            assert set(body) == {"access", "refresh"}
        else:
            assert body["type"] == "client_error"
            assert body["errors"][0]["code"] == "token_not_valid"
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
