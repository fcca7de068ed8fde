"""The leads API answers what its OpenAPI schema documents."""

import pytest

from cohortly.tests.openapi_checks import api_schema, assert_documented, operation
from conftest import assert_error
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_the_capture_form_documents_the_staff_only_fields():
    """Whoever fetches the schema (it is built for an anonymous caller), the
    form documents what SALES and ADMIN may also send."""
    body = operation("post", "/api/v1/leads/")["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/LeadRequest"}
    fields = api_schema()["components"]["schemas"]["LeadRequest"]["properties"]
    assert {"owner", "status"} <= set(fields)


def test_an_owner_that_is_not_a_user_id_is_a_documented_400_on_create(sales_client):
    response = sales_client.post(
        "/api/v1/leads/", {"full_name": "0", "email": "0@0.com", "owner": "AAA"}, format="json"
    )
    assert_error(response, 400, code="invalid", attr="owner")
    assert_documented(response)


def test_a_status_other_than_new_is_a_documented_400_on_create(sales_client):
    response = sales_client.post(
        "/api/v1/leads/", {"full_name": "0", "email": "0@0.com", "status": "CONTACTED"}, format="json"
    )
    assert_error(response, 400, attr="status")
    assert_documented(response)


def test_an_owner_that_is_not_a_user_id_is_a_documented_400_on_update(sales_client):
    lead = LeadFactory()
    response = sales_client.patch(f"/api/v1/leads/{lead.pk}/", {"owner": "AAA"}, format="json")
    assert_error(response, 400, code="invalid", attr="owner")
    assert_documented(response)


def test_the_timeline_documents_its_pages_not_the_lead_lists_filters(sales_client):
    params = operation("get", "/api/v1/leads/{id}/activities/")["parameters"]
    assert sorted(p["name"] for p in params) == ["id", "page", "page_size"]
    lead = LeadFactory(status="NEW")
    # The list's filters really don't apply here: a LOST filter doesn't hide a NEW lead's timeline.
    assert sales_client.get(f"/api/v1/leads/{lead.pk}/activities/", {"status": "LOST"}).status_code == 200
