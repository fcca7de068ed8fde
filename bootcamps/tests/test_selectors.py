import pytest
from django.db.models import Count, Q

from accounts.tests.factories import InstructorFactory
from bootcamps.models import Bootcamp
from bootcamps.selectors import bootcamp_annotate_seats, bootcamp_list_for
from bootcamps.tests.factories import BootcampFactory
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

Status = Enrollment.Status


def orm_seats():
    """Seats counted with the ORM's Count() over a join: what the selector must always equal."""
    return dict(
        Bootcamp.objects.annotate(
            n=Count("enrollments", filter=Q(enrollments__status__in=Enrollment.SEAT_HOLDING))
        ).values_list("pk", "n")
    )


@pytest.fixture
def catalogue():
    """Bootcamps with every status of enrollment, none, and one over capacity."""
    teacher = InstructorFactory()
    empty = BootcampFactory(capacity=3)
    mixed = BootcampFactory(capacity=3, instructors=[teacher])
    for status in (Status.ACTIVE, Status.COMPLETED, Status.CANCELLED, Status.DROPPED):
        EnrollmentFactory(bootcamp=mixed, status=status)
    EnrollmentFactory(bootcamp=mixed, waitlisted=True)
    full = BootcampFactory(capacity=1, instructors=[teacher])
    EnrollmentFactory.create_batch(2, bootcamp=full, status=Status.ACTIVE)  # imported over-full
    return {"empty": empty, "mixed": mixed, "full": full, "teacher": teacher}


def test_seats_taken_counts_what_the_orm_counts(catalogue):
    rows = {
        pk: (taken, left)
        for pk, taken, left in bootcamp_annotate_seats(Bootcamp.objects.all()).values_list(
            "pk", "seats_taken", "seats_left"
        )
    }
    assert {pk: taken for pk, (taken, _) in rows.items()} == orm_seats()
    assert rows[catalogue["empty"].pk] == (0, 3)
    assert rows[catalogue["mixed"].pk] == (2, 1)  # ACTIVE and COMPLETED hold a seat
    assert rows[catalogue["full"].pk] == (2, 0)  # never below 0


def test_seats_taken_is_not_multiplied_by_joins_or_lost_in_a_subquery(catalogue):
    teacher = catalogue["teacher"]
    joined = bootcamp_annotate_seats(Bootcamp.objects.filter(instructors=teacher))
    assert dict(joined.values_list("pk", "seats_taken")) == {
        catalogue["mixed"].pk: 2,
        catalogue["full"].pk: 2,
    }
    # As the paginator reads a page: the rows whose keys are a subquery's.
    keys = Bootcamp.objects.filter(instructors=teacher).order_by("pk").values("pk")[:1]
    page = bootcamp_annotate_seats(Bootcamp.objects.filter(pk__in=keys))
    assert list(page.values_list("pk", "seats_taken")) == [(catalogue["mixed"].pk, 2)]


def test_the_list_selector_orders_and_filters_on_seats(catalogue, admin_user):
    queryset = bootcamp_list_for(admin_user).queryset
    assert list(queryset.filter(seats_left=0).values_list("pk", flat=True)) == [catalogue["full"].pk]
    ordered = list(queryset.order_by("-seats_taken", "pk").values_list("pk", "seats_taken"))
    assert ordered[0][1] == 2 and ordered[-1] == (catalogue["empty"].pk, 0)
