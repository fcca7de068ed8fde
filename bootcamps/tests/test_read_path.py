"""The fast read path of the bootcamp list and detail, and its shared cache."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_update, user_delete
from bootcamps import caching
from bootcamps.api.serializers import BootcampSerializer
from bootcamps.selectors import bootcamp_list_for
from bootcamps.services import bootcamp_update
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory
from enrollments.services import enrollment_create

URL = "/api/v1/bootcamps/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    """Bootcamps with people (names that sort unlike their ids), seats and odd prices."""
    people = [
        make_user(User.Role.INSTRUCTOR, full_name=name) for name in ("Zed Zulu", "Amy Alpha", "Amy Alpha")
    ]
    mentors = [make_user(User.Role.MENTOR, full_name=name) for name in ("Moe Mentor", "Bea Mentor")]
    camps = [
        BootcampFactory(instructors=people, mentors=mentors, price=Decimal("0.50"), capacity=2),
        BootcampFactory(instructors=people[:1], price=Decimal("12345678.90"), location="Lisbon"),
        BootcampFactory(description="", start_date=timezone.localdate() + timedelta(days=3)),
        DraftBootcampFactory(mentors=mentors[:1]),
    ]
    for _ in range(3):  # the third waits: seats_left never goes below zero
        enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=camps[0], notify=False)
    return camps


@pytest.mark.parametrize("time_zone", ["UTC", "Europe/Paris"])
def test_list_and_detail_render_exactly_what_the_serializer_renders(
    admin_client, admin_user, world, settings, time_zone
):
    settings.TIME_ZONE = time_zone
    expected = BootcampSerializer(bootcamp_list_for(admin_user).order_by("start_date", "id"), many=True).data
    results = admin_client.get(URL, {"page_size": 100}).json()["results"]
    assert results == [dict(row) for row in expected]
    for row in expected:
        assert admin_client.get(f"{URL}{row['id']}/").json() == dict(row)
    assert (
        results[0]["seats_taken"] == 2
        and results[0]["seats_left"] == 0
        or any(r["seats_taken"] == 2 and r["seats_left"] == 0 for r in results)
    )


@pytest.fixture
def bootcamp_cache(shared_cache):
    shared_cache.BOOTCAMP_CACHE_SECONDS = 60


def _bootcamp_queries(client, url=URL, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    return response, [q["sql"] for q in captured.captured_queries if "bootcamps_bootcamp" in q["sql"]]


def test_a_repeated_request_is_served_from_the_cache(bootcamp_cache, admin_client, world):
    first, queries = _bootcamp_queries(admin_client)
    assert queries
    second, queries = _bootcamp_queries(admin_client)
    assert queries == []
    assert second.json() == first.json()


def test_scopes_are_cached_apart(bootcamp_cache, admin_client, student_client, anon_client, world):
    staff = admin_client.get(URL).json()
    assert staff["count"] == 4
    assert student_client.get(URL).json()["count"] == 3
    assert anon_client.get(URL).json()["count"] == 3
    draft = world[3]
    assert admin_client.get(f"{URL}{draft.pk}/").status_code == 200
    assert student_client.get(f"{URL}{draft.pk}/").status_code == 404


def test_permissions_and_throttles_still_run_on_a_cached_response(
    shared_cache, admin_client, anon_client, world
):
    admin_client.get(f"{URL}{world[3].pk}/")  # cached for staff
    assert anon_client.get(f"{URL}{world[3].pk}/").status_code == 404
    assert anon_client.delete(f"{URL}{world[0].pk}/").status_code == 401


def test_an_edit_is_seen_at_once(bootcamp_cache, admin_client, world):
    admin_client.get(URL)
    response = admin_client.patch(f"{URL}{world[1].pk}/", {"title": "Renamed camp"}, format="json")
    assert response.status_code == 200
    titles = [row["title"] for row in admin_client.get(URL).json()["results"]]
    assert "Renamed camp" in titles
    assert admin_client.get(f"{URL}{world[1].pk}/").json()["title"] == "Renamed camp"


def test_a_new_enrollment_changes_the_seats_shown(bootcamp_cache, admin_client, make_user, world):
    camp = world[1]
    assert admin_client.get(f"{URL}{camp.pk}/").json()["seats_taken"] == 0
    enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=camp, notify=False)
    body = admin_client.get(f"{URL}{camp.pk}/").json()
    assert body["seats_taken"] == 1 and body["seats_left"] == camp.capacity - 1


def test_instructor_changes_and_renames_are_seen(bootcamp_cache, admin_client, admin_user, make_user, world):
    camp = world[2]
    admin_client.get(f"{URL}{camp.pk}/")
    teacher = make_user(User.Role.INSTRUCTOR, full_name="New Teacher")
    bootcamp_update(bootcamp=camp, actor=admin_user, data={"instructors": [teacher]})
    assert [p["full_name"] for p in admin_client.get(f"{URL}{camp.pk}/").json()["instructors"]] == [
        "New Teacher"
    ]
    profile_update(user=teacher, data={"full_name": "Renamed Teacher"})
    assert [p["full_name"] for p in admin_client.get(f"{URL}{camp.pk}/").json()["instructors"]] == [
        "Renamed Teacher"
    ]


def test_a_deleted_instructor_leaves_the_bootcamp_and_its_counts(
    bootcamp_cache, shared_cache, admin_client, admin_user, make_user, world
):
    shared_cache.COUNT_CACHE_SECONDS = 300
    camp = world[2]
    teacher = make_user(User.Role.INSTRUCTOR, full_name="Gone Teacher")
    bootcamp_update(bootcamp=camp, actor=admin_user, data={"instructors": [teacher]})
    assert [p["full_name"] for p in admin_client.get(f"{URL}{camp.pk}/").json()["instructors"]] == [
        "Gone Teacher"
    ]
    assert admin_client.get(URL, {"instructor": str(teacher.pk)}).json()["count"] == 1  # now cached

    user_delete(actor=admin_user, users=[teacher])  # their instructor rows go by cascade

    assert admin_client.get(f"{URL}{camp.pk}/").json()["instructors"] == []
    body = admin_client.get(URL, {"instructor": str(teacher.pk)}).json()
    assert (body["count"], body["results"]) == (0, [])


def test_a_login_does_not_empty_the_cache(bootcamp_cache, admin_client, anon_client, world):
    User.objects.create_user(email="someone@example.com", password="Quiet-Harbour-77", full_name="Some One")
    admin_client.get(URL)
    version = caching.cache.get(caching.VERSION_KEY)
    response = anon_client.post(
        "/api/v1/auth/login", {"email": "someone@example.com", "password": "Quiet-Harbour-77"}, format="json"
    )
    assert response.status_code == 200
    assert caching.cache.get(caching.VERSION_KEY) == version
    assert _bootcamp_queries(admin_client)[1] == []


def test_the_list_count_is_cached_and_follows_new_bootcamps_and_people(
    shared_cache, admin_client, admin_user, make_user, world
):
    shared_cache.COUNT_CACHE_SECONDS = 300  # the response cache stays off: only the count is cached
    teacher = make_user(User.Role.INSTRUCTOR)

    def count(**params):
        with CaptureQueriesContext(connection) as captured:
            body = admin_client.get(URL, params).json()
        return body["count"], sum(q["sql"].startswith("SELECT COUNT(*)") for q in captured.captured_queries)

    assert count() == (4, 1)
    assert count() == (4, 0)
    BootcampFactory()
    assert count() == (5, 1)
    assert count(instructor=str(teacher.pk)) == (0, 1)
    bootcamp_update(bootcamp=world[1], actor=admin_user, data={"instructors": [teacher]})
    assert count(instructor=str(teacher.pk)) == (1, 1)
    assert count(instructor=str(teacher.pk)) == (1, 0)
    world[2].instructors.add(teacher)  # people alone, the bootcamp row untouched (a script)
    assert count(instructor=str(teacher.pk)) == (2, 1)


@pytest.mark.postgres
def test_page_details_are_one_statement_whatever_the_page(world):
    """One array parameter per branch on PostgreSQL: the same SQL for every page,
    which psycopg converts once (it re-parses a query of over 50 parameters every
    time) and the server keeps prepared."""
    from bootcamps.selectors import bootcamp_page_details

    extra = [BootcampFactory(instructors=world[0].instructors.all()) for _ in range(20)]
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    ids = [camp.pk for camp in (*world, *extra)]
    with connection.execute_wrapper(spy):
        full_page = bootcamp_page_details(ids[:20])
        one = bootcamp_page_details(ids[:1])
    assert seen[0][0] == seen[1][0]
    assert len(seen[0][1]) == len(seen[1][1]) < 10
    assert full_page[world[0].pk] == one[world[0].pk]  # same answer for a bootcamp either way
    assert full_page[world[0].pk]["seats_taken"] == 2
    assert [name for _id, name in full_page[world[0].pk]["instructors"]] == [
        "Amy Alpha",
        "Amy Alpha",
        "Zed Zulu",
    ]
