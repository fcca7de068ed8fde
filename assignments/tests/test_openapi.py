import pytest
from drf_spectacular.generators import SchemaGenerator

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
