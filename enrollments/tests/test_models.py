"""The invariants the database itself holds, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_one_enrollment_per_student_and_bootcamp():
    enrollment = EnrollmentFactory(status=Enrollment.Status.CANCELLED)
    with pytest.raises(IntegrityError, match="enrollment_one_per_student|UNIQUE"), transaction.atomic():
        EnrollmentFactory(student=enrollment.student, bootcamp=enrollment.bootcamp)


@pytest.mark.parametrize(
    ("status", "seq"),
    [("WAITLISTED", None), ("ACTIVE", 3), ("CANCELLED", 1)],
)
def test_waitlist_seq_exactly_when_waitlisted(status, seq):
    with pytest.raises(IntegrityError, match="enrollment_waitlist_seq_iff_waitlisted"), transaction.atomic():
        EnrollmentFactory(status=status, waitlist_seq=seq)


def test_waitlist_seq_unique_per_bootcamp_among_waitlisted():
    first = EnrollmentFactory(status="WAITLISTED", waitlist_seq=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrollmentFactory(bootcamp=first.bootcamp, status="WAITLISTED", waitlist_seq=1)
    # Another bootcamp may use the same number.
    EnrollmentFactory(status="WAITLISTED", waitlist_seq=1)


def test_status_must_be_known():
    with pytest.raises(IntegrityError, match="enrollment_status_valid"), transaction.atomic():
        EnrollmentFactory(status="PAUSED")


def test_enrollments_protect_their_bootcamp_and_student():
    from django.db.models import ProtectedError

    enrollment = EnrollmentFactory()
    with pytest.raises(ProtectedError):
        enrollment.bootcamp.delete()
    with pytest.raises(ProtectedError):
        enrollment.student.delete()


@pytest.mark.parametrize("status", ["ACTIVE", "CANCELLED", "DROPPED"])
def test_completed_at_only_when_completed(status):
    """A raw write can't leave a completion time on an enrollment that isn't
    completed (the grading rules would excuse work due after it)."""
    enrollment = EnrollmentFactory(status="COMPLETED", completed_at=timezone.now())
    with (
        pytest.raises(IntegrityError, match="enrollment_completed_at_only_when_completed"),
        transaction.atomic(),
    ):
        Enrollment.objects.filter(pk=enrollment.pk).update(status=status)
    enrollment.refresh_from_db()
    assert enrollment.status == "COMPLETED"
    Enrollment.objects.filter(pk=enrollment.pk).update(status=status, completed_at=None)
