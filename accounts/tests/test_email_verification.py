"""No account can be claimed in advance: an account whose email nobody has
proven logs in nowhere until a link sent to that address is used (the welcome
email's verification link, with the registrant's password, or a set-password
link, which ends every earlier password and session)."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from accounts.services import tokens_for
from accounts.signals import user_email_verified
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from cohortly.tests.openapi_checks import assert_documented
from conftest import assert_error

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh"
VERIFY = "/api/v1/auth/verify-email/"
PASSWORD_RESET = "/api/v1/auth/password/reset"
PASSWORD_RESET_CONFIRM = "/api/v1/auth/password/reset/confirm"

PASSWORD = "Quiet-Harbour-77"
NEW_USER = {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada Lovelace"}


def link_in(message, path: str) -> dict:
    """The uid and token of the `path` link (verify-email, reset-password) in an email."""
    line = next(line for line in message.body.splitlines() if f"/{path}?" in line)
    query = parse_qs(urlsplit(line.strip()).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}


def login(client, email, password=PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


@pytest.fixture
def register(anon_client, django_capture_on_commit_callbacks):
    """Register through the API; returns the new account and the email(s) sent."""

    def _register(**changes):
        sent = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = anon_client.post(REGISTER, {**NEW_USER, **changes}, format="json")
        assert response.status_code == 202, response.content
        return mail.outbox[sent:]

    return _register


def unverified(**kwargs) -> User:
    return UserFactory(email_verified_at=None, **kwargs)


# --- registration -----------------------------------------------------------------


def test_a_registered_account_logs_in_only_once_its_link_is_used(anon_client, register):
    [welcome] = register()
    user = User.objects.get(email="ada@example.com")
    assert user.email_verified_at is None
    refused = login(anon_client, "ada@example.com")
    body = assert_error(refused, 403, code="email_not_verified")
    assert "isn't confirmed yet" in body["errors"][0]["detail"]
    assert_documented(refused)

    assert welcome.to == ["ada@example.com"] and "confirm your email address" in welcome.subject
    assert "/verify-email?uid=" in welcome.body and PASSWORD not in welcome.body
    response = anon_client.post(
        VERIFY, {**link_in(welcome, "verify-email"), "password": PASSWORD}, format="json"
    )
    assert response.status_code == 204, response.content
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert login(anon_client, "ada@example.com").status_code == 200

    # The link works once.
    again = anon_client.post(
        VERIFY, {**link_in(welcome, "verify-email"), "password": PASSWORD}, format="json"
    )
    assert_error(again, 400, code="link_used", attr="token")
    assert_documented(again)


def test_the_refusal_is_said_only_to_whoever_knows_the_password(anon_client):
    """A wrong password on an unproven account looks like any failed login."""
    unverified(email="ada@example.com")
    wrong = assert_error(
        login(anon_client, "ada@example.com", "wrong-password"), 401, code="invalid_credentials"
    )
    unknown = assert_error(login(anon_client, "nobody@example.com"), 401, code="invalid_credentials")
    assert wrong == unknown


def test_verifying_needs_the_password_chosen_at_registration(anon_client, register):
    """The owner of an address someone else registered can't confirm that
    stranger's account by clicking the link in the welcome email."""
    [welcome] = register()
    response = anon_client.post(
        VERIFY, {**link_in(welcome, "verify-email"), "password": "Not-The-Password-1"}, format="json"
    )
    assert_error(response, 400, code="wrong_password", attr="password")
    assert_documented(response)
    assert User.objects.get(email="ada@example.com").email_verified_at is None


def _expired_token(user, monkeypatch) -> str:
    from django.conf import settings

    made = time.time() - settings.EMAIL_VERIFICATION_TIMEOUT - 5
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: made)
        link = services.email_verification_link(user)
    return parse_qs(urlsplit(link).query)["token"][0]


@pytest.mark.parametrize(
    "case, code",
    [
        ("expired", "link_expired"),
        ("forged", "invalid_link"),
        ("garbage", "invalid_link"),
        ("another_users_uid", "invalid_link"),
        ("unknown_uid", "invalid_link"),
        ("email_changed_since", "invalid_link"),
        ("deactivated", "invalid_link"),
    ],
)
def test_expired_forged_and_foreign_links_are_refused(anon_client, monkeypatch, case, code):
    user = unverified(email="ada@example.com")
    link = parse_qs(urlsplit(services.email_verification_link(user)).query)
    body = {"uid": link["uid"][0], "token": link["token"][0], "password": DEFAULT_PASSWORD}
    if case == "expired":
        body["token"] = _expired_token(user, monkeypatch)
    elif case == "forged":
        value, timestamp, signature = body["token"].split(":")
        body["token"] = f"{value[::-1]}:{timestamp}:{signature}"
    elif case == "garbage":
        body["token"] = "not-a-token"
    elif case == "another_users_uid":
        other = unverified(email="other@example.com")
        body["uid"] = parse_qs(urlsplit(services.email_verification_link(other)).query)["uid"][0]
    elif case == "unknown_uid":
        body["uid"] = "bm90LWEtdXNlcg"
    elif case == "email_changed_since":
        User.objects.filter(pk=user.pk).update(email="ada.new@example.com")
    elif case == "deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    response = anon_client.post(VERIFY, body, format="json")
    assert_error(response, 400, code=code, attr="token")
    assert_documented(response)
    assert not User.objects.filter(email_verified_at__isnull=False).exists()


def test_verifying_counts_against_the_login_limit_of_the_account(anon_client, register):
    """It checks a password: guesses there and at login share one count per account."""
    from cohortly.throttling import LoginRateThrottle

    [welcome] = register()
    for n in range(LoginRateThrottle().num_requests):
        # Each from its own address: the account's count is the one that runs out.
        anon_client.post(
            LOGIN,
            {"email": "ada@example.com", "password": "wrong-password"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )
    response = anon_client.post(
        VERIFY,
        {**link_in(welcome, "verify-email"), "password": PASSWORD},
        format="json",
        REMOTE_ADDR="203.0.113.9",
    )
    assert_error(response, 429, code="throttled")
    assert_documented(response)
    assert User.objects.get(email="ada@example.com").email_verified_at is None


def test_refresh_of_an_unproven_account_is_refused(anon_client):
    """No token is issued to one; nor does one from before the rule keep working."""
    user = unverified(email="ada@example.com")
    refresh = tokens_for(user)["refresh"]
    assert_error(
        anon_client.post(REFRESH, {"refresh": refresh}, format="json"), 401, code="no_active_account"
    )


# --- set-password links --------------------------------------------------------------


def test_a_set_password_link_proves_the_email_and_ends_every_earlier_password_and_session(
    anon_client, django_capture_on_commit_callbacks
):
    holder = unverified(email="ada@example.com")
    earlier = tokens_for(holder)  # a session from before the rule (logins give an unproven account none)
    with django_capture_on_commit_callbacks(execute=True):
        anon_client.post(PASSWORD_RESET, {"email": "ada@example.com"}, format="json")
    [message] = mail.outbox
    response = anon_client.post(
        PASSWORD_RESET_CONFIRM,
        {**link_in(message, "reset-password"), "new_password": "Owner-Chose-This-9"},
        format="json",
    )
    assert response.status_code == 204, response.content
    holder.refresh_from_db()
    assert holder.email_verified_at is not None
    assert_error(login(anon_client, "ada@example.com", DEFAULT_PASSWORD), 401, code="invalid_credentials")
    assert_error(anon_client.post(REFRESH, {"refresh": earlier["refresh"]}, format="json"), 401)
    earlier_client = APIClient()
    earlier_client.credentials(HTTP_AUTHORIZATION=f"Bearer {earlier['access']}")
    assert_error(earlier_client.get("/api/v1/auth/me/"), 401)
    assert login(anon_client, "ada@example.com", "Owner-Chose-This-9").status_code == 200


def test_registering_an_unproven_address_again_mails_its_owner_the_set_password_link(anon_client, register):
    """Whoever registered first can't keep the address's owner out: the owner's
    registration answers as usual, and the email to the address carries the
    set-password link, which replaces the first registrant's password."""
    register(password="First-Comer-Secret-3")
    [attempt] = register(password="Owner-Chose-This-9")
    assert attempt.to == ["ada@example.com"]
    assert "new registration with your address" in attempt.subject
    assert "Nobody has confirmed yet" in attempt.body and "Owner-Chose-This-9" not in attempt.body
    response = anon_client.post(
        PASSWORD_RESET_CONFIRM,
        {**link_in(attempt, "reset-password"), "new_password": "Owner-Chose-This-9"},
        format="json",
    )
    assert response.status_code == 204
    assert_error(
        login(anon_client, "ada@example.com", "First-Comer-Secret-3"), 401, code="invalid_credentials"
    )
    assert login(anon_client, "ada@example.com", "Owner-Chose-This-9").status_code == 200


def test_registering_a_proven_address_again_sends_no_link(register):
    UserFactory(email="ada@example.com")
    [attempt] = register()
    assert "reset-password" not in attempt.body and "Nobody has confirmed" not in attempt.body


# --- the services -----------------------------------------------------------------------


def test_an_address_becomes_proven_once(db, django_capture_on_commit_callbacks):
    user = unverified(email="ada@example.com")
    heard = []
    user_email_verified.connect(
        lambda sender, user, **kwargs: heard.append(user.pk), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.user_mark_email_verified(user=user) is True
            assert services.user_mark_email_verified(user=User.objects.get(pk=user.pk)) is False
            assert heard == []  # told once the change is committed, outside its lock
    finally:
        user_email_verified.disconnect(dispatch_uid="t")
    assert heard == [user.pk]


def test_staff_vouch_for_the_accounts_they_give_a_password(db):
    given = services.user_create(email="a@example.com", password=PASSWORD, full_name="A", role="SALES")
    invited = services.user_create(email="b@example.com", password=None, full_name="B", role="STUDENT")
    assert given.email_verified_at is not None
    assert invited.email_verified_at is None  # proven when its set-password link is used


def test_createsuperuser_makes_an_account_that_logs_in(anon_client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser", "--no-input", "--email", "root@example.com", "--full_name", "Root", verbosity=0
    )
    assert login(anon_client, "root@example.com").status_code == 200


# --- the sales pages and the admin ----------------------------------------------------


@pytest.mark.parametrize("path, role", [("/sales/login/", "SALES"), ("/admin/login/?next=/admin/", "ADMIN")])
def test_the_login_forms_say_the_address_isnt_confirmed_and_open_no_session(client, path, role):
    unverified(email="ada@example.com", role=role)
    response = client.post(path, {"username": "ada@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "email address isn&#x27;t confirmed yet" in response.content.decode()
    assert "_auth_user_id" not in client.session
    wrong = client.post(path, {"username": "ada@example.com", "password": "wrong-password"})
    assert "isn&#x27;t confirmed" not in wrong.content.decode()


@pytest.mark.parametrize(
    "path, role", [("/sales/login/", "STUDENT"), ("/admin/login/?next=/admin/", "SALES")]
)
def test_a_role_the_page_refuses_hears_the_wrong_password_answer_all_the_same(client, path, role):
    """The right password of an unproven account is confirmed only where it
    could sign in once proven: elsewhere it reads exactly as a wrong one."""
    unverified(email="ada@example.com", role=role)
    right = client.post(path, {"username": "ada@example.com", "password": DEFAULT_PASSWORD})
    wrong = client.post(path, {"username": "ada@example.com", "password": "wrong-password"})
    assert right.status_code == wrong.status_code == 200
    assert right.context["form"].errors == wrong.context["form"].errors
    assert "_auth_user_id" not in client.session
