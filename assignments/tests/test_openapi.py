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


def test_gradebook_documents_json_and_csv(schema):
    operation = schema["paths"]["/api/v1/bootcamps/{bootcamp_pk}/gradebook/"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["application/json", "text/csv"]
    assert operation["responses"]["200"]["content"]["text/csv"]["schema"] == {"type": "string"}
    # Errors are JSON whatever format was asked for.
    assert list(operation["responses"]["403"]["content"]) == ["application/json"]
    assert {p["name"] for p in operation["parameters"]} == {"bootcamp_pk", "format"}
    assert "not counted as zero" in operation["description"]


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
