"""Sessions under real concurrency (PostgreSQL, a live threaded server): a
device logging out while another of the same user logs out everywhere or
changes the password. Each takes the user's row lock before the blacklist
rows, or the two deadlock, and PostgreSQL answers one of them with an error
(a 500)."""

import time

import pytest

from accounts.models import User
from accounts.services import tokens_for
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tokens import RefreshToken
from cohortly.tests.live_servers import RACE_TIMEOUT, RaceServerThread, race

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: How long logout holds its blacklist row here before going on: a window wide
#: enough for the other request to take the user's row in the meantime.
HOLD = 0.4


@pytest.fixture
def race_server(transactional_db):
    with RaceServerThread.running() as thread:
        yield thread


@pytest.fixture
def slow_blacklist(monkeypatch):
    blacklist = RefreshToken.blacklist

    def held(self):
        row = blacklist(self)
        time.sleep(HOLD)
        return row

    monkeypatch.setattr(RefreshToken, "blacklist", held)


def _post(url, path, token, body=None, *, after=0.0):
    def call(session):
        time.sleep(after)
        return session.post(
            f"{url}/api/v1/auth/{path}",
            json=body or {},
            headers={"Authorization": f"Bearer {token}"},
            timeout=RACE_TIMEOUT,
        )

    return call


@pytest.mark.parametrize("everywhere", ["logout-all", "password/change"])
def test_logging_out_while_the_same_user_logs_out_everywhere_is_no_deadlock(
    race_server, make_user, slow_blacklist, everywhere
):
    user = make_user(User.Role.STUDENT)
    this_device, other_device = tokens_for(user), tokens_for(user)
    body = {"old_password": DEFAULT_PASSWORD, "new_password": "Brand-New-Phrase-77"}
    logout, other = race(
        [
            _post(race_server.url, "logout", this_device["access"], {"refresh": this_device["refresh"]}),
            # Once the logout has spent its refresh token, and before it locks the user.
            _post(race_server.url, everywhere, other_device["access"], body, after=HOLD / 2),
        ]
    )
    assert logout.status_code == 204, logout.content
    assert other.status_code in (200, 204), other.content
    # Both happened: no session of the user's lives on.
    for device in (this_device, other_device):
        (me,) = race([_get_me(race_server.url, device["access"])])
        assert me.status_code == 401


def _get_me(url, token):
    return lambda session: session.get(
        f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=RACE_TIMEOUT
    )
