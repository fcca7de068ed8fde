"""/api/v1/users/: user administration for ADMIN only."""

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import assert_error

USERS = "/api/v1/users/"
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role, expected",
    [(None, 401), ("STUDENT", 403), ("MENTOR", 403), ("INSTRUCTOR", 403), ("SALES", 403), ("ADMIN", 200)],
)
def test_only_admins_list_users(client_for, role, expected):
    client, _ = client_for(role)
    response = client.get(USERS)
    assert response.status_code == expected
    if expected != 200:
        assert_error(response, expected)


@pytest.mark.parametrize("role", [None, "STUDENT", "MENTOR", "INSTRUCTOR", "SALES"])
def test_non_admins_cannot_create_or_update_users(client_for, role):
    client, _ = client_for(role)
    target = UserFactory(email="target@example.com")
    payload = {"email": "x@example.com", "full_name": "X", "role": "ADMIN", "password": "Quiet-Harbour-77"}
    assert client.post(USERS, payload, format="json").status_code in (401, 403)
    assert client.patch(f"{USERS}{target.pk}/", {"role": "ADMIN"}, format="json").status_code in (401, 403)
    target.refresh_from_db()
    assert target.role == "STUDENT"
    assert not User.objects.filter(email="x@example.com").exists()


def test_list_filters_search_and_pagination(admin_client):
    UserFactory.create_batch(3, role="MENTOR")
    UserFactory(email="zed@example.com", full_name="Zed Zebra", role="SALES", is_active=False)
    body = admin_client.get(USERS, {"role": "MENTOR"}).json()
    assert body["count"] == 3 and {u["role"] for u in body["results"]} == {"MENTOR"}
    body = admin_client.get(USERS, {"is_active": "false"}).json()
    assert [u["email"] for u in body["results"]] == ["zed@example.com"]
    body = admin_client.get(USERS, {"search": "zebra"}).json()
    assert [u["email"] for u in body["results"]] == ["zed@example.com"]
    body = admin_client.get(USERS, {"page_size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert len(body["results"]) == 2 and body["next"]
    assert_error(admin_client.get(USERS, {"page_size": 100000}), 400, attr="page_size")
    assert_error(admin_client.get(USERS, {"page": 999}), 404)
    assert_error(admin_client.get(USERS, {"role": "KING"}), 400, attr="role")


def test_admin_creates_staff_user(admin_client):
    payload = {
        "email": "New.Coach@example.com",
        "full_name": "New Coach",
        "role": "INSTRUCTOR",
        "password": "Quiet-Harbour-77",
    }
    response = admin_client.post(USERS, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "INSTRUCTOR"
    user = User.objects.get(email="new.coach@example.com")
    assert user.check_password("Quiet-Harbour-77")


def test_admin_create_validates(admin_client):
    UserFactory(email="taken@example.com")
    base = {"full_name": "X", "role": "SALES", "password": "Quiet-Harbour-77"}
    assert_error(
        admin_client.post(USERS, {**base, "email": "TAKEN@example.com"}, format="json"), 400, attr="email"
    )
    assert_error(
        admin_client.post(USERS, {**base, "email": "a@example.com", "role": "KING"}, format="json"),
        400,
        attr="role",
    )
    assert_error(
        admin_client.post(USERS, {**base, "email": "a@example.com", "password": "123"}, format="json"),
        400,
        attr="password",
    )
    assert not User.objects.filter(email="a@example.com").exists()


def test_admin_updates_role_and_active(admin_client):
    user = UserFactory(email="s@example.com")
    response = admin_client.patch(f"{USERS}{user.pk}", {"role": "MENTOR", "is_active": False}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.role == "MENTOR" and not user.is_active
    assert_error(
        admin_client.patch(f"{USERS}{user.pk}/", {"email": "n@example.com"}, format="json"),
        400,
        code="unknown_field",
    )
    assert admin_client.delete(f"{USERS}{user.pk}/").status_code == 405


def test_invalid_and_unknown_ids_are_404(admin_client):
    assert_error(admin_client.get(f"{USERS}not-a-uuid/"), 404)
    assert_error(admin_client.get(f"{USERS}00000000-0000-0000-0000-000000000000/"), 404)


def test_user_cannot_raise_own_role_anywhere(student_client, student_user):
    assert student_client.patch("/api/v1/auth/me", {"role": "ADMIN"}, format="json").status_code == 400
    assert (
        student_client.patch(f"{USERS}{student_user.pk}/", {"role": "ADMIN"}, format="json").status_code
        == 403
    )
    student_user.refresh_from_db()
    assert student_user.role == "STUDENT"
