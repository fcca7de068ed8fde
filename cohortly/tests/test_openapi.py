"""The OpenAPI schema tells the truth: what each operation really answers,
who may call it, and the limits of its parameters."""

import re

import pytest

from cohortly.openapi import walk
from cohortly.pagination import PageNumberPagination
from cohortly.policy import api_operations
from cohortly.tests.openapi_checks import api_schema, assert_documented
from conftest import assert_error

pytestmark = pytest.mark.django_db

#: Lists searched with ?search= (by cohortly.filters.SearchFilter, or for leads by its
#: filterset), and a role that may read them.
SEARCHED_LISTS = [
    ("/api/v1/leads/", "SALES"),
    ("/api/v1/users/", "ADMIN"),
    ("/api/v1/bootcamps/", None),
    ("/api/v1/enrollments/", "ADMIN"),
    ("/api/v1/assignments/", "ADMIN"),
    ("/api/v1/submissions/", "ADMIN"),
]


@pytest.mark.parametrize(("path", "role"), SEARCHED_LISTS, ids=[p for p, _ in SEARCHED_LISTS])
def test_a_refused_search_term_is_a_documented_400_on_search(client_for, path, role):
    client, _ = client_for(role)
    response = client.get(path, {"search": "a\x00b"})
    assert_error(response, 400, code="null_characters_not_allowed", attr="search")
    assert_documented(response)


def _shape(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path)


def test_exactly_the_operations_open_to_anyone_document_anonymous_access():
    """Where the view declares PUBLIC, and only there, the schema says no
    credentials are needed: `security: []` where the operation takes none at
    all (login: a generator then types it as needing no client), `{}` beside
    the token where a token changes the answer (a staff caller sees drafts).
    The access policy and the schema agree."""
    public = {(op.method, _shape(op.display_path)): op.public for op in api_operations()}
    documented = {}
    for path, methods in api_schema()["paths"].items():
        for method, spec in methods.items():
            security = spec["security"]  # always explicit, never left to a default
            assert security == [] or {} not in security or len(security) > 1, (method, path, security)
            documented[(method.upper(), _shape(path))] = security == [] or {} in security
    assert set(documented) <= set(public), set(documented) - set(public)
    wrong = {key for key, anonymous in documented.items() if anonymous != public[key]}
    assert not wrong, f"security that disagrees with the declared roles: {sorted(wrong)}"
    schema = api_schema()

    def security(method, path):
        return schema["paths"][path][method]["security"]

    for path in ("/api/v1/auth/login/", "/api/v1/auth/register/", "/api/v1/auth/refresh/", "/api/v1/health/"):
        assert security("post" if "auth" in path else "get", path) == [], path
    assert security("get", "/api/v1/bootcamps/") == [{"jwtAuth": []}, {}]
    assert security("post", "/api/v1/leads/") == [{"jwtAuth": []}, {}]
    assert security("post", "/api/v1/bootcamps/") == [{"jwtAuth": []}]


def test_page_and_page_size_are_documented_with_their_limits():
    lists = 0
    for path, methods in api_schema()["paths"].items():
        for method, spec in methods.items():
            parameters = {p["name"]: p["schema"] for p in spec.get("parameters", []) if p["in"] == "query"}
            if "page" not in parameters:
                continue
            lists += 1
            # ?page=last is a page too: a generated client could not send it as a number.
            assert parameters["page"] == {
                "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["last"]}]
            }, (method, path)
            assert parameters["page_size"] == {
                "type": "integer",
                "minimum": 1,
                "maximum": PageNumberPagination.max_page_size,
            }, (method, path)
    assert lists >= 7


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"page_size": 100}, 200),
        ({"page_size": 101}, 400),
        ({"page_size": 0}, 400),
        ({"page": 0}, 400),
        ({"page": "abc"}, 400),
        ({"page": 99}, 404),
        ({"page": "last"}, 200),
        ({"page": ""}, 200),  # given empty: as if not given, page 1
        ({"page_size": ""}, 200),  # the default page size
        ({"page": "0" * 5000 + "1"}, 200),  # leading zeros are no digits: page 1, not "Invalid page"
    ],
)
def test_the_documented_page_limits_are_the_real_ones(admin_client, params, status):
    response = admin_client.get("/api/v1/users/", params)
    assert response.status_code == status
    assert_documented(response)


def test_every_request_body_is_closed_to_fields_it_does_not_list():
    """The API refuses unknown fields (StrictFieldsMixin); every request body
    the schema documents says so with additionalProperties: false."""
    schema = api_schema()
    components = schema["components"]["schemas"]
    bodies = set()
    for methods in schema["paths"].values():
        for spec in methods.values():
            for media in spec.get("requestBody", {}).get("content", {}).values():
                ref = media["schema"].get("$ref", "")
                if ref:
                    bodies.add(ref.rsplit("/", 1)[1])
    assert len(bodies) >= 20
    open_bodies = sorted(name for name in bodies if components[name].get("additionalProperties") is not False)
    assert not open_bodies


def test_the_docs_describe_bodies_in_their_own_words_not_the_codes_base_classes():
    """A body's description is its own class's docstring: drf-spectacular falls
    back on a base class's, and a note for developers ("An input serializer
    that...") then described GradeRequest and a dozen others in the public docs."""
    for name, component in api_schema()["components"]["schemas"].items():
        description = component.get("description", "")
        assert "serializer" not in description.lower(), (name, description)


def test_an_unknown_field_is_the_documented_400(admin_client):
    response = admin_client.patch("/api/v1/auth/me/", {"full_name": "Ada", "nickname": "A"}, format="json")
    assert_error(response, 400, code="unknown_field")
    assert "additionalProperties" in str(api_schema()["components"]["schemas"]["PatchedProfileRequest"])
    assert_documented(response)


def test_the_schema_speaks_only_openapi_3_1_json_schema():
    """3.1 schemas are JSON Schema 2020-12, which has no `nullable`: a 3.1
    validator or generator ignores it and refuses the null (every first and last
    page's `previous` and `next`)."""
    schema = api_schema()
    assert schema["openapi"].startswith("3.1")
    assert not [node for node in walk(schema) if "nullable" in node]


@pytest.mark.parametrize("role, path, component", [("SALES", "/api/v1/leads/", "PaginatedLeadList")])
def test_a_single_page_validates_as_strict_json_schema_2020_12(client_for, role, path, component):
    """Validated as a 3.1 client would (Draft 2020-12, nothing undeclared): a
    page that is both the first and the last has null links."""
    import jsonschema

    from leads.tests.factories import LeadFactory

    LeadFactory()
    client, _ = client_for(role)
    body = client.get(path).json()
    assert body["previous"] is None and body["next"] is None
    components = api_schema()["components"]
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{component}", "components": components}
    )
    assert [error.message for error in validator.iter_errors(body)] == []
    assert set(components["schemas"][component]["required"]) == set(body)


def test_my_profile_documents_every_field_it_always_answers():
    assert set(api_schema()["components"]["schemas"]["Profile"]["required"]) >= {
        "phone",
        "full_name",
        "email",
    }


def test_every_answer_declares_its_request_id_and_refusals_to_wait_their_retry_after(anon_client):
    schema = api_schema()
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            for status_code, response in spec["responses"].items():
                headers = response["headers"]
                assert headers["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}, (
                    path,
                    method,
                )
                assert ("Retry-After" in headers) == (status_code in ("429", "503")), (
                    path,
                    method,
                    status_code,
                )
    declared = schema["components"]["headers"]["X-Request-ID"]
    assert declared["required"] is True
    # The declared pattern is the one the server applies: a conforming id comes back, another is replaced.
    pattern = re.compile(declared["schema"]["pattern"])
    for sent, kept in (("trace-42:a.b_c", True), ("abc def", False), ("x" * 129, False)):
        answered = anon_client.get("/api/v1/health/", HTTP_X_REQUEST_ID=sent)["X-Request-ID"]
        assert (answered == sent) is kept and pattern.match(answered) and bool(pattern.match(sent)) is kept


def test_every_writable_name_title_and_location_documents_the_rule_the_api_holds_it_to():
    """A frontend validating against the schema let "Line\nBreak" or a
    zero-width space through, and the API then refused it: the serializers
    declared these fields without the model's validator, so no pattern."""
    documented, missing = 0, []
    for name, component in api_schema()["components"]["schemas"].items():
        if not name.endswith("Request"):
            continue
        for field in ("full_name", "title", "location"):
            prop = component.get("properties", {}).get(field)
            if prop is None or prop.get("readOnly"):
                continue
            documented += 1
            branches = prop.get("anyOf", [prop])  # a location may be blank: "" or the pattern
            if not any("pattern" in branch for branch in branches):
                missing.append(f"{name}.{field}")
    assert documented >= 10 and missing == []


@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        (
            "/api/v1/auth/register",
            {"email": "l@example.com", "password": "Long-Secret-Phrase-9"},
            "full_name",
        ),
        ("/api/v1/leads/", {"email": "l@example.com", "source": "WEBSITE"}, "full_name"),
    ],
)
@pytest.mark.parametrize("text", ["Line\nBreak", "\u200b", "A\u202eB"])
def test_a_name_the_pattern_refuses_is_refused_on_its_field(anon_client, path, body, attr, text):
    pattern = api_schema()["components"]["schemas"][
        "RegisterRequest" if "register" in path else "LeadRequest"
    ]["properties"][attr]["pattern"]
    assert not re.search(pattern, text)
    response = anon_client.post(path, {**body, attr: text}, format="json")
    assert_error(response, 400, "invalid", attr=attr)


def test_self_registration_documents_the_one_role_it_takes(anon_client):
    role = api_schema()["components"]["schemas"]["RegisterRequest"]["properties"]["role"]
    enum = api_schema()["components"]["schemas"][role["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert enum == ["STUDENT"]
    body = {"email": "r@example.com", "password": "Long-Secret-Phrase-9", "full_name": "R X", "role": "ADMIN"}
    assert_error(
        anon_client.post("/api/v1/auth/register", body, format="json"), 400, "invalid_role", attr="role"
    )


def test_no_400_lists_a_code_the_api_answers_with_another_status():
    """A 400's codes are what a validation error can carry. A code that comes
    with a 401 or a 403 (a login's invalid_credentials) listed there sends a
    generated client down the wrong branch."""
    from cohortly.openapi import ERROR_CODES_401, ERROR_CODES_403

    elsewhere = {code for code, _ in ERROR_CODES_401 + ERROR_CODES_403}
    components = api_schema()["components"]["schemas"]
    wrong = {
        name: sorted(set(component["properties"]["code"].get("enum", [])) & elsewhere)
        for name, component in components.items()
        if name.endswith("ErrorComponent") and "code" in component.get("properties", {})
    }
    assert not {name: codes for name, codes in wrong.items() if codes}
