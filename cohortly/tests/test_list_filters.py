"""What every list's filters share: a value given empty (`?status=`, what a
form's untouched select sends) is no filter, on the several-valued filters as
on the others."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assignments.tests.factories import AssignmentFactory
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory
from enrollments.tests.factories import EnrollmentFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _rows():
    BootcampFactory()
    DraftBootcampFactory()
    EnrollmentFactory()
    LeadFactory()
    LeadFactory(status="CONTACTED")
    AssignmentFactory()


@pytest.mark.parametrize(
    ("path", "name", "role"),
    [
        ("/api/v1/bootcamps/", "status", "ADMIN"),
        ("/api/v1/bootcamps/", "delivery_format", "ADMIN"),
        ("/api/v1/enrollments/", "status", "ADMIN"),
        ("/api/v1/leads/", "status", "SALES"),
        ("/api/v1/leads/", "source", "SALES"),
        ("/api/v1/assignments/", "status", "ADMIN"),
    ],
)
def test_a_filter_given_empty_filters_nothing(client_for, path, name, role):
    _rows()
    client, _ = client_for(role)
    everything = client.get(path).json()
    assert everything["count"] > 0
    for params in ({name: ""}, {name: ["", ""]}):
        response = client.get(path, params)
        assert response.status_code == 200, response.content
        assert response.json()["results"] == everything["results"]


@pytest.mark.parametrize(
    ("path", "param", "values", "table", "role"),
    [
        ("/api/v1/bootcamps/", "status", ["PUBLISHED"], "bootcamps_bootcamp", "ADMIN"),
        ("/api/v1/bootcamps/", "delivery_format", ["ONLINE", "HYBRID"], "bootcamps_bootcamp", "ADMIN"),
        ("/api/v1/enrollments/", "status", ["ACTIVE"], "enrollments_enrollment", "ADMIN"),
        ("/api/v1/leads/", "status", ["NEW", "CONTACTED"], "leads_lead", "SALES"),
    ],
)
def test_a_several_valued_filter_counts_without_distinct(client_for, path, param, values, table, role):
    """Filtering a column of the listed row needs no DISTINCT: with it, the
    page's count was a COUNT over SELECT DISTINCT of every column, fifteen
    times slower on 100,000 leads."""
    _rows()
    LeadFactory(status="LOST", lost_reason="Chose another school")
    client, _ = client_for(role)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {param: values})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"]) > 0
    assert {row[param] for row in body["results"]} <= set(values)
    listing = [query["sql"] for query in queries.captured_queries if f'FROM "{table}"' in query["sql"]]
    assert listing
    assert not [sql for sql in listing if "DISTINCT" in sql.upper()]
