"""The API contract a frontend generates its client from: the exported schema
passes a strict third-party validator, and a TypeScript client generated from
it (openapi-typescript, pinned in contract/package.json) type-checks a typical
usage (contract/usage.ts) under `tsc --strict`."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.core.management import call_command
from openapi_spec_validator import validate

from cohortly.tests.openapi_checks import api_schema, operation

CONTRACT = Path(settings.BASE_DIR) / "contract"
OPERATION_ID = re.compile(r"^[a-z]+(_[a-z0-9]+)*$")


def _operations():
    for path, methods in api_schema()["paths"].items():
        for method, spec in methods.items():
            yield method, path, spec


@pytest.fixture(scope="module")
def exported_schema(tmp_path_factory) -> Path:
    """The schema as `manage.py spectacular` writes it."""
    target = tmp_path_factory.mktemp("contract") / "schema.json"
    call_command(
        "spectacular", "--format", "openapi-json", "--file", str(target), "--validate", "--fail-on-warn"
    )
    return target


def test_the_exported_schema_passes_openapi_spec_validator(exported_schema):
    schema = json.loads(exported_schema.read_text())
    assert schema["openapi"].startswith("3.1")
    validate(schema)  # raises on any violation of the OpenAPI 3.1 specification


def test_every_operation_has_a_summary_and_a_readable_unique_operation_id():
    ids = []
    for method, path, spec in _operations():
        assert spec.get("summary"), f"{method} {path} has no summary"
        assert OPERATION_ID.match(spec["operationId"]), spec["operationId"]
        ids.append(spec["operationId"])
    assert len(ids) == len(set(ids)) >= 44


def test_no_response_is_json_or_csv_at_once():
    for method, path, spec in _operations():
        for status, response in spec["responses"].items():
            assert len(response.get("content", {})) <= 1, (method, path, status)
    assert set(operation("get", "/api/v1/leads/")["responses"]["200"]["content"]) == {"application/json"}
    csv = operation("get", "/api/v1/bootcamps/{bootcamp_pk}/gradebook.csv/")["responses"]["200"]["content"]
    assert set(csv) == {"text/csv"}


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Lead", "owner"),
        ("Lead", "bootcamp"),
        ("Lead", "converted_student"),
        ("Lead", "converted_enrollment"),
        ("Submission", "graded_by"),
        ("LeadActivity", "actor"),
    ],
)
def test_a_nullable_nested_object_validates_null_and_the_object(component, field):
    schema = api_schema()
    property_schema = schema["components"]["schemas"][component]["properties"][field]
    ref = property_schema["oneOf"][0]["$ref"]
    assert property_schema["oneOf"][1] == {"type": "null"}
    validator = jsonschema.Draft202012Validator(
        {**property_schema, "components": schema["components"]}, format_checker=jsonschema.FormatChecker()
    )
    assert validator.is_valid(None)
    target = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert not validator.is_valid("not an object") and target["type"] == "object"


def test_a_blank_link_matches_its_schema_once():
    link = api_schema()["components"]["schemas"]["Submission"]["properties"]["link"]
    checker = jsonschema.FormatChecker()
    validator = jsonschema.Draft202012Validator(link, format_checker=checker)
    assert validator.is_valid("")
    assert validator.is_valid("https://github.com/ada/api")
    assert "oneOf" not in link


# Text the API reads as a price, and text it refuses; numbers are sent as JSON numbers.
PRICES_READ = ["12.50", " 12.5 ", "12", "12.", ".5", "+3", "0007.25", "99999999.99", 12.5, 12, 0]
PRICES_REFUSED = ["", "-", ".", "+", "1e2", "12.505", "1_000", "\u0661\u0662", "0x10", "100000000", "12,50"]


@pytest.mark.django_db
def test_the_request_schema_reads_a_price_as_the_api_does(admin_client):
    """A client validating against the schema sends what the API takes: text or a
    JSON number, never "", "-" or "." (drf-spectacular's own pattern matched
    those, and its type left the numbers out)."""
    from bootcamps.tests.factories import BootcampFactory

    price = api_schema()["components"]["schemas"]["PatchedBootcampWriteRequest"]["properties"]["price"]
    validator = jsonschema.Draft202012Validator(price)
    url = f"/api/v1/bootcamps/{BootcampFactory().pk}/"
    for value in PRICES_READ + PRICES_REFUSED:
        answer = admin_client.patch(url, {"price": value}, format="json")
        assert validator.is_valid(value) == (answer.status_code == 200), (value, answer.json())
    assert {validator.is_valid(value) for value in PRICES_READ} == {True}
    assert {validator.is_valid(value) for value in PRICES_REFUSED} == {False}


@pytest.mark.django_db
def test_the_response_schema_says_a_decimal_has_every_place(admin_client):
    from bootcamps.tests.factories import BootcampFactory

    price = api_schema()["components"]["schemas"]["Bootcamp"]["properties"]["price"]
    validator = jsonschema.Draft202012Validator(price)
    served = admin_client.get(f"/api/v1/bootcamps/{BootcampFactory(price='7.5').pk}/").json()["price"]
    assert served == "7.50" and validator.is_valid(served)
    assert not validator.is_valid("7.5") and not validator.is_valid("") and not validator.is_valid(7.5)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/assignments/", "bootcamp"),
        ("/api/v1/submissions/", "assignment"),
        ("/api/v1/enrollments/", "bootcamp"),
    ],
)
def test_an_id_filter_is_documented_as_the_api_reads_it(admin_client, path, name):
    """A bare integer let a validating client send 0 (a 400 min_value), and the
    filter's help text was lost."""
    (parameter,) = [p for p in operation("get", path)["parameters"] if p["name"] == name]
    assert parameter["description"]
    validator = jsonschema.Draft202012Validator(parameter["schema"])
    for value in (0, -1, 1, 2**63 - 1, 2**63):
        answer = admin_client.get(path, {name: value})
        assert validator.is_valid(value) == (answer.status_code == 200), (value, answer.json())


def test_path_ids_have_the_type_of_body_ids():
    """Integers, but for users, whose ids are UUIDs in bodies and paths alike."""
    for method, path, spec in _operations():
        for parameter in spec.get("parameters", []):
            if parameter["in"] != "path":
                continue
            if path.startswith("/api/v1/users/"):
                assert parameter["schema"] == {"type": "string", "format": "uuid"}
            else:
                assert parameter["schema"]["type"] == "integer", (method, path, parameter)


def test_sort_terms_have_names_a_generator_can_use():
    parameter = next(p for p in operation("get", "/api/v1/leads/")["parameters"] if p["name"] == "ordering")
    items = parameter["schema"]["items"]
    names = dict(zip(items["enum"], items["x-enum-varnames"], strict=True))
    assert names["-created_at"] == "CREATED_AT_DESC"
    assert names["created_at"] == "CREATED_AT"


def test_the_public_lead_form_answers_named_components():
    content = operation("post", "/api/v1/leads/")["responses"]["201"]["content"]["application/json"]
    assert content["schema"] == {"$ref": "#/components/schemas/LeadCaptureResult"}
    result = api_schema()["components"]["schemas"]["LeadCaptureResult"]
    assert result["oneOf"] == [
        {"$ref": "#/components/schemas/LeadReceipt"},
        {"$ref": "#/components/schemas/Lead"},
    ]


@pytest.mark.slow
def test_a_generated_typescript_client_type_checks_a_typical_usage(exported_schema):
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node and npm are not installed: the TypeScript client check needs them")
    generated = CONTRACT / "generated"
    generated.mkdir(exist_ok=True)
    shutil.copy(exported_schema, generated / "schema.json")

    def run(*command):
        result = subprocess.run(command, cwd=CONTRACT, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"

    if not (CONTRACT / "node_modules" / ".package-lock.json").exists():
        run(npm, "ci", "--no-audit", "--no-fund")
    run(npm, "run", "--silent", "generate")
    run(npm, "run", "--silent", "check")
