"""Hold one real response against the OpenAPI schema, as schemathesis would.

The fuzzing test (test_fuzz.py) finds mismatches at random; these helpers pin
each one found with the exact request that showed it.
"""

import json
from functools import cache

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from schemathesis.core.transport import Response


@cache
def api_schema() -> dict:
    """The schema as `manage.py spectacular` and /api/schema/ publish it."""
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


@cache
def _loaded():
    return schemathesis.openapi.from_dict(api_schema())


def documented_fields(component: str) -> set[str]:
    """The property names the schema documents for a component, e.g. "Lead"."""
    return set(api_schema()["components"]["schemas"][component]["properties"])


def operation(method: str, path: str) -> dict:
    """The schema's operation for a path template, e.g. ("get", "/api/v1/users/")."""
    return api_schema()["paths"][path][method.lower()]


def assert_documented(response) -> None:
    """The response's status is documented for its operation, and its body
    (errors included: their codes and attrs) validates against the schema."""
    request = response.wsgi_request
    # Every route answers with and without its trailing slash; the schema names one.
    found = _loaded().find_operation_by_path(
        request.method, request.path
    ) or _loaded().find_operation_by_path(request.method, request.path.rstrip("/") + "/")
    assert found is not None, f"{request.method} {request.path} is not in the schema"
    documented = found.definition.raw["responses"]
    assert str(response.status_code) in documented or "default" in documented, (
        f"{request.method} {request.path} answered {response.status_code}, documented: {sorted(documented)}"
    )
    prepared = requests.Request(request.method, f"http://testserver{request.get_full_path()}").prepare()
    found.validate_response(
        Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.headers.items()},
            content=response.content,
            request=prepared,
            elapsed=0.0,
            verify=False,
        )
    )
