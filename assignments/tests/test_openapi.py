from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.models import User
from assignments.tests.factories import AssignmentFactory
from cohortly.tests.openapi_checks import assert_documented

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_coursework_paths_are_documented(schema):
    paths = schema["paths"]
    assert set(paths["/api/v1/assignments/"]) >= {"get", "post"}
    assert set(paths["/api/v1/assignments/{id}/"]) >= {"get", "patch", "delete"}
    assert "put" not in paths["/api/v1/assignments/{id}/"]
    assert set(paths["/api/v1/assignments/{id}/submissions/"]) == {"get", "post"}
    assert set(paths["/api/v1/submissions/"]) == {"get"}
    assert set(paths["/api/v1/submissions/{id}/grade/"]) == {"post"}


def test_conflicts_are_documented(schema):
    paths = schema["paths"]
    assert "409" in paths["/api/v1/assignments/{id}/"]["delete"]["responses"]
    submit = paths["/api/v1/assignments/{id}/submissions/"]["post"]["responses"]
    assert {"200", "201", "409"} <= set(submit)


def test_the_update_says_the_maximum_stays_once_work_is_graded(schema):
    """A higher maximum is refused as a lower one is (400 has_grades): the
    operation says so, not only that it can't go below a score."""
    description = schema["paths"]["/api/v1/assignments/{id}/"]["patch"]["description"]
    assert "`max_score` stays once any submission is graded" in description
    assert "`has_grades`" in description and "`below_given_score`" in description


def test_gradebook_documents_json_and_csv_as_two_operations(schema):
    """A client generated from the schema types the gradebook as JSON only;
    the CSV download is its own operation."""
    operation = schema["paths"]["/api/v1/bootcamps/{bootcamp_pk}/gradebook/"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["application/json"]
    assert {p["name"] for p in operation["parameters"]} == {"bootcamp_pk"}
    assert "not counted as zero" in operation["description"]
    csv = schema["paths"]["/api/v1/bootcamps/{bootcamp_pk}/gradebook.csv/"]["get"]
    assert csv["operationId"] == "bootcamps_gradebook_csv"
    assert list(csv["responses"]["200"]["content"]) == ["text/csv"]
    assert csv["responses"]["200"]["content"]["text/csv"]["schema"] == {"type": "string"}
    # Errors are JSON whatever format was asked for.
    assert list(csv["responses"]["403"]["content"]) == ["application/json"]


def test_the_gradebook_csv_operation_downloads_the_table(member_client, bootcamp):
    AssignmentFactory(bootcamp=bootcamp, title="Build an API", max_score=Decimal("10"))
    staff_client, _ = member_client(User.Role.INSTRUCTOR, bootcamp)
    response = staff_client.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response.content.decode()
        .splitlines()[0]
        .startswith("Student,Email,Enrollment,Build an API (score /10")
    )
    assert_documented(response)
    # The JSON URL still answers ?format=csv, as it did.
    old = staff_client.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook/?format=csv")
    assert old.content == response.content
    sales_client, _ = member_client(User.Role.SALES, bootcamp)
    refused = sales_client.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook.csv")
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "permission_denied"


def test_a_submission_without_a_link_answers_as_documented(member_client, bootcamp):
    """`link` is "" when only content was handed in: the schema allows that
    (a URL or empty) in every response that carries a submission."""
    assignment = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"))
    student_client, _ = member_client(User.Role.STUDENT, bootcamp)
    staff_client, _ = member_client(User.Role.INSTRUCTOR, bootcamp)
    submit = student_client.post(
        f"/api/v1/assignments/{assignment.pk}/submissions/", {"content": "Mine."}, format="json"
    )
    assert submit.status_code == 201, submit.content[:300]
    submission_id = submit.json()["id"]
    responses = [
        submit,
        staff_client.get("/api/v1/submissions/"),
        staff_client.get(f"/api/v1/submissions/{submission_id}/"),
        staff_client.get(f"/api/v1/assignments/{assignment.pk}/submissions/"),
        staff_client.post(f"/api/v1/submissions/{submission_id}/grade/", {"score": "7"}, format="json"),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.content[:300]
        assert '"link":""' in response.content.decode()
        assert_documented(response)
