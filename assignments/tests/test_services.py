import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import AdminFactory, InstructorFactory, MentorFactory, StudentFactory
from assignments import services
from assignments.models import Assignment, Submission
from assignments.tests.factories import (
    AssignmentFactory,
    BootcampFactory,
    GradedSubmissionFactory,
    SubmissionFactory,
    enroll,
    staffed_bootcamp,
)
from cohortly.errors import Conflict, NotAllowed
from conftest import in_thread, race_behind_held
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db

DUE = timezone.now() + timedelta(days=3)


# --- assignment_create / update / delete -----------------------------------------


def test_instructor_creates_an_assignment_in_their_bootcamp():
    bootcamp, instructor, _ = staffed_bootcamp()
    assignment = services.assignment_create(
        created_by=instructor, bootcamp=bootcamp, title="  Week 1  ", due_at=DUE, max_score=Decimal("10")
    )
    assignment.refresh_from_db()
    assert (assignment.title, assignment.created_by, assignment.is_published) == ("Week 1", instructor, False)


@pytest.mark.parametrize("who", ["other_instructor", "mentor", "student"])
def test_only_admin_or_the_bootcamps_instructor_creates(who):
    bootcamp, _, mentor = staffed_bootcamp()
    user = {"other_instructor": InstructorFactory(), "mentor": mentor, "student": StudentFactory()}[who]
    with pytest.raises(ValidationError) as exc:
        services.assignment_create(
            created_by=user, bootcamp=bootcamp, title="X", due_at=DUE, max_score=Decimal(1)
        )
    assert "bootcamp" in exc.value.message_dict
    assert not Assignment.objects.exists()


def test_admin_creates_in_any_bootcamp():
    assignment = services.assignment_create(
        created_by=AdminFactory(), bootcamp=BootcampFactory(), title="X", due_at=DUE, max_score=Decimal(1)
    )
    assert assignment.pk


def test_create_validates_fields():
    bootcamp, instructor, _ = staffed_bootcamp()
    with pytest.raises(ValidationError) as exc:
        services.assignment_create(
            created_by=instructor, bootcamp=bootcamp, title="", due_at=DUE, max_score=Decimal("0")
        )
    assert {"title", "max_score"} <= set(exc.value.message_dict)


def test_update_refuses_the_bootcamp_and_other_instructors():
    assignment = AssignmentFactory()
    assignment.bootcamp.instructors.add(assignment.created_by)
    with pytest.raises(ValidationError) as exc:
        services.assignment_update(
            assignment=assignment, updated_by=assignment.created_by, data={"bootcamp": BootcampFactory()}
        )
    assert "bootcamp" in exc.value.message_dict
    with pytest.raises(NotAllowed):
        services.assignment_update(
            assignment=assignment, updated_by=InstructorFactory(), data={"title": "Mine"}
        )
    assert Assignment.objects.get(pk=assignment.pk).title == assignment.title


@pytest.mark.parametrize(
    ("new_max", "code"), [("7", "below_given_score"), ("8", "has_grades"), ("12", "has_grades")]
)
def test_max_score_stays_once_work_is_graded(new_max, code):
    submission = GradedSubmissionFactory(score=Decimal("8"))
    assignment = submission.assignment
    with pytest.raises(ValidationError) as exc:
        services.assignment_update(
            assignment=assignment, updated_by=AdminFactory(), data={"max_score": Decimal(new_max)}
        )
    assert [error.code for error in exc.value.error_dict["max_score"]] == [code]
    assert Assignment.objects.get(pk=assignment.pk).max_score == Decimal("10")


def test_moving_the_due_date_reflags_late_work():
    now = timezone.now()
    assignment = AssignmentFactory(due_at=now - timedelta(days=2))
    on_time = SubmissionFactory(assignment=assignment, submitted_at=now - timedelta(days=3))
    late = SubmissionFactory(assignment=assignment, submitted_at=now - timedelta(days=1), is_late=True)

    services.assignment_update(assignment=assignment, updated_by=AdminFactory(), data={"due_at": now})
    assert [Submission.objects.get(pk=s.pk).is_late for s in (on_time, late)] == [False, False]

    services.assignment_update(
        assignment=assignment, updated_by=AdminFactory(), data={"due_at": now - timedelta(days=4)}
    )
    assert [Submission.objects.get(pk=s.pk).is_late for s in (on_time, late)] == [True, True]


def test_delete_with_submissions_is_a_conflict():
    submission = SubmissionFactory()
    with pytest.raises(Conflict) as exc:
        services.assignment_delete(assignment=submission.assignment, deleted_by=AdminFactory())
    assert exc.value.code == "has_submissions"
    assert Assignment.objects.filter(pk=submission.assignment_id).exists()


def test_delete_without_submissions():
    assignment = AssignmentFactory()
    services.assignment_delete(assignment=assignment, deleted_by=AdminFactory())
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


# --- submission_submit ---------------------------------------------------------


@pytest.fixture
def active_student_and_assignment():
    assignment = AssignmentFactory()
    student = StudentFactory()
    enroll(student, assignment.bootcamp)
    return student, assignment


def test_first_submission_then_replacement(active_student_and_assignment):
    student, assignment = active_student_and_assignment
    first, created = services.submission_submit(assignment=assignment, student=student, content="v1")
    assert created
    second, created = services.submission_submit(
        assignment=assignment, student=student, link="https://example.com/v2"
    )
    assert not created
    assert second.pk == first.pk
    row = Submission.objects.get()
    assert (row.content, row.link) == ("", "https://example.com/v2")
    assert row.submitted_at >= first.submitted_at


def test_submission_needs_content_or_link(active_student_and_assignment):
    student, assignment = active_student_and_assignment
    with pytest.raises(ValidationError) as exc:
        services.submission_submit(assignment=assignment, student=student, content="   ", link="")
    assert "__all__" in exc.value.message_dict
    assert not Submission.objects.exists()


def test_late_flag_set_after_due(active_student_and_assignment):
    student, assignment = active_student_and_assignment
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assignment.refresh_from_db()
    submission, _ = services.submission_submit(assignment=assignment, student=student, content="late")
    assert Submission.objects.get(pk=submission.pk).is_late is True


def test_graded_submission_cannot_be_replaced(active_student_and_assignment):
    student, assignment = active_student_and_assignment
    submission = GradedSubmissionFactory(assignment=assignment, student=student, content="original")
    with pytest.raises(Conflict) as exc:
        services.submission_submit(assignment=assignment, student=student, content="new")
    assert exc.value.code == "already_graded"
    assert Submission.objects.get(pk=submission.pk).content == "original"


@pytest.mark.parametrize("status", [Enrollment.Status.COMPLETED, Enrollment.Status.WAITLISTED, None])
def test_only_active_students_submit(status):
    assignment = AssignmentFactory()
    student = StudentFactory()
    if status:
        enroll(student, assignment.bootcamp, status=status)
    with pytest.raises(NotAllowed):
        services.submission_submit(assignment=assignment, student=student, content="x")
    assert not Submission.objects.exists()


def test_staff_do_not_submit():
    assignment = AssignmentFactory()
    with pytest.raises(NotAllowed):
        services.submission_submit(assignment=assignment, student=MentorFactory(), content="x")


def test_unpublished_assignment_takes_no_submissions(active_student_and_assignment):
    student, assignment = active_student_and_assignment
    Assignment.objects.filter(pk=assignment.pk).update(is_published=False)
    assignment.refresh_from_db()
    with pytest.raises(ValidationError):
        services.submission_submit(assignment=assignment, student=student, content="x")


# --- submission_grade ------------------------------------------------------------


def test_grade_records_grader_and_time():
    bootcamp, _, mentor = staffed_bootcamp()
    submission = SubmissionFactory(assignment=AssignmentFactory(bootcamp=bootcamp))
    before = timezone.now()
    services.submission_grade(submission=submission, grader=mentor, score=Decimal("7.5"), feedback=" Nice ")
    row = Submission.objects.get(pk=submission.pk)
    assert (row.score, row.feedback, row.graded_by) == (Decimal("7.50"), "Nice", mentor)
    assert row.graded_at >= before


def test_a_deactivated_students_work_is_graded_without_an_email_and_not_returned(
    mailoutbox, django_capture_on_commit_callbacks
):
    """Their account is closed and they can't sign in to see it (announcements
    already skip them), nor to hand the work in again: returning it would
    withdraw the grade for good."""
    bootcamp, _, mentor = staffed_bootcamp()
    submission = SubmissionFactory(assignment=AssignmentFactory(bootcamp=bootcamp))
    enroll(submission.student, bootcamp)  # holds a seat: only the account stops a return
    type(submission.student).objects.filter(pk=submission.student_id).update(is_active=False)
    submission = Submission.objects.select_related("student").get(pk=submission.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_grade(submission=submission, grader=mentor, score=Decimal("7"))
    assert Submission.objects.get(pk=submission.pk).score == Decimal("7.00")
    with pytest.raises(Conflict) as refused, django_capture_on_commit_callbacks(execute=True):
        services.submission_return(submission=submission, returned_by=mentor, feedback="Redo part 2")
    assert refused.value.code == "cannot_resubmit"
    row = Submission.objects.get(pk=submission.pk)
    assert (row.score, row.returned_at) == (Decimal("7.00"), None)
    assert mailoutbox == []


def test_regrade_replaces_score_and_keeps_feedback_when_left_out():
    bootcamp, instructor, mentor = staffed_bootcamp()
    submission = SubmissionFactory(assignment=AssignmentFactory(bootcamp=bootcamp))
    services.submission_grade(
        submission=submission, grader=mentor, score=Decimal("5"), feedback="Redo part 2"
    )
    services.submission_grade(submission=submission, grader=instructor, score=Decimal("9"))
    row = Submission.objects.get(pk=submission.pk)
    assert (row.score, row.feedback, row.graded_by) == (Decimal("9.00"), "Redo part 2", instructor)


@pytest.mark.parametrize(
    "score", [Decimal("-0.01"), Decimal("10.01"), Decimal("NaN"), Decimal("Infinity"), Decimal("1.001"), 5]
)
def test_grade_refuses_scores_out_of_range(score):
    submission = SubmissionFactory()
    with pytest.raises(ValidationError) as exc:
        services.submission_grade(submission=submission, grader=AdminFactory(), score=score)
    assert "score" in exc.value.message_dict
    assert Submission.objects.get(pk=submission.pk).score is None


@pytest.mark.parametrize("score", [Decimal("0"), Decimal("10")])
def test_grade_bounds_are_inclusive(score):
    submission = SubmissionFactory()
    services.submission_grade(submission=submission, grader=AdminFactory(), score=score)
    assert Submission.objects.get(pk=submission.pk).score == score


def test_a_score_of_minus_zero_is_stored_shown_and_emailed_as_zero(
    django_capture_on_commit_callbacks, mailoutbox
):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        graded = services.submission_grade(
            submission=submission, grader=AdminFactory(), score=Decimal("-0.00")
        )
    assert str(graded.score) == "0.00"
    assert str(Submission.objects.get(pk=submission.pk).score) == "0.00"
    assert "Score: 0 / 10" in mailoutbox[0].body
    assert "-0" not in mailoutbox[0].body


def test_a_regrade_that_changes_nothing_changes_nothing_and_emails_nobody(
    django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp, instructor, mentor = staffed_bootcamp()
    submission = SubmissionFactory(assignment=AssignmentFactory(bootcamp=bootcamp))
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_grade(submission=submission, grader=mentor, score=Decimal("5"), feedback="Redo 2")
    first = Submission.objects.get(pk=submission.pk)
    for feedback in (None, " Redo 2 "):
        with django_capture_on_commit_callbacks(execute=True):
            services.submission_grade(
                submission=submission, grader=instructor, score=Decimal("5.0"), feedback=feedback
            )
    row = Submission.objects.get(pk=submission.pk)
    assert (row.graded_by, row.graded_at, row.updated_at) == (mentor, first.graded_at, first.updated_at)
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_grade(
            submission=submission, grader=instructor, score=Decimal("5"), feedback="Better"
        )
    assert [m.subject.split(":")[0] for m in mailoutbox] == ["Graded", "Grade updated"]


def test_only_staff_of_the_bootcamp_grade():
    submission = SubmissionFactory()
    for outsider in (InstructorFactory(), MentorFactory(), StudentFactory()):
        with pytest.raises(NotAllowed):
            services.submission_grade(submission=submission, grader=outsider, score=Decimal("1"))
    assert Submission.objects.get(pk=submission.pk).score is None


def test_nobody_grades_or_returns_their_own_work(mailoutbox):
    # A former student of the bootcamp made one of its mentors (only an ADMIN can).
    bootcamp, _, _ = staffed_bootcamp()
    student = StudentFactory()
    own = SubmissionFactory(assignment=AssignmentFactory(bootcamp=bootcamp), student=student)
    graded = GradedSubmissionFactory(assignment=own.assignment)
    student.role = student.Role.MENTOR
    student.save(update_fields=["role"])
    bootcamp.mentors.add(student)
    with pytest.raises(NotAllowed, match="Nobody can grade their own work: another grader has to."):
        services.submission_grade(submission=own, grader=student, score=Decimal("10"))
    assert Submission.objects.get(pk=own.pk).score is None
    own_graded = GradedSubmissionFactory(assignment=AssignmentFactory(bootcamp=bootcamp), student=student)
    with pytest.raises(NotAllowed, match="Nobody can return their own work"):
        services.submission_return(submission=own_graded, returned_by=student)
    assert Submission.objects.get(pk=own_graded.pk).score == Decimal("8.00")
    # The others' work is theirs to grade.
    services.submission_grade(submission=graded, grader=student, score=Decimal("9"))
    assert Submission.objects.get(pk=graded.pk).graded_by == student


# --- Locking (PostgreSQL: SQLite has no row locks) ---------------------------------


def _race_grade_and_resubmit():
    """A grade holds the submission's row for 0.5 s while a resubmission arrives."""
    bootcamp, _, mentor = staffed_bootcamp()
    assignment = AssignmentFactory(bootcamp=bootcamp)
    student = StudentFactory()
    enroll(student, bootcamp)
    submission = SubmissionFactory(assignment=assignment, student=student, content="graded version")
    graded = threading.Event()
    results = {}

    def grade():
        with transaction.atomic():
            services.submission_grade(submission=submission, grader=mentor, score=Decimal("9"))
            graded.set()
            time.sleep(0.5)  # hold the lock while the resubmission arrives

    def resubmit():
        graded.wait(5)
        started = time.monotonic()
        try:
            return services.submission_submit(assignment=assignment, student=student, content="sneaky edit")
        finally:
            results["waited"] = time.monotonic() - started

    threads = [in_thread(grade, results, "grade"), in_thread(resubmit, results, "resubmit")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results, Submission.objects.get(pk=submission.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_resubmission_waits_for_a_grade_in_progress_and_then_conflicts():
    """While a grade holds the submission's lock, a resubmission waits; once the
    grade commits it sees a graded submission and gets 409, so the grade is
    always of the content it was given for."""
    results, row = _race_grade_and_resubmit()
    assert isinstance(results["resubmit"], Conflict), results
    assert results["waited"] >= 0.3
    assert (row.content, row.score) == ("graded version", Decimal("9.00"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_the_resubmission_wipes_the_grade(monkeypatch):
    """The race above is real: reading the submission without FOR UPDATE, the
    resubmission sees it ungraded and overwrites the grade once it commits."""

    def look_without_lock(*, assignment, student):
        return Submission.objects.filter(assignment=assignment, student=student).first()

    monkeypatch.setattr(services, "_lock_submission", look_without_lock)
    monkeypatch.setattr(services, "_lock_assignment", lambda pk: Assignment.objects.get(pk=pk))
    results, row = _race_grade_and_resubmit()
    assert isinstance(results["resubmit"], tuple), results
    assert (row.content, row.score) == ("sneaky edit", None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_first_submissions_make_one_row():
    assignment = AssignmentFactory()
    student = StudentFactory()
    enroll(student, assignment.bootcamp)
    barrier = threading.Barrier(4)
    results = {}

    def submit(n):
        def run():
            barrier.wait(5)
            return services.submission_submit(assignment=assignment, student=student, content=f"v{n}")

        return run

    threads = [in_thread(submit(n), results, n) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert all(isinstance(result, tuple) for result in results.values()), results
    assert sum(created for _, created in results.values()) == 1
    assert Submission.objects.filter(assignment=assignment, student=student).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locked", [True, False])
def test_a_grade_racing_a_lower_maximum_never_ends_above_it(monkeypatch, locked):
    """Grading locks the assignment as assignment_update does, so a grade of 8
    arriving while the maximum drops from 10 to 5 is checked against 5. The
    control (the grade reading the assignment without its lock) shows the race:
    both commit and the score ends above the maximum."""
    if not locked:
        monkeypatch.setattr(services, "_lock_assignment", lambda pk: Assignment.objects.get(pk=pk))
    bootcamp, instructor, mentor = staffed_bootcamp()
    assignment = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"))
    submission = SubmissionFactory(assignment=assignment)
    results = race_behind_held(
        lambda: services.assignment_update(
            assignment=assignment, updated_by=instructor, data={"max_score": Decimal("5")}
        ),
        lambda: services.submission_grade(submission=submission, grader=mentor, score=Decimal("8")),
    )
    row = Submission.objects.select_related("assignment").get(pk=submission.pk)
    assert row.assignment.max_score == Decimal("5.00")
    if locked:
        assert isinstance(results["then"], ValidationError), results
        assert row.score is None
    else:
        assert row.score == Decimal("8.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locked", [True, False])
def test_work_handed_in_during_an_extension_is_judged_by_the_new_due_date(monkeypatch, locked):
    """An extension committed while a student hands in: the submission reads the
    assignment under its lock and is on time. The control (no lock) flags it late
    against the old due date, and the extension's re-flagging has already run."""
    if not locked:
        monkeypatch.setattr(services, "_lock_assignment", lambda pk: Assignment.objects.get(pk=pk))
    bootcamp, instructor, _ = staffed_bootcamp()
    assignment = AssignmentFactory(bootcamp=bootcamp, due_at=timezone.now() - timedelta(hours=1))
    student = StudentFactory()
    enroll(student, bootcamp)
    extended = timezone.now() + timedelta(days=2)
    results = race_behind_held(
        lambda: services.assignment_update(
            assignment=assignment, updated_by=instructor, data={"due_at": extended}
        ),
        lambda: services.submission_submit(assignment=assignment, student=student, content="done"),
    )
    assert isinstance(results["then"], tuple), results
    assert Submission.objects.get(assignment=assignment, student=student).is_late is (not locked)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [Enrollment.Status.DROPPED, Enrollment.Status.COMPLETED])
@pytest.mark.parametrize("action", ["submit", "return"])
def test_work_handed_in_or_returned_while_the_seat_is_given_up_waits_and_is_refused(action, status):
    """A drop (or completion) of the enrollment commits while the student hands
    in work, or a grader returns it for revision: the enrollment is held for the
    check, so the hand-in waits and is refused. Read without a lock it was ACTIVE
    still: work was stored against a seat given up, and a grade withdrawn from a
    student who could no longer hand the work in again."""
    from enrollments.services import enrollment_set_status

    bootcamp, _, mentor = staffed_bootcamp()
    assignment = AssignmentFactory(bootcamp=bootcamp)
    student = StudentFactory()
    enrollment = enroll(student, bootcamp)
    graded = None if action == "submit" else GradedSubmissionFactory(assignment=assignment, student=student)

    def then():
        if action == "submit":
            return services.submission_submit(assignment=assignment, student=student, content="My work.")
        return services.submission_return(submission=graded, returned_by=mentor)

    results = race_behind_held(
        lambda: enrollment_set_status(enrollment=enrollment, status=status, notify=False), then
    )
    assert Enrollment.objects.get(pk=enrollment.pk).status == status
    if action == "submit":
        assert isinstance(results["then"], NotAllowed), results
        assert not Submission.objects.filter(assignment=assignment, student=student).exists()
    else:
        assert isinstance(results["then"], Conflict) and results["then"].code == "cannot_resubmit", results
        assert Submission.objects.get(pk=graded.pk).score == Decimal("8.00")
