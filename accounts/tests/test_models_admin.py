import sys
import unicodedata
from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User, name_validator, phone_validator
from accounts.tests.factories import DEFAULT_PASSWORD, JUNK_NAMES, JUNK_PHONES, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_regardless_of_case_in_the_database():
    UserFactory(email="ann@example.com")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="ANN@example.com", full_name="Other")])


def test_create_user_normalises_email_and_defaults_to_student():
    user = User.objects.create_user(email="  Bob@Example.COM ", password="Quiet-Harbour-77", full_name="Bob")
    assert user.email == "bob@example.com"
    assert user.role == "STUDENT"
    assert not user.is_staff


def test_createsuperuser_by_email_makes_an_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Quiet-Harbour-77")
    call_command(
        "createsuperuser",
        "--no-input",
        "--email",
        "Root@Example.com",
        "--full_name",
        "Root Person",
        verbosity=0,
    )
    user = User.objects.get(email="root@example.com")
    assert user.role == "ADMIN" and user.is_staff and user.is_superuser


@pytest.mark.parametrize("role", ["SALES", "INSTRUCTOR", "MENTOR", "STUDENT"])
def test_only_admins_get_into_the_admin(client, role):
    user = UserFactory(role=role)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_user_list_search_and_filter(client):
    admin = UserFactory(role="ADMIN")
    UserFactory(email="findme@example.com", full_name="Findable Person", role="MENTOR")
    client.force_login(admin)
    response = client.get("/admin/accounts/user/", {"q": "findable"})
    assert response.status_code == 200
    assert "findme@example.com" in response.text
    response = client.get("/admin/accounts/user/", {"role__exact": "MENTOR"})
    assert "findme@example.com" in response.text


def _add_form(email, password):
    """The admin's add-user form, filled in for a SALES user."""
    return {
        "email": email,
        "full_name": "Added Person",
        "phone": "",
        "role": "SALES",
        "is_active": "on",
        "password1": password,
        "password2": password,
    }


def test_admin_adds_user_with_validated_password(client):
    admin = UserFactory(role="ADMIN")
    client.force_login(admin)
    data = _add_form("Added@Example.com", "123")
    response = client.post("/admin/accounts/user/add/", data)
    assert response.status_code == 200
    assert "too short" in response.text
    assert not User.objects.filter(email="added@example.com").exists()
    data["password1"] = data["password2"] = "Quiet-Harbour-77"
    response = client.post("/admin/accounts/user/add/", data)
    assert response.status_code == 302
    user = User.objects.get(email="added@example.com")
    assert user.role == "SALES" and user.check_password("Quiet-Harbour-77")


def test_admin_login_with_email(client):
    UserFactory(email="boss@example.com", role="ADMIN")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def _change_form(user, **changes):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "role": user.role,
        "is_active": "on" if user.is_active else "",
    }
    return {key: value for key, value in {**data, **changes}.items() if value != ""}


def test_admin_changes_another_users_role_and_active_flag(client):
    admin = UserFactory(role="ADMIN")
    other = UserFactory(role="MENTOR")
    client.force_login(admin)
    response = client.post(
        f"/admin/accounts/user/{other.pk}/change/", _change_form(other, role="SALES", is_active="")
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.role == "SALES" and not other.is_active


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"is_active": ""}, "You can't deactivate your own account."),
        ({"role": "SALES"}, "You can't change your own role."),
        ({"role": "STUDENT", "full_name": "Renamed Too"}, "You can't change your own role."),
    ],
)
def test_admin_change_view_refuses_locking_yourself_out(client, changes, message):
    admin = UserFactory(role="ADMIN", full_name="Ada Admin")
    UserFactory(role="ADMIN")
    client.force_login(admin)
    url = f"/admin/accounts/user/{admin.pk}/change/"
    before = User.objects.filter(pk=admin.pk).values().get()

    response = client.post(url, _change_form(admin, **changes))

    # The form comes back as posted, with the reason beside the field it names.
    assert response.status_code == 200
    field = next(iter(set(changes) - {"full_name"}))
    assert response.context["adminform"].form.errors == {field: [message]}
    assert escape(message) in response.text
    assert "Please correct the error below." in response.text
    if "full_name" in changes:
        assert 'value="Renamed Too"' in response.text
    assert "was changed successfully" not in response.text
    assert User.objects.filter(pk=admin.pk).values().get() == before
    assert not LogEntry.objects.exists()
    assert client.get("/admin/").status_code == 200  # still in


def test_a_role_change_another_app_refuses_keeps_what_was_typed(client):
    """The sales app refuses to move a salesperson who owns open leads (the
    service decides, under the row lock); the page keeps the typed name."""
    from leads.tests.factories import LeadFactory

    admin = UserFactory(role="ADMIN")
    seller = UserFactory(role="SALES", full_name="Sam Seller")
    LeadFactory(owner=seller)
    client.force_login(admin)
    url = f"/admin/accounts/user/{seller.pk}/change/"
    before = User.objects.filter(pk=seller.pk).values().get()

    response = client.post(url, _change_form(seller, role="MENTOR", full_name="Samuel Seller"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["role"] and "owns 1 open lead" in errors["role"][0]
    assert 'value="Samuel Seller"' in response.text
    assert '<option value="MENTOR" selected>' in response.text
    assert User.objects.filter(pk=seller.pk).values().get() == before
    assert not LogEntry.objects.exists()

    # Saving again as shown is refused again; saving without the role change works.
    assert client.post(url, _change_form(seller, role="MENTOR")).status_code == 200
    response = client.post(url, _change_form(seller, full_name="Samuel Seller"))
    assert response.status_code == 302
    assert User.objects.get(pk=seller.pk).full_name == "Samuel Seller"


def test_admin_deletes_another_user_from_the_delete_page(client):
    admin, other = UserFactory(role="ADMIN"), UserFactory(role="MENTOR")
    client.force_login(admin)
    response = client.post(f"/admin/accounts/user/{other.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=other.pk).exists()


def test_a_user_whose_changes_are_in_the_admins_history_is_not_deleted_with_them(client):
    """Django's LogEntry goes with its user (CASCADE): deleting an admin erased the
    history of what they changed. Refused, with what to do instead."""
    from bootcamps.tests.factories import BootcampFactory

    admin, departed = UserFactory(role="ADMIN"), UserFactory(role="ADMIN", email="departed@example.com")
    bootcamp = BootcampFactory(title="Web Basics")
    LogEntry.objects.log_actions(departed.pk, [bootcamp], 2, change_message="Changed price.")
    client.force_login(admin)

    page = client.get(f"/admin/accounts/user/{departed.pk}/delete/")
    assert "Deleting would erase the back office&#x27;s history of 1 change they made." in page.text
    assert "Deactivate the account instead" in page.text
    refused = client.post(f"/admin/accounts/user/{departed.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 200
    assert User.objects.filter(pk=departed.pk).exists()
    assert LogEntry.objects.filter(user=departed, change_message="Changed price.").exists()


def test_an_instructor_or_mentor_on_a_bootcamps_staff_is_not_deleted_off_it(client):
    from bootcamps.tests.factories import BootcampFactory

    admin, mentor = UserFactory(role="ADMIN"), UserFactory(role="MENTOR")
    bootcamp = BootcampFactory(title="Data Science")
    bootcamp.mentors.add(mentor)
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{mentor.pk}/delete/")
    assert "Deleting would erase them from the mentors of Data Science" in page.text
    action = {"action": "delete_selected", "_selected_action": [mentor.pk], "post": "yes"}
    response = client.post("/admin/accounts/user/", action, follow=True)
    assert response.status_code == 200
    assert list(bootcamp.mentors.all()) == [mentor]
    bootcamp.mentors.clear()
    assert client.post(f"/admin/accounts/user/{mentor.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=mentor.pk).exists()


def test_admin_has_no_way_to_delete_their_own_account(client):
    admin, other = UserFactory(role="ADMIN"), UserFactory(role="ADMIN")
    client.force_login(admin)
    change_page = client.get(f"/admin/accounts/user/{admin.pk}/change/")
    assert f"/admin/accounts/user/{admin.pk}/delete/" not in change_page.text  # no button
    assert client.post(f"/admin/accounts/user/{admin.pk}/delete/", {"post": "yes"}).status_code == 403
    action = {"action": "delete_selected", "_selected_action": [admin.pk, other.pk], "post": "yes"}
    refused = client.post("/admin/accounts/user/", action)
    assert refused.status_code == 200 and "You can&#x27;t delete your own account." in refused.text
    assert "permission" not in refused.text
    assert User.objects.filter(pk__in=[admin.pk, other.pk]).count() == 2
    assert not LogEntry.objects.exists()


def test_a_refused_bulk_delete_says_why_and_keeps_everything(client, monkeypatch):
    """Two admins deleting each other at once: the second finds itself the last
    active admin. The service refuses on locked rows; the admin says so."""
    from accounts import services

    def refuse(**kwargs):
        raise ValidationError("Cohortly needs at least one active admin.", code="last_admin")

    admin, other = UserFactory(role="ADMIN"), UserFactory(role="ADMIN")
    client.force_login(admin)
    monkeypatch.setattr(services, "user_delete", refuse)
    action = {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"}
    response = client.post("/admin/accounts/user/", action, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Cohortly needs at least one active admin."]
    assert User.objects.filter(pk=other.pk).exists()
    assert not LogEntry.objects.exists()  # the deletion log written before it rolled back


# --- names and phones ----------------------------------------------------------------


def test_names_refuse_control_characters_direction_overrides_and_nothing_visible():
    controls = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cc"]
    assert len(controls) == 65 and "\t" in controls and "\n" in controls
    overrides = [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
    for char in controls + overrides:
        with pytest.raises(ValidationError):
            name_validator(f"Ada{char}Lovelace")
    for invisible in [
        "\u200b",
        "\u200b\u200b",
        " \u3164 ",
        "\ufeff",
        "\u00ad\u200d",
        "\u2060",
        "\u2800",
        "\u206f",
    ]:
        with pytest.raises(ValidationError):
            name_validator(invisible)
    for fine in [
        "Ada Lovelace",
        "Zoë Ñúñez-O'Brien",
        "محمد\u200fعلي",
        "Kṛṣṇa\u200d",
        "李小龍",
        "A",
        "\u200bAda",
    ]:
        name_validator(fine)  # letters, marks and the other format characters (Cf) pass


def test_a_name_that_would_reorder_what_staff_read_is_refused_through_the_api(client):
    from rest_framework.test import APIClient

    from accounts.services import tokens_for

    user = UserFactory(full_name="Ada")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
    for name in ["\u202eAda", "\u200b"]:
        response = api.patch("/api/v1/auth/me/", {"full_name": name}, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["errors"][0]["attr"] == "full_name"
    assert User.objects.get(pk=user.pk).full_name == "Ada"


@pytest.mark.parametrize("phone", JUNK_PHONES + ["+1 555 0100\n", "abc123456", "1" * 33])
def test_phones_need_six_digits_and_only_phone_characters(phone):
    with pytest.raises(ValidationError):
        phone_validator(phone)


@pytest.mark.parametrize("phone", ["123456", "+44 20 7946 0958", "(555) 123-4567", "+351 21.123.4567"])
def test_real_phones_pass(phone):
    phone_validator(phone)


@pytest.mark.parametrize(
    "field, value", [("full_name", name) for name in JUNK_NAMES] + [("phone", p) for p in JUNK_PHONES]
)
def test_admin_change_form_refuses_junk_names_and_phones(client, field, value):
    admin = UserFactory(role="ADMIN")
    other = UserFactory(role="MENTOR", full_name="Milo Mentor", phone="+44 20 7946 0958")
    client.force_login(admin)
    before = User.objects.filter(pk=other.pk).values().get()

    response = client.post(f"/admin/accounts/user/{other.pk}/change/", _change_form(other, **{field: value}))

    assert response.status_code == 200  # the form again, with the error beside the field
    assert field in response.context["adminform"].form.errors
    assert User.objects.filter(pk=other.pk).values().get() == before


def test_the_schema_documents_names_and_phones_as_patterns_valid_values_match():
    """drf-spectacular copies a RegexValidator's regex as the field's pattern,
    which a valid value must match (an inverse_match regex would be documented
    backwards and fail every response's conformance check)."""
    import re

    from drf_spectacular.generators import SchemaGenerator

    profile = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["Profile"]
    name = re.compile(profile["properties"]["full_name"]["pattern"].replace(r"\u00", r"\x"))
    phone = re.compile(profile["properties"]["phone"]["anyOf"][0]["pattern"])
    assert name.search("Zoë Ñúñez-O'Brien") and phone.search("+44 20 7946 0958")
    assert not any(name.search(junk) for junk in JUNK_NAMES)
    assert not any(phone.search(junk) for junk in JUNK_PHONES)


# --- the password page ----------------------------------------------------------------


def _password_page(user):
    return f"/admin/accounts/user/{user.pk}/password/"


def test_an_admins_own_password_is_changed_where_the_current_one_is_asked(client):
    """The user's password page set a new one with no current password and no
    attempt counted: a session left open was enough to take the account."""
    admin = UserFactory(role="ADMIN")
    client.force_login(admin)
    assert client.get(_password_page(admin))["Location"] == "/admin/password_change/"
    data = {"usable_password": "true", "password1": "New-Harbour-88", "password2": "New-Harbour-88"}
    response = client.post(_password_page(admin), {**data, "set-password": "Change password"})
    assert response.status_code == 302 and response["Location"] == "/admin/password_change/"
    admin.refresh_from_db()
    assert not admin.check_password("New-Harbour-88")


def test_admin_sets_a_password_through_the_service(client):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    from accounts.services import tokens_for

    admin, other = UserFactory(role="ADMIN"), UserFactory(role="MENTOR", email="milo@example.com")
    tokens_for(other)  # a device of theirs, logged out by the change
    client.force_login(admin)
    assert "Enter a new password for the user" in client.get(_password_page(other)).text

    data = {"usable_password": "true", "password1": "New-Harbour-88", "password2": "New-Harbour-88"}
    response = client.post(_password_page(other), {**data, "set-password": "Change password"}, follow=True)

    assert response.redirect_chain == [(f"/admin/accounts/user/{other.pk}/change/", 302)]
    assert [str(m) for m in response.context["messages"]] == ["Password changed."]
    other.refresh_from_db()
    assert other.check_password("New-Harbour-88")
    assert BlacklistedToken.objects.filter(token__user=other).count() == 1
    assert LogEntry.objects.get().get_change_message() == "Changed password."


def test_a_password_an_admin_sets_for_an_invited_user_signs_them_in(client):
    """As for an account an admin creates with a password: the address counts as
    confirmed, else the password handed over signs in nowhere."""
    from rest_framework.test import APIClient

    admin = UserFactory(role="ADMIN")
    invited = UserFactory(role="SALES", email="invitee@example.com", email_verified_at=None)
    client.force_login(admin)
    data = {
        "usable_password": "true",
        "password1": "Temp-Phrase-Given-77",
        "password2": "Temp-Phrase-Given-77",
    }
    response = client.post(_password_page(invited), {**data, "set-password": "Change password"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Password changed. The address counts as confirmed now, so they can sign in with it."
    ]
    assert LogEntry.objects.get().get_change_message() == "Changed password. Address confirmed."
    login = APIClient().post(
        "/api/v1/auth/login",
        {"email": "invitee@example.com", "password": "Temp-Phrase-Given-77"},
        format="json",
    )
    assert login.status_code == 200, login.content


def test_a_password_set_for_a_deactivated_user_says_they_cant_sign_in_yet(client):
    """It said "they can sign in with it"; the login answered 401."""
    admin = UserFactory(role="ADMIN")
    gone = UserFactory(role="SALES", is_active=False, email_verified_at=None)
    client.force_login(admin)
    data = {
        "usable_password": "true",
        "password1": "Temp-Phrase-Given-77",
        "password2": "Temp-Phrase-Given-77",
    }
    response = client.post(_password_page(gone), {**data, "set-password": "Change password"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Password changed. The account is deactivated: they can sign in with it once it is active again."
    ]
    gone.refresh_from_db()
    assert gone.check_password("Temp-Phrase-Given-77")


def test_admin_password_page_refuses_a_weak_password(client):
    admin, other = UserFactory(role="ADMIN"), UserFactory(role="MENTOR")
    client.force_login(admin)
    data = {"usable_password": "true", "password1": "123", "password2": "123", "set-password": "1"}
    response = client.post(_password_page(other), data)
    assert response.status_code == 200
    assert "This password is too short" in response.text
    other.refresh_from_db()
    assert other.check_password(DEFAULT_PASSWORD)
    assert not LogEntry.objects.exists()


def test_a_password_the_back_office_sets_is_no_longer_than_the_api_takes(client):
    """4,104 characters were set here; then the API's login refused it as too long."""
    from rest_framework.test import APIClient

    admin, other = UserFactory(role="ADMIN"), UserFactory(role="MENTOR")
    client.force_login(admin)
    long = "Quiet-Harbour-77-" + "x" * 112  # 129
    data = {"usable_password": "true", "password1": long, "password2": long, "set-password": "1"}
    response = client.post(_password_page(other), data)
    assert response.status_code == 200
    assert "This password is too long: use at most 128 characters." in response.text
    other.refresh_from_db()
    assert other.check_password(DEFAULT_PASSWORD)
    response = client.post("/admin/accounts/user/add/", _add_form("long@example.com", long))
    assert response.status_code == 200 and "This password is too long" in response.text
    assert not User.objects.filter(email="long@example.com").exists()
    # 128 is fine, and the API's login takes it.
    fine = long[:128]
    data.update(password1=fine, password2=fine)
    assert client.post(_password_page(other), data).status_code == 302
    login = APIClient().post("/api/v1/auth/login", {"email": other.email, "password": fine}, format="json")
    assert login.status_code == 200, login.content


def test_admin_disables_password_login(client):
    admin, other = UserFactory(role="ADMIN"), UserFactory(role="MENTOR")
    client.force_login(admin)
    response = client.post(_password_page(other), {"usable_password": "false", "unset-password": "1"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert not other.has_usable_password()


def test_admin_shows_whether_each_address_is_proven_and_changes_it_nowhere(client):
    admin = UserFactory(role="ADMIN")
    proven = UserFactory(
        email="confirmed@example.com", email_verified_at=datetime(2026, 3, 4, 9, 30, 12, 123456, tzinfo=UTC)
    )
    unproven = UserFactory(email="unproven@example.com", email_verified_at=None)
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{unproven.pk}/change/").content.decode()
    assert "Email verified" in page and "nobody has proven this address belongs to the account" in page
    assert 'name="email_verified_at"' not in page  # read-only: a link sent to the address proves it
    page = client.get(f"/admin/accounts/user/{proven.pk}/change/").content.decode()
    assert "nobody has proven" not in page
    # As the admin shows every date and time: in the site's time zone, to the minute.
    with timezone.override("Europe/Paris"):
        page = client.get(f"/admin/accounts/user/{proven.pk}/change/").content.decode()
    assert '<div class="readonly">March 4, 2026, 10:30 a.m.</div>' in page
    assert "09:30:12.123456" not in page
    listed = client.get("/admin/accounts/user/", {"email_verified": "no"}).content.decode()
    assert "unproven@example.com" in listed and "confirmed@example.com" not in listed
    data = _change_form(unproven, full_name="Renamed", email_verified_at="2026-01-01 00:00:00")
    assert client.post(f"/admin/accounts/user/{unproven.pk}/change/", data).status_code == 302
    unproven.refresh_from_db()
    assert unproven.full_name == "Renamed" and unproven.email_verified_at is None


def test_admin_logs_selected_users_out_of_every_device(client):
    from rest_framework.test import APIClient

    from accounts.services import tokens_for

    admin = UserFactory(role="ADMIN")
    ann, bob = UserFactory(email="ann@example.com"), UserFactory(email="bob@example.com")
    ann_tokens, bob_tokens = tokens_for(ann), tokens_for(bob)
    api = APIClient()

    def me(tokens):
        return api.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").status_code

    assert me(ann_tokens) == me(bob_tokens) == 200
    client.force_login(admin)
    selected = {"action": "end_sessions", "_selected_action": [str(ann.pk)]}
    # Asked first: every device of theirs signs out.
    asked = client.post("/admin/accounts/user/", selected)
    assert asked.status_code == 200
    assert "Log out of every device" in asked.text and "ann@example.com" in asked.text
    assert me(ann_tokens) == 200
    response = client.post("/admin/accounts/user/", {**selected, "post": "yes"}, follow=True)
    assert "1 user was logged out of every device." in response.text
    assert me(ann_tokens) == 401
    assert (
        api.post("/api/v1/auth/refresh", {"refresh": ann_tokens["refresh"]}, format="json").status_code == 401
    )
    assert me(bob_tokens) == 200
    ann.refresh_from_db()
    assert ann.check_password(DEFAULT_PASSWORD)  # the password stays


def test_the_admins_own_password_page_ends_every_other_session(client):
    """/admin/password_change/ (an ADMIN's own password) goes through the accounts
    service: their tokens end; this browser stays signed in."""
    from rest_framework.test import APIClient

    from accounts.services import tokens_for

    ada = UserFactory(role="ADMIN", email="ada@example.com")
    tokens = tokens_for(ada)
    api = APIClient()
    client.force_login(ada)
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "New-Harbour-88",
            "new_password2": "New-Harbour-88",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("/admin/password_change/done/")
    ada.refresh_from_db()
    assert ada.check_password("New-Harbour-88")
    assert api.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").status_code == 401
    assert api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert client.get("/admin/").status_code == 200  # this browser's session was kept


def test_the_admins_own_password_page_counts_each_try_with_the_logins(client):
    ada = UserFactory(role="ADMIN", email="ada@example.com")
    client.force_login(ada)
    wrong = {
        "old_password": "wrong-password",
        "new_password1": "New-Harbour-88",
        "new_password2": "New-Harbour-88",
    }
    for _ in range(10):
        assert client.post("/admin/password_change/", wrong).status_code == 200
    right = {**wrong, "old_password": DEFAULT_PASSWORD}
    response = client.post("/admin/password_change/", right)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many sign-in attempts" in response.text
    ada.refresh_from_db()
    assert ada.check_password(DEFAULT_PASSWORD)


def test_the_admin_shows_a_users_email_without_changing_it(client):
    admin, ann = UserFactory(role="ADMIN"), UserFactory(email="ann@example.com", full_name="Ann")
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{ann.pk}/change/").text
    assert "ann@example.com" in page and 'name="email"' not in page


@pytest.mark.parametrize("email", ["taken@example.com", "Taken@Example.COM"])
def test_admin_refuses_a_taken_email_with_one_clear_error(client, email):
    client.force_login(UserFactory(role="ADMIN"))
    UserFactory(email="taken@example.com")
    response = client.post("/admin/accounts/user/add/", _add_form(email, "Quiet-Harbour-77"))
    assert response.status_code == 200
    assert response.text.count("A user with this email address already exists.") == 1
    assert "Constraint" not in response.text and "User with this Email" not in response.text
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_deactivating_says_what_the_user_still_holds_and_is_never_refused(client):
    from datetime import date, timedelta

    from bootcamps.tests.factories import ArchivedBootcampFactory, BootcampFactory
    from leads.tests.factories import LeadFactory

    admin = UserFactory(role="ADMIN")
    ivy = UserFactory(role="INSTRUCTOR", full_name="Ivy Instructor")
    BootcampFactory(title="Web", instructors=[ivy])
    BootcampFactory(title="Data", instructors=[ivy], start_date=date.today() - timedelta(days=5))
    BootcampFactory(title="Over", instructors=[ivy], start_date=date(2025, 1, 6), end_date=date(2025, 3, 1))
    ArchivedBootcampFactory(title="Shelved", instructors=[ivy])
    sam = UserFactory(role="SALES", full_name="Sam Seller")
    LeadFactory.create_batch(2, owner=sam)
    LeadFactory(owner=sam, status="LOST", lost_reason="Chose another school.")
    nobody = UserFactory(role="MENTOR", full_name="Max Mentor")
    client.force_login(admin)

    def deactivate(user):
        response = client.post(
            f"/admin/accounts/user/{user.pk}/change/", _change_form(user, is_active=""), follow=True
        )
        assert not User.objects.get(pk=user.pk).is_active
        said = [(m.level_tag, str(m)) for m in response.context["messages"]]
        assert said[-1][0] == "success"  # saved, whatever they hold
        return said[:-1]

    assert deactivate(ivy) == [
        (
            "warning",
            "Ivy Instructor is still on the staff of Data, Web: give them someone else (the bootcamp's page, People).",
        )
    ]
    assert deactivate(sam) == [
        (
            "warning",
            "Sam Seller still owns 2 open leads: give them to someone else (Leads, filter by owner, "
            'then the action "Assign an owner").',
        )
    ]
    assert deactivate(nobody) == []
    # Another change to someone already inactive says nothing more.
    response = client.post(
        f"/admin/accounts/user/{ivy.pk}/change/",
        _change_form(User.objects.get(pk=ivy.pk), full_name="Ivy I."),
        follow=True,
    )
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_the_users_list_cant_be_filtered_by_what_it_never_shows(client):
    """?password__startswith= would read a hash one guess at a time by the count."""
    admin = UserFactory(role="ADMIN")
    UserFactory(role="STUDENT")
    client.force_login(admin)
    prefix = User.objects.exclude(pk=admin.pk).get().password[:8]
    for lookup in (f"password__startswith={prefix}", "password__startswith=zzz", "ended_sessions__has_key=x"):
        response = client.get(f"/admin/accounts/user/?{lookup}")
        assert response.status_code == 400, lookup  # Django's answer to a lookup it doesn't allow
    assert client.get("/admin/accounts/user/?role__exact=STUDENT").status_code == 200


@pytest.mark.parametrize("typed", ["Prospect@Example.com", "prospect@example.com"])
def test_an_account_added_with_a_password_is_linked_to_the_open_lead_of_its_address(
    client, typed, django_capture_on_commit_callbacks
):
    """The ADMIN who sets the password vouches for the address, as a link used
    would prove it: the lead's timeline says the person has an account, as it
    does when they confirm their own registration or when the admin sets the
    password of an account added earlier."""
    from leads.models import LeadActivity
    from leads.tests.factories import LeadFactory

    lead = LeadFactory(email="prospect@example.com")
    client.force_login(UserFactory(role="ADMIN"))
    data = {**_add_form(typed, "Quiet-Harbour-77"), "role": "STUDENT"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/accounts/user/add/", data)

    assert response.status_code == 302
    user = User.objects.get(email="prospect@example.com")
    entry = lead.activities.get()
    assert entry.kind == LeadActivity.Kind.USER_LINKED
    assert entry.data["user"]["id"] == str(user.pk)


def test_an_account_the_users_api_adds_with_a_password_is_linked_to_its_open_lead(
    admin_client, django_capture_on_commit_callbacks
):
    from leads.models import LeadActivity
    from leads.tests.factories import LeadFactory

    lead = LeadFactory(email="prospect@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/api/v1/users/",
            {
                "email": "prospect@example.com",
                "full_name": "Pro Spect",
                "password": "Quiet-Harbour-77",
                "role": "STUDENT",
            },
            format="json",
        )

    assert response.status_code == 201, response.content
    assert lead.activities.get().kind == LeadActivity.Kind.USER_LINKED
