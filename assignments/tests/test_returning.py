"""Returning graded work for revision: POST /submissions/{id}/return/, the
admin's action, and what the gradebook and the submission lists then say."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from assignments.models import Submission
from assignments.tests.conftest import matrix
from assignments.tests.factories import AssignmentFactory, GradedSubmissionFactory, SubmissionFactory, enroll
from bootcamps.models import Bootcamp
from conftest import assert_error, auth_client
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db
Role = User.Role


def return_url(submission):
    return f"/api/v1/submissions/{submission.pk}/return/"


@pytest.fixture
def assignment(bootcamp):
    return AssignmentFactory(bootcamp=bootcamp, title="Week 3: SQL", max_score=Decimal("10"))


@pytest.fixture
def graded(assignment):
    """Graded work of a student who holds an ACTIVE seat in the bootcamp."""
    submission = GradedSubmissionFactory(assignment=assignment, feedback="Good start.")
    enroll(submission.student, assignment.bootcamp)
    return submission


def _grade_of(submission) -> tuple:
    row = Submission.objects.get(pk=submission.pk)
    return row.score, row.graded_by_id, row.graded_at, row.feedback, row.returned_at


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 403}
)
def test_return_roles(member_client, bootcamp, graded, role, expected, mailoutbox):
    client, _ = member_client(role, bootcamp)
    before = _grade_of(graded)
    response = client.post(return_url(graded), {"feedback": "Part 2 needs tests."})
    if expected != 200:
        assert_error(response, expected)
        assert _grade_of(graded) == before
        assert mailoutbox == []
        return
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["score"], body["graded_by"], body["graded_at"]) == (
        "returned",
        None,
        None,
        None,
    )
    assert body["feedback"] == "Part 2 needs tests."
    score, grader, graded_at, feedback, returned_at = _grade_of(graded)
    assert (score, grader, graded_at, feedback) == (None, None, None, "Part 2 needs tests.")
    assert returned_at is not None
    assert body["returned_at"] is not None


def test_returned_work_is_handed_in_again_and_graded_again(client_for, member_client, bootcamp, graded):
    staff, _ = client_for(Role.ADMIN)
    assert staff.post(return_url(graded), {}).status_code == 200
    student = graded.student
    handed_in = auth_client(student).post(
        f"/api/v1/assignments/{graded.assignment_id}/submissions/", {"content": "Now with tests."}
    )
    assert handed_in.status_code == 200, handed_in.content
    assert handed_in.json()["id"] == graded.pk
    assert (handed_in.json()["status"], handed_in.json()["is_late"]) == ("submitted", False)
    mentor_client, mentor = member_client(Role.MENTOR, bootcamp)
    regraded = mentor_client.post(f"/api/v1/submissions/{graded.pk}/grade/", {"score": "9.5"})
    assert regraded.status_code == 200, regraded.content
    row = Submission.objects.get(pk=graded.pk)
    assert (row.content, row.score, row.graded_by, row.status) == (
        "Now with tests.",
        Decimal("9.50"),
        mentor,
        "graded",
    )


def test_the_student_sees_it_returned_with_what_to_revise(client_for, graded):
    staff, _ = client_for(Role.ADMIN)
    staff.post(return_url(graded), {"feedback": "Add an index."})
    body = auth_client(graded.student).get(f"/api/v1/submissions/{graded.pk}/").json()
    assert (body["status"], body["score"], body["feedback"]) == ("returned", None, "Add an index.")


def test_returning_emails_the_student_after_commit(
    member_client, bootcamp, graded, django_capture_on_commit_callbacks, mailoutbox
):
    client, instructor = member_client(Role.INSTRUCTOR, bootcamp)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(return_url(graded), {"feedback": "Explain <why> & how."})
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [graded.student.email]
    assert message.subject == "Returned for revision: Week 3: SQL"
    assert f"returned for revision by {instructor.full_name}" in message.body
    assert "Explain <why> & how." in message.body  # plain text, not HTML-escaped
    assert "Its grade is withdrawn until you hand it in again" in message.body
    assert "due time has passed" not in message.body


def test_returned_after_the_due_time_says_a_new_hand_in_is_late(
    client_for, bootcamp, django_capture_on_commit_callbacks, mailoutbox
):
    overdue = AssignmentFactory(bootcamp=bootcamp, due_at=timezone.now() - timedelta(days=1))
    submission = GradedSubmissionFactory(assignment=overdue, submitted_at=timezone.now() - timedelta(days=2))
    enroll(submission.student, bootcamp)
    staff, _ = client_for(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(return_url(submission), {}).status_code == 200
    assert "The due time has passed: work handed in again is marked" in mailoutbox[0].body
    # The feedback given with the grade stays: it says what to revise.
    assert Submission.objects.get(pk=submission.pk).feedback == "Good work."
    again = auth_client(submission.student).post(
        f"/api/v1/assignments/{overdue.pk}/submissions/", {"content": "Revised."}
    )
    assert (again.status_code, again.json()["is_late"]) == (200, True)


def test_ungraded_work_is_409_not_graded(client_for, assignment, mailoutbox):
    submission = SubmissionFactory(assignment=assignment)
    enroll(submission.student, assignment.bootcamp)
    staff, _ = client_for(Role.ADMIN)
    body = assert_error(staff.post(return_url(submission), {"feedback": "?"}), 409, code="not_graded")
    assert "its student can still replace it" in body["errors"][0]["detail"]
    row = Submission.objects.get(pk=submission.pk)
    assert (row.returned_at, row.feedback) == (None, "")
    assert mailoutbox == []


def _archive(submission):
    Bootcamp.objects.filter(pk=submission.assignment.bootcamp_id).update(status=Bootcamp.Status.ARCHIVED)


def _unpublish(submission):
    type(submission.assignment).objects.filter(pk=submission.assignment_id).update(is_published=False)


def _drop(submission):
    Enrollment.objects.filter(student=submission.student).update(status=Enrollment.Status.DROPPED)


def _deactivate(submission):
    User.objects.filter(pk=submission.student_id).update(is_active=False)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_archive, "This bootcamp is archived: it takes no more work."),
        (_unpublish, "This assignment is not published."),
        (_drop, "Only students with an active enrollment in this bootcamp can hand in work."),
        (_deactivate, "This student's account is deactivated."),
    ],
    ids=["archived bootcamp", "unpublished assignment", "dropped student", "deactivated student"],
)
def test_work_its_student_could_not_hand_in_again_is_409(client_for, graded, change, reason, mailoutbox):
    change(graded)
    before = _grade_of(graded)
    staff, _ = client_for(Role.ADMIN)
    body = assert_error(staff.post(return_url(graded), {}), 409, code="cannot_resubmit")
    assert body["errors"][0]["detail"] == f"{reason} Its student couldn't hand it in again: grade it instead."
    assert _grade_of(graded) == before
    assert mailoutbox == []


def test_returning_again_changes_only_differing_feedback(
    client_for, graded, django_capture_on_commit_callbacks, mailoutbox
):
    staff, _ = client_for(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(return_url(graded), {"feedback": "Add tests."})
    first = _grade_of(graded)
    with django_capture_on_commit_callbacks(execute=True):
        retried = staff.post(return_url(graded), {"feedback": "Add tests."})
        kept = staff.post(return_url(graded), {})
    assert (retried.status_code, kept.status_code) == (200, 200)
    assert _grade_of(graded) == first
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(return_url(graded), {"feedback": "Add tests, and a README."})
    assert _grade_of(graded)[3] == "Add tests, and a README."
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"feedback": "x" * 10_001}, "feedback"),
        ({"feedback": None}, "feedback"),
        ({"feedback": 5}, "feedback"),
        ({"score": "0"}, "non_field_errors"),
        ([], "non_field_errors"),
    ],
    ids=["too long", "null", "a number", "unknown field", "not an object"],
)
def test_bad_input_is_400_and_changes_nothing(client_for, graded, payload, attr, mailoutbox):
    before = _grade_of(graded)
    staff, _ = client_for(Role.ADMIN)
    assert_error(staff.post(return_url(graded), payload, format="json"), 400, attr=attr)
    assert _grade_of(graded) == before
    assert mailoutbox == []


def test_staff_of_another_bootcamp_get_404(outsider_client, graded):
    for role in (Role.INSTRUCTOR, Role.MENTOR):
        client, _ = outsider_client(role)
        assert_error(client.post(return_url(graded), {}), 404)
    assert Submission.objects.get(pk=graded.pk).score == Decimal("8.00")


# --- Where returned work shows ---------------------------------------------------------


def test_the_gradebook_counts_returned_work_apart(client_for, bootcamp, graded):
    staff, _ = client_for(Role.ADMIN)
    staff.post(return_url(graded), {})
    body = staff.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook/").json()
    (row,) = body["students"]
    assert row["grades"][0] == {
        "assignment_id": graded.assignment_id,
        "status": "returned",
        "submission_id": graded.pk,
        "score": None,
        "is_late": False,
    }
    assert (row["graded_count"], row["submitted_count"], row["returned_count"], row["average"]) == (
        0,
        0,
        1,
        None,
    )
    csv = staff.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook.csv/").content.decode()
    header, line = csv.splitlines()[:2]
    assert header.endswith(
        "Average %,Points,Points possible,Points %,Graded,Awaiting grade,Awaiting revision,Missing"
    )
    assert line.endswith(",returned,,0.00,0.00,,0,0,1,0")


def test_the_status_filter_tells_returned_from_awaiting_a_grade(client_for, assignment, graded):
    waiting = SubmissionFactory(assignment=assignment)
    resubmitted = GradedSubmissionFactory(assignment=assignment)
    enroll(resubmitted.student, assignment.bootcamp)
    staff, _ = client_for(Role.ADMIN)
    staff.post(return_url(graded), {})
    staff.post(return_url(resubmitted), {})
    Submission.objects.filter(pk=resubmitted.pk).update(submitted_at=timezone.now() + timedelta(seconds=1))
    done = GradedSubmissionFactory(assignment=assignment)

    def ids(query):
        response = staff.get(f"/api/v1/submissions/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"]: row["status"] for row in response.json()["results"]}

    assert ids("status=returned") == {graded.pk: "returned"}
    assert ids("status=submitted") == {waiting.pk: "submitted", resubmitted.pk: "submitted"}
    assert ids("status=graded") == {done.pk: "graded"}
    assert set(ids("status=returned&status=graded")) == {graded.pk, done.pk}
    assert set(ids("graded=false")) == {graded.pk, waiting.pk, resubmitted.pk}
    assert_error(staff.get("/api/v1/submissions/?status=lost"), 400, attr="status")
