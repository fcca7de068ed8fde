import factory

from accounts.tests.factories import StudentFactory
from bootcamps.tests.factories import BootcampFactory
from enrollments.models import Enrollment


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """A row as the services would leave it. For seat rules, enroll through
    enrollments.services.enrollment_create instead."""

    class Meta:
        model = Enrollment

    student = factory.SubFactory(StudentFactory)
    bootcamp = factory.SubFactory(BootcampFactory)
    status = Enrollment.Status.ACTIVE
    waitlist_seq = None

    class Params:
        waitlisted = factory.Trait(
            status=Enrollment.Status.WAITLISTED,
            waitlist_seq=factory.Sequence(lambda n: n + 1),
        )
