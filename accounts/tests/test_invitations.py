"""An ADMIN invites people (an account without a password, and an email with the
link to set one) and sends set-password links, in the API and the admin."""

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.test_email_verification import LOGIN, PASSWORD_RESET_CONFIRM, link_in

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
CHOSEN = "Harbour-Lights-42"


def set_password_and_sign_in(message, email: str) -> int:
    """Follow the emailed link as the frontend does, then sign in: the login's status."""
    anon = Client()
    confirm = anon.post(
        PASSWORD_RESET_CONFIRM,
        {**link_in(message, "reset-password"), "new_password": CHOSEN},
        content_type="application/json",
    )
    assert confirm.status_code == 204, confirm.content
    return anon.post(LOGIN, {"email": email, "password": CHOSEN}, content_type="application/json").status_code


def test_an_account_made_without_a_password_is_an_invitation(
    admin_client, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            USERS,
            {"email": "Nia@Example.com", "full_name": "Nia Okafor", "role": "INSTRUCTOR"},
            format="json",
        )
    assert response.status_code == 201, response.content
    user = User.objects.get(email="nia@example.com")
    assert not user.has_usable_password() and user.email_verified_at is None
    [message] = mailoutbox
    assert message.to == ["nia@example.com"]
    assert message.subject == "Your Cohortly account: set your password"
    assert "Ada Admin has made you a Cohortly account, nia@example.com, as instructor." in message.body
    # The link sets the password and proves the address: the account signs in.
    assert set_password_and_sign_in(message, "nia@example.com") == 200
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_an_account_made_with_a_password_is_not_emailed(
    admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            USERS,
            {"email": "sam@example.com", "full_name": "Sam", "role": "SALES", "password": "Quiet-Harbour-77"},
            format="json",
        )
    assert response.status_code == 201
    assert mailoutbox == []


def test_an_inactive_account_is_not_invited(admin_client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            USERS,
            {"email": "later@example.com", "full_name": "Later", "role": "STUDENT", "is_active": False},
            format="json",
        )
    assert response.status_code == 201
    assert mailoutbox == []


def test_an_account_invited_while_inactive_is_invited_once_activated(
    admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    """The API promises an account made without a password is emailed its link.
    One made inactive got none then, nor when it was activated: an API-only staff
    frontend had no way left to send it (the back office's link action)."""
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_client.post(
            USERS,
            {"email": "later@example.com", "full_name": "Later", "role": "STUDENT", "is_active": False},
            format="json",
        )
    pk = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.patch(f"{USERS}{pk}/", {"is_active": True}, format="json")
    assert response.status_code == 200, response.content
    [message] = mailoutbox
    assert message.subject == "Your Cohortly account: set your password"
    assert set_password_and_sign_in(message, "later@example.com") == 200

    # Deactivated and activated again once it has signed in: no new invitation.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.patch(f"{USERS}{pk}/", {"is_active": False}, format="json")
        admin_client.patch(f"{USERS}{pk}/", {"is_active": True}, format="json")
    assert mailoutbox == []


# --- the admin -----------------------------------------------------------------------------------


def _add_form(**overrides):
    return {
        "email": "nia@example.com",
        "full_name": "Nia Okafor",
        "phone": "",
        "role": "MENTOR",
        "is_active": "on",
        "password1": "",
        "password2": "",
        **overrides,
    }


def test_the_admin_invites_when_both_passwords_are_left_empty(
    admin_web, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post("/admin/accounts/user/add/", _add_form(), follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert "An invitation to set a password went to nia@example.com." in messages
    [message] = mailoutbox
    assert "as mentor." in message.body
    assert set_password_and_sign_in(message, "nia@example.com") == 200


def test_the_admin_add_page_says_how_to_invite(admin_web):
    page = admin_web.get("/admin/accounts/user/add/").content.decode()
    assert "Leave both empty to email an invitation" in page


@pytest.mark.parametrize(
    ("typed", "field", "error"),
    [
        ({"password1": "Quiet-Harbour-77"}, "password2", "Type the password again, or leave both empty"),
        ({"password2": "Quiet-Harbour-77"}, "password1", "Type the password here too, or leave both empty"),
    ],
)
def test_one_password_alone_is_a_mistake_not_an_invitation(admin_web, mailoutbox, typed, field, error):
    response = admin_web.post("/admin/accounts/user/add/", _add_form(**typed))
    assert response.status_code == 200
    assert error in str(response.context["adminform"].form.errors[field])
    assert not User.objects.filter(email="nia@example.com").exists() and mailoutbox == []


def test_the_action_sends_each_the_link_that_fits(admin_web, mailoutbox, django_capture_on_commit_callbacks):
    # As the admin's add form leaves an invited account: no password, address unproven.
    invited = UserFactory(email="invited@example.com", password=None, email_verified_at=None)
    invited.set_unusable_password()
    invited.save()
    member = UserFactory(email="member@example.com")
    # Had an account all along; its password was taken away since ("disable password login").
    disabled = UserFactory(email="disabled@example.com")
    disabled.set_unusable_password()
    disabled.save()
    gone = UserFactory(email="gone@example.com", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(
            "/admin/accounts/user/",
            {
                "action": "send_password_links",
                "_selected_action": [invited.pk, member.pk, disabled.pk, gone.pk],
                "post": "yes",
            },
            follow=True,
        )
    assert [str(m) for m in response.context["messages"]] == [
        "Links to set a password went to disabled@example.com, invited@example.com, member@example.com.",
        "Not sent: gone@example.com is deactivated (activate the account first).",
    ]
    by_address = {message.to[0]: message for message in mailoutbox}
    assert set(by_address) == {"invited@example.com", "member@example.com", "disabled@example.com"}
    assert by_address["invited@example.com"].subject == "Your Cohortly account: set your password"
    assert by_address["member@example.com"].subject == "Set a new Cohortly password"
    # Not told someone "has made you a Cohortly account".
    assert by_address["disabled@example.com"].subject == "Set a new Cohortly password"
    assert "has no password at the moment" in by_address["disabled@example.com"].body
    assert "Until you use it, your current password keeps working." in by_address["member@example.com"].body
    assert set_password_and_sign_in(by_address["member@example.com"], "member@example.com") == 200
    # Who had a link sent, by whom: in the History of each account it went to.
    from django.contrib.admin.models import LogEntry

    logged = LogEntry.objects.filter(change_message="Emailed a link to set a password (action).")
    assert sorted(logged.values_list("object_repr", flat=True)) == sorted(
        [str(disabled), str(invited), str(member)]
    )
    assert not LogEntry.objects.filter(object_id=str(gone.pk)).exists()


def test_a_link_sent_to_an_address_nobody_has_proven_carries_nothing_a_stranger_typed(
    admin_web, mailoutbox, django_capture_on_commit_callbacks
):
    """Anyone may register someone else's address, with a name of their choosing
    ("your bank account is locked, visit ..."): the back office's link to that
    account's still unproven address says neither that name nor that the
    stranger's password works (it signs in nowhere until the address is proven)."""
    stranger = UserFactory(
        email="target@example.org", full_name="Your account is locked visit evil", email_verified_at=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_web.post(
            "/admin/accounts/user/",
            {"action": "send_password_links", "_selected_action": [stranger.pk], "post": "yes"},
        )
    [message] = mailoutbox
    assert message.subject == "Set a new Cohortly password"
    assert message.body.startswith("Hello,"), message.body[:40]
    assert "evil" not in message.body
    assert "your current password keeps working" not in message.body
    assert "Nobody has confirmed yet that this address belongs to the account" in message.body
    assert set_password_and_sign_in(message, "target@example.org") == 200


def test_logging_yourself_out_everywhere_keeps_this_page(admin_web, admin_user, make_user):
    from accounts.services import tokens_for

    other = make_user(User.Role.SALES)
    own_token, other_token = tokens_for(admin_user)["access"], tokens_for(other)["access"]
    response = admin_web.post(
        "/admin/accounts/user/",
        {"action": "end_sessions", "_selected_action": [admin_user.pk, other.pk], "post": "yes"},
        follow=True,
    )
    assert "2 users were logged out of every device." in [str(m) for m in response.context["messages"]]
    from django.contrib.admin.models import LogEntry

    logged = LogEntry.objects.filter(user=admin_user, change_message="Logged out of every device (action).")
    assert sorted(logged.values_list("object_id", flat=True)) == sorted([str(admin_user.pk), str(other.pk)])
    assert admin_web.get("/admin/accounts/user/").status_code == 200  # still signed in here
    for token in (own_token, other_token):  # every other device is out
        me = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert me.status_code == 401


def test_an_undeliverable_address_is_not_said_to_be_invited_nor_sent_a_link(
    admin_web, mailoutbox, django_capture_on_commit_callbacks
):
    from mail.tests.factories import SuppressedAddressFactory

    SuppressedAddressFactory(address="nia@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post("/admin/accounts/user/add/", _add_form(), follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Not sent: nia@example.com is on the suppression list") for m in said), said
    assert not any("went to" in m for m in said)
    nia = User.objects.get(email="nia@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(
            "/admin/accounts/user/",
            {"action": "send_password_links", "_selected_action": [nia.pk], "post": "yes"},
            follow=True,
        )
    said = [str(m) for m in response.context["messages"]]
    assert said == [
        "Not sent: nia@example.com is on the suppression list (it bounced or reported spam). Remove it there "
        "(Mail → Suppressed addresses) once the person confirms it works, then send the link again."
    ]
    assert mailoutbox == []


def test_the_admin_says_activating_an_invited_account_invites_it_once(
    admin_web, mailoutbox, django_capture_on_commit_callbacks
):
    """Activating an account invited while inactive emails its link (user_update):
    the add page's advice to activate it *then send a link* sent two, and the
    activation said nothing of the one that went."""
    with django_capture_on_commit_callbacks(execute=True):
        added = admin_web.post("/admin/accounts/user/add/", _add_form(is_active=""), follow=True)
    assert "Not invited yet: nia@example.com is deactivated; activating it emails the invitation." in [
        str(m) for m in added.context["messages"]
    ]
    assert mailoutbox == []
    nia = User.objects.get(email="nia@example.com")
    form = {"email": nia.email, "full_name": nia.full_name, "phone": "", "role": nia.role, "is_active": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        activated = admin_web.post(f"/admin/accounts/user/{nia.pk}/change/", form, follow=True)
    assert "An invitation to set a password went to nia@example.com." in [
        str(m) for m in activated.context["messages"]
    ]
    [message] = mailoutbox
    assert message.subject == "Your Cohortly account: set your password"


def test_the_link_action_says_activating_an_invited_account_invites_it(admin_web, mailoutbox):
    waiting = UserFactory(email="waiting@example.com", is_active=False, email_verified_at=None)
    waiting.set_unusable_password()
    waiting.save()
    response = admin_web.post(
        "/admin/accounts/user/",
        {"action": "send_password_links", "_selected_action": [waiting.pk], "post": "yes"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Not sent: waiting@example.com is deactivated (activating it emails the invitation)."
    ]
    assert mailoutbox == []
