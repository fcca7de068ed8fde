"""Every way to try a password shares one limit: the API's login, /sales/login/
and /admin/login/ count each attempt per account at THROTTLE_LOGIN_RATE and per
client address at THROTTLE_LOGIN_ADDRESS_RATE (10 and 60 a minute here, as in
production); once either is spent
the right password is refused too, with a 429 and Retry-After, until the
window passes. Time is frozen for cohortly.throttling alone (`clock`)."""

import re
import time

import pytest
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from cohortly import throttling
from conftest import assert_error

pytestmark = pytest.mark.django_db

API = "/api/v1/auth/login"
SALES = "/sales/login/"
ADMIN = "/admin/login/"
LIMIT = 10  # per account
ADDRESS_LIMIT = 60  # per client address
WINDOW = 60
#: An instant 15 s into a window, so a refusal says to wait the other 45.
START = 1_800_000_000 + 15


class FrozenClock:
    """The time cohortly.throttling reads; the rest of the process keeps real time."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture
def clock(monkeypatch):
    rate = throttling.LoginAccountRateThrottle("someone@example.com")
    assert (rate.num_requests, rate.duration) == (LIMIT, WINDOW)  # THROTTLE_LOGIN_RATE's default
    rate = throttling.LoginRateThrottle()
    assert (rate.num_requests, rate.duration) == (ADDRESS_LIMIT, WINDOW)  # THROTTLE_LOGIN_ADDRESS_RATE's
    frozen = FrozenClock(START)
    monkeypatch.setattr(throttling, "time", frozen)
    return frozen


@pytest.fixture
def web():
    return Client()


def attempt(client, path, email, password, ip="198.51.100.7"):
    """One sign-in on `path` from the client address `ip`."""
    if path == API:
        return client.post(
            API, {"email": email, "password": password}, content_type="application/json", REMOTE_ADDR=ip
        )
    return client.post(path, {"username": email, "password": password, "next": "/"}, REMOTE_ADDR=ip)


def failed(response, path) -> bool:
    """Refused as a wrong password is (not throttled)."""
    return response.status_code == (401 if path == API else 200)


def signed_in(response, path) -> bool:
    return response.status_code == (200 if path == API else 302)


def page_text(response) -> str:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def assert_throttled(response, path, *, retry_after=45):
    if path == API:
        assert_error(response, 429, code="throttled")
    else:
        assert response.status_code == 429, response.status_code
        seconds = f"{retry_after} second{'s' if retry_after != 1 else ''}"
        assert f"Too many sign-in attempts. Try again in {seconds}." in page_text(response)
        assert 'name="password"' in response.content.decode()  # the form, to try again later
    assert int(response["Retry-After"]) == retry_after


@pytest.fixture
def ada():
    """An ADMIN: the one role every path lets in."""
    return AdminFactory(email="ada@example.com")


@pytest.mark.parametrize("path", [API, SALES, ADMIN])
def test_the_eleventh_attempt_is_refused_even_with_the_right_password(clock, web, ada, path):
    for _ in range(LIMIT):
        assert failed(attempt(web, path, ada.email, "wrong-password"), path)
    response = attempt(web, path, ada.email, DEFAULT_PASSWORD)
    assert_throttled(response, path)
    assert "_auth_user_id" not in web.session
    ada.refresh_from_db()
    assert ada.last_login is None


@pytest.mark.parametrize(
    "first, second, third", [(API, SALES, ADMIN), (SALES, ADMIN, API), (ADMIN, API, SALES)]
)
def test_attempts_on_one_path_count_against_the_others(clock, web, ada, first, second, third):
    for _ in range(6):
        assert failed(attempt(web, first, ada.email, "wrong-password"), first)
    for _ in range(4):
        assert failed(attempt(web, second, ada.email, "wrong-password"), second)
    assert_throttled(attempt(web, third, ada.email, DEFAULT_PASSWORD), third)


def test_one_account_is_limited_from_any_address_in_any_spelling(clock, web, ada):
    spellings = ["ada@example.com", "ADA@example.com", " Ada@Example.COM "]
    for i in range(LIMIT):
        path = (API, SALES, ADMIN)[i % 3]
        assert failed(attempt(web, path, spellings[i % 3], "wrong-password", ip=f"203.0.113.{i}"), path)
    for path in (API, SALES, ADMIN):
        assert_throttled(attempt(web, path, ada.email, DEFAULT_PASSWORD, ip="192.0.2.99"), path)
    # Another account from that fresh address is not held back.
    other = AdminFactory(email="bob@example.com")
    assert signed_in(attempt(Client(), SALES, other.email, DEFAULT_PASSWORD, ip="192.0.2.99"), SALES)


def test_a_classroom_signs_in_from_one_address(clock):
    # A cohort of 30 at nine, from the campus's one address: all get in.
    for i in range(30):
        student = UserFactory(email=f"student{i}@example.com", role="STUDENT")
        assert signed_in(attempt(Client(), API, student.email, DEFAULT_PASSWORD, ip="203.0.113.9"), API)


def test_one_address_is_limited_across_accounts_known_or_not(clock, web, ada):
    for i in range(ADDRESS_LIMIT):
        path = (API, SALES, ADMIN)[i % 3]
        email = f"guess{i}@example.com"  # none of them has an account
        assert failed(attempt(web, path, email, "wrong-password", ip="203.0.113.5"), path)
    for path in (API, SALES, ADMIN):
        assert_throttled(attempt(web, path, ada.email, DEFAULT_PASSWORD, ip="203.0.113.5"), path)
    # The same account from another address: the account's own count isn't spent.
    assert signed_in(attempt(Client(), ADMIN, ada.email, DEFAULT_PASSWORD, ip="203.0.113.6"), ADMIN)


def test_the_client_address_is_the_api_throttles_one_behind_a_proxy(clock, settings, ada):
    """NUM_PROXIES=1: the address is the one the proxy appended to X-Forwarded-For."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    web = Client(REMOTE_ADDR="10.0.0.2")  # the proxy
    for i in range(ADDRESS_LIMIT):
        response = web.post(
            SALES,
            {"username": f"guess{i}@example.com", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.5",
        )
        assert failed(response, SALES)
    refused = web.post(
        ADMIN, {"username": ada.email, "password": DEFAULT_PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert_throttled(refused, ADMIN)
    other_client = web.post(
        ADMIN, {"username": ada.email, "password": DEFAULT_PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.6"
    )
    assert signed_in(other_client, ADMIN)


def test_when_the_window_passes_the_right_password_gets_in_again(clock, web, ada):
    for _ in range(LIMIT):
        attempt(web, API, ada.email, "wrong-password")
    for path in (API, SALES, ADMIN):
        assert_throttled(attempt(web, path, ada.email, DEFAULT_PASSWORD), path)

    clock.now += 44  # still the same window, one second before its end
    assert_throttled(attempt(web, SALES, ada.email, DEFAULT_PASSWORD), SALES, retry_after=1)

    clock.now += 1
    response = attempt(web, SALES, ada.email, DEFAULT_PASSWORD)
    assert signed_in(response, SALES) and response["Location"] == "/"
    assert web.session["_auth_user_id"] == str(ada.pk)
    assert signed_in(attempt(Client(), API, ada.email, DEFAULT_PASSWORD), API)
    assert signed_in(attempt(Client(), ADMIN, ada.email, DEFAULT_PASSWORD), ADMIN)


def test_successful_sign_ins_count_too(clock, ada):
    for _ in range(LIMIT):
        assert signed_in(attempt(Client(), SALES, ada.email, DEFAULT_PASSWORD), SALES)
    assert_throttled(attempt(Client(), API, ada.email, DEFAULT_PASSWORD), API)


def test_a_request_that_tries_no_password_is_not_counted(clock, web, ada):
    for _ in range(LIMIT + 5):
        assert web.post(SALES, {"username": ada.email, "password": ""}).status_code == 200
        assert_error(attempt(web, API, "not-an-email", "x"), 400, attr="email")
    assert signed_in(attempt(web, ADMIN, ada.email, DEFAULT_PASSWORD), ADMIN)


def test_the_refusal_costs_no_password_check(clock, web, ada, monkeypatch):
    from django.contrib.auth.backends import ModelBackend

    for _ in range(LIMIT):
        attempt(web, API, ada.email, "wrong-password")
    checked = []
    real_authenticate = ModelBackend.authenticate

    def authenticate(self, request, **credentials):
        checked.append(credentials)
        return real_authenticate(self, request, **credentials)

    monkeypatch.setattr(ModelBackend, "authenticate", authenticate)
    for path in (API, SALES, ADMIN):
        assert_throttled(attempt(web, path, ada.email, DEFAULT_PASSWORD), path)
    assert checked == []


def test_a_role_the_sales_pages_refuse_still_counts(clock, web):
    student = UserFactory(email="stella@example.com", full_name="Stella Example")
    for _ in range(LIMIT):
        assert failed(attempt(web, SALES, student.email, DEFAULT_PASSWORD), SALES)
    assert_throttled(attempt(web, API, student.email, DEFAULT_PASSWORD), API)


def test_changing_the_password_counts_as_an_attempt_at_it(clock, web, ada):
    """The old password is a password to guess: a stolen access token buys the
    same ten tries a minute as the login page, from the same count."""
    from conftest import auth_client

    api = auth_client(ada)
    change = "/api/v1/auth/password/change"
    for _ in range(6):
        response = api.post(change, {"old_password": "wrong-password", "new_password": "Brand-New-Lantern-5"})
        assert_error(response, 400, attr="old_password")
    for _ in range(LIMIT - 6):  # from another address: the account's count is the one spent
        assert failed(attempt(web, API, ada.email, "wrong-password", ip="203.0.113.9"), API)
    response = api.post(change, {"old_password": DEFAULT_PASSWORD, "new_password": "Brand-New-Lantern-5"})
    assert_error(response, 429, code="throttled")
    ada.refresh_from_db()
    assert ada.check_password(DEFAULT_PASSWORD)
