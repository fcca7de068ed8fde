"""The invariants live in the database: these write around every check in
Python (update()/save() without full_clean) and expect the database to refuse."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from assignments.models import Assignment, Submission
from assignments.tests.factories import AssignmentFactory, GradedSubmissionFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def _refused(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.mark.parametrize("max_score", [Decimal("0"), Decimal("-1")])
def test_max_score_must_be_positive(max_score):
    assignment = AssignmentFactory()
    _refused(lambda: Assignment.objects.filter(pk=assignment.pk).update(max_score=max_score))
    assert Assignment.objects.get(pk=assignment.pk).max_score == Decimal("10.00")


def test_one_submission_per_student_and_assignment():
    submission = SubmissionFactory()
    _refused(lambda: SubmissionFactory(assignment=submission.assignment, student=submission.student))
    assert Submission.objects.filter(assignment=submission.assignment).count() == 1


def test_submission_needs_content_or_link():
    submission = SubmissionFactory()
    _refused(lambda: Submission.objects.filter(pk=submission.pk).update(content="", link=""))
    # Either one alone is enough.
    Submission.objects.filter(pk=submission.pk).update(content="", link="https://example.com/work")
    Submission.objects.filter(pk=submission.pk).update(content="text", link="")


def test_score_cannot_be_negative():
    submission = GradedSubmissionFactory()
    _refused(lambda: Submission.objects.filter(pk=submission.pk).update(score=Decimal("-0.01")))
    Submission.objects.filter(pk=submission.pk).update(score=Decimal("0"))


@pytest.mark.parametrize(
    "fields",
    [
        {"graded_at": None},  # a score without a time
        {"graded_by": None},  # a score without a grader
        {"score": None},  # a grader and a time without a score
    ],
    ids=["no-graded_at", "no-graded_by", "no-score"],
)
def test_grade_fields_come_together(fields):
    submission = GradedSubmissionFactory()
    _refused(lambda: Submission.objects.filter(pk=submission.pk).update(**fields))


def test_ungraded_submission_has_no_grade_fields():
    submission = SubmissionFactory()
    _refused(
        lambda: Submission.objects.filter(pk=submission.pk).update(
            graded_at=timezone.now(), graded_by=submission.student
        )
    )


def test_assignment_with_submissions_cannot_be_deleted():
    submission = SubmissionFactory()
    with pytest.raises(ProtectedError):
        submission.assignment.delete()
    assert Assignment.objects.filter(pk=submission.assignment_id).exists()


def test_student_and_bootcamp_with_coursework_cannot_be_deleted():
    submission = SubmissionFactory()
    with pytest.raises(ProtectedError):
        submission.student.delete()
    with pytest.raises(ProtectedError):
        submission.assignment.bootcamp.delete()
    with pytest.raises(ProtectedError):
        submission.assignment.created_by.delete()


def test_status_follows_the_score():
    assert SubmissionFactory().status == "submitted"
    assert GradedSubmissionFactory().status == "graded"
