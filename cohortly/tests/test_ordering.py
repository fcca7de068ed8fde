"""`ordering` on every list: one filter (cohortly.filters.OrderingFilter) that
takes several fields comma-separated or repeated, and refuses an unknown one."""

from decimal import Decimal

import pytest

from bootcamps.tests.factories import BootcampFactory
from cohortly.tests.openapi_checks import assert_documented
from conftest import assert_error
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

#: Every paginated list, and a role that may read it.
LISTS = [
    ("/api/v1/bootcamps/", None),
    ("/api/v1/users/", "ADMIN"),
    ("/api/v1/enrollments/", "ADMIN"),
    ("/api/v1/assignments/", "ADMIN"),
    ("/api/v1/submissions/", "ADMIN"),
    ("/api/v1/leads/", "SALES"),
]


@pytest.mark.parametrize(("path", "role"), LISTS, ids=[p for p, _ in LISTS])
def test_an_unknown_ordering_field_is_a_documented_400_on_every_list(client_for, path, role):
    client, _ = client_for(role)
    response = client.get(path, {"ordering": "password"})
    assert_error(response, 400, code="invalid_choice", attr="ordering")
    assert_documented(response)
    # One bad term among good ones, in either form, is refused too.
    assert_error(client.get(f"{path}?ordering=-created_at,nope"), 400, attr="ordering")
    assert_error(client.get(f"{path}?ordering=-created_at&ordering=nope"), 400, attr="ordering")


@pytest.mark.parametrize("query", ["ordering=price,-title", "ordering=price&ordering=-title"])
def test_bootcamps_sort_by_several_fields_in_either_form(anon_client, query):
    cheap_b = BootcampFactory(title="B", price=Decimal("300"))
    cheap_a = BootcampFactory(title="A", price=Decimal("300"))
    dear = BootcampFactory(title="C", price=Decimal("900"))
    response = anon_client.get(f"/api/v1/bootcamps/?{query}")
    assert [row["id"] for row in response.json()["results"]] == [cheap_b.pk, cheap_a.pk, dear.pk]
    assert_documented(response)


@pytest.mark.parametrize("query", ["ordering=status,full_name", "ordering=status&ordering=full_name"])
def test_leads_sort_by_several_fields_in_either_form(sales_client, query):
    new_b = LeadFactory(full_name="Bea", status="NEW")
    contacted = LeadFactory(full_name="Al", status="CONTACTED")
    new_a = LeadFactory(full_name="Ann", status="NEW")
    rows = sales_client.get(f"/api/v1/leads/?{query}").json()["results"]
    # Status in the pipeline's order (New before Contacted), then the name.
    assert [row["id"] for row in rows] == [new_a.pk, new_b.pk, contacted.pk]


def test_the_schema_documents_ordering_as_an_array_of_named_terms():
    from cohortly.tests.openapi_checks import operation

    parameter = next(
        p for p in operation("get", "/api/v1/bootcamps/")["parameters"] if p["name"] == "ordering"
    )
    assert parameter["schema"]["type"] == "array"
    items = parameter["schema"]["items"]
    assert {"price", "-price", "title", "-title"} <= set(items["enum"])
