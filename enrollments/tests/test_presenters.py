import pytest

from accounts.models import User
from enrollments.api.serializers import EnrollmentSerializer
from enrollments.selectors import enrollment_list_for
from enrollments.services import enrollment_cancel, enrollment_create
from enrollments.tests.factories import BootcampFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("time_zone", ["UTC", "America/New_York"])
def test_the_list_renders_exactly_what_the_serializer_renders(
    admin_client, admin_user, make_user, settings, time_zone
):
    settings.TIME_ZONE = time_zone
    bootcamp = BootcampFactory(capacity=1)
    enrollments = [
        enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=bootcamp, notify=False)
        for _ in range(4)
    ]
    enrollment_cancel(enrollment=enrollments[1], notify=False)
    expected = EnrollmentSerializer(
        enrollment_list_for(admin_user).order_by("-enrolled_at", "-id"), many=True
    ).data
    body = admin_client.get("/api/v1/enrollments/", {"page_size": 100}).json()
    assert body["results"] == [dict(row) for row in expected]
    assert sorted(r["waitlist_position"] for r in body["results"] if r["waitlist_position"]) == [1, 2]


def test_the_cached_count_follows_renames_of_the_students_searched(shared_cache, admin_client, make_user):
    from accounts.services import profile_update

    shared_cache.COUNT_CACHE_SECONDS = 300
    student = make_user(User.Role.STUDENT, full_name="Stella Unique")
    enrollment_create(student=student, bootcamp=BootcampFactory(), notify=False)
    assert admin_client.get("/api/v1/enrollments/", {"search": "unique"}).json()["count"] == 1
    assert admin_client.get("/api/v1/enrollments/", {"search": "unique"}).json()["count"] == 1
    profile_update(user=student, data={"full_name": "Stella Renamed"})
    assert admin_client.get("/api/v1/enrollments/", {"search": "unique"}).json()["count"] == 0
