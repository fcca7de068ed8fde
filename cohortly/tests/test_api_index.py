"""/api/ and /api/v1/ say where the docs, the schema and each resource's list are."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/", "/api", "/api/v1/"])
def test_the_api_index_links_the_docs_and_every_resource_list(anon_client, url):
    response = anon_client.get(url)

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Cohortly API" and body["version"] == "v1"
    assert body["docs"] == {
        "swagger": "http://testserver/api/docs",
        "redoc": "http://testserver/api/redoc",
        "schema": "http://testserver/api/schema",
    }
    assert set(body["resources"]) == {
        "auth",
        "users",
        "bootcamps",
        "enrollments",
        "assignments",
        "submissions",
        "leads",
        "health",
    }
    assert body["resources"]["bootcamps"].rstrip("/") == "http://testserver/api/v1/bootcamps"


def test_every_link_of_the_index_answers(admin_client, anon_client):
    body = anon_client.get("/api/v1/").json()
    for name, url in {**body["docs"], **body["resources"]}.items():
        path = url.removeprefix("http://testserver")
        if name == "auth":  # the login form: POST only
            assert admin_client.post(path, {}).status_code == 400, name
        else:
            assert admin_client.get(path).status_code == 200, (name, path)


def test_the_index_is_in_the_schema_once_without_security(anon_client):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/"]["get"]
    assert operation["operationId"] == "api_index" and operation["summary"]
    assert operation.get("security") == []
    assert "/api/" not in schema["paths"]


def test_a_write_to_the_index_is_405(anon_client):
    response = anon_client.post("/api/v1/", {})
    assert response.status_code == 405
    assert set(response.json()) == {"type", "errors"}
