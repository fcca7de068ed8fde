"""What every list's filters share: a value given empty (`?status=`, what a
form's untouched select sends) is no filter, on the several-valued filters as
on the others."""

import pytest

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
