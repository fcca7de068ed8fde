"""Real responses, recorded from the flows a frontend runs, success and error alike,
replayed against the published schema: each status is documented for its
operation, each body validates (schemathesis' response validator), and no body
carries a field the schema doesn't name (a generated client would drop it).
"""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminFactory,
    InstructorFactory,
    SalesFactory,
    StudentFactory,
)
from assignments.tests.factories import AssignmentFactory
from bootcamps.tests.factories import BootcampFactory
from cohortly.tests.openapi_checks import api_schema, assert_documented
from conftest import auth_client
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = api_schema()["components"]["schemas"][name]
    return schema


def undocumented(body, schema: dict, where: str = "body") -> list[str]:
    """Every key of `body` that `schema` doesn't name, as a path ("body.results[0].x")."""
    schema = _resolve(schema)
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            branches = [undocumented(body, branch, where) for branch in schema[combinator]]
            return min(branches, key=len)
    if "allOf" in schema:
        merged = {"properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(part).get("properties", {}))
        schema = merged
    if isinstance(body, list):
        items = schema.get("items", {})
        return [extra for n, item in enumerate(body) for extra in undocumented(item, items, f"{where}[{n}]")]
    if isinstance(body, dict) and "properties" in schema:
        properties = schema["properties"]
        extras = [f"{where}.{key}" for key in body if key not in properties]
        if schema.get("additionalProperties"):
            extras = []
        return extras + [
            extra
            for key, value in body.items()
            if key in properties
            for extra in undocumented(value, properties[key], f"{where}.{key}")
        ]
    return []


def replay(recorded) -> None:
    """Hold each recorded response against the schema."""
    assert len(recorded) >= 10
    for response in recorded:
        assert_documented(response)
        if response.get("Content-Type", "").startswith("application/json") and response.content:
            request = response.wsgi_request
            spec = _operation_for(request.method, request.path)
            content = spec["responses"][str(response.status_code)].get("content", {})
            body_schema = content.get("application/json", {}).get("schema")
            if body_schema:
                extras = undocumented(response.json(), body_schema)
                assert not extras, (
                    f"{request.method} {request.path} {response.status_code}: undocumented {extras}"
                )


def _operation_for(method: str, path: str) -> dict:
    import re

    for template, methods in api_schema()["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template.rstrip("/")) + "/?$"
        if re.match(pattern, path) and method.lower() in methods:
            return methods[method.lower()]
    raise AssertionError(f"{method} {path} is not in the schema")


class Recorder:
    """An API client that keeps every response it gets."""

    def __init__(self, client: APIClient):
        self.client = client
        self.responses = []

    def __getattr__(self, method):
        def call(path, data=None, **kwargs):
            response = getattr(self.client, method)(path, data, format="json", **kwargs)
            self.responses.append(response)
            return response

        return call


def test_accounts_bootcamps_enrollments_and_grading_as_recorded():
    instructor, student = InstructorFactory(), StudentFactory()
    bootcamp = BootcampFactory(capacity=1)
    bootcamp.instructors.add(instructor)
    anonymous = Recorder(APIClient())
    anonymous.post(
        f"{API}/auth/register/",
        {"email": "new@example.com", "password": "A-long-pass-2026", "full_name": "New"},
    )
    anonymous.post(f"{API}/auth/register/", {"email": "not-an-email", "password": "x"})
    login = anonymous.post(f"{API}/auth/login/", {"email": student.email, "password": DEFAULT_PASSWORD})
    anonymous.post(f"{API}/auth/login/", {"email": student.email, "password": "wrong-password-1"})
    anonymous.get(f"{API}/bootcamps/")
    anonymous.get(f"{API}/enrollments/")  # 401
    anonymous.get(f"{API}/")
    anonymous.get(f"{API}/health/")
    assert login.status_code == 200, login.content
    anonymous.post(f"{API}/auth/refresh/", {"refresh": login.json()["refresh"]})
    anonymous.post(f"{API}/auth/refresh/", {"refresh": "not.a.token"})

    me = Recorder(auth_client(student))
    me.get(f"{API}/auth/me/")
    me.get(f"{API}/bootcamps/{bootcamp.pk}/")
    me.get(f"{API}/bootcamps/999999/")  # 404
    me.get(f"{API}/bootcamps/?ordering=-start_date,title")
    me.get(f"{API}/bootcamps/?ordering=nonsense")  # 400
    enrolled = me.post(f"{API}/enrollments/", {"bootcamp": bootcamp.pk})
    me.post(f"{API}/enrollments/", {"bootcamp": bootcamp.pk})  # 409
    me.get(f"{API}/enrollments/")
    me.get(f"{API}/users/")  # 403
    assignment = AssignmentFactory(bootcamp=bootcamp, created_by=instructor, max_score=Decimal("10"))
    submitted = me.post(f"{API}/assignments/{assignment.pk}/submissions/", {"content": "My work."})
    me.get(f"{API}/assignments/")

    staff = Recorder(auth_client(instructor))
    staff.get(f"{API}/bootcamps/{bootcamp.pk}/gradebook/")
    assert enrolled.status_code == 201 and submitted.status_code == 201, (enrolled.content, submitted.content)
    submission = submitted.json()["id"]
    staff.post(
        f"{API}/submissions/{submission}/grade/", {"score": "11", "feedback": "Too high"}
    )  # 400 max_value
    staff.post(f"{API}/submissions/{submission}/grade/", {"score": "8.5", "feedback": "Good"})
    staff.get(f"{API}/assignments/{assignment.pk}/submissions/")
    too_long = staff.patch(f"{API}/bootcamps/{bootcamp.pk}/", {"end_date": "2099-12-31"})
    early = staff.post(f"{API}/enrollments/{enrolled.json()['id']}/status/", {"status": "COMPLETED"})
    assert too_long.json()["errors"][0]["code"] == "too_long"
    assert early.json()["errors"][0]["code"] == "not_started"
    me.post(f"{API}/enrollments/{enrolled.json()['id']}/cancel/")

    recorded = anonymous.responses + me.responses + staff.responses
    assert {response.status_code for response in recorded} >= {200, 201, 400, 401, 403, 404, 409}
    replay(recorded)


def test_the_sales_pipeline_as_recorded():
    sales, admin = SalesFactory(), AdminFactory()
    bootcamp = BootcampFactory()
    LeadFactory.create_batch(3, owner=sales)
    public = Recorder(APIClient())
    public.post(
        f"{API}/leads/",
        {
            "full_name": "Ada Prospect",
            "email": "ada@prospect.example",
            "bootcamp": bootcamp.pk,
            "source": "WEBSITE",
        },
    )
    public.post(f"{API}/leads/", {"full_name": "", "email": "nope"})  # 400

    rep = Recorder(auth_client(sales))
    listed = rep.get(f"{API}/leads/?search=ada&ordering=-created_at")
    rep.get(f"{API}/leads/?ordering=unknown")  # 400
    lead = listed.json()["results"][0]["id"]
    rep.get(f"{API}/leads/{lead}/")
    rep.patch(f"{API}/leads/{lead}/", {"status": "CONTACTED"})
    rep.post(f"{API}/leads/{lead}/notes/", {"body": "Called, wants the evening class."})
    rep.get(f"{API}/leads/{lead}/activities/")
    rep.post(f"{API}/leads/{lead}/convert/", {"bootcamp": bootcamp.pk})
    rep.post(f"{API}/leads/{lead}/convert/", {"bootcamp": bootcamp.pk})  # 409
    rep.get(f"{API}/leads/999999/")  # 404

    boss = Recorder(auth_client(admin))
    boss.get(f"{API}/users/?ordering=email")
    boss.get(f"{API}/enrollments/")

    recorded = public.responses + rep.responses + boss.responses
    assert {response.status_code for response in recorded} >= {200, 201, 400, 404, 409}
    replay(recorded)


def test_the_replay_catches_a_field_the_schema_does_not_name():
    page = {"count": 1, "next": None, "previous": None, "results": [{"id": 1, "title": "x", "secret": True}]}
    schema = {"$ref": "#/components/schemas/PaginatedBootcampList"}
    assert undocumented(page, schema) == ["body.results[0].secret"]
    assert undocumented({"type": "client_error", "errors": [], "trace": "..."}, _error_schema()) == [
        "body.trace"
    ]


def _error_schema() -> dict:
    return _operation_for("GET", "/api/v1/bootcamps/1/")["responses"]["404"]["content"]["application/json"][
        "schema"
    ]
