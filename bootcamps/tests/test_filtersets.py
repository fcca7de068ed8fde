"""The filtersets on their own (the API and any future pages share them)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from bootcamps.filtersets import BootcampFilterSet
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory
from enrollments.filtersets import EnrollmentFilterSet
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def bootcamps(**params):
    filterset = BootcampFilterSet(params, queryset=Bootcamp.objects.order_by("pk"))
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs)


def test_bootcamp_filters(make_user):
    today = timezone.localdate()
    mentor = make_user(User.Role.MENTOR)
    a = BootcampFactory(start_date=today + timedelta(days=1), delivery_format="ONSITE", mentors=[mentor])
    b = DraftBootcampFactory(start_date=today + timedelta(days=9))
    assert bootcamps(status=["DRAFT"]) == [b]
    assert bootcamps(delivery_format=["ONSITE"]) == [a]
    assert bootcamps(start_after=today + timedelta(days=9)) == [b]  # inclusive
    assert bootcamps(start_before=today + timedelta(days=1)) == [a]  # inclusive
    assert bootcamps(mentor=str(mentor.pk)) == [a]
    assert bootcamps() == [a, b]


def test_bootcamp_filter_errors():
    filterset = BootcampFilterSet(
        {"start_before": "soon", "instructor": "x"}, queryset=Bootcamp.objects.all()
    )
    assert not filterset.is_valid()
    assert set(filterset.errors) == {"start_before", "instructor"}


def test_enrollment_filters():
    first = EnrollmentFactory()
    second = EnrollmentFactory(waitlisted=True, bootcamp=first.bootcamp)
    other = EnrollmentFactory(status="CANCELLED")

    def enrollments(**params):
        filterset = EnrollmentFilterSet(
            {**params, "ordering": "enrolled_at"}, queryset=Enrollment.objects.all()
        )
        assert filterset.is_valid(), filterset.errors
        return list(filterset.qs)

    assert enrollments(bootcamp=first.bootcamp_id) == [first, second]
    assert enrollments(status=["WAITLISTED", "CANCELLED"]) == [second, other]
    assert enrollments(student=str(other.student_id)) == [other]
    assert not EnrollmentFilterSet({"bootcamp": "1.5"}, queryset=Enrollment.objects.all()).is_valid()
