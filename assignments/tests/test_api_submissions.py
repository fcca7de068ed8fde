from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import StudentFactory
from assignments.models import Submission
from assignments.tests.conftest import matrix, warm_up
from assignments.tests.factories import (
    AssignmentFactory,
    GradedSubmissionFactory,
    SubmissionFactory,
    enroll,
)
from bootcamps.models import Bootcamp
from cohortly.tests.openapi_checks import assert_documented
from conftest import assert_error, auth_client
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db
Role = User.Role


def nested(assignment):
    return f"/api/v1/assignments/{assignment.pk}/submissions/"


def detail(submission):
    return f"/api/v1/submissions/{submission.pk}/"


def grade_url(submission):
    return f"/api/v1/submissions/{submission.pk}/grade/"


def _ids(response):
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def assignment(bootcamp):
    return AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"))


# --- Handing in: POST /assignments/{id}/submissions/ -------------------------------------


@matrix(
    {None: 401, Role.ADMIN: 403, Role.SALES: 403, Role.INSTRUCTOR: 403, Role.MENTOR: 403, Role.STUDENT: 201}
)
def test_submit_roles(member_client, bootcamp, assignment, role, expected):
    client, user = member_client(role, bootcamp)
    response = client.post(nested(assignment), {"content": "My answer", "link": "https://github.com/me/work"})
    if expected != 201:
        assert_error(response, expected)
        assert not Submission.objects.exists()
        return
    assert response.status_code == 201, response.json()
    body = response.json()
    row = Submission.objects.get()
    assert (row.student, row.assignment, row.content, row.link, row.is_late, row.score) == (
        user,
        assignment,
        "My answer",
        "https://github.com/me/work",
        False,
        None,
    )
    assert body["id"] == row.pk
    assert body["student"] == {"id": str(user.pk), "email": user.email, "full_name": user.full_name}
    assert (body["status"], body["score"], body["graded_by"], body["graded_at"], body["max_score"]) == (
        "submitted",
        None,
        None,
        None,
        "10.00",
    )
    # What a "my work" screen shows beside it, without reading the assignment.
    assert (body["assignment_title"], body["bootcamp"]) == (assignment.title, bootcamp.pk)
    assert body["assignment_due_at"] == assignment.due_at.isoformat().replace("+00:00", "Z")


def test_resubmitting_replaces_the_same_submission(member_client, bootcamp, assignment):
    client, _ = member_client(Role.STUDENT, bootcamp)
    first = client.post(nested(assignment), {"content": "draft one"})
    assert first.status_code == 201
    second = client.post(nested(assignment), {"link": "https://example.com/final"})
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Submission.objects.count() == 1
    row = Submission.objects.get()
    assert (row.content, row.link) == ("", "https://example.com/final")
    assert second.json()["submitted_at"] >= first.json()["submitted_at"]


def test_an_archived_bootcamp_takes_no_more_work_but_its_work_is_still_graded(
    member_client, client_for, bootcamp, assignment
):
    client, student = member_client(Role.STUDENT, bootcamp)
    handed_in = client.post(nested(assignment), {"content": "first"}).json()
    Bootcamp.objects.filter(pk=bootcamp.pk).update(status=Bootcamp.Status.ARCHIVED)
    body = assert_error(client.post(nested(assignment), {"content": "second"}), 400, code="archived")
    assert body["errors"][0] == {
        "code": "archived",
        "detail": "This bootcamp is archived: it takes no more work.",
        "attr": "non_field_errors",
    }
    assert Submission.objects.get().content == "first"
    staff, _ = client_for(Role.ADMIN)
    graded = staff.post(f"/api/v1/submissions/{handed_in['id']}/grade/", {"score": "7"})
    assert graded.status_code == 200, graded.content


def test_resubmitting_after_grading_is_409(member_client, bootcamp, assignment):
    client, student = member_client(Role.STUDENT, bootcamp)
    graded = GradedSubmissionFactory(assignment=assignment, student=student, content="graded work")
    assert_error(client.post(nested(assignment), {"content": "improved"}), 409, code="already_graded")
    graded.refresh_from_db()
    assert (graded.content, graded.score) == ("graded work", Decimal("8.00"))


def test_after_the_deadline_it_is_accepted_and_flagged_late(member_client, bootcamp):
    overdue = AssignmentFactory(bootcamp=bootcamp, due_at=timezone.now() - timedelta(hours=1))
    client, _ = member_client(Role.STUDENT, bootcamp)
    response = client.post(nested(overdue), {"content": "sorry"})
    assert response.status_code == 201
    assert response.json()["is_late"] is True
    assert Submission.objects.get().is_late is True


def test_submission_sends_a_receipt(member_client, bootcamp, django_capture_on_commit_callbacks, mailoutbox):
    overdue = AssignmentFactory(bootcamp=bootcamp, title="Week 3", due_at=timezone.now() - timedelta(hours=1))
    client, student = member_client(Role.STUDENT, bootcamp)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(nested(overdue), {"content": "late work"}).status_code == 201
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [student.email]
    assert message.subject == "Submission received: Week 3"
    assert "marked late" in message.body


def test_quick_saves_get_one_receipt_and_a_later_one_its_own(
    member_client, bootcamp, django_capture_on_commit_callbacks, mailoutbox
):
    from assignments.services import RECEIPT_QUIET

    due_soon = AssignmentFactory(
        bootcamp=bootcamp, title="Week 4", due_at=timezone.now() + timedelta(minutes=3)
    )
    client, student = member_client(Role.STUDENT, bootcamp)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):  # an autosave, or typos fixed
            assert client.post(nested(due_soon), {"content": f"draft {n}"}).status_code in (200, 201)
    assert [m.subject for m in mailoutbox] == ["Submission received: Week 4"]

    # Turning late is said at once, whenever it happens.
    Submission.objects.update(submitted_at=timezone.now() - timedelta(minutes=1))
    due_soon.due_at = timezone.now() - timedelta(seconds=1)
    due_soon.save(update_fields=["due_at"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(nested(due_soon), {"content": "final, late"}).status_code == 200
    assert [m.subject for m in mailoutbox][1:] == ["Submission updated: Week 4"]
    assert "marked late" in mailoutbox[1].body

    # A replacement after the quiet spell has its own receipt.
    Submission.objects.update(receipt_sent_at=timezone.now() - RECEIPT_QUIET - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(nested(due_soon), {"content": "final, really"}).status_code == 200
    assert [m.subject for m in mailoutbox][2:] == ["Submission updated: Week 4"]


def test_handing_in_a_revision_is_receipted_however_soon_after_the_last_receipt(
    member_client, bootcamp, django_capture_on_commit_callbacks, mailoutbox
):
    """Graded and returned within minutes of the hand-in: the revision the student
    was just asked for got no receipt, being inside the quiet spell."""
    assignment = AssignmentFactory(
        bootcamp=bootcamp, title="Week 5", due_at=timezone.now() + timedelta(days=2)
    )
    client, student = member_client(Role.STUDENT, bootcamp)
    mentor, _ = member_client(Role.MENTOR, bootcamp)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(nested(assignment), {"content": "v1"}).status_code == 201
        submission = Submission.objects.get()
        assert mentor.post(grade_url(submission), {"score": "4"}, format="json").status_code == 200
        response = mentor.post(f"{detail(submission)}return/", {"feedback": "Redo part 2"}, format="json")
        assert response.status_code == 200, response.content
        assert client.post(nested(assignment), {"content": "v2"}).status_code == 200
        assert client.post(nested(assignment), {"content": "v2, typo fixed"}).status_code == 200
    receipts = [m.subject for m in mailoutbox if m.to == [student.email] and "Submission" in m.subject]
    # The hand-in, the revision; the typo fixed right after it stays quiet again.
    assert receipts == ["Submission received: Week 5", "Submission updated: Week 5"]


def test_the_quiet_spell_runs_from_the_last_receipt_not_the_last_save(
    member_client, bootcamp, django_capture_on_commit_callbacks, mailoutbox
):
    """Saves every six minutes: the first is receipted, the second is quiet, and the
    third, twelve minutes after the receipt, has its own. Measured from the last
    save, the third was quiet too, and the only receipt named a version long gone."""
    assignment = AssignmentFactory(
        bootcamp=bootcamp, title="Week 5", due_at=timezone.now() + timedelta(days=2)
    )
    client, _ = member_client(Role.STUDENT, bootcamp)

    def save_six_minutes_on(version):
        Submission.objects.update(
            submitted_at=F("submitted_at") - timedelta(minutes=6),
            receipt_sent_at=F("receipt_sent_at") - timedelta(minutes=6),
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(nested(assignment), {"content": version}).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(nested(assignment), {"content": "version 1"}).status_code == 201
    save_six_minutes_on("version 2")
    assert len(mailoutbox) == 1
    save_six_minutes_on("version 3")
    assert [m.subject for m in mailoutbox] == ["Submission received: Week 5", "Submission updated: Week 5"]


@pytest.mark.parametrize(
    "status", [Enrollment.Status.WAITLISTED, Enrollment.Status.CANCELLED, Enrollment.Status.DROPPED, None]
)
def test_student_without_a_seat_does_not_find_the_assignment(client_for, bootcamp, assignment, status):
    client, student = client_for(Role.STUDENT)
    if status:
        enroll(student, bootcamp, status=status)
    assert_error(client.post(nested(assignment), {"content": "x"}), 404)
    assert not Submission.objects.exists()


def test_completed_student_sees_but_cannot_submit(client_for, bootcamp, assignment):
    client, student = client_for(Role.STUDENT)
    enroll(student, bootcamp, status=Enrollment.Status.COMPLETED)
    assert client.get(f"/api/v1/assignments/{assignment.pk}/").status_code == 200
    body = assert_error(client.post(nested(assignment), {"content": "x"}), 403, code="permission_denied")
    assert "active enrollment" in body["errors"][0]["detail"]
    assert not Submission.objects.exists()


def test_draft_assignment_is_404_for_students(member_client, bootcamp):
    draft = AssignmentFactory(bootcamp=bootcamp, is_published=False)
    client, _ = member_client(Role.STUDENT, bootcamp)
    assert_error(client.post(nested(draft), {"content": "x"}), 404)


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({}, "non_field_errors"),
        ({"content": "", "link": ""}, "non_field_errors"),
        ({"content": "   "}, "non_field_errors"),
        ({"content": "nul \x00 byte"}, "content"),
        ({"content": None}, "content"),
        ({"content": ["a", "list"]}, "content"),
        ({"content": {"an": "object"}}, "content"),
        ({"content": "x" * 20_001}, "content"),
        ({"link": "not a url"}, "link"),
        ({"link": "ftp://example.com/file"}, "link"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "https://example.com/" + "a" * 2_000}, "link"),
        ({"link": 42}, "link"),
        ({"content": "x", "score": 10}, "non_field_errors"),
        ({"content": "x", "student": "someone-else"}, "non_field_errors"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_submit_bad_input(member_client, bootcamp, assignment, payload, attr):
    client, _ = member_client(Role.STUDENT, bootcamp)
    body = assert_error(client.post(nested(assignment), payload), 400, attr=attr)
    assert len(body["errors"]) == 1, body  # each refusal said once
    assert not Submission.objects.exists()


@pytest.mark.parametrize("body", ['{"content": "x"', "[]", "42", "null", "\ufeff{}"])
def test_submit_malformed_json(member_client, bootcamp, assignment, body):
    client, _ = member_client(Role.STUDENT, bootcamp)
    response = client.post(nested(assignment), data=body, content_type="application/json")
    assert_error(response, 400)
    assert not Submission.objects.exists()


def test_unknown_assignment_is_404(member_client, bootcamp):
    client, _ = member_client(Role.STUDENT, bootcamp)
    assert_error(client.post("/api/v1/assignments/999999/submissions/", {"content": "x"}), 404)


# --- Reading: GET /assignments/{id}/submissions/ -----------------------------------------


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 200}
)
def test_nested_list_roles(member_client, bootcamp, assignment, role, expected):
    client, user = member_client(role, bootcamp)
    others = SubmissionFactory.create_batch(2, assignment=assignment)
    for other in others:
        enroll(other.student, bootcamp)
    own = SubmissionFactory(assignment=assignment, student=user) if role == Role.STUDENT else None
    SubmissionFactory()  # another assignment's
    response = client.get(nested(assignment))
    if expected != 200:
        assert_error(response, expected)
        return
    expected_ids = {own.pk} if own else {s.pk for s in others}
    assert _ids(response) == expected_ids
    assert set(response.json()) == {"count", "next", "previous", "results"}


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.MENTOR, Role.STUDENT])
def test_nested_list_outside_scope_is_404(outsider_client, assignment, role):
    SubmissionFactory(assignment=assignment)
    client, _ = outsider_client(role)
    assert_error(client.get(nested(assignment)), 404)


def test_nested_list_paginates(client_for, assignment):
    SubmissionFactory.create_batch(3, assignment=assignment)
    client, _ = client_for(Role.ADMIN)
    body = client.get(nested(assignment), {"page_size": 2}).json()
    assert (body["count"], len(body["results"]), body["next"] is not None) == (3, 2, True)


def test_nested_list_takes_the_submission_lists_filters_search_and_ordering(client_for, assignment):
    from accounts.tests.factories import StudentFactory as Student

    zoe = SubmissionFactory(assignment=assignment, student=Student(full_name="Zoe Zed"))
    amy = GradedSubmissionFactory(
        assignment=assignment, student=Student(full_name="Amy Ant"), score=Decimal("3")
    )
    bob = GradedSubmissionFactory(
        assignment=assignment, student=Student(full_name="Bob Bee"), score=Decimal("9")
    )
    client, _ = client_for(Role.ADMIN)

    def ids(**params):
        response = client.get(nested(assignment), params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [amy.pk, bob.pk, zoe.pk]  # by student name unless told otherwise
    assert ids(ordering="-score") == [bob.pk, amy.pk, zoe.pk]  # ungraded last
    assert ids(graded="false") == [zoe.pk]
    assert ids(graded="true", ordering="score") == [amy.pk, bob.pk]
    assert ids(search="bee") == [bob.pk]
    assert_error(client.get(nested(assignment), {"ordering": "content"}), 400, attr="ordering")
    assert_error(client.get(nested(assignment), {"graded": "0x"}), 400, attr="graded")


# --- Reading: /submissions/ ----------------------------------------------------------------


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 200}
)
def test_list_roles_and_scope(member_client, bootcamp, other_bootcamp, assignment, role, expected):
    client, user = member_client(role, bootcamp)
    here = SubmissionFactory(assignment=assignment)
    elsewhere = SubmissionFactory(assignment=AssignmentFactory(bootcamp=other_bootcamp))
    own = SubmissionFactory(assignment=assignment, student=user) if role == Role.STUDENT else None
    response = client.get("/api/v1/submissions/")
    if expected != 200:
        assert_error(response, expected)
        return
    expected_ids = {
        Role.ADMIN: {here.pk, elsewhere.pk},
        Role.INSTRUCTOR: {here.pk},
        Role.MENTOR: {here.pk},
        Role.STUDENT: {own.pk} if own else set(),
    }[role]
    assert _ids(response) == expected_ids


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 200}
)
def test_retrieve_roles(member_client, bootcamp, assignment, role, expected):
    client, user = member_client(role, bootcamp)
    student = user if role == Role.STUDENT else StudentFactory()
    submission = GradedSubmissionFactory(assignment=assignment, student=student, feedback="Well done")
    response = client.get(detail(submission))
    if expected != 200:
        assert_error(response, expected)
        return
    body = response.json()
    assert (body["id"], body["score"], body["feedback"], body["status"]) == (
        submission.pk,
        "8.00",
        "Well done",
        "graded",
    )
    assert body["graded_by"] == {
        "id": str(submission.graded_by.pk),
        "full_name": submission.graded_by.full_name,
    }


def test_another_students_submission_is_404(member_client, bootcamp, assignment):
    client, _ = member_client(Role.STUDENT, bootcamp)
    classmate = SubmissionFactory(assignment=assignment)
    assert_error(client.get(detail(classmate)), 404)
    assert_error(client.post(grade_url(classmate), {"score": "10"}), 403)  # students never grade


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.MENTOR])
def test_staff_of_another_bootcamp_get_404(outsider_client, assignment, role):
    submission = SubmissionFactory(assignment=assignment)
    client, _ = outsider_client(role)
    assert_error(client.get(detail(submission)), 404)
    assert_error(client.post(grade_url(submission), {"score": "5"}), 404)
    assert Submission.objects.get(pk=submission.pk).score is None


def test_list_filters(client_for, bootcamp, other_bootcamp, assignment):
    now = timezone.now()
    graded = GradedSubmissionFactory(assignment=assignment)
    late = SubmissionFactory(assignment=assignment, is_late=True, submitted_at=now)
    elsewhere = SubmissionFactory(assignment=AssignmentFactory(bootcamp=other_bootcamp))
    client, _ = client_for(Role.ADMIN)
    url = "/api/v1/submissions/"
    assert _ids(client.get(url, {"graded": "true"})) == {graded.pk}
    assert _ids(client.get(url, {"graded": "false"})) == {late.pk, elsewhere.pk}
    assert _ids(client.get(url, {"is_late": "true"})) == {late.pk}
    assert _ids(client.get(url, {"assignment": assignment.pk})) == {graded.pk, late.pk}
    assert _ids(client.get(url, {"bootcamp": other_bootcamp.pk})) == {elsewhere.pk}
    assert _ids(client.get(url, {"student": str(late.student_id)})) == {late.pk}
    assert _ids(client.get(url, {"search": late.student.email})) == {late.pk}
    assert_error(client.get(url, {"student": "not-a-uuid"}), 400, attr="student")
    for bad in ("-1.7976931348623157e+308", "1e400", "9223372036854775808", "0", "1.5", "abc"):
        assert_error(client.get(url, {"assignment": bad}), 400, attr="assignment")
        assert_error(client.get(url, {"bootcamp": bad}), 400, attr="bootcamp")


def test_list_runs_a_fixed_number_of_queries(client_for, django_assert_num_queries, no_query_cache):
    client, _ = client_for(Role.ADMIN)
    GradedSubmissionFactory()
    warm_up(client, "/api/v1/submissions/")
    with CaptureQueriesContext(connection) as small:
        assert client.get("/api/v1/submissions/").status_code == 200
    GradedSubmissionFactory.create_batch(10)
    SubmissionFactory.create_batch(5)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get("/api/v1/submissions/").json()["count"] == 16


# --- Grading: POST /submissions/{id}/grade/ ------------------------------------------------


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 403}
)
def test_grade_roles(member_client, bootcamp, assignment, role, expected):
    client, user = member_client(role, bootcamp)
    submission = SubmissionFactory(assignment=assignment)
    response = client.post(grade_url(submission), {"score": "7.5", "feedback": "Tidy work."})
    submission.refresh_from_db()
    if expected != 200:
        assert_error(response, expected)
        assert (submission.score, submission.graded_by, submission.graded_at) == (None, None, None)
        return
    assert response.status_code == 200, response.json()
    assert (submission.score, submission.feedback, submission.graded_by) == (
        Decimal("7.50"),
        "Tidy work.",
        user,
    )
    assert submission.graded_at is not None
    body = response.json()
    assert (body["score"], body["status"], body["graded_by"]["id"]) == ("7.50", "graded", str(user.pk))


@pytest.mark.parametrize("score", ["0", "10", "10.00", 0, 10, 4.25])
def test_grade_accepts_the_whole_range(client_for, assignment, score):
    submission = SubmissionFactory(assignment=assignment)
    client, _ = client_for(Role.ADMIN)
    response = client.post(grade_url(submission), {"score": score})
    assert response.status_code == 200, response.json()
    assert Submission.objects.get(pk=submission.pk).score == Decimal(str(score))


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({}, "score"),
        ({"score": None}, "score"),
        ({"score": ""}, "score"),
        ({"score": "-0.01"}, "score"),
        ({"score": -1}, "score"),
        ({"score": "10.01"}, "score"),  # above this assignment's max_score of 10
        ({"score": 11}, "score"),
        ({"score": "NaN"}, "score"),
        ({"score": "nan"}, "score"),
        ({"score": "Infinity"}, "score"),
        ({"score": "-Infinity"}, "score"),
        ({"score": "1e3"}, "score"),
        ({"score": "seven"}, "score"),
        ({"score": "7.555"}, "score"),
        ({"score": [7]}, "score"),
        ({"score": True}, "score"),
        ({"score": "7", "feedback": "x" * 10_001}, "feedback"),
        ({"score": "7", "feedback": None}, "feedback"),
        ({"score": "7", "graded_by": "me"}, "non_field_errors"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_grade_bad_input(
    client_for, assignment, payload, attr, django_capture_on_commit_callbacks, mailoutbox
):
    submission = SubmissionFactory(assignment=assignment)
    client, _ = client_for(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        assert_error(client.post(grade_url(submission), payload), 400, attr=attr)
    assert Submission.objects.get(pk=submission.pk).score is None
    assert mailoutbox == []


@pytest.mark.parametrize(
    "body", ['{"score": NaN}', '{"score": Infinity}', '{"score": 1e400}', '{"score": 5', "[5]"]
)
def test_grade_malformed_json(client_for, assignment, body):
    submission = SubmissionFactory(assignment=assignment)
    client, _ = client_for(Role.ADMIN)
    assert_error(client.post(grade_url(submission), data=body, content_type="application/json"), 400)
    assert Submission.objects.get(pk=submission.pk).score is None


def test_grading_emails_the_student_after_commit(
    member_client, bootcamp, django_capture_on_commit_callbacks, mailoutbox
):
    assignment = AssignmentFactory(bootcamp=bootcamp, title="Week 2: APIs", max_score=Decimal("20"))
    submission = SubmissionFactory(assignment=assignment)
    client, _ = member_client(Role.MENTOR, bootcamp)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            grade_url(submission), {"score": "18", "feedback": "Great <b>tests</b> & docs."}
        )
    assert response.status_code == 200
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [submission.student.email]
    assert message.subject == "Graded: Week 2: APIs"
    assert "Score: 18 / 20" in message.body  # as the assignment email writes points
    assert "Great <b>tests</b> & docs." in message.body  # plain text, not HTML-escaped


def test_regrading_updates_the_grade_and_emails_again(
    member_client, bootcamp, assignment, django_capture_on_commit_callbacks, mailoutbox
):
    submission = SubmissionFactory(assignment=assignment)
    mentor_client, mentor = member_client(Role.MENTOR, bootcamp)
    instructor_client, instructor = member_client(Role.INSTRUCTOR, bootcamp)
    with django_capture_on_commit_callbacks(execute=True):
        mentor_client.post(grade_url(submission), {"score": "5", "feedback": "Redo part 2."})
    first = Submission.objects.get(pk=submission.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = instructor_client.post(grade_url(submission), {"score": "9"})
    assert response.status_code == 200
    row = Submission.objects.get(pk=submission.pk)
    assert (row.score, row.feedback, row.graded_by) == (Decimal("9.00"), "Redo part 2.", instructor)
    assert row.graded_at >= first.graded_at
    assert [m.subject for m in mailoutbox] == [
        f"Graded: {assignment.title}",
        f"Grade updated: {assignment.title}",
    ]


def test_work_handed_in_again_after_the_grader_read_it_is_not_graded(
    member_client, bootcamp, assignment, mailoutbox
):
    """The grader sends the submitted_at they read; the student replacing the work
    meanwhile makes the grade a 409, and the new work waits for a grade of its own."""
    from assignments import services

    student = StudentFactory()
    enroll(student, bootcamp)
    first, _ = services.submission_submit(assignment=assignment, student=student, content="draft, half done")
    grader, _ = member_client(Role.INSTRUCTOR, bootcamp)
    read = grader.get(detail(first)).json()
    assert read["content"] == "draft, half done"
    services.submission_submit(assignment=assignment, student=student, content="the finished answer")

    response = grader.post(grade_url(first), {"score": "9", "submitted_at": read["submitted_at"]})
    body = assert_error(response, 409, code="handed_in_again")
    assert_documented(response)  # the operation's 409, with this code
    assert body["errors"][0]["detail"].startswith("The student handed this work in again after you opened it")
    row = Submission.objects.get(pk=first.pk)
    assert (row.content, row.score, row.graded_by) == ("the finished answer", None, None)
    assert mailoutbox == []

    read = grader.get(detail(first)).json()
    # As a browser's Date gives it back: to the millisecond, in UTC.
    moment = datetime.fromisoformat(read["submitted_at"]).astimezone(UTC)
    as_a_browser_sends = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    response = grader.post(grade_url(first), {"score": "9", "submitted_at": as_a_browser_sends})
    assert response.status_code == 200, response.content
    assert Submission.objects.get(pk=first.pk).score == Decimal("9.00")
    # Not a time, or a time without its offset: the field's 400, nothing graded.
    for wrong in ("yesterday", read["submitted_at"][:19]):
        response = grader.post(grade_url(first), {"score": "3", "submitted_at": wrong})
        assert_error(response, 400, attr="submitted_at")
    assert Submission.objects.get(pk=first.pk).score == Decimal("9.00")


@pytest.mark.parametrize(
    "value, graded", [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)]
)
def test_the_graded_filter_reads_true_and_false_either_way(admin_client, value, graded):
    submissions = [GradedSubmissionFactory(), SubmissionFactory()]
    body = admin_client.get("/api/v1/submissions/", {"graded": value}).json()
    assert [row["id"] for row in body["results"]] == [submissions[0 if graded else 1].id]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_handing_in_behind_a_held_assignment_is_busy_not_hung(hold_lock, mailoutbox):
    """Handing in waits for an edit of its assignment at most LOCK_TIMEOUT (3 s),
    then answers 503 busy with nothing stored, as the seat lock does."""
    import time

    from assignments.tests.factories import staffed_bootcamp
    from conftest import auth_client

    bootcamp, _, _ = staffed_bootcamp()
    assignment = AssignmentFactory(bootcamp=bootcamp)
    student = StudentFactory()
    enroll(student, bootcamp)
    client = auth_client(student)
    client.raise_request_exception = False
    release = hold_lock(assignment)

    started = time.monotonic()
    response = client.post(nested(assignment), {"content": "done"}, format="json")
    waited = time.monotonic() - started
    body = assert_error(response, 503, code="busy")
    assert "This assignment is being changed by another request" in body["errors"][0]["detail"]
    assert 2.5 < waited < 8, waited
    assert not Submission.objects.exists() and mailoutbox == []

    release()
    assert client.post(nested(assignment), {"content": "done"}, format="json").status_code == 201


def test_filters_narrow_lists_never_a_row_read_by_its_id(member_client, bootcamp, assignment):
    """A filter, search or ordering that would leave a row out of its list (or
    that the list would refuse) doesn't hide it, or refuse it, by id: the list's
    filters are not read at all, as for bootcamps, enrollments and leads."""
    graded = GradedSubmissionFactory(assignment=assignment)
    student_client = auth_client(graded.student)
    instructor, _ = member_client(Role.INSTRUCTOR, bootcamp)
    narrowing = ({"graded": "false"}, {"search": "zzzz"}, {"ordering": "bogus"}, {"is_late": "maybe"})
    for params in narrowing:
        response = student_client.get(detail(graded), params)
        assert response.status_code == 200, (params, response.content)
        assert response.json()["id"] == graded.pk
    for params in ({"is_published": "false"}, {"search": "zzzz"}, {"ordering": "bogus"}):
        response = instructor.get(f"/api/v1/assignments/{assignment.pk}/", params)
        assert response.status_code == 200, (params, response.content)
        query = "&".join(f"{key}={value}" for key, value in params.items())
        response = instructor.patch(
            f"/api/v1/assignments/{assignment.pk}/?{query}", {"description": f"Read {query}"}, format="json"
        )
        assert response.status_code == 200, (params, response.content)
        assignment.refresh_from_db()
        assert assignment.description == f"Read {query}"
    response = instructor.post(
        f"{grade_url(graded)}?graded=false&ordering=bogus", {"score": "7"}, format="json"
    )
    assert response.status_code == 200, response.content
    graded.refresh_from_db()
    assert graded.score == Decimal("7")
    # The lists still take them.
    assert_error(student_client.get("/api/v1/submissions/", {"ordering": "bogus"}), 400, attr="ordering")
    assert _ids(student_client.get("/api/v1/submissions/", {"graded": "false"})) == set()
    assert _ids(instructor.get(nested(assignment), {"graded": "false"})) == set()
    assert _ids(instructor.get(nested(assignment), {"graded": "true"})) == {graded.pk}


def test_an_assignment_read_by_id_is_deleted_whatever_the_lists_filters_say(member_client, bootcamp):
    doomed = AssignmentFactory(bootcamp=bootcamp, is_published=True)
    instructor, _ = member_client(Role.INSTRUCTOR, bootcamp)
    response = instructor.delete(f"/api/v1/assignments/{doomed.pk}/?is_published=false&ordering=bogus")
    assert response.status_code == 204, response.content
    assert not type(doomed).objects.filter(pk=doomed.pk).exists()
