"""A PATCH that changes nothing writes nothing: the row's updated_at, its
timeline and the user's sessions stay as they were (cohortly.models.save_changes).

A client that saves a whole form back, or retries a PATCH whose answer it lost,
would otherwise show every record as edited just now."""

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import StudentFactory
from assignments.tests.factories import AssignmentFactory
from bootcamps.tests.factories import BootcampFactory
from leads.models import LeadActivity
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

A_WHILE_AGO = timezone.now() - timezone.timedelta(days=3)


def _aged(obj):
    """Stored as last changed days ago, so a write now would show."""
    type(obj).objects.filter(pk=obj.pk).update(updated_at=A_WHILE_AGO)
    obj.refresh_from_db()
    return obj


@pytest.mark.parametrize("variant", ["empty", "same values"])
def test_bootcamp_patch_that_changes_nothing_keeps_updated_at(admin_client, variant):
    bootcamp = _aged(BootcampFactory(title="Data Science", capacity=12))
    body = (
        {} if variant == "empty" else {"title": "Data Science", "capacity": 12, "price": str(bootcamp.price)}
    )

    response = admin_client.patch(f"/api/v1/bootcamps/{bootcamp.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    bootcamp.refresh_from_db()
    assert bootcamp.updated_at == A_WHILE_AGO
    assert response.json()["updated_at"] == A_WHILE_AGO.isoformat().replace("+00:00", "Z")


def test_bootcamp_patch_that_changes_one_field_still_moves_updated_at(admin_client):
    bootcamp = _aged(BootcampFactory(title="Data Science"))

    response = admin_client.patch(
        f"/api/v1/bootcamps/{bootcamp.pk}/", {"title": "Data Science II"}, format="json"
    )

    assert response.status_code == 200, response.content
    bootcamp.refresh_from_db()
    assert bootcamp.title == "Data Science II"
    assert bootcamp.updated_at > A_WHILE_AGO


@pytest.mark.parametrize("variant", ["empty", "same values"])
def test_assignment_patch_that_changes_nothing_keeps_updated_at(admin_client, variant):
    assignment = _aged(AssignmentFactory(title="Week 1"))
    body = {} if variant == "empty" else {"title": "Week 1", "due_at": assignment.due_at.isoformat()}

    response = admin_client.patch(f"/api/v1/assignments/{assignment.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    assignment.refresh_from_db()
    assert assignment.updated_at == A_WHILE_AGO


def test_assignment_patch_that_moves_the_due_time_is_saved(admin_client):
    assignment = _aged(AssignmentFactory())
    later = (assignment.due_at + timezone.timedelta(days=1)).isoformat()

    response = admin_client.patch(f"/api/v1/assignments/{assignment.pk}/", {"due_at": later}, format="json")

    assert response.status_code == 200, response.content
    assignment.refresh_from_db()
    assert assignment.due_at.isoformat() == later
    assert assignment.updated_at > A_WHILE_AGO


@pytest.mark.parametrize("variant", ["empty", "same values"])
def test_lead_patch_that_changes_nothing_keeps_updated_at_and_timeline(sales_client, variant):
    lead = _aged(LeadFactory(full_name="Grace Hopper"))
    entries = LeadActivity.objects.filter(lead=lead).count()
    body = {} if variant == "empty" else {"full_name": "Grace Hopper", "status": lead.status}

    response = sales_client.patch(f"/api/v1/leads/{lead.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.updated_at == A_WHILE_AGO
    assert LeadActivity.objects.filter(lead=lead).count() == entries


@pytest.mark.parametrize("variant", ["empty", "same values"])
def test_user_patch_that_changes_nothing_keeps_updated_at_and_sessions(admin_client, variant):
    user = _aged(StudentFactory(full_name="Ada Lovelace"))
    generation = user.token_generation
    body = (
        {}
        if variant == "empty"
        else {"full_name": "Ada Lovelace", "role": User.Role.STUDENT, "is_active": True}
    )

    response = admin_client.patch(f"/api/v1/users/{user.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.updated_at == A_WHILE_AGO
    assert user.token_generation == generation


@pytest.mark.parametrize("variant", ["empty", "same values"])
def test_profile_patch_that_changes_nothing_keeps_updated_at(client_for, variant):
    client, user = client_for(User.Role.STUDENT, full_name="Ada Lovelace")
    _aged(user)
    body = {} if variant == "empty" else {"full_name": "Ada Lovelace"}

    response = client.patch("/api/v1/auth/me", body, format="json")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.updated_at == A_WHILE_AGO
    assert response.json()["full_name"] == "Ada Lovelace"


def test_profile_patch_that_changes_the_name_is_saved(client_for):
    client, user = client_for(User.Role.STUDENT, full_name="Ada Lovelace")
    _aged(user)

    response = client.patch("/api/v1/auth/me", {"full_name": "Ada King"}, format="json")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert (user.full_name, user.updated_at > A_WHILE_AGO) == ("Ada King", True)
