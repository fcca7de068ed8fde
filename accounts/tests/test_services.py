"""accounts.services: the rules every path (API, admin, scripts) goes through."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.models import User
from accounts.tests.factories import JUNK_NAMES, JUNK_PHONES, AdminFactory, UserFactory


def _stored(user):
    return User.objects.filter(pk=user.pk).values().get()


def _refused(exc_info, field, code, message):
    assert exc_info.value.message_dict == {field: [message]}
    assert [error.code for error in exc_info.value.error_dict[field]] == [code]


# --- user_update: nobody locks themself, or Cohortly, out ----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"is_active": False}, "is_active", "You can't deactivate your own account."),
        ({"role": "INSTRUCTOR"}, "role", "You can't change your own role."),
        ({"role": "SALES", "is_active": False}, "is_active", "You can't deactivate your own account."),
    ],
)
def test_nobody_deactivates_or_changes_the_role_of_their_own_account(data, field, message):
    admin, _other_admin = AdminFactory(), AdminFactory()
    RefreshToken.for_user(admin)  # an outstanding token, which must stay valid
    before = _stored(admin)

    with pytest.raises(ValidationError) as exc_info:
        services.user_update(actor=admin, user=admin, data=data)

    _refused(exc_info, field, "own_account", message)
    assert _stored(admin) == before
    assert not BlacklistedToken.objects.exists()


@pytest.mark.django_db
def test_own_name_phone_and_unchanged_role_and_flag_are_fine():
    admin = AdminFactory()
    data = {"full_name": "Ada Renamed", "phone": "+44 20 7946 0958", "role": "ADMIN", "is_active": True}
    services.user_update(actor=admin, user=admin, data=data)
    admin.refresh_from_db()
    assert (admin.full_name, admin.phone, admin.role, admin.is_active) == (
        "Ada Renamed",
        "+44 20 7946 0958",
        "ADMIN",
        True,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("data, field", [({"is_active": False}, "is_active"), ({"role": "STUDENT"}, "role")])
def test_the_last_active_admin_is_neither_deactivated_nor_demoted_by_anyone(data, field):
    last = AdminFactory()
    AdminFactory(is_active=False)  # an inactive admin doesn't count
    actor = UserFactory(role="SALES")  # whoever asks: a script, a stale session
    RefreshToken.for_user(last)
    before = _stored(last)

    with pytest.raises(ValidationError) as exc_info:
        services.user_update(actor=actor, user=last, data=data)

    _refused(exc_info, field, "last_admin", "Cohortly needs at least one active admin.")
    assert _stored(last) == before
    assert not BlacklistedToken.objects.exists()


@pytest.mark.django_db
def test_an_admin_goes_while_another_active_admin_stays():
    first, second = AdminFactory(), AdminFactory()
    RefreshToken.for_user(second)
    services.user_update(actor=first, user=second, data={"role": "MENTOR", "is_active": False})
    second.refresh_from_db()
    assert second.role == "MENTOR" and not second.is_active
    assert BlacklistedToken.objects.filter(token__user=second).count() == 1  # logged out everywhere


@pytest.mark.django_db
def test_the_rules_compare_with_the_stored_row_not_the_instance_handed_in():
    """The admin's form sets the new values on the instance before the service
    runs: the rule must still see that this is the last active admin."""
    last = AdminFactory()
    actor = UserFactory(role="SALES")
    edited = User.objects.get(pk=last.pk)
    edited.is_active = False  # what the change form did already
    with pytest.raises(ValidationError) as exc_info:
        services.user_update(actor=actor, user=edited, data={"is_active": False})
    _refused(exc_info, "is_active", "last_admin", "Cohortly needs at least one active admin.")
    assert User.objects.get(pk=last.pk).is_active


@pytest.mark.django_db
def test_promoting_and_reactivating_need_no_other_admin():
    admin = AdminFactory()
    inactive = UserFactory(role="MENTOR", is_active=False)
    services.user_update(actor=admin, user=inactive, data={"role": "ADMIN", "is_active": True})
    inactive.refresh_from_db()
    assert inactive.role == "ADMIN" and inactive.is_active


@pytest.mark.django_db
def test_a_field_changed_since_the_admin_page_showed_it_is_refused_on_the_locked_row():
    """What the page showed (`shown`) is checked under the service's own lock: a
    name someone else changed meanwhile is refused, nothing is written; changing
    it to the same value, or changing another field, is no conflict."""
    admin = AdminFactory()
    student = UserFactory(role="STUDENT", full_name="Nora Lind", phone="+1 555 0100")
    services.user_update(actor=admin, user=User.objects.get(pk=student.pk), data={"full_name": "Nora B"})
    shown = {"full_name": "Nora Lind", "phone": "+1 555 0100", "role": "STUDENT", "is_active": True}

    with pytest.raises(ValidationError) as exc_info:
        services.user_update(actor=admin, user=student, data={"full_name": "Nora C"}, shown=shown)
    _refused(
        exc_info,
        "full_name",
        "changed_meanwhile",
        "Someone else changed this since you opened the page: open it again.",
    )
    assert _stored(student)["full_name"] == "Nora B"

    services.user_update(
        actor=admin, user=student, data={"full_name": "Nora B", "phone": "+1 555 0199"}, shown=shown
    )
    assert (_stored(student)["full_name"], _stored(student)["phone"]) == ("Nora B", "+1 555 0199")


# --- user_delete: the same lockout rules ---------------------------------------------


@pytest.mark.django_db
def test_nobody_deletes_their_own_account():
    admin, other = AdminFactory(), UserFactory(role="MENTOR")
    with pytest.raises(ValidationError) as exc_info:
        services.user_delete(actor=admin, users=[other, admin])
    assert exc_info.value.messages == ["You can't delete your own account."]
    assert exc_info.value.code == "own_account"
    assert User.objects.filter(pk__in=[admin.pk, other.pk]).count() == 2  # neither went


@pytest.mark.django_db
def test_the_last_active_admin_is_not_deleted_by_anyone():
    last = AdminFactory()
    AdminFactory(is_active=False)  # an inactive admin doesn't count
    actor = UserFactory(role="SALES")  # whoever asks: a script, a stale session
    bystander = UserFactory(role="STUDENT")
    with pytest.raises(ValidationError) as exc_info:
        services.user_delete(actor=actor, users=[bystander, last])
    assert exc_info.value.messages == ["Cohortly needs at least one active admin."]
    assert exc_info.value.code == "last_admin"
    assert User.objects.filter(pk__in=[last.pk, bystander.pk]).count() == 2


@pytest.mark.django_db
def test_a_user_other_records_refer_to_is_refused_not_a_500(make_user):
    from bootcamps.tests.factories import BootcampFactory
    from enrollments.services import enrollment_create

    admin, student, bystander = AdminFactory(), make_user(User.Role.STUDENT), UserFactory(role="MENTOR")
    enrollment_create(student=student, bootcamp=BootcampFactory(), notify=False)
    with pytest.raises(ValidationError) as exc_info:
        services.user_delete(actor=admin, users=[bystander, student])
    assert exc_info.value.code == "protected"
    assert "deactivate them instead" in exc_info.value.messages[0]
    assert User.objects.filter(pk__in=[student.pk, bystander.pk]).count() == 2  # neither went


@pytest.mark.django_db
def test_admins_delete_others_while_an_active_admin_stays():
    actor, other_admin = AdminFactory(), AdminFactory()
    student, keep = UserFactory(role="STUDENT"), UserFactory(role="MENTOR")
    assert services.user_delete(actor=actor, users=[other_admin, student]) == 2
    assert set(User.objects.values_list("pk", flat=True)) == {actor.pk, keep.pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_user_delete_holds_its_own_transaction():
    """Its row locks need one: called outside any (a shell, a management command),
    select_for_update raised once the decorator had slipped onto another function."""
    actor, student = AdminFactory(), UserFactory(role="STUDENT")
    assert services.user_delete(actor=actor, users=[student]) == 1


# --- names and phones: the model's validators, on every write ------------------------

JUNK = [("full_name", name) for name in JUNK_NAMES] + [("phone", phone) for phone in JUNK_PHONES]


@pytest.mark.django_db
@pytest.mark.parametrize("field, value", JUNK)
def test_user_create_refuses_junk_names_and_phones(field, value):
    data = {"email": "new@example.com", "full_name": "New Person", "phone": "", field: value}
    with pytest.raises(ValidationError) as exc_info:
        services.user_create(password=None, role="SALES", **data)
    assert list(exc_info.value.message_dict) == [field]
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field, value", JUNK)
def test_profile_and_admin_updates_refuse_junk_names_and_phones(field, value):
    admin = AdminFactory()
    user = UserFactory(full_name="Stella Student", phone="+1 555 0100")
    before = _stored(user)
    with pytest.raises(ValidationError) as exc_info:
        services.profile_update(user=User.objects.get(pk=user.pk), data={field: value})
    assert list(exc_info.value.message_dict) == [field]
    with pytest.raises(ValidationError) as exc_info:
        services.user_update(actor=admin, user=User.objects.get(pk=user.pk), data={field: value})
    assert list(exc_info.value.message_dict) == [field]
    assert _stored(user) == before


# --- two admins demoting each other at the same moment (PostgreSQL) ---------------


def _race(calls):
    """Run every call in its own thread (its own connection, its own
    transaction), released together. Returns what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def slow_saves(monkeypatch):
    """Widen the window between checking and writing, so that both racers have
    looked before either one commits."""
    original_save = User.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.2)
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(User, "save", slow_save)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("field, value", [("role", "SALES"), ("is_active", False)])
def test_two_admins_demoting_each_other_at_once_leave_one_admin(slow_saves, field, value):
    first, second = AdminFactory(), AdminFactory()
    outcomes = _race(
        [
            lambda: services.user_update(actor=first, user=second, data={field: value}),
            lambda: services.user_update(actor=second, user=first, data={field: value}),
        ]
    )
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(refused) == 1, outcomes
    assert [e.code for e in refused[0].error_dict[field]] == ["last_admin"]
    assert sum(isinstance(o, User) for o in outcomes) == 1, outcomes
    assert User.objects.filter(role="ADMIN", is_active=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_the_check_without_the_lock_loses_the_race(slow_saves):
    """The control: the same check and write without locking the admin rows
    lets both through and leaves no admin, so the test above really races."""

    @transaction.atomic
    def naive_demote(*, actor, user):
        if User.objects.filter(role="ADMIN", is_active=True).exclude(pk=user.pk).exists():
            user.role = User.Role.SALES
            user.save()
        return user

    first, second = AdminFactory(), AdminFactory()
    outcomes = _race(
        [lambda: naive_demote(actor=first, user=second), lambda: naive_demote(actor=second, user=first)]
    )
    assert all(isinstance(o, User) for o in outcomes), outcomes
    assert not User.objects.filter(role="ADMIN", is_active=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_set_password_link_used_twice_at_once_sets_one_password(make_user):
    """Single-use: the second use waits for the first, then sees the password it
    set (which spends the link) and is refused; the first password stands."""
    from django.contrib.auth.tokens import default_token_generator

    from conftest import race_behind_held

    user = make_user(User.Role.STUDENT, email="twice@example.com")
    token = default_token_generator.make_token(user)
    as_the_second_request_read_it = User.objects.get(pk=user.pk)
    results = race_behind_held(
        lambda: services.password_reset_confirm(user=user, token=token, new_password="First-Harbour-Lamp-41"),
        lambda: services.password_reset_confirm(
            user=as_the_second_request_read_it, token=token, new_password="Second-Harbour-Lamp-42"
        ),
    )
    assert results["holding"] is None, results  # the first use went through
    assert isinstance(results["then"], ValidationError) and "token" in results["then"].message_dict
    stored = User.objects.get(pk=user.pk)
    assert stored.check_password("First-Harbour-Lamp-41")
    assert not stored.check_password("Second-Harbour-Lamp-42")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_email_created_twice_at_once_is_refused_with_the_usual_code():
    from conftest import race_behind_held

    def create():
        return services.user_create(email="twin@example.com", password=None, full_name="Twin", role="STUDENT")

    results = race_behind_held(create, create)
    assert isinstance(results["held"], User), results
    refusal = results["then"]
    assert isinstance(refusal, ValidationError), results
    assert [error.code for error in refusal.error_dict["email"]] == ["unique"]
    assert User.objects.filter(email="twin@example.com").count() == 1
