"""Every error code the API answers is one the schema lists for that
operation: a strict generated client (an enum per code) never meets an
unknown one."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from assignments.tests.factories import GradedSubmissionFactory, SubmissionFactory, staffed_bootcamp
from bootcamps.tests.factories import DraftBootcampFactory
from cohortly.openapi import ERROR_CODES_409
from cohortly.tests.openapi_checks import assert_documented
from conftest import assert_error, auth_client
from enrollments.tests.factories import EnrollmentFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_grade_above_max_score_is_a_documented_max_value(admin_client):
    submission = SubmissionFactory(assignment__max_score=Decimal("10"))
    response = admin_client.post(f"/api/v1/submissions/{submission.pk}/grade/", {"score": "10.5"})
    assert_error(response, 400, code="max_value", attr="score")
    assert_documented(response)


def test_grading_a_graded_submission_again_by_resubmitting_is_a_documented_409():
    submission = GradedSubmissionFactory()
    EnrollmentFactory(student=submission.student, bootcamp=submission.assignment.bootcamp)
    response = auth_client(submission.student).post(
        f"/api/v1/assignments/{submission.assignment_id}/submissions/", {"content": "again"}
    )
    assert_error(response, 409, code="already_graded")
    assert_documented(response)


@pytest.mark.parametrize(
    ("graded", "code"), [(False, "not_graded"), (True, "cannot_resubmit")], ids=["ungraded", "student gone"]
)
def test_returning_work_that_cannot_be_returned_is_a_documented_409(admin_client, graded, code):
    # Ungraded work is not_graded; graded work of a student without an ACTIVE seat, cannot_resubmit.
    submission = (GradedSubmissionFactory if graded else SubmissionFactory)()
    response = admin_client.post(f"/api/v1/submissions/{submission.pk}/return/", {})
    assert_error(response, 409, code=code)
    assert_documented(response)


def test_enrolling_twice_is_a_documented_409(student_client, student_user):
    enrollment = EnrollmentFactory(student=student_user)
    response = student_client.post("/api/v1/enrollments/", {"bootcamp": enrollment.bootcamp_id})
    assert_error(response, 409, code="already_enrolled")
    assert_documented(response)


def test_enrolling_in_a_draft_is_a_documented_400(admin_client, student_user):
    response = admin_client.post(
        "/api/v1/enrollments/", {"bootcamp": DraftBootcampFactory().pk, "student": str(student_user.pk)}
    )
    assert_error(response, 400, code="not_open", attr="bootcamp")
    assert_documented(response)


def test_enrolling_a_non_student_is_a_documented_400(admin_client, sales_user):
    bootcamp, _, _ = staffed_bootcamp()
    response = admin_client.post(
        "/api/v1/enrollments/", {"bootcamp": bootcamp.pk, "student": str(sales_user.pk)}
    )
    assert_error(response, 400, code="not_a_student", attr="student")
    assert_documented(response)


def test_converting_a_lost_lead_is_a_documented_409(sales_client):
    lead = LeadFactory(status="LOST", lost_reason="Chose another school.")
    bootcamp, _, _ = staffed_bootcamp()
    response = sales_client.post(f"/api/v1/leads/{lead.pk}/convert/", {"bootcamp": bootcamp.pk})
    assert_error(response, 409, code="lead_lost")
    assert_documented(response)


def test_a_body_past_the_limit_is_a_documented_413(admin_client):
    body = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = admin_client.post("/api/v1/bootcamps/", body, content_type="application/json")
    assert_error(response, 413, code="payload_too_large")
    assert_documented(response)


def _raised_codes(exception: str) -> set[str]:
    """The `code=` of every `raise <exception>(...)` in the apps' services."""
    codes = set()
    for path in Path(settings.BASE_DIR).glob("*/services.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == exception:
                codes |= {kw.value.value for kw in node.keywords if kw.arg == "code"}
    return codes


def test_the_409_enum_lists_every_conflict_the_services_raise():
    raised = _raised_codes("Conflict")
    assert len(raised) >= 8
    assert raised <= {code for code, _ in ERROR_CODES_409}


@pytest.mark.parametrize(
    "url, accept",
    [("/api/v1/bootcamps/", "application/xml"), ("/api/v1/submissions/", "text/csv")],
)
def test_an_accept_header_the_api_cannot_answer_is_a_documented_406(admin_client, url, accept):
    response = admin_client.get(url, HTTP_ACCEPT=accept)
    assert_error(response, 406, code="not_acceptable")
    assert_documented(response)
