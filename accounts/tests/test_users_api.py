"""/api/v1/users/: user administration for ADMIN only."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, JUNK_NAMES, JUNK_PHONES, UserFactory
from conftest import assert_error, auth_client

USERS = "/api/v1/users/"
ME = "/api/v1/auth/me"
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


def test_filters_narrow_the_list_never_a_user_read_by_id(admin_client):
    student = UserFactory(role=User.Role.STUDENT, full_name="Sam Student")
    for params in ("role=SALES", "is_active=false", "search=zzzz", "ordering=bogus"):
        response = admin_client.get(f"/api/v1/users/{student.pk}/?{params}")
        assert response.status_code == 200, (params, response.content)
        response = admin_client.patch(
            f"/api/v1/users/{student.pk}/?{params}", {"full_name": f"Sam {params[:4]}"}, format="json"
        )
        assert response.status_code == 200, (params, response.content)
        student.refresh_from_db()
        assert student.full_name == f"Sam {params[:4]}"


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


JUNK = [("full_name", name) for name in JUNK_NAMES] + [("phone", phone) for phone in JUNK_PHONES]


@pytest.mark.parametrize("field, value", JUNK)
def test_admin_create_and_update_refuse_junk_names_and_phones(admin_client, field, value):
    payload = {"email": "new@example.com", "full_name": "New Person", "role": "SALES", field: value}
    assert_error(admin_client.post(USERS, payload, format="json"), 400, code="invalid", attr=field)
    assert not User.objects.filter(email="new@example.com").exists()

    user = UserFactory(full_name="Stella Student", phone="+1 555 0100")
    student = auth_client(user)
    before = User.objects.filter(pk=user.pk).values().get()
    response = admin_client.patch(f"{USERS}{user.pk}/", {field: value, "role": "MENTOR"}, format="json")
    assert_error(response, 400, code="invalid", attr=field)
    assert User.objects.filter(pk=user.pk).values().get() == before
    assert student.get(ME).status_code == 200


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


# --- nobody locks themself, or Cohortly, out ----------------------------------------

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


def _logged_in(anon_client, user):
    """Log `user` in through the API: an access token on the client, and the refresh token."""
    tokens = anon_client.post(
        LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    ).json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return anon_client, tokens["refresh"]


def _still_logged_in(client, refresh):
    assert client.get(ME).status_code == 200
    assert client.post(REFRESH, {"refresh": refresh}, format="json").status_code == 200


@pytest.mark.parametrize(
    "change, attr, detail",
    [
        ({"is_active": False}, "is_active", "You can't deactivate your own account."),
        ({"role": "SALES"}, "role", "You can't change your own role."),
        ({"full_name": "Ada Renamed", "role": "STUDENT"}, "role", "You can't change your own role."),
    ],
)
def test_admin_cannot_deactivate_or_demote_themself(anon_client, admin_user, change, attr, detail):
    UserFactory(role="ADMIN")  # not the last admin: the rule is about one's own account
    client, refresh = _logged_in(anon_client, admin_user)
    before = User.objects.filter(pk=admin_user.pk).values().get()

    body = assert_error(
        client.patch(f"{USERS}{admin_user.pk}/", change, format="json"), 400, code="own_account", attr=attr
    )

    assert body["type"] == "validation_error"
    assert body["errors"] == [{"code": "own_account", "detail": detail, "attr": attr}]
    assert User.objects.filter(pk=admin_user.pk).values().get() == before
    _still_logged_in(client, refresh)


def test_admin_may_edit_their_own_name_and_resend_their_own_role(admin_client, admin_user):
    response = admin_client.patch(
        f"{USERS}{admin_user.pk}/",
        {"full_name": "Ada Renamed", "role": "ADMIN", "is_active": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    admin_user.refresh_from_db()
    assert admin_user.full_name == "Ada Renamed" and admin_user.role == "ADMIN" and admin_user.is_active


def test_admin_deactivates_and_demotes_another_admin(admin_client):
    other = UserFactory(role="ADMIN")
    response = admin_client.patch(f"{USERS}{other.pk}/", {"role": "SALES"}, format="json")
    assert response.status_code == 200, response.content
    response = admin_client.patch(f"{USERS}{other.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200, response.content
    other.refresh_from_db()
    assert other.role == "SALES" and not other.is_active


@pytest.mark.parametrize("change, attr", [({"is_active": False}, "is_active"), ({"role": "MENTOR"}, "role")])
def test_the_last_active_admin_stays(anon_client, shared_cache, change, attr):
    """The rule counts the stored rows, not the caller's copy: here the caller
    was deactivated behind the API's back (a raw update) and still holds a
    cached copy that authenticates, as it may for USER_CACHE_SECONDS."""
    shared_cache.USER_CACHE_SECONDS = 60
    caller, last = UserFactory(role="ADMIN"), UserFactory(role="ADMIN")
    UserFactory(role="ADMIN", is_active=False)  # an inactive admin doesn't count
    client = auth_client(caller)
    assert client.get(ME).status_code == 200  # caches the caller
    User.objects.filter(pk=caller.pk).update(is_active=False)
    last_client, last_refresh = _logged_in(APIClient(), last)
    before = User.objects.filter(pk=last.pk).values().get()

    body = assert_error(
        client.patch(f"{USERS}{last.pk}/", change, format="json"), 400, code="last_admin", attr=attr
    )

    assert body["errors"] == [
        {"code": "last_admin", "detail": "Cohortly needs at least one active admin.", "attr": attr}
    ]
    assert User.objects.filter(pk=last.pk).values().get() == before
    _still_logged_in(last_client, last_refresh)


def test_the_lockout_refusals_are_documented():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/users/{id}/"]["patch"]
    assert "400" in operation["responses"]
    assert "last active ADMIN" in operation["description"]
    components = schema["components"]["schemas"]
    for field in ("IsActive", "Role"):
        codes = components[f"UsersPartialUpdate{field}ErrorComponent"]["properties"]["code"]["enum"]
        assert {"own_account", "last_admin"} <= set(codes)
    role_codes = components["UsersPartialUpdateRoleErrorComponent"]["properties"]["code"]["enum"]
    assert {"holds_enrollments", "on_bootcamp_staff", "owns_leads"} <= set(role_codes)


@pytest.mark.parametrize("status, refused", [("ACTIVE", True), ("WAITLISTED", True), ("COMPLETED", False)])
def test_a_student_holding_a_seat_or_a_place_stays_a_student(admin_client, status, refused):
    from enrollments.tests.factories import EnrollmentFactory

    enrollment = (
        EnrollmentFactory(waitlisted=True) if status == "WAITLISTED" else EnrollmentFactory(status=status)
    )
    student = enrollment.student
    response = admin_client.patch(
        f"{USERS}{student.pk}/", {"role": "MENTOR", "full_name": "New Name"}, format="json"
    )
    student.refresh_from_db()
    if refused:
        body = assert_error(response, 400, code="holds_enrollments", attr="role")
        assert "cancel it first" in body["errors"][0]["detail"]
        assert (student.role, student.full_name) == ("STUDENT", enrollment.student.full_name)
    else:
        assert response.status_code == 200, response.json()
        assert student.role == "MENTOR"


@pytest.mark.parametrize("role, field", [("INSTRUCTOR", "instructors"), ("MENTOR", "mentors")])
def test_a_bootcamps_instructor_or_mentor_keeps_that_role_until_taken_off(admin_client, role, field):
    from bootcamps.tests.factories import ArchivedBootcampFactory, BootcampFactory

    person = UserFactory(role=role)
    running = BootcampFactory(title="Data Science Spring")
    getattr(running, field).add(person)
    getattr(ArchivedBootcampFactory(title="Old One"), field).add(person)
    tokens = auth_client(person)

    body = assert_error(
        admin_client.patch(f"{USERS}{person.pk}/", {"role": "SALES"}, format="json"),
        400,
        code="on_bootcamp_staff",
        attr="role",
    )
    assert f"among the {field} of Data Science Spring: take them off" in body["errors"][0]["detail"]
    assert "Old One" not in body["errors"][0]["detail"]
    person.refresh_from_db()
    assert person.role == role
    assert tokens.get(ME).status_code == 200  # a refusal logs nobody out

    getattr(running, field).remove(person)  # only the archived bootcamp is left: history
    assert admin_client.patch(f"{USERS}{person.pk}/", {"role": "SALES"}, format="json").status_code == 200
    person.refresh_from_db()
    assert person.role == "SALES"


@pytest.mark.parametrize("role", ["SALES", "ADMIN"])
def test_whoever_owns_open_leads_stays_in_sales_until_they_are_given_away(admin_client, role):
    from leads.services import lead_assign
    from leads.tests.factories import LeadFactory

    person = UserFactory(role=role)
    open_leads = [LeadFactory(owner=person, status=status) for status in ("NEW", "CONTACTED")]
    LeadFactory(owner=person, status="LOST", lost_reason="Chose another school")  # history

    body = assert_error(
        admin_client.patch(f"{USERS}{person.pk}/", {"role": "MENTOR"}, format="json"),
        400,
        code="owns_leads",
        attr="role",
    )
    assert "owns 2 open leads: give them to someone else first" in body["errors"][0]["detail"]
    person.refresh_from_db()
    assert person.role == role

    # Between sales and admin, nothing changes hands.
    other = "ADMIN" if role == "SALES" else "SALES"
    assert admin_client.patch(f"{USERS}{person.pk}/", {"role": other}, format="json").status_code == 200

    for lead in open_leads:
        lead_assign(lead=lead, actor=None, owner=None)
    response = admin_client.patch(f"{USERS}{person.pk}/", {"role": "MENTOR"}, format="json")
    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert person.role == "MENTOR"


@pytest.mark.parametrize("role, field", [("INSTRUCTOR", "instructors"), ("MENTOR", "mentors")])
def test_a_bootcamp_whose_staff_changed_role_while_archived_stays_archived(admin_client, role, field):
    """Changing the role of an archived bootcamp's instructor is allowed (it is
    history); bringing the bootcamp back would list someone who can't open it."""
    from bootcamps.models import Bootcamp
    from bootcamps.tests.factories import ArchivedBootcampFactory

    person = UserFactory(role=role, full_name="Ivan Teacher")
    old = ArchivedBootcampFactory(title="Old One")
    getattr(old, field).add(person)
    assert admin_client.patch(f"{USERS}{person.pk}/", {"role": "STUDENT"}, format="json").status_code == 200

    response = admin_client.patch(f"/api/v1/bootcamps/{old.pk}/", {"status": "PUBLISHED"}, format="json")
    body = assert_error(response, 400, code="invalid_role", attr=field)
    assert body["errors"][0]["detail"].startswith(f"No longer {role.lower()}s: Ivan Teacher.")
    old.refresh_from_db()
    assert old.status == Bootcamp.Status.ARCHIVED
    # Taken off in the same change, it goes back.
    response = admin_client.patch(
        f"/api/v1/bootcamps/{old.pk}/", {"status": "DRAFT", field: []}, format="json"
    )
    assert response.status_code == 200, response.content
    old.refresh_from_db()
    assert (old.status, list(getattr(old, field).all())) == (Bootcamp.Status.DRAFT, [])


def test_the_user_search_finds_a_phone_however_it_is_written(admin_client):
    """As the README says, and as the back office's user search finds them."""
    aisha = UserFactory(full_name="Aisha Costa", phone="+31 6 5798 5331")
    UserFactory(full_name="Other Person", phone="+44 20 7946 0958")
    for term in ("657985331", "+31 657", "0657985331", "+31 6 57 98 53 31", "Aisha", "aisha costa"):
        found = admin_client.get(USERS, {"search": term}).json()["results"]
        assert [row["id"] for row in found] == [str(aisha.pk)], term
    # Still within the other filters.
    assert admin_client.get(USERS, {"search": "657985331", "role": "ADMIN"}).json()["count"] == 0
    # Each word in a name, an email or a phone (however written), and a number over
    # several words, as the back office's search.
    for term in (
        "aisha 5798",
        "Aisha 657985331",
        "Aisha +31657985331",
        "Aisha 06 5798 5331",
        "Costa 0657985331",
    ):
        found = admin_client.get(USERS, {"search": term}).json()["results"]
        assert [row["id"] for row in found] == [str(aisha.pk)], term
    for term in ("Other 657985331", "Aisha 06 5798 5332"):
        assert admin_client.get(USERS, {"search": term}).json()["count"] == 0, term
