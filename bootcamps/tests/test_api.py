import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from assignments.tests.factories import AssignmentFactory
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import (
    ArchivedBootcampFactory,
    BootcampFactory,
    DraftBootcampFactory,
    RunningBootcampFactory,
)
from cohortly.tests.openapi_checks import documented_fields
from conftest import assert_error
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from enrollments.tests.factories import EnrollmentFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
Role = User.Role
URL = "/api/v1/bootcamps/"
ROLES = [None, Role.ADMIN, Role.SALES, Role.INSTRUCTOR, Role.MENTOR, Role.STUDENT]


def detail(bootcamp):
    return f"{URL}{bootcamp.pk}/"


def payload(**overrides):
    start = timezone.localdate() + timedelta(days=30)
    data = {
        "title": "Full-Stack Web Development",
        "description": "Twelve weeks.",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=84)).isoformat(),
        "capacity": 12,
        "price": "6900.00",
        "currency": "EUR",
        "delivery_format": "HYBRID",
        "location": "Amsterdam",
        "status": "PUBLISHED",
    }
    data.update(overrides)
    return data


# --- reading ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees_all"),
    [
        (None, False),
        (Role.ADMIN, True),
        (Role.SALES, True),
        (Role.INSTRUCTOR, True),
        (Role.MENTOR, True),
        (Role.STUDENT, False),
    ],
)
def test_list_visibility_by_role(client_for, role, sees_all):
    published, draft, archived = BootcampFactory(), DraftBootcampFactory(), ArchivedBootcampFactory()
    client, _ = client_for(role)
    response = client.get(URL)
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == ({published.pk, draft.pk, archived.pk} if sees_all else {published.pk})


@pytest.mark.parametrize(
    ("role", "draft_status"),
    [
        (None, 404),
        (Role.ADMIN, 200),
        (Role.SALES, 200),
        (Role.INSTRUCTOR, 200),
        (Role.MENTOR, 200),
        (Role.STUDENT, 404),
    ],
)
def test_retrieve_by_role(client_for, role, draft_status):
    published, draft = BootcampFactory(), DraftBootcampFactory()
    client, _ = client_for(role)
    assert client.get(detail(published)).json()["id"] == published.pk
    response = client.get(detail(draft))
    if draft_status == 404:
        assert_error(response, 404, code="not_found")
    else:
        assert response.status_code == 200 and response.json()["status"] == "DRAFT"


def test_retrieve_shape_people_and_seats(anon_client, make_user):
    instructor = make_user(Role.INSTRUCTOR, full_name="Iris Instructor")
    mentor = make_user(Role.MENTOR, full_name="Milo Mentor")
    bootcamp = BootcampFactory(capacity=4, instructors=[instructor], mentors=[mentor], title="Data Science")
    for status in ["ACTIVE", "ACTIVE", "COMPLETED", "CANCELLED", "DROPPED"]:
        EnrollmentFactory(bootcamp=bootcamp, status=status)
    EnrollmentFactory(bootcamp=bootcamp, waitlisted=True)

    body = anon_client.get(f"/api/v1/bootcamps/{bootcamp.pk}").json()  # no trailing slash works too
    assert set(body) == documented_fields("Bootcamp")
    assert body["instructors"] == [{"id": str(instructor.pk), "full_name": "Iris Instructor"}]
    assert body["mentors"] == [{"id": str(mentor.pk), "full_name": "Milo Mentor"}]
    assert (body["seats_taken"], body["seats_left"]) == (3, 1)
    assert body["price"] == "4500.00"
    assert body["slug"] == bootcamp.slug


def test_seats_left_never_goes_below_zero(anon_client):
    bootcamp = BootcampFactory(capacity=2)
    EnrollmentFactory.create_batch(2, bootcamp=bootcamp)
    Bootcamp.objects.filter(pk=bootcamp.pk).update(capacity=1)  # as a raw edit could
    body = anon_client.get(detail(bootcamp)).json()
    assert (body["seats_taken"], body["seats_left"]) == (2, 0)


def test_unknown_and_malformed_ids_are_404(anon_client):
    assert_error(anon_client.get(f"{URL}999999/"), 404)
    assert_error(anon_client.get(f"{URL}abc/"), 404)


def _with_people(n, make_user):
    instructors = [make_user(Role.INSTRUCTOR) for _ in range(2)]
    mentors = [make_user(Role.MENTOR) for _ in range(2)]
    for _ in range(n):
        bootcamp = BootcampFactory(instructors=instructors, mentors=mentors)
        EnrollmentFactory.create_batch(2, bootcamp=bootcamp)


@pytest.mark.parametrize("role", [None, Role.ADMIN, Role.STUDENT])
def test_list_runs_a_fixed_number_of_queries(
    client_for,
    make_user,
    django_assert_max_num_queries,
    django_assert_num_queries,
    no_throttle,
    role,
    no_query_cache,
):
    # count, the page, its seats and people (one query); + the user behind a token
    client, _ = client_for(role)
    _with_people(5, make_user)
    client.get(URL)  # with Redis the user is then cached: both measurements see the same state
    with django_assert_max_num_queries(4 if role is None else 5) as captured:
        response = client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 5
    _with_people(20, make_user)
    with django_assert_num_queries(len(captured.captured_queries)):
        response = client.get(URL, {"page_size": 100})
    results = response.json()["results"]
    assert len(results) == 25
    assert all(
        len(row["instructors"]) == 2 and len(row["mentors"]) == 2 and row["seats_taken"] == 2
        for row in results
    )
    # The people are loaded without password hashes or emails.
    assert "password" not in captured.captured_queries[-1]["sql"]


# --- filters, search, ordering --------------------------------------------------


def test_filters(admin_client, make_user):
    today = timezone.localdate()
    instructor = make_user(Role.INSTRUCTOR)
    early = BootcampFactory(
        start_date=today + timedelta(days=5), delivery_format="ONSITE", instructors=[instructor]
    )
    late = BootcampFactory(start_date=today + timedelta(days=50), delivery_format="HYBRID")
    draft = DraftBootcampFactory(start_date=today + timedelta(days=20))

    def ids(**params):
        response = admin_client.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(status="DRAFT") == [draft.pk]
    assert ids(status=["DRAFT", "PUBLISHED"]) == [early.pk, draft.pk, late.pk]
    assert ids(delivery_format="HYBRID") == [late.pk]
    assert ids(start_after=(today + timedelta(days=20)).isoformat()) == [draft.pk, late.pk]
    assert ids(start_before=(today + timedelta(days=20)).isoformat()) == [early.pk, draft.pk]
    assert ids(instructor=str(instructor.pk)) == [early.pk]
    assert ids(slug=late.slug) == [late.pk]


def test_filters_narrow_lists_never_a_bootcamp_read_by_id(admin_client):
    published = BootcampFactory(title="Rust")
    # A filter or search that would leave it out of the list doesn't hide it by
    # id (nor does a bad filter value: the list's filters are not read at all).
    for params in ({"status": "DRAFT"}, {"search": "cobol"}, {"start_after": "tomorrow"}):
        response = admin_client.get(f"{URL}{published.pk}/", params)
        assert response.status_code == 200, (params, response.content)
        assert response.json()["title"] == "Rust"
    response = admin_client.patch(f"{URL}{published.pk}/?status=DRAFT", {"location": "Lyon"}, format="json")
    assert response.status_code == 200, response.content
    published.refresh_from_db()
    assert published.location == "Lyon"


@pytest.mark.parametrize(
    ("param", "value"),
    [("start_after", "tomorrow"), ("instructor", "not-a-uuid"), ("status", "LIVE"), ("delivery_format", "x")],
)
def test_bad_filter_values_are_400(admin_client, param, value):
    assert_error(admin_client.get(URL, {param: value}), 400, attr=param)


def test_search_and_ordering(anon_client):
    a = BootcampFactory(title="Python Basics", price=Decimal("300"), description="snakes")
    b = BootcampFactory(title="Advanced SQL", price=Decimal("900"), description="queries in python")
    c = BootcampFactory(title="Rust", price=Decimal("300"))

    def ids(**params):
        return [row["id"] for row in anon_client.get(URL, params).json()["results"]]

    assert set(ids(search="python")) == {a.pk, b.pk}
    assert ids(ordering="title") == [b.pk, a.pk, c.pk]
    assert ids(ordering="-price") == [b.pk, a.pk, c.pk]  # ties broken by id
    assert ids(ordering="price") == [a.pk, c.pk, b.pk]


# --- creating -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, 401),
        (Role.ADMIN, 201),
        (Role.SALES, 403),
        (Role.INSTRUCTOR, 403),
        (Role.MENTOR, 403),
        (Role.STUDENT, 403),
    ],
)
def test_create_by_role(client_for, role, expected):
    client, _ = client_for(role)
    response = client.post(URL, payload(), format="json")
    if expected == 201:
        assert response.status_code == 201
    else:
        assert_error(response, expected)
        assert not Bootcamp.objects.exists()


def test_create_returns_the_bootcamp_and_stores_it(admin_client, make_user):
    instructor, mentor = make_user(Role.INSTRUCTOR), make_user(Role.MENTOR)
    BootcampFactory(slug="full-stack-web-development")
    response = admin_client.post(
        URL,
        payload(instructors=[str(instructor.pk)], mentors=[str(mentor.pk)], currency="usd"),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "full-stack-web-development-2"
    assert body["currency"] == "USD"
    assert body["instructors"] == [{"id": str(instructor.pk), "full_name": instructor.full_name}]
    assert (body["seats_taken"], body["seats_left"]) == (0, 12)
    bootcamp = Bootcamp.objects.get(pk=body["id"])
    assert bootcamp.price == Decimal("6900.00") and bootcamp.capacity == 12
    assert list(bootcamp.mentors.all()) == [mentor]


def test_create_minimal_uses_defaults(admin_client):
    data = {
        k: v for k, v in payload().items() if k in {"title", "start_date", "end_date", "capacity", "price"}
    }
    body = admin_client.post(URL, data, format="json").json()
    assert (body["status"], body["currency"], body["delivery_format"], body["description"]) == (
        "DRAFT",
        "EUR",
        "ONLINE",
        "",
    )


@pytest.mark.parametrize("field", ["title", "start_date", "end_date", "capacity", "price"])
def test_create_missing_field(admin_client, field):
    data = payload()
    del data[field]
    assert_error(admin_client.post(URL, data, format="json"), 400, code="required", attr=field)


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"capacity": "ten"}, "capacity"),
        ({"capacity": 2.5}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -3}, "capacity"),
        ({"price": "free"}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": "12345678901.00"}, "price"),
        ({"price": "10.001"}, "price"),
        ({"start_date": "next monday"}, "start_date"),
        ({"end_date": "2020-02-30"}, "end_date"),
        ({"status": "LIVE"}, "status"),
        ({"delivery_format": "MOON"}, "delivery_format"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "E1R"}, "currency"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"title": ["a list"]}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"location": "x" * 201}, "location"),
        ({"description": "x" * 10_001}, "description"),
        ({"instructors": "not-a-list"}, "instructors"),
        ({"instructors": ["not-a-uuid"]}, "instructors"),
        ({"instructors": [str(uuid.uuid4())]}, "instructors"),
        ({"mentors": [{"id": 1}]}, "mentors"),
    ],
)
def test_create_bad_input_is_400_on_the_field(admin_client, changes, attr):
    assert_error(admin_client.post(URL, payload(**changes), format="json"), 400, attr=attr)
    assert not Bootcamp.objects.exists()


@pytest.mark.parametrize("field", ["slug", "seats_taken", "id", "colour"])
def test_create_refuses_unknown_and_read_only_fields(admin_client, field):
    body = assert_error(
        admin_client.post(URL, payload(**{field: "x"}), format="json"), 400, code="unknown_field"
    )
    assert repr(field) in body["errors"][0]["detail"]
    assert not Bootcamp.objects.exists()


def test_create_end_before_start(admin_client):
    start = timezone.localdate()
    data = payload(start_date=start.isoformat(), end_date=(start - timedelta(days=1)).isoformat())
    body = assert_error(admin_client.post(URL, data, format="json"), 400, attr="end_date")
    assert "before the start date" in body["errors"][0]["detail"]
    assert body["errors"][0]["code"] == "end_before_start"


@pytest.mark.parametrize(
    ("changes", "attr", "code"),
    [
        ({"start_date": "2207-03-01"}, "start_date", "max_value"),
        ({"start_date": "1999-12-31"}, "start_date", "min_value"),
        ({"start_date": "2027-03-01", "end_date": "2207-06-01"}, "end_date", "max_value"),
        ({"start_date": "2027-03-01", "end_date": "2029-03-02"}, "end_date", "too_long"),
        ({"capacity": 100_001}, "capacity", "max_value"),
    ],
)
def test_create_refuses_implausible_dates_and_capacities(admin_client, changes, attr, code):
    body = assert_error(admin_client.post(URL, payload(**changes), format="json"), 400, code=code, attr=attr)
    assert len(body["errors"]) == 1
    assert not Bootcamp.objects.exists()


def test_the_longest_and_largest_plausible_bootcamp_is_accepted(admin_client):
    data = payload(start_date="2027-03-01", end_date="2029-03-01", capacity=100_000)
    assert admin_client.post(URL, data, format="json").status_code == 201
    bootcamp = Bootcamp.objects.get()
    assert (bootcamp.end_date - bootcamp.start_date).days == Bootcamp.MAX_DAYS
    assert bootcamp.capacity == Bootcamp.MAX_CAPACITY


def test_a_bootcamp_stored_longer_than_the_rule_can_still_be_archived_but_not_lengthened(admin_client):
    bootcamp = BootcampFactory()
    long_end = bootcamp.start_date.replace(year=bootcamp.start_date.year + 3)
    Bootcamp.objects.filter(pk=bootcamp.pk).update(end_date=long_end)  # stored before the rule
    response = admin_client.patch(detail(bootcamp), {"status": "ARCHIVED", "title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert_error(
        admin_client.patch(
            detail(bootcamp), {"end_date": (long_end + timedelta(days=1)).isoformat()}, format="json"
        ),
        400,
        code="too_long",
        attr="end_date",
    )
    assert Bootcamp.objects.get(pk=bootcamp.pk).end_date == long_end


def test_patch_refuses_an_end_two_years_after_the_start(admin_client):
    bootcamp = BootcampFactory()
    too_late = bootcamp.start_date.replace(year=bootcamp.start_date.year + 3)
    assert_error(
        admin_client.patch(detail(bootcamp), {"end_date": too_late.isoformat()}, format="json"),
        400,
        code="too_long",
        attr="end_date",
    )
    assert Bootcamp.objects.get(pk=bootcamp.pk).end_date == bootcamp.end_date


def test_create_people_must_have_the_right_role(admin_client, make_user):
    mentor, instructor = make_user(Role.MENTOR), make_user(Role.INSTRUCTOR)
    body = assert_error(
        admin_client.post(URL, payload(instructors=[str(mentor.pk)]), format="json"),
        400,
        code="invalid_role",
        attr="instructors",
    )
    assert "instructor role" in body["errors"][0]["detail"]
    assert_error(
        admin_client.post(URL, payload(mentors=[str(instructor.pk)]), format="json"), 400, attr="mentors"
    )
    assert not Bootcamp.objects.exists()


def test_a_deactivated_person_is_not_added_to_the_staff_but_may_stay_on_it(admin_client, make_user):
    gone = make_user(Role.INSTRUCTOR, is_active=False, full_name="Ivan Gone")
    body = assert_error(
        admin_client.post(URL, payload(instructors=[str(gone.pk)]), format="json"),
        400,
        code="inactive",
        attr="instructors",
    )
    assert "Ivan Gone" in body["errors"][0]["detail"]
    assert not Bootcamp.objects.exists()
    stays, other = make_user(Role.MENTOR, full_name="Mia Mentor"), make_user(Role.MENTOR)
    bootcamp = BootcampFactory(mentors=[stays])
    User.objects.filter(pk=stays.pk).update(is_active=False)  # deactivated while on the staff
    response = admin_client.patch(
        detail(bootcamp),
        {"mentors": [str(stays.pk), str(other.pk)], "instructors": [str(gone.pk)]},
        format="json",
    )
    assert_error(response, 400, code="inactive", attr="instructors")
    assert list(bootcamp.mentors.all()) == [stays] and not bootcamp.instructors.exists()
    # Already listed, they may stay while someone joins.
    response = admin_client.patch(
        detail(bootcamp), {"mentors": [str(stays.pk), str(other.pk)]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert set(bootcamp.mentors.all()) == {stays, other}


def test_malformed_and_wrongly_typed_bodies(admin_client):
    assert_error(
        admin_client.post(URL, '{"title": "x",', content_type="application/json"), 400, code="parse_error"
    )
    assert_error(admin_client.post(URL, "[1, 2]", content_type="application/json"), 400)
    assert_error(admin_client.post(URL, "title=x", content_type="application/x-www-form-urlencoded"), 415)
    assert not Bootcamp.objects.exists()


def test_put_is_not_offered(admin_client):
    assert_error(admin_client.put(detail(BootcampFactory()), payload(), format="json"), 405)


# --- updating -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, 401),
        (Role.ADMIN, 200),
        (Role.SALES, 403),
        (Role.INSTRUCTOR, 200),
        (Role.MENTOR, 403),
        (Role.STUDENT, 403),
    ],
)
def test_patch_description_by_role(client_for, role, expected):
    client, user = client_for(role)
    bootcamp = BootcampFactory(
        instructors=[user] if role == Role.INSTRUCTOR else [], mentors=[user] if role == Role.MENTOR else []
    )
    response = client.patch(detail(bootcamp), {"description": "Updated"}, format="json")
    bootcamp.refresh_from_db()
    if expected == 200:
        assert response.status_code == 200 and response.json()["description"] == "Updated"
        assert bootcamp.description == "Updated"
    else:
        assert_error(response, expected)
        assert bootcamp.description == "Learn things by building things."


def test_admin_patch_changes_anything(admin_client, make_user):
    bootcamp = BootcampFactory()
    instructor = make_user(Role.INSTRUCTOR)
    response = admin_client.patch(
        detail(bootcamp),
        {"title": "New title", "capacity": 30, "status": "ARCHIVED", "instructors": [str(instructor.pk)]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["capacity"], body["status"], body["slug"]) == (
        "New title",
        30,
        "ARCHIVED",
        bootcamp.slug,
    )
    assert body["instructors"] == [{"id": str(instructor.pk), "full_name": instructor.full_name}]


def test_instructor_patch_of_their_fields(instructor_client, instructor_user):
    bootcamp = BootcampFactory(instructors=[instructor_user])
    new_end = bootcamp.end_date + timedelta(days=7)
    response = instructor_client.patch(
        detail(bootcamp),
        # An unchanged title is not a change: a client may send the whole object back.
        {"location": "Berlin", "end_date": new_end.isoformat(), "title": bootcamp.title},
        format="json",
    )
    assert response.status_code == 200, response.content
    bootcamp.refresh_from_db()
    assert (bootcamp.location, bootcamp.end_date) == ("Berlin", new_end)


@pytest.mark.parametrize(
    "changes",
    [{"capacity": 100}, {"price": "1.00"}, {"status": "DRAFT"}, {"title": "Mine now"}, {"instructors": []}],
)
def test_instructor_changing_other_fields_is_403(instructor_client, instructor_user, changes):
    bootcamp = BootcampFactory(instructors=[instructor_user])
    body = assert_error(
        instructor_client.patch(detail(bootcamp), {"location": "Rome", **changes}, format="json"), 403
    )
    assert "only change the description, dates and location" in body["errors"][0]["detail"]
    bootcamp.refresh_from_db()
    assert bootcamp.location == "" and bootcamp.capacity == 10
    assert list(bootcamp.instructors.all()) == [instructor_user]


def test_instructor_of_another_bootcamp_is_403(instructor_client):
    bootcamp = BootcampFactory()
    body = assert_error(instructor_client.patch(detail(bootcamp), {"location": "Rome"}, format="json"), 403)
    assert body["errors"][0]["detail"] == "You can only edit bootcamps you teach."


def test_student_patch_of_a_draft_is_403_not_a_leak(student_client):
    # The role check comes first, so the answer is the same for any id.
    assert_error(student_client.patch(detail(DraftBootcampFactory()), {"location": "x"}, format="json"), 403)
    assert_error(student_client.patch(f"{URL}999999/", {"location": "x"}, format="json"), 403)


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"end_date": "2000-01-01"}, "end_date"),
        ({"capacity": 0}, "capacity"),
        ({"price": "-5"}, "price"),
        ({"title": ""}, "title"),
    ],
)
def test_patch_bad_input(admin_client, changes, attr):
    bootcamp = BootcampFactory()
    assert_error(admin_client.patch(detail(bootcamp), changes, format="json"), 400, attr=attr)
    assert Bootcamp.objects.get(pk=bootcamp.pk).title == bootcamp.title


@pytest.mark.parametrize("field, role", [("instructors", Role.INSTRUCTOR), ("mentors", Role.MENTOR)])
@pytest.mark.parametrize("as_object", [lambda user: {str(user.pk): "x"}, lambda user: {}])
def test_people_given_as_an_object_are_not_a_list(admin_client, make_user, field, role, as_object):
    # DRF's list of related objects took an object as the list of its keys.
    staff = make_user(role)
    bootcamp = BootcampFactory()
    getattr(bootcamp, field).add(staff)
    newcomer = make_user(role)
    response = admin_client.patch(detail(bootcamp), {field: as_object(newcomer)}, format="json")
    assert_error(response, 400, code="not_a_list", attr=field)
    assert list(getattr(bootcamp, field).all()) == [staff]
    created = admin_client.post(URL, payload(**{field: as_object(newcomer)}), format="json")
    assert_error(created, 400, code="not_a_list", attr=field)
    assert Bootcamp.objects.count() == 1


@pytest.mark.parametrize("changes", [{"unknown": 1}, {"slug": "x"}, {"seats_left": 3}])
def test_patch_refuses_unknown_fields(admin_client, changes):
    bootcamp = BootcampFactory()
    assert_error(admin_client.patch(detail(bootcamp), changes, format="json"), 400, code="unknown_field")
    assert Bootcamp.objects.get(pk=bootcamp.pk).slug == bootcamp.slug


def test_patch_start_after_existing_end(admin_client):
    bootcamp = BootcampFactory()
    later = (bootcamp.end_date + timedelta(days=1)).isoformat()
    assert_error(
        admin_client.patch(detail(bootcamp), {"start_date": later}, format="json"),
        400,
        code="end_before_start",
        attr="end_date",
    )


def test_patch_capacity_below_seats_taken(admin_client):
    bootcamp = BootcampFactory(capacity=3)
    EnrollmentFactory.create_batch(3, bootcamp=bootcamp)
    body = assert_error(
        admin_client.patch(detail(bootcamp), {"capacity": 2}, format="json"),
        400,
        code="below_seats_taken",
        attr="capacity",
    )
    assert "3 seats are already taken" in body["errors"][0]["detail"]


def test_a_bootcamp_someone_completed_cant_start_after_today(admin_client):
    """Completing needs the bootcamp to have started (enrollments' `not_started`);
    its start could then be moved into the future all the same, leaving students
    who completed a bootcamp that hadn't begun."""
    bootcamp = RunningBootcampFactory()
    EnrollmentFactory(bootcamp=bootcamp, status=Enrollment.Status.COMPLETED)
    later = (timezone.localdate() + timedelta(days=3)).isoformat()
    body = assert_error(
        admin_client.patch(detail(bootcamp), {"start_date": later}, format="json"),
        400,
        code="has_completions",
        attr="start_date",
    )
    assert "1 student has completed this bootcamp" in body["errors"][0]["detail"]
    bootcamp.refresh_from_db()
    assert bootcamp.start_date < timezone.localdate()
    # Earlier, or today, is still a start it had.
    today = timezone.localdate().isoformat()
    assert admin_client.patch(detail(bootcamp), {"start_date": today}, format="json").status_code == 200
    # Without a completion, a running bootcamp's start may still move (a typo fixed).
    other = RunningBootcampFactory()
    EnrollmentFactory(bootcamp=other)
    assert admin_client.patch(detail(other), {"start_date": later}, format="json").status_code == 200


def test_patch_capacity_up_promotes_the_waitlist(
    admin_client, make_user, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(capacity=1)
    students = [make_user(Role.STUDENT) for _ in range(3)]
    for student in students:
        enrollment_create(student=student, bootcamp=bootcamp, notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.patch(detail(bootcamp), {"capacity": 2}, format="json")
    assert (response.json()["seats_taken"], response.json()["seats_left"]) == (2, 0)
    assert Enrollment.objects.get(student=students[1]).status == "ACTIVE"
    assert Enrollment.objects.get(student=students[2]).status == "WAITLISTED"
    assert [m.to for m in mailoutbox] == [[students[1].email]]


# --- deleting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, 401),
        (Role.ADMIN, 204),
        (Role.SALES, 403),
        (Role.INSTRUCTOR, 403),
        (Role.MENTOR, 403),
        (Role.STUDENT, 403),
    ],
)
def test_delete_by_role(client_for, role, expected):
    client, user = client_for(role)
    bootcamp = BootcampFactory(instructors=[user] if role == Role.INSTRUCTOR else [])
    response = client.delete(detail(bootcamp))
    assert response.status_code == expected
    assert Bootcamp.objects.filter(pk=bootcamp.pk).exists() is (expected != 204)


def test_delete_with_enrollments_is_409(admin_client):
    bootcamp = BootcampFactory()
    EnrollmentFactory(bootcamp=bootcamp, status=Enrollment.Status.CANCELLED)
    EnrollmentFactory(bootcamp=bootcamp)
    body = assert_error(admin_client.delete(detail(bootcamp)), 409, code="has_enrollments")
    assert body["errors"][0]["detail"] == (
        "This bootcamp has 2 enrollments and cannot be deleted. Archive it instead (set its status to ARCHIVED)."
    )
    assert Bootcamp.objects.filter(pk=bootcamp.pk).exists()
    assert Enrollment.objects.filter(bootcamp=bootcamp).count() == 2


def test_delete_with_assignments_is_409(admin_client):
    bootcamp = BootcampFactory()
    AssignmentFactory(bootcamp=bootcamp)
    body = assert_error(admin_client.delete(detail(bootcamp)), 409, code="protected")
    assert body["errors"][0]["detail"].startswith("This bootcamp cannot be deleted: assignments refer to it.")
    assert Bootcamp.objects.filter(pk=bootcamp.pk).exists()
    LeadFactory(bootcamp=bootcamp)
    body = assert_error(admin_client.delete(detail(bootcamp)), 409, code="protected")
    assert body["errors"][0]["detail"] == (
        "This bootcamp cannot be deleted: assignments and leads refer to it. "
        "Archive it instead (set its status to ARCHIVED)."
    )


def test_a_bad_location_is_named_as_a_location(admin_client):
    bootcamp = BootcampFactory(location="Lyon")
    body = assert_error(
        admin_client.patch(detail(bootcamp), {"location": "a\u202eb"}, format="json"), 400, attr="location"
    )
    assert body["errors"][0]["detail"].startswith("A location needs a visible character")
    assert Bootcamp.objects.get(pk=bootcamp.pk).location == "Lyon"
    # Blank is no location.
    assert admin_client.patch(detail(bootcamp), {"location": ""}, format="json").status_code == 200
