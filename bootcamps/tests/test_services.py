from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from bootcamps import services
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory
from cohortly.errors import Conflict, NotAllowed
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
Role = User.Role


def create(**overrides):
    start = timezone.localdate() + timedelta(days=10)
    data = {
        "title": "Full-Stack Web",
        "start_date": start,
        "end_date": start + timedelta(days=30),
        "capacity": 5,
        "price": Decimal("1000.00"),
    }
    return services.bootcamp_create(**{**data, **overrides})


def test_create_generates_the_slug_and_defaults():
    bootcamp = create(title="  Full-Stack Web: Django & React!  ")
    bootcamp.refresh_from_db()
    assert bootcamp.slug == "full-stack-web-django-react"
    assert bootcamp.title == "Full-Stack Web: Django & React!"
    assert bootcamp.status == Bootcamp.Status.DRAFT
    assert bootcamp.currency == "EUR"
    assert bootcamp.delivery_format == Bootcamp.DeliveryFormat.ONLINE


def test_slug_collisions_get_a_number():
    slugs = [create(title="Data Science").slug for _ in range(3)]
    assert slugs == ["data-science", "data-science-2", "data-science-3"]
    # A title whose slug only starts like another one does not count as a clash.
    assert create(title="Data Science Advanced").slug == "data-science-advanced"


def test_a_title_without_latin_letters_still_gets_a_slug():
    assert create(title="日本語").slug == "bootcamp"
    assert create(title="!!!").slug == "bootcamp-2"


def test_slug_stays_when_the_title_changes(make_user):
    bootcamp = create(title="Old name")
    bootcamp = services.bootcamp_update(
        bootcamp=bootcamp, actor=make_user(Role.ADMIN), data={"title": "New name"}
    )
    assert (bootcamp.title, bootcamp.slug) == ("New name", "old-name")


def test_create_validates_with_full_clean():
    with pytest.raises(ValidationError) as info:
        create(capacity=0, price=Decimal("-1"), currency="euro")
    assert {"capacity", "price", "currency"} <= set(info.value.message_dict)
    with pytest.raises(ValidationError) as info:
        create(end_date=timezone.localdate())
    assert list(info.value.message_dict) == ["end_date"]
    assert not Bootcamp.objects.exists()


def test_create_sets_people_and_checks_their_roles(make_user):
    instructor, mentor = make_user(Role.INSTRUCTOR), make_user(Role.MENTOR)
    bootcamp = create(instructors=[instructor, instructor], mentors=[mentor])
    assert list(bootcamp.instructors.all()) == [instructor]
    assert list(bootcamp.mentors.all()) == [mentor]
    with pytest.raises(ValidationError) as info:
        create(instructors=[mentor])
    assert "instructors" in info.value.message_dict
    assert mentor.full_name in info.value.message_dict["instructors"][0]
    with pytest.raises(ValidationError) as info:
        create(mentors=[make_user(Role.STUDENT)])
    assert "mentors" in info.value.message_dict


def test_admin_updates_any_field(make_user):
    bootcamp = BootcampFactory()
    instructor = make_user(Role.INSTRUCTOR)
    updated = services.bootcamp_update(
        bootcamp=bootcamp,
        actor=make_user(Role.ADMIN),
        data={"title": "Renamed", "price": Decimal("99.50"), "instructors": [instructor]},
    )
    updated.refresh_from_db()
    assert updated.title == "Renamed" and updated.price == Decimal("99.50")
    assert list(updated.instructors.all()) == [instructor]


def test_instructor_may_change_only_their_fields_of_their_bootcamp(make_user):
    instructor = make_user(Role.INSTRUCTOR)
    bootcamp = BootcampFactory(instructors=[instructor])
    new_start = bootcamp.start_date + timedelta(days=1)
    services.bootcamp_update(
        bootcamp=bootcamp,
        actor=instructor,
        data={"description": "New", "location": "Berlin", "start_date": new_start, "title": bootcamp.title},
    )
    bootcamp.refresh_from_db()
    assert (bootcamp.description, bootcamp.location, bootcamp.start_date) == ("New", "Berlin", new_start)

    with pytest.raises(NotAllowed, match="capacity"):
        services.bootcamp_update(
            bootcamp=bootcamp, actor=instructor, data={"capacity": 50, "location": "Rome"}
        )
    bootcamp.refresh_from_db()
    assert (bootcamp.capacity, bootcamp.location) == (10, "Berlin")

    with pytest.raises(NotAllowed, match="you teach"):
        services.bootcamp_update(bootcamp=BootcampFactory(), actor=instructor, data={"location": "Rome"})


@pytest.mark.parametrize("role", [Role.SALES, Role.MENTOR, Role.STUDENT])
def test_other_roles_may_not_update(make_user, role):
    user = make_user(role)
    bootcamp = BootcampFactory(mentors=[user] if role == Role.MENTOR else [])
    with pytest.raises(NotAllowed):
        services.bootcamp_update(bootcamp=bootcamp, actor=user, data={"description": "x"})


def test_capacity_cannot_drop_below_the_seats_taken(make_user):
    bootcamp = BootcampFactory(capacity=3)
    EnrollmentFactory.create_batch(2, bootcamp=bootcamp)
    EnrollmentFactory(bootcamp=bootcamp, status=Enrollment.Status.COMPLETED)
    EnrollmentFactory(bootcamp=bootcamp, status=Enrollment.Status.CANCELLED)
    with pytest.raises(ValidationError) as info:
        services.bootcamp_update(bootcamp=bootcamp, actor=make_user(Role.ADMIN), data={"capacity": 2})
    assert "3 seats are already taken" in info.value.message_dict["capacity"][0]
    services.bootcamp_update(bootcamp=bootcamp, actor=make_user(Role.ADMIN), data={"capacity": 3})


def test_growing_capacity_promotes_the_waitlist_in_order(
    make_user, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(capacity=1)
    students = [make_user(Role.STUDENT) for _ in range(4)]
    for student in students:
        enrollment_create(student=student, bootcamp=bootcamp, notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.bootcamp_update(bootcamp=bootcamp, actor=make_user(Role.ADMIN), data={"capacity": 3})
    statuses = {e.student: e.status for e in Enrollment.objects.filter(bootcamp=bootcamp)}
    assert [statuses[s] for s in students] == ["ACTIVE", "ACTIVE", "ACTIVE", "WAITLISTED"]
    assert sorted(m.to[0] for m in mailoutbox) == sorted([students[1].email, students[2].email])
    assert all(m.subject.startswith("A seat opened up") for m in mailoutbox)


def test_update_refuses_unknown_fields(make_user):
    with pytest.raises(ValidationError) as info:
        services.bootcamp_update(bootcamp=BootcampFactory(), actor=make_user(Role.ADMIN), data={"slug": "x"})
    assert "slug" in info.value.message_dict


def test_delete_without_enrollments():
    bootcamp = BootcampFactory()
    services.bootcamp_delete(bootcamp=bootcamp)
    assert not Bootcamp.objects.filter(pk=bootcamp.pk).exists()


def test_delete_with_enrollments_is_a_conflict_and_deletes_nothing():
    enrollment = EnrollmentFactory(status=Enrollment.Status.CANCELLED)
    with pytest.raises(Conflict) as info:
        services.bootcamp_delete(bootcamp=enrollment.bootcamp)
    assert "1 enrollment" in str(info.value) and "Archive it instead" in str(info.value)
    assert info.value.code == "has_enrollments"
    assert Bootcamp.objects.filter(pk=enrollment.bootcamp_id).exists()
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()


def test_an_edit_validates_what_it_changes_and_the_constraints_that_read_it(make_user):
    """An edit runs the checks its fields take part in, with their other fields
    as the row holds them; the others the database already held the row to."""
    admin = make_user(Role.ADMIN)
    bootcamp = BootcampFactory()
    with CaptureQueriesContext(connection) as queries:
        services.bootcamp_update(bootcamp=bootcamp, actor=admin, data={"description": "New words"})
    assert [query["sql"] for query in queries if '"_check"' in query["sql"]] == []
    bootcamp.refresh_from_db()
    assert bootcamp.description == "New words"

    # A changed field's constraints still run; the model's clean() always does.
    with pytest.raises(ValidationError) as info:
        services.bootcamp_update(bootcamp=bootcamp, actor=admin, data={"price": Decimal("-1")})
    assert info.value.message_dict == {"price": ["Ensure this value is greater than or equal to 0."]}
    with pytest.raises(ValidationError) as info:
        services.bootcamp_update(
            bootcamp=bootcamp, actor=admin, data={"end_date": bootcamp.start_date - timedelta(days=1)}
        )
    assert info.value.message_dict == {"end_date": ["The end date cannot be before the start date."]}
    end, price = bootcamp.end_date, bootcamp.price
    bootcamp.refresh_from_db()
    assert (bootcamp.end_date, bootcamp.price, bootcamp.description) == (end, price, "New words")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_bootcamps_of_one_title_created_at_once_each_get_a_slug():
    """Each used to find the same free slug; the retries ran out (a 500)."""
    import threading

    from conftest import in_thread

    barrier, results = threading.Barrier(8), {}

    def create():
        barrier.wait(5)
        return services.bootcamp_create(
            title="Same Title",
            start_date=timezone.localdate() + timedelta(days=10),
            end_date=timezone.localdate() + timedelta(days=40),
            capacity=5,
            price=Decimal("100"),
        ).slug

    threads = [in_thread(create, results, n) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    slugs = sorted(results.values(), key=str)
    assert not [s for s in slugs if isinstance(s, Exception)], slugs
    assert set(slugs) == {"same-title", *(f"same-title-{n}" for n in range(2, 9))}
