"""The auth API: register, login, refresh, logout, logout-all, passwords, profile."""

import logging

import pytest
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.api.views import REGISTER_ACCEPTED
from accounts.models import User
from accounts.services import user_update
from accounts.tests.factories import DEFAULT_PASSWORD, JUNK_NAMES, JUNK_PHONES, UserFactory
from cohortly.throttling import LoginRateThrottle, RegisterRateThrottle
from conftest import assert_error, auth_client

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
LOGOUT_ALL = "/api/v1/auth/logout-all"
ME = "/api/v1/auth/me"
PASSWORD_CHANGE = "/api/v1/auth/password/change"
PASSWORD_RESET = "/api/v1/auth/password/reset"
PASSWORD_RESET_CONFIRM = "/api/v1/auth/password/reset/confirm"

pytestmark = pytest.mark.django_db

NEW_USER = {"email": "New.Person@Example.COM", "password": "Quiet-Harbour-77", "full_name": "New Person"}


def login(client, email, password=DEFAULT_PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


# --- register ---------------------------------------------------------------


def test_register_creates_a_student_and_sends_welcome_email(anon_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(REGISTER, {**NEW_USER, "phone": "+44 20 7946 0958"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json() == {"detail": REGISTER_ACCEPTED}
    user = User.objects.get(email="new.person@example.com")
    assert (user.role, user.phone) == ("STUDENT", "+44 20 7946 0958")
    assert user.check_password(NEW_USER["password"])
    assert user.password.startswith("md5$")  # hashed (test hasher), never stored plain
    assert NEW_USER["password"] not in response.content.decode()
    assert user.email_verified_at is None  # until the welcome email's link is used
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert "Welcome to Cohortly" in mail.outbox[0].subject
    assert "/verify-email?uid=" in mail.outbox[0].body


def test_welcome_email_is_not_sent_before_commit(anon_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        anon_client.post(REGISTER, NEW_USER, format="json")
    assert mail.outbox == []
    for callback in callbacks:  # what the commit runs
        callback()
    assert [m.to for m in mail.outbox] == [["new.person@example.com"]]


def test_register_survives_a_failing_mail_provider(
    anon_client, django_capture_on_commit_callbacks, caplog, settings
):
    settings.EMAIL_BACKEND = "cohortly.tests.failing_email.FailingBackend"
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(REGISTER, NEW_USER, format="json", HTTP_X_REQUEST_ID="req-mail-1")
    assert response.status_code == 202
    assert User.objects.filter(email="new.person@example.com").exists()
    failure = [r for r in caplog.records if "sending email" in r.getMessage()]
    assert failure and "req-mail-1" in failure[0].getMessage()


JUNK = [("full_name", name) for name in JUNK_NAMES] + [("phone", phone) for phone in JUNK_PHONES]


@pytest.mark.parametrize("field, value", JUNK)
def test_register_refuses_control_characters_in_names_and_phones_without_digits(anon_client, field, value):
    response = anon_client.post(REGISTER, {**NEW_USER, field: value}, format="json")
    body = assert_error(response, 400, code="invalid", attr=field)
    assert body["type"] == "validation_error"
    assert not User.objects.filter(email="new.person@example.com").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("role", ["ADMIN", "SALES", "INSTRUCTOR", "MENTOR", "superuser", ""])
def test_register_refuses_any_role_but_student(anon_client, role):
    response = anon_client.post(REGISTER, {**NEW_USER, "role": role}, format="json")
    assert_error(response, 400, attr="role")
    assert not User.objects.filter(email="new.person@example.com").exists()


def test_register_accepts_explicit_student_role(anon_client):
    response = anon_client.post(REGISTER, {**NEW_USER, "role": "STUDENT"}, format="json")
    assert response.status_code == 202
    assert User.objects.get(email="new.person@example.com").role == "STUDENT"


def test_register_with_a_taken_email_answers_like_a_new_one_and_tells_the_owner(
    anon_client, django_capture_on_commit_callbacks
):
    """No enumeration: the same status and body as a new registration (in any
    case of the email); no second account, the owner's password unchanged, and
    the owner, not the caller, hears of it."""
    owner = UserFactory(email="new.person@example.com", full_name="Real Owner")
    with django_capture_on_commit_callbacks(execute=True):
        new = anon_client.post(REGISTER, {**NEW_USER, "email": "someone.else@example.com"}, format="json")
        taken = anon_client.post(REGISTER, {**NEW_USER, "email": "NEW.PERSON@example.com"}, format="json")
    assert (
        (taken.status_code, taken.json())
        == (new.status_code, new.json())
        == (202, {"detail": REGISTER_ACCEPTED})
    )
    assert taken.headers.keys() == new.headers.keys()
    assert User.objects.filter(email__iexact="new.person@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)
    assert [m.to for m in mail.outbox] == [["someone.else@example.com"], ["new.person@example.com"]]
    attempt = mail.outbox[1]
    assert "new registration with your address" in attempt.subject
    assert "Real Owner" in attempt.body and "No\nnew account was made" in attempt.body
    assert NEW_USER["password"] not in attempt.body


def test_register_with_a_taken_email_still_refuses_bad_input_alike(anon_client):
    """A weak password or a bad name is refused the same way whether the email is taken."""
    UserFactory(email="new.person@example.com")
    for payload in ({**NEW_USER, "password": "password123"}, {**NEW_USER, "full_name": "x" * 151}):
        taken = anon_client.post(REGISTER, payload, format="json")
        new = anon_client.post(REGISTER, {**payload, "email": "other@example.com"}, format="json")
        assert (taken.status_code, taken.json()) == (new.status_code, new.json())
        assert taken.status_code == 400
    assert mail.outbox == []


@pytest.mark.parametrize(
    "payload, attr",
    [
        ({"password": "Quiet-Harbour-77", "full_name": "X"}, "email"),
        ({"email": "a@example.com", "full_name": "X"}, "password"),
        ({"email": "a@example.com", "password": "Quiet-Harbour-77"}, "full_name"),
        ({**NEW_USER, "email": "not-an-email"}, "email"),
        ({**NEW_USER, "password": "short"}, "password"),
        ({**NEW_USER, "password": "password123"}, "password"),
        ({**NEW_USER, "password": "12345678901"}, "password"),
        ({**NEW_USER, "full_name": "x" * 151}, "full_name"),
        ({**NEW_USER, "email": "a" * 250 + "@example.com"}, "email"),
        ({**NEW_USER, "phone": "call me maybe"}, "phone"),
        ({**NEW_USER, "full_name": ["a", "list"]}, "full_name"),
        ({**NEW_USER, "is_staff": True}, "non_field_errors"),
    ],
)
def test_register_bad_input(anon_client, payload, attr):
    response = anon_client.post(REGISTER, payload, format="json")
    assert_error(response, 400, attr=attr)
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    "password, code",
    [
        ("Sh0rt-1", "password_too_short"),
        ("password123", "password_too_common"),
        ("83920174655", "password_entirely_numeric"),
        ("abababababab", "password_too_uniform"),
        ("lovelace.ada.example", "password_too_similar"),
    ],
)
def test_a_weak_password_says_why_in_its_code(anon_client, password, code):
    # A frontend words its own message from the code: all were "invalid".
    payload = {"email": "lovelace.ada@example.com", "password": password, "full_name": "Ada Lovelace"}
    body = assert_error(anon_client.post(REGISTER, payload, format="json"), 400, attr="password")
    assert [error["code"] for error in body["errors"]] == [code], body
    assert User.objects.count() == 0


def test_register_password_similar_to_email_is_refused(anon_client):
    response = anon_client.post(
        REGISTER,
        {"email": "harbourmaster@example.com", "password": "harbourmaster", "full_name": "H"},
        format="json",
    )
    assert_error(response, 400, attr="password")


@pytest.mark.parametrize("password", ["        ", " \t \u3000  \n  ", "abababababab", "Aa  Aa  Aa  "])
def test_register_refuses_a_password_of_too_few_different_characters(anon_client, password):
    response = anon_client.post(
        REGISTER, {"email": "pw@example.com", "password": password, "full_name": "P"}, format="json"
    )
    body = assert_error(response, 400, attr="password")
    assert "at least 4 different characters, spaces not counted" in body["errors"][0]["detail"]
    assert User.objects.count() == 0


# --- login --------------------------------------------------------------------


def test_login_returns_tokens_and_user(anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example", role=User.Role.MENTOR)
    response = login(anon_client, "ANN@example.com")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"]["id"] == str(user.pk)
    assert body["user"]["role"] == "MENTOR"
    assert "password" not in body["user"]
    me = auth_client(None)
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get(ME).json()["email"] == "ann@example.com"


def test_login_failures_are_indistinguishable(anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    UserFactory(email="gone@example.com", is_active=False)
    responses = [
        login(anon_client, "ann@example.com", "wrong-password"),
        login(anon_client, "nobody@example.com"),
        login(anon_client, "gone@example.com"),
    ]
    bodies = [assert_error(r, 401, code="invalid_credentials") for r in responses]
    assert bodies[0] == bodies[1] == bodies[2]


def test_login_bad_input(anon_client):
    assert_error(anon_client.post(LOGIN, {"email": "ann@example.com"}, format="json"), 400, attr="password")
    assert_error(anon_client.post(LOGIN, "[1, 2]", content_type="application/json"), 400)
    assert_error(anon_client.post(LOGIN, "{oops", content_type="application/json"), 400, code="parse_error")


def test_login_throttle_answers_429_with_retry_after(anon_client, monkeypatch):
    monkeypatch.setattr(LoginRateThrottle, "THROTTLE_RATES", {"login": "3/hour", "login_address": "30/hour"})
    UserFactory(email="ann@example.com", full_name="Ann Example")
    for _ in range(3):
        assert login(anon_client, "ann@example.com", "wrong").status_code == 401
    response = login(anon_client, "ann@example.com")
    assert_error(response, 429, code="throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_register_throttle(anon_client, monkeypatch):
    monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "2/hour"})
    for i in range(2):
        anon_client.post(REGISTER, {**NEW_USER, "email": f"p{i}@example.com"}, format="json")
    response = anon_client.post(REGISTER, {**NEW_USER, "email": "p9@example.com"}, format="json")
    assert_error(response, 429, code="throttled")
    assert not User.objects.filter(email="p9@example.com").exists()


def test_options_requests_do_not_spend_the_register_limit(anon_client, monkeypatch):
    # A tool probing with OPTIONS used the 5/min up before the real POST.
    monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "2/hour"})
    for _ in range(5):
        assert anon_client.options(REGISTER).status_code == 200
    response = anon_client.post(REGISTER, {**NEW_USER, "email": "p1@example.com"}, format="json")
    assert response.status_code == 202, response.content
    assert User.objects.filter(email="p1@example.com").exists()


@pytest.mark.parametrize("path", [LOGOUT, LOGOUT_ALL, PASSWORD_CHANGE])
def test_options_describes_a_post_only_view_to_whoever_may_post(student_client, anon_client, path):
    # They declare no readers, and OPTIONS counted as a read: a 403 for everyone.
    response = student_client.options(path)
    assert response.status_code == 200, response.content
    assert "POST" in response["Allow"]
    if path == LOGOUT:  # the refresh token in the body is its credential
        assert anon_client.options(path).status_code == 200
    else:
        assert_error(anon_client.options(path), 401)


# --- refresh, logout, logout-all -------------------------------------------------


def test_refresh_rotates_and_blacklists_the_old_token(anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    tokens = login(anon_client, "ann@example.com").json()
    response = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != tokens["refresh"]
    # The rotated-out token is refused from now on; the new one works.
    assert_error(anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json"), 401)
    assert anon_client.post(REFRESH, {"refresh": new["refresh"]}, format="json").status_code == 200


def test_answers_carrying_tokens_are_not_stored(anon_client):
    """Login and refresh carry no Authorization header, but answer with tokens."""
    UserFactory(email="ann@example.com", full_name="Ann Example")
    logged_in = login(anon_client, "ann@example.com")
    assert logged_in.status_code == 200 and logged_in["Cache-Control"] == "no-store"
    refreshed = anon_client.post(REFRESH, {"refresh": logged_in.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200 and refreshed["Cache-Control"] == "no-store"


def test_refresh_refuses_garbage_and_access_tokens(anon_client):
    UserFactory(email="ann@example.com", full_name="Ann Example")
    tokens = login(anon_client, "ann@example.com").json()
    assert_error(anon_client.post(REFRESH, {"refresh": "not.a.token"}, format="json"), 401)
    assert_error(anon_client.post(REFRESH, {"refresh": tokens["access"]}, format="json"), 401)
    assert_error(anon_client.post(REFRESH, {}, format="json"), 400, attr="refresh")


def test_refresh_of_deactivated_or_deleted_user_is_refused(anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    tokens = login(anon_client, "ann@example.com").json()
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert_error(anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json"), 401)
    OutstandingToken.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).delete()
    assert_error(anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json"), 401)


def test_logout_blacklists_the_refresh_token(anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    tokens = login(anon_client, "ann@example.com").json()
    client = auth_client(user)
    response = client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    assert_error(anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json"), 401)


def test_logout_refuses_another_users_refresh_token_but_needs_no_access_token(anon_client):
    ann = UserFactory(email="ann@example.com", full_name="Ann Example")
    UserFactory(email="bob@example.com")
    bob_tokens = login(anon_client, "bob@example.com").json()
    response = auth_client(ann).post(LOGOUT, {"refresh": bob_tokens["refresh"]}, format="json")
    assert_error(response, 400, attr="refresh")
    assert not BlacklistedToken.objects.exists()
    # The refresh token alone is the credential: the holder logs that session out.
    assert anon_client.post(LOGOUT, {"refresh": bob_tokens["refresh"]}, format="json").status_code == 204
    assert BlacklistedToken.objects.filter(token__user__email="bob@example.com").count() == 1
    assert_error(anon_client.post(REFRESH, {"refresh": bob_tokens["refresh"]}, format="json"), 401)


def test_logout_all_refuses_every_device(anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    laptop = login(anon_client, "ann@example.com").json()
    phone = login(anon_client, "ann@example.com").json()
    other = UserFactory(email="bob@example.com")
    bob = login(anon_client, "bob@example.com").json()
    response = auth_client(user).post(LOGOUT_ALL)
    assert response.status_code == 204
    for tokens in (laptop, phone):
        assert_error(anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json"), 401)
    # Another user's devices are untouched.
    assert not BlacklistedToken.objects.filter(token__user=other).exists()
    assert anon_client.post(REFRESH, {"refresh": bob["refresh"]}, format="json").status_code == 200


# --- passwords ------------------------------------------------------------------


def test_password_change_logs_out_other_devices(anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    other_device = login(anon_client, "ann@example.com").json()
    client = auth_client(user)
    response = client.post(
        PASSWORD_CHANGE,
        {"old_password": DEFAULT_PASSWORD, "new_password": "Brand-New-Lantern-5"},
        format="json",
    )
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert_error(anon_client.post(REFRESH, {"refresh": other_device["refresh"]}, format="json"), 401)
    assert anon_client.post(REFRESH, {"refresh": fresh["refresh"]}, format="json").status_code == 200
    assert login(anon_client, "ann@example.com", "Brand-New-Lantern-5").status_code == 200
    assert login(anon_client, "ann@example.com").status_code == 401


def test_password_change_validates(anon_client):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    client = auth_client(user)
    wrong = client.post(
        PASSWORD_CHANGE, {"old_password": "nope", "new_password": "Brand-New-Lantern-5"}, format="json"
    )
    assert_error(wrong, 400, code="wrong_password", attr="old_password")
    weak = client.post(
        PASSWORD_CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": "abc"}, format="json"
    )
    assert_error(weak, 400, code="password_too_short", attr="new_password")
    blank = client.post(
        PASSWORD_CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": " " * 12}, format="json"
    )
    assert_error(blank, 400, attr="new_password")
    # The same password again is no change (it would only log every other device out).
    same = client.post(
        PASSWORD_CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": DEFAULT_PASSWORD}, format="json"
    )
    body = assert_error(same, 400, code="unchanged", attr="new_password")
    assert body["errors"][0]["detail"] == "Choose a password different from the current one."
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert client.get("/api/v1/auth/me/").status_code == 200  # still signed in
    assert_error(anon_client.post(PASSWORD_CHANGE, {}, format="json"), 401)


def test_password_reset_flow(anon_client, django_capture_on_commit_callbacks):
    user = UserFactory(email="ann@example.com", full_name="Ann Example")
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(PASSWORD_RESET, {"email": "Ann@example.com"}, format="json")
    assert response.status_code == 202
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "reset-password?" in line)
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    confirm = anon_client.post(
        PASSWORD_RESET_CONFIRM,
        {"uid": query["uid"], "token": query["token"], "new_password": "Fresh-Morning-81"},
        format="json",
    )
    assert confirm.status_code == 204
    user.refresh_from_db()
    assert user.check_password("Fresh-Morning-81")
    # A link works once.
    again = anon_client.post(
        PASSWORD_RESET_CONFIRM,
        {"uid": query["uid"], "token": query["token"], "new_password": "Other-Morning-82"},
        format="json",
    )
    assert_error(again, 400, attr="token")


def test_an_emailed_link_says_how_long_it_works_as_configured(
    settings, anon_client, django_capture_on_commit_callbacks
):
    """The welcome and set-password emails said "expires in a few days" whatever
    EMAIL_VERIFICATION_TIMEOUT and PASSWORD_RESET_TIMEOUT were: with an hour's
    reset link, its owner came back the next day to a link that no longer worked."""
    settings.EMAIL_VERIFICATION_TIMEOUT = 2 * 60 * 60
    settings.PASSWORD_RESET_TIMEOUT = 60 * 60
    with django_capture_on_commit_callbacks(execute=True):
        anon_client.post(REGISTER, NEW_USER, format="json")
        anon_client.post(PASSWORD_RESET, {"email": NEW_USER["email"]}, format="json")
    welcome, reset = mail.outbox
    assert "/verify-email?uid=" in welcome.body
    assert "The link works once and expires in 2 hours." in welcome.body
    assert "/reset-password?uid=" in reset.body
    assert "The link works once and expires in 1 hour." in reset.body
    assert "few days" not in welcome.body + reset.body


def test_password_reset_does_not_reveal_unknown_emails(anon_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(PASSWORD_RESET, {"email": "nobody@example.com"}, format="json")
    assert response.status_code == 202
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)  # the worker manages its own connections and transactions
def test_a_reset_request_does_the_same_work_whether_or_not_the_account_exists(settings, anon_client):
    """With the production task queue: each request stores one queued task and
    nothing else (no outbox row, no look-up's outcome), so its time can't tell
    who has an account; the worker then mails the one that does."""
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from mail.models import OutboundEmail

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    UserFactory(email="ann@example.com", full_name="Ann Example")
    for n, email in enumerate(("Ann@example.com", "nobody@example.com")):
        before = DBTaskResult.objects.count()
        response = anon_client.post(
            PASSWORD_RESET, {"email": email}, format="json", HTTP_X_REQUEST_ID=f"reset-{n}"
        )
        assert response.status_code == 202
        [queued] = DBTaskResult.objects.order_by("-enqueued_at")[: DBTaskResult.objects.count() - before]
        assert queued.task_path == "accounts.tasks.password_reset_task", queued.args_kwargs
        assert not OutboundEmail.objects.exists()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0
    )  # the mail it queued
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert OutboundEmail.objects.get().request_id == "reset-0"  # the request that asked


def test_password_reset_confirm_bad_uid(anon_client):
    response = anon_client.post(
        PASSWORD_RESET_CONFIRM,
        {"uid": "!!!", "token": "x", "new_password": "Fresh-Morning-81"},
        format="json",
    )
    assert_error(response, 400, attr="token")


# --- me ---------------------------------------------------------------------------


def test_me_get_and_patch(student_client, student_user):
    assert student_client.get(ME).json()["email"] == student_user.email
    response = student_client.patch(
        ME, {"full_name": "Stella S. Student", "phone": "+1 555 0100"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Stella S. Student"
    student_user.refresh_from_db()
    assert student_user.phone == "+1 555 0100"


@pytest.mark.parametrize("field, value", JUNK)
def test_me_refuses_control_characters_in_names_and_phones_without_digits(
    anon_client, student_user, field, value
):
    tokens = login(anon_client, student_user.email).json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    before = User.objects.filter(pk=student_user.pk).values().get()

    assert_error(anon_client.patch(ME, {field: value}, format="json"), 400, code="invalid", attr=field)

    assert User.objects.filter(pk=student_user.pk).values().get() == before
    assert anon_client.get(ME).status_code == 200
    assert anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 200


@pytest.mark.parametrize(
    "field, value", [("role", "ADMIN"), ("email", "x@example.com"), ("is_active", False)]
)
def test_me_cannot_change_role_email_or_active(student_client, student_user, field, value):
    response = student_client.patch(ME, {field: value}, format="json")
    body = assert_error(response, 400, code="unknown_field")
    assert field in body["errors"][0]["detail"]
    student_user.refresh_from_db()
    assert student_user.role == "STUDENT" and student_user.is_active
    assert student_user.email == "student@example.com"


def test_me_requires_authentication(anon_client):
    assert_error(anon_client.get(ME), 401, code="not_authenticated")


def test_deactivated_users_access_token_is_refused(student_client, student_user, admin_user):
    assert student_client.get(ME).status_code == 200
    user_update(actor=admin_user, user=student_user, data={"is_active": False})
    assert_error(student_client.get(ME), 401)


def test_what_a_stranger_types_is_never_mailed_to_an_address_nobody_has_proven(
    anon_client, django_capture_on_commit_callbacks
):
    """Registration and the lead form mail an address anyone can type in: the
    name that came with it (text of the sender's choosing: "your bank account
    is locked, visit ...") is not in the email, nor in a password reset asked
    for the still unconfirmed account."""
    bait = "Your account is locked visit evil"
    with django_capture_on_commit_callbacks(execute=True):
        assert anon_client.post(REGISTER, {**NEW_USER, "full_name": bait}, format="json").status_code == 202
        assert (
            anon_client.post(
                "/api/v1/auth/password/reset", {"email": NEW_USER["email"]}, format="json"
            ).status_code
            < 300
        )
        assert (
            anon_client.post(REGISTER, {**NEW_USER, "full_name": "Other"}, format="json").status_code == 202
        )
        assert (
            anon_client.post(
                "/api/v1/leads/", {"full_name": bait, "email": "target@example.org"}, format="json"
            ).status_code
            == 201
        )
    assert len(mail.outbox) == 4, [m.subject for m in mail.outbox]
    for message in mail.outbox:
        assert "evil" not in message.subject and "evil" not in message.body, (message.subject, message.body)
        assert message.body.startswith("Hello,"), message.body[:40]


def test_registering_a_deactivated_accounts_address_says_it_is_deactivated(
    anon_client, django_capture_on_commit_callbacks
):
    """It told them to sign in or ask for a new password, neither of which a
    deactivated account can."""
    UserFactory(email="bob@example.com", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(REGISTER, {**NEW_USER, "email": "bob@example.com"}, format="json")
    assert response.status_code == 202  # the same answer as for a new address
    (message,) = mail.outbox
    assert "The account is deactivated" in message.body
    assert "sign in at" not in message.body and "reset-password" not in message.body


def test_an_internationalised_domain_is_one_mailbox_however_it_is_written(
    anon_client, django_capture_on_commit_callbacks
):
    """Mail goes to, and SendGrid reports on, the ASCII form of the domain: it is
    the one Cohortly stores, so the Unicode form can't open a second account."""
    first = {**NEW_USER, "email": "Zoe@Exämple.com"}
    again = {**NEW_USER, "email": "zoe@xn--exmple-cua.com", "full_name": "Other"}
    with django_capture_on_commit_callbacks(execute=True):
        assert anon_client.post(REGISTER, first, format="json").status_code == 202
        assert anon_client.post(REGISTER, again, format="json").status_code == 202
    assert list(User.objects.values_list("email", flat=True)) == ["zoe@xn--exmple-cua.com"]
    assert [m.to for m in mail.outbox] == [
        ["zoe@xn--exmple-cua.com"]
    ] * 2  # the welcome, then "already has one"
