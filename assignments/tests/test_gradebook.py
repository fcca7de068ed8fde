import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import StudentFactory
from assignments.tests.conftest import matrix, warm_up
from assignments.tests.factories import (
    AssignmentFactory,
    BootcampFactory,
    GradedSubmissionFactory,
    SubmissionFactory,
    enroll,
)
from conftest import assert_error, auth_client
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db
Role = User.Role


def url(bootcamp):
    return f"/api/v1/bootcamps/{bootcamp.pk}/gradebook/"


@pytest.fixture
def gradebook(bootcamp):
    """Two students with seats (one ACTIVE, one COMPLETED), two without (left
    out), two published assignments, one draft (left out)."""
    now = timezone.now()
    ada = StudentFactory(full_name="Ada Lovelace", email="ada@example.com")
    bob = StudentFactory(full_name="Bob Babbage", email="bob@example.com")
    waiting = StudentFactory(full_name="Wendy Waiting")
    gone = StudentFactory(full_name="Carl Cancelled")
    enroll(ada, bootcamp)
    enroll(bob, bootcamp, status=Enrollment.Status.COMPLETED)
    enroll(waiting, bootcamp, status=Enrollment.Status.WAITLISTED)
    enroll(gone, bootcamp, status=Enrollment.Status.CANCELLED)
    first = AssignmentFactory(bootcamp=bootcamp, title="Week 1", max_score=Decimal("10"), due_at=now)
    second = AssignmentFactory(
        bootcamp=bootcamp, title="Week 2", max_score=Decimal("20"), due_at=now + timedelta(days=7)
    )
    draft = AssignmentFactory(bootcamp=bootcamp, title="Draft", is_published=False, due_at=now)
    ada_1 = GradedSubmissionFactory(assignment=first, student=ada, score=Decimal("8"), is_late=True)
    ada_2 = GradedSubmissionFactory(assignment=second, student=ada, score=Decimal("10"))
    bob_1 = SubmissionFactory(assignment=first, student=bob)
    SubmissionFactory(assignment=draft, student=ada)
    GradedSubmissionFactory(assignment=first, student=gone, score=Decimal("1"))
    return {
        "students": (ada, bob),
        "assignments": (first, second),
        "submissions": (ada_1, ada_2, bob_1),
    }


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 200}
)
def test_roles(member_client, bootcamp, role, expected):
    client, _ = member_client(role, bootcamp)
    response = client.get(url(bootcamp))
    if expected != 200:
        assert_error(response, expected)
        return
    assert response.status_code == 200
    assert response.json()["bootcamp"]["id"] == bootcamp.pk


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.MENTOR, Role.STUDENT])
def test_staff_of_another_bootcamp_get_404(outsider_client, bootcamp, role):
    """Out of their scope, so not found (SECURITY.md), in JSON and CSV alike."""
    client, _ = outsider_client(role)
    assert_error(client.get(url(bootcamp)), 404, code="not_found")
    assert_error(client.get(url(bootcamp), {"format": "csv"}), 404, code="not_found")
    assert_error(client.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook.csv"), 404, code="not_found")


def test_unknown_bootcamp_is_404(client_for):
    client, _ = client_for(Role.ADMIN)
    assert_error(client.get("/api/v1/bootcamps/999999/gradebook/"), 404)
    assert_error(client.get("/api/v1/bootcamps/999999/gradebook/", {"format": "csv"}), 404)


def test_json_table(client_for, bootcamp, gradebook):
    (ada, bob), (first, second), (ada_1, ada_2, bob_1) = gradebook.values()
    client, _ = client_for(Role.ADMIN)
    response = client.get(url(bootcamp))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["bootcamp"] == {
        "id": bootcamp.pk,
        "title": bootcamp.title,
        "slug": bootcamp.slug,
        "start_date": bootcamp.start_date.isoformat(),
        "end_date": bootcamp.end_date.isoformat(),
    }
    assert [(a["id"], a["title"], a["max_score"]) for a in body["assignments"]] == [
        (first.pk, "Week 1", "10.00"),
        (second.pk, "Week 2", "20.00"),
    ]
    assert body["students"] == [
        {
            "student": {"id": str(ada.pk), "email": "ada@example.com", "full_name": "Ada Lovelace"},
            "enrollment_status": "ACTIVE",
            "grades": [
                {
                    "assignment_id": first.pk,
                    "status": "graded",
                    "submission_id": ada_1.pk,
                    "score": "8.00",
                    "is_late": True,
                },
                {
                    "assignment_id": second.pk,
                    "status": "graded",
                    "submission_id": ada_2.pk,
                    "score": "10.00",
                    "is_late": False,
                },
            ],
            # (8/10 + 10/20) / 2 = (80% + 50%) / 2
            "average": "65.00",
            # weighted: (8 + 10) / (10 + 20)
            "points_earned": "18.00",
            "points_possible": "30.00",
            "points_percentage": "60.00",
            "graded_count": 2,
            "submitted_count": 0,
            "returned_count": 0,
            "missing_count": 0,
        },
        {
            "student": {"id": str(bob.pk), "email": "bob@example.com", "full_name": "Bob Babbage"},
            "enrollment_status": "COMPLETED",
            "grades": [
                {
                    "assignment_id": first.pk,
                    "status": "submitted",
                    "submission_id": bob_1.pk,
                    "score": None,
                    "is_late": False,
                },
                {
                    "assignment_id": second.pk,
                    "status": "not_due",  # due in a week: not missing yet
                    "submission_id": None,
                    "score": None,
                    "is_late": False,
                },
            ],
            "average": None,  # nothing graded: missing work is not counted as zero
            # awaiting a grade and not due: neither counts yet
            "points_earned": "0.00",
            "points_possible": "0.00",
            "points_percentage": None,
            "graded_count": 0,
            "submitted_count": 1,
            "returned_count": 0,
            "missing_count": 0,
        },
    ]


def test_a_student_reads_their_own_row_and_nobody_elses(client_for, bootcamp, gradebook):
    (ada, bob), (first, second), (ada_1, ada_2, _) = gradebook.values()
    client, _ = client_for(Role.ADMIN)
    staff_rows = {row["student"]["id"]: row for row in client.get(url(bootcamp)).json()["students"]}
    for student in (ada, bob):  # ACTIVE and COMPLETED alike
        client = auth_client(student)
        body = client.get(url(bootcamp)).json()
        assert body["students"] == [staff_rows[str(student.pk)]]
        assert [a["id"] for a in body["assignments"]] == [first.pk, second.pk]
        rows = _csv(client.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook.csv"))
        assert [row[1] for row in rows[1:]] == [student.email]


@pytest.mark.parametrize(
    "status", [Enrollment.Status.WAITLISTED, Enrollment.Status.CANCELLED, Enrollment.Status.DROPPED]
)
def test_a_student_without_a_seat_finds_no_gradebook(client_for, bootcamp, status):
    AssignmentFactory(bootcamp=bootcamp)
    student = StudentFactory()
    enroll(student, bootcamp, status=status)
    client = auth_client(student)
    assert_error(client.get(url(bootcamp)), 404, code="not_found")
    assert_error(client.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook.csv"), 404, code="not_found")


def test_average_rounds_half_up(client_for, bootcamp):
    student = StudentFactory()
    enroll(student, bootcamp)
    for score in ("1", "1", "0"):  # 10%, 10%, 0% of 10 -> 6.666...%
        GradedSubmissionFactory(assignment=AssignmentFactory(bootcamp=bootcamp), student=student, score=score)
    client, _ = client_for(Role.ADMIN)
    assert client.get(url(bootcamp)).json()["students"][0]["average"] == "6.67"


def test_points_weigh_by_max_score_and_count_missing_work_as_zero(client_for, bootcamp):
    """The average leaves missing work out; the points count it as zero, and
    leave out what awaits a grade or a revision and what isn't due."""
    now = timezone.now()
    student = StudentFactory()
    enroll(student, bootcamp)
    graded = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"), due_at=now - timedelta(days=9))
    AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("20"), due_at=now - timedelta(days=8))  # missing
    awaiting = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("50"), due_at=now - timedelta(days=7))
    returned = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("50"), due_at=now - timedelta(days=6))
    AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("100"), due_at=now + timedelta(days=6))  # not due
    GradedSubmissionFactory(assignment=graded, student=student, score=Decimal("8"))
    SubmissionFactory(assignment=awaiting, student=student)
    SubmissionFactory(assignment=returned, student=student, returned_at=now + timedelta(minutes=1))
    client, _ = client_for(Role.ADMIN)
    row = client.get(url(bootcamp)).json()["students"][0]
    assert [cell["status"] for cell in row["grades"]] == [
        "graded",
        "missing",
        "submitted",
        "returned",
        "not_due",
    ]
    assert row["average"] == "80.00"
    assert (row["points_earned"], row["points_possible"], row["points_percentage"]) == (
        "8.00",
        "30.00",
        "26.67",
    )


def test_points_add_up_past_what_one_score_can_hold(client_for, bootcamp):
    student = StudentFactory()
    enroll(student, bootcamp)
    for _ in range(3):
        assignment = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("9999.99"))
        GradedSubmissionFactory(assignment=assignment, student=student, score=Decimal("9999.99"))
    client, _ = client_for(Role.ADMIN)
    row = client.get(url(bootcamp)).json()["students"][0]
    assert (row["points_earned"], row["points_possible"], row["points_percentage"]) == (
        "29999.97",
        "29999.97",
        "100.00",
    )


def test_empty_bootcamp(client_for):
    bootcamp = BootcampFactory()
    client, _ = client_for(Role.ADMIN)
    body = client.get(url(bootcamp)).json()
    assert (body["assignments"], body["students"]) == ([], [])
    response = client.get(url(bootcamp), {"format": "csv"})
    assert response.content.decode().splitlines() == [
        "Student,Email,Enrollment,Average %,Points,Points possible,Points %,Graded,Awaiting grade,"
        "Awaiting revision,Missing"
    ]


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_csv_download(member_client, bootcamp, gradebook):
    client, _ = member_client(Role.INSTRUCTOR, bootcamp)
    response = client.get(url(bootcamp), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="gradebook-{bootcamp.slug}.csv"'
    assert response["Cache-Control"] == "no-store"
    assert _csv(response) == [
        [
            "Student",
            "Email",
            "Enrollment",
            "Week 1 (score /10.00)",
            "Week 1 (status)",
            "Week 2 (score /20.00)",
            "Week 2 (status)",
            "Average %",
            "Points",
            "Points possible",
            "Points %",
            "Graded",
            "Awaiting grade",
            "Awaiting revision",
            "Missing",
        ],
        [
            "Ada Lovelace",
            "ada@example.com",
            "ACTIVE",
            "8.00",
            "graded, late",
            "10.00",
            "graded",
            "65.00",
            "18.00",
            "30.00",
            "60.00",
            "2",
            "0",
            "0",
            "0",
        ],
        [
            "Bob Babbage",
            "bob@example.com",
            "COMPLETED",
            "",
            "submitted",
            "",
            "not_due",
            "",
            "0.00",
            "0.00",
            "",
            "0",
            "1",
            "0",
            "0",
        ],
    ]


def test_no_submission_is_missing_once_the_due_time_has_passed_and_not_before(client_for, bootcamp):
    now = timezone.now()
    StudentFactory(full_name="Cleo")
    enroll(student := StudentFactory(full_name="Dan"), bootcamp)
    past = AssignmentFactory(bootcamp=bootcamp, due_at=now - timedelta(minutes=1))
    future = AssignmentFactory(bootcamp=bootcamp, due_at=now + timedelta(minutes=5))
    client, _ = client_for(Role.ADMIN)
    (row,) = client.get(url(bootcamp)).json()["students"]
    assert row["student"]["full_name"] == student.full_name
    assert [(cell["assignment_id"], cell["status"]) for cell in row["grades"]] == [
        (past.pk, "missing"),
        (future.pk, "not_due"),
    ]
    assert row["missing_count"] == 1


def test_csv_by_accept_header(client_for, bootcamp, gradebook):
    client, _ = client_for(Role.ADMIN)
    response = client.get(url(bootcamp), HTTP_ACCEPT="text/csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert _csv(response)[0][:3] == ["Student", "Email", "Enrollment"]


def test_csv_defuses_formulas(client_for, bootcamp):
    student = StudentFactory(full_name='=HYPERLINK("http://evil.example","x")')
    enroll(student, bootcamp)
    AssignmentFactory(bootcamp=bootcamp, title="+cmd|' /C calc'!A0")
    client, _ = client_for(Role.ADMIN)
    rows = _csv(client.get(url(bootcamp), {"format": "csv"}))
    assert rows[0][3] == "'+cmd|' /C calc'!A0 (score /10.00)"
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","x")'


def test_csv_errors_stay_json(client_for, member_client, bootcamp):
    client, _ = client_for(Role.SALES)
    response = client.get(url(bootcamp), {"format": "csv"})
    assert response["Content-Type"] == "application/json"
    assert_error(response, 403)
    anonymous, _ = client_for(None)
    assert_error(anonymous.get(url(bootcamp), {"format": "csv"}), 401)


def test_unknown_format_is_404(client_for, bootcamp):
    client, _ = client_for(Role.ADMIN)
    assert client.get(url(bootcamp), {"format": "xml"}).status_code == 404


def _populate(bootcamp, n_students, n_assignments):
    assignments = AssignmentFactory.create_batch(n_assignments, bootcamp=bootcamp)
    for i in range(n_students):
        student = StudentFactory()
        enroll(student, bootcamp, status=Enrollment.Status.ACTIVE if i % 3 else Enrollment.Status.COMPLETED)
        for j, assignment in enumerate(assignments):
            if (i + j) % 3 == 0:
                GradedSubmissionFactory(assignment=assignment, student=student)
            elif (i + j) % 3 == 1:
                SubmissionFactory(assignment=assignment, student=student, is_late=True)


@pytest.mark.parametrize("params", [{}, {"format": "csv"}], ids=["json", "csv"])
def test_fixed_number_of_queries_at_any_size(
    member_client, django_assert_num_queries, params, no_query_cache
):
    """Two gradebooks, 1 x 1 and 12 x 6, cost the same number of queries."""
    small, large = BootcampFactory(), BootcampFactory()
    client, instructor = member_client(Role.INSTRUCTOR, small)
    large.instructors.add(instructor)
    _populate(small, n_students=1, n_assignments=1)
    _populate(large, n_students=12, n_assignments=6)
    warm_up(client, url(small), **params)

    with CaptureQueriesContext(connection) as baseline:
        response = client.get(url(small), params)
    assert response.status_code == 200
    coursework = [q["sql"] for q in baseline.captured_queries if "assignments_" in q["sql"]]
    assert len(coursework) == 2  # the assignments, then the submissions

    with django_assert_num_queries(len(baseline.captured_queries)):
        response = client.get(url(large), params)
    assert response.status_code == 200
    if params:
        assert len(_csv(response)) == 13
    else:
        assert len(response.json()["students"]) == 12
        assert len(response.json()["assignments"]) == 6


def test_options_with_csv_format_answers_json(client_for, bootcamp):
    client, _ = client_for(Role.ADMIN)
    response = client.options(url(bootcamp), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["name"]


def test_work_due_after_a_students_enrollment_was_completed_is_not_expected(client_for, bootcamp):
    """A COMPLETED student can't hand anything in any more: work published and
    due after their completion isn't missing, and doesn't count against them."""
    now = timezone.now()
    student = StudentFactory(full_name="Cleo Done")
    enrollment = enroll(student, bootcamp)
    before = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"), due_at=now - timedelta(days=5))
    graded = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"), due_at=now - timedelta(days=4))
    GradedSubmissionFactory(assignment=graded, student=student, score=Decimal("9"))
    admin, _ = client_for(Role.ADMIN)
    response = admin.post(
        f"/api/v1/enrollments/{enrollment.pk}/status/", {"status": "COMPLETED"}, format="json"
    )
    assert response.status_code == 200, response.content
    completed_at = response.json()["completed_at"]
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None and completed_at is not None
    # Three days go by: the completion is in the past, and new work falls due after it.
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=now - timedelta(days=3))
    after = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("50"), due_at=now - timedelta(days=1))
    (row,) = admin.get(url(bootcamp)).json()["students"]
    assert [(cell["assignment_id"], cell["status"]) for cell in row["grades"]] == [
        (before.pk, "missing"),
        (graded.pk, "graded"),
        (after.pk, "not_expected"),
    ]
    assert (row["missing_count"], row["points_earned"], row["points_possible"]) == (1, "9.00", "20.00")
    assert row["points_percentage"] == "45.00"
    # The student reads the same standing.
    (own,) = auth_client(student).get(url(bootcamp)).json()["students"]
    assert own["points_possible"] == "20.00" and own["grades"][2]["status"] == "not_expected"
    lines = list(csv.reader(io.StringIO(admin.get(url(bootcamp), {"format": "csv"}).content.decode())))
    assert "not_expected" in lines[1]
