"""The lead list's hand-built rows equal LeadSerializer's, and its cached count stays exact."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.api.serializers import LeadSerializer
from leads.models import Lead
from leads.selectors import lead_list_for
from leads.services import lead_capture, lead_convert, lead_update
from leads.tests.factories import BootcampFactory, LeadFactory

URL = "/api/v1/leads/"
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Tokyo"])
def test_the_list_renders_exactly_what_the_serializer_renders(sales_client, sales_user, settings, time_zone):
    settings.TIME_ZONE = time_zone
    bootcamp = BootcampFactory()
    LeadFactory(owner=sales_user, bootcamp=bootcamp, message="Evening classes?")
    LeadFactory(status=Lead.Status.LOST, lost_reason="Too expensive")
    converted = LeadFactory(bootcamp=bootcamp)
    lead_convert(lead=converted, actor=sales_user, bootcamp=bootcamp, notify=False)
    expected = LeadSerializer(lead_list_for(sales_user).order_by("-created_at", "-id"), many=True).data
    body = sales_client.get(URL, {"page_size": 100}).json()
    assert body["results"] == [dict(row) for row in expected]
    assert {row["status"] for row in body["results"]} == {"NEW", "LOST", "CONVERTED"}


@pytest.fixture
def count_cache(shared_cache):
    shared_cache.COUNT_CACHE_SECONDS = 300


def _count(client, **params):
    with CaptureQueriesContext(connection) as captured:
        body = client.get(URL, params).json()
    counted = [q for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    return body["count"], len(counted)


def test_a_search_count_is_counted_once_and_stays_exact(count_cache, sales_client, sales_user):
    for name in ("Anna Martin", "Bob Martinez", "Carl Smith"):
        LeadFactory(full_name=name)
    assert _count(sales_client, search="martin") == (2, 1)
    assert _count(sales_client, search="martin") == (2, 0)  # cached
    assert _count(sales_client, search="smith") == (1, 1)  # another query, its own count
    lead_capture(full_name="Dana Martin", email="dana@example.com")  # a new lead: recounted
    assert _count(sales_client, search="martin") == (3, 1)
    lead = Lead.objects.get(full_name="Anna Martin")
    lead_update(lead=lead, actor=sales_user, data={"full_name": "Anna Moreau"})  # an edit: recounted
    assert _count(sales_client, search="martin") == (2, 1)


def test_counts_for_me_are_per_user(count_cache, sales_client, sales_user, make_user):
    LeadFactory(owner=sales_user)
    other = make_user("SALES")
    LeadFactory.create_batch(2, owner=other)
    assert _count(sales_client, owner="mine")[0] == 1
    from conftest import auth_client

    assert _count(auth_client(other), owner="mine")[0] == 2
