"""`seed_demo` reaches its fixed point on the first run: a second run adds
nothing, and what the first printed is true of the database afterwards."""

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.demo import DEMO_USERS, EXTRA_STAFF, demo_password
from assignments.models import Submission
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db


def _rows() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in ("accounts", "bootcamps", "enrollments", "assignments", "leads")
    }


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--without-debug", stdout=out, no_color=True)
    return out.getvalue()


def test_a_second_run_adds_nothing_and_the_summary_is_true(mailoutbox):
    first = _seed()
    after_first = _rows()
    second = _seed()
    assert _rows() == after_first, second
    enrollments = Enrollment.objects.count()
    waitlisted = Enrollment.objects.filter(status="WAITLISTED").count()
    totals = f"{enrollments} enrollments ({waitlisted} on a waitlist)"
    assert totals in first and totals in second
    assert f"{Submission.objects.count()} submissions" in first
    assert re.search(r"\b0 new\b", second) and "0 assignments, 0 submissions" in second, second
    assert f"{Bootcamp.objects.count()} bootcamps" in first
    assert Submission.objects.exists()
    assert mailoutbox == []


def test_a_rerun_after_work_added_through_the_api_counts_only_what_it_made():
    """Assignments someone added since aren't the seeder's: it made none of them
    (it printed -2 for two added by hand)."""
    from assignments.tests.factories import AssignmentFactory

    _seed()
    running = Bootcamp.objects.filter(slug__startswith="data-science").get()
    AssignmentFactory.create_batch(2, bootcamp=running)
    second = _seed()
    assert "0 assignments, 0 submissions" in second, second


def test_a_rerun_after_the_readmes_flows_adds_no_coursework():
    """Completing an enrollment (a README flow) shifted the running bootcamp's
    students: a second run filled the gradebook's deliberate gaps with new work."""
    from enrollments.services import enrollment_set_status

    _seed()
    running = Bootcamp.objects.filter(slug__startswith="data-science").get()
    first = Enrollment.objects.filter(bootcamp=running, status="ACTIVE").order_by("student__email").first()
    enrollment_set_status(enrollment=first, status=Enrollment.Status.COMPLETED)
    submissions = set(Submission.objects.values_list("pk", flat=True))
    second = _seed()
    assert "0 assignments, 0 submissions" in second, second
    assert set(Submission.objects.values_list("pk", flat=True)) == submissions


def test_every_demo_login_is_printed():
    out = _seed()
    for email, _name, role in [*DEMO_USERS, *EXTRA_STAFF]:
        assert email in out and demo_password(role) in out, email


def test_a_rerun_prints_the_role_each_demo_account_has_now():
    from accounts.models import User

    _seed()
    email = EXTRA_STAFF[1][0]  # the second instructor
    User.objects.filter(email=email).update(role=User.Role.STUDENT)
    line = next(line for line in _seed().splitlines() if email in line)
    assert re.fullmatch(
        rf"\s+STUDENT\s+{re.escape(email)}\s+Instructor-Demo-2026!  \(loaded as INSTRUCTOR; changed since\)",
        line,
    ), line


def test_it_refuses_without_debug_unless_told(settings):
    """It made an ADMIN whose password the README publishes, on whatever database
    it was pointed at: a production one too."""
    from django.core.management.base import CommandError

    from accounts.models import User

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off, so this looks like a production setup"):
        call_command("seed_demo", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--without-debug"):
        call_command("seed_demo", "--scale", "0.01", stdout=io.StringIO())
    assert not User.objects.exists()
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.filter(email="admin@cohortly.dev").exists()


def test_demo_enrollments_are_dated_before_the_work_and_with_the_conversions():
    """Every demo enrollment was dated the moment of seeding: students showed as
    enrolled after handing work in, converted leads months after converting."""
    from leads.models import Lead

    _seed()
    assert Submission.objects.exists()
    for submission in Submission.objects.select_related("assignment"):
        enrollment = Enrollment.objects.get(
            student=submission.student, bootcamp=submission.assignment.bootcamp
        )
        assert enrollment.enrolled_at < submission.submitted_at, submission.pk
    converted = Lead.objects.filter(status=Lead.Status.CONVERTED).select_related("converted_enrollment")
    assert converted.count() >= 10
    for lead in converted:
        assert lead.converted_enrollment.enrolled_at == lead.converted_at, lead.pk
    leads = set(converted.values_list("converted_enrollment", flat=True))
    for enrollment in Enrollment.objects.exclude(pk__in=leads).select_related("bootcamp"):
        assert enrollment.enrolled_at.date() < enrollment.bootcamp.start_date, enrollment.pk
    # A waitlist's order is its arrival order.
    for bootcamp in Bootcamp.objects.all():
        waiting = bootcamp.enrollments.filter(status="WAITLISTED")
        assert list(waiting.order_by("waitlist_seq")) == list(waiting.order_by("enrolled_at"))


def test_each_demo_bootcamp_has_coursework_of_its_own_subject():
    """UX design and Cybersecurity got "Build a REST API" and a "Data structures
    kata"; the draft DevOps bootcamp had published assignments."""
    from assignments.models import Assignment

    _seed()
    published = Assignment.objects.filter(is_published=True)
    titles = list(published.values_list("bootcamp", "title"))
    assert len({title for _bootcamp, title in titles}) == len(titles), titles  # none shared
    assert not published.exclude(bootcamp__status=Bootcamp.Status.PUBLISHED).exists()
    draft = Bootcamp.objects.get(status=Bootcamp.Status.DRAFT)
    assert draft.assignments.exists()  # its syllabus in progress, unpublished
    ux = Bootcamp.objects.get(slug__startswith="ux-")
    assert not ux.assignments.filter(title__icontains="API").exists()
