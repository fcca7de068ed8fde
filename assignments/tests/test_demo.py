import io
from datetime import date, timedelta

import pytest
from django.core.management.base import OutputWrapper
from django.core.management.color import no_style
from django.utils import timezone

from accounts.tests.factories import StudentFactory
from assignments import demo
from assignments.models import Assignment, Submission
from assignments.tests.factories import BootcampFactory, enroll, staffed_bootcamp
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db


def _seed(context):
    out = io.StringIO()
    demo.seed(stdout=OutputWrapper(out), style=no_style(), context=context)
    return out.getvalue()


def test_without_bootcamps_in_context_it_does_nothing():
    assert _seed({}) == ""
    assert not Assignment.objects.exists()


def test_seeds_running_and_upcoming_bootcamps_once():
    today = date.today()
    running, _, mentor = staffed_bootcamp(start_date=today - timedelta(days=10))
    upcoming, _, _ = staffed_bootcamp(start_date=today + timedelta(days=20))
    finished, _, _ = staffed_bootcamp(start_date=today - timedelta(days=100))
    students = StudentFactory.create_batch(6)
    for student in students:
        enroll(student, running)
    enroll(StudentFactory(), running, status=Enrollment.Status.WAITLISTED)
    # Signed up before it started, as demo students are; one joined just now.
    Enrollment.objects.filter(bootcamp=running).update(enrolled_at=timezone.now() - timedelta(days=30))
    newcomer = StudentFactory()
    enroll(newcomer, running)

    output = _seed({"bootcamps": [running, upcoming, finished]})
    assert "Coursework" in output

    for bootcamp in (running, upcoming):
        rows = Assignment.objects.filter(bootcamp=bootcamp)
        assert rows.filter(is_published=True).count() == 3
        assert rows.filter(is_published=False).count() == 1
        assert all(a.created_by in bootcamp.instructors.all() for a in rows)
    assert not Assignment.objects.filter(bootcamp=finished).exists()

    submissions = Submission.objects.all()
    assert submissions.filter(score__isnull=False).exists()
    assert submissions.filter(score__isnull=True).exists()
    assert submissions.filter(is_late=True).exists()
    assert set(submissions.values_list("student", flat=True)) <= {s.pk for s in students}
    assert not submissions.filter(student=newcomer).exists()  # no work from before they enrolled
    assert set(submissions.values_list("assignment__bootcamp", flat=True)) == {running.pk}
    assert not submissions.filter(assignment__is_published=False).exists()
    assert set(submissions.filter(score__isnull=False).values_list("graded_by", flat=True)) == {mentor.pk}
    for submission in submissions.select_related("assignment"):
        submission.full_clean()
        assert submission.is_late == (submission.submitted_at > submission.assignment.due_at)
        assert submission.score is None or submission.score <= submission.assignment.max_score

    counts = (Assignment.objects.count(), Submission.objects.count())
    _seed({"bootcamps": [running, upcoming, finished]})
    assert (Assignment.objects.count(), Submission.objects.count()) == counts


def test_bootcamp_without_instructor_uses_an_admin(admin_user):
    bootcamp = BootcampFactory(start_date=date.today() + timedelta(days=3))
    _seed({"bootcamps": [bootcamp], "users": {"ADMIN": admin_user}})
    assert set(Assignment.objects.values_list("created_by", flat=True)) == {admin_user.pk}


def test_work_is_due_while_the_bootcamp_runs():
    # The demo's UX sprint lasts four weeks; its capstone proposal (due 34 days in)
    # was due a week after the bootcamp had ended.
    start = date.today() + timedelta(days=35)
    sprint, _, _ = staffed_bootcamp(start_date=start, end_date=start + timedelta(days=28))
    _seed({"bootcamps": [sprint]})

    due_days = sorted(a.due_at.date() for a in Assignment.objects.filter(bootcamp=sprint))
    assert len(due_days) == 4
    assert all(sprint.start_date <= day <= sprint.end_date for day in due_days), due_days
    assert len(set(due_days)) == 4
