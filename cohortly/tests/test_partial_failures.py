"""A failure halfway through a multi-step service leaves nothing half done.

Each test lets the service do part of its work, then makes the next step fail,
and checks the database is exactly as before (the API answers the failure as a
500 in the error shape; nothing else is changed)."""

from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import User
from assignments.services import submission_grade
from assignments.tests.factories import SubmissionFactory, staffed_bootcamp
from enrollments import services as enrollment_services
from enrollments.models import Enrollment
from enrollments.services import enrollment_cancel, enrollment_create
from enrollments.tests.factories import BootcampFactory
from leads import services as lead_services
from leads.models import Lead, LeadActivity
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_conversion_failing_at_enrollment_leaves_no_student_and_an_unchanged_lead(monkeypatch, sales_user):
    lead = LeadFactory(email="new.student@example.com", status=Lead.Status.QUALIFIED)
    activities = LeadActivity.objects.filter(lead=lead).count()

    def enroll_then_fail(*, student, bootcamp, **kwargs):
        assert User.objects.filter(pk=student.pk).exists()  # the student was created by then
        raise Boom

    monkeypatch.setattr(lead_services, "enrollment_create", enroll_then_fail)
    with pytest.raises(Boom):
        lead_services.lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory())
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUALIFIED and lead.converted_student is None
    assert not User.objects.filter(email="new.student@example.com").exists()
    assert LeadActivity.objects.filter(lead=lead).count() == activities
    assert not Enrollment.objects.exists()


def test_cancel_failing_during_promotion_keeps_both_enrollments_as_they_were(
    monkeypatch, make_user, django_capture_on_commit_callbacks
):
    bootcamp = BootcampFactory(capacity=1)
    active = enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=bootcamp, notify=False)
    waiting = enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=bootcamp, notify=False)
    promote = enrollment_services._promote_waitlist

    def promote_then_fail(*args, **kwargs):
        promote(*args, **kwargs)  # the waitlisted student got the seat...
        raise Boom  # ...and then something broke

    monkeypatch.setattr(enrollment_services, "_promote_waitlist", promote_then_fail)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        enrollment_cancel(enrollment=active)
    active.refresh_from_db()
    waiting.refresh_from_db()
    assert (active.status, waiting.status, waiting.waitlist_seq) == ("ACTIVE", "WAITLISTED", 1)
    assert mail.outbox == []  # no "cancelled" or "promoted" mail for what didn't happen


def test_grading_failing_after_the_score_is_written_records_no_grade(
    monkeypatch, django_capture_on_commit_callbacks
):
    bootcamp, instructor, _ = staffed_bootcamp()
    submission = SubmissionFactory(assignment__bootcamp=bootcamp)
    import assignments.services as assignment_services

    def fail(*args, **kwargs):
        raise Boom

    monkeypatch.setattr(assignment_services, "email_user", fail)  # the grade email, last
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        submission_grade(submission=submission, grader=instructor, score=Decimal("7"), feedback="Nice")
    submission.refresh_from_db()
    assert submission.score is None and submission.graded_by is None and submission.graded_at is None
    assert submission.feedback == ""
    assert mail.outbox == []


def test_the_api_answers_such_a_failure_in_the_error_shape(monkeypatch, sales_client):
    lead = LeadFactory(status=Lead.Status.QUALIFIED)
    sales_client.raise_request_exception = False

    def fail(**kwargs):
        raise Boom

    monkeypatch.setattr(lead_services, "enrollment_create", fail)
    response = sales_client.post(
        f"/api/v1/leads/{lead.pk}/convert/", {"bootcamp": BootcampFactory().pk}, format="json"
    )
    assert response.status_code == 500
    assert response.json()["type"] == "server_error"
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUALIFIED
