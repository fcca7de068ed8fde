"""The lead list's search and filters can use an index on PostgreSQL (EXPLAIN).

With sequential scans disabled, the planner picks an index whenever one can
serve the query; a plan that still reads the whole table means no index fits.
"""

import pytest
from django.db import connection
from django.test import RequestFactory

from leads.filtersets import LeadFilterSet
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _plan(params, user, *, bitmap_only=False) -> str:
    request = RequestFactory().get("/api/v1/leads/", params)
    request.user = user
    filterset = LeadFilterSet(request.GET, queryset=Lead.objects.all(), request=request)
    assert filterset.is_valid(), filterset.errors  # an invalid filter would explain the unfiltered list
    queryset = filterset.qs
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if bitmap_only:  # a GIN index is read by bitmap scans only
            cursor.execute("SET LOCAL enable_indexscan = off")
    return queryset.explain()


@pytest.fixture
def leads(sales_user):
    LeadFactory.create_batch(30, owner=sales_user)
    # Most leads elsewhere (another status, no owner, no follow-up), so each filter
    # is selective and the plan shows which index serves it.
    Lead.objects.bulk_create(LeadFactory.build_batch(300, status=Lead.Status.CONTACTED, owner=None))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")


@pytest.mark.parametrize("term", ["martin", "example.org", "+33 6", "+336 12"])
def test_search_uses_the_trigram_indexes(leads, sales_user, term):
    plan = _plan({"search": term}, sales_user, bitmap_only=True)
    assert "Seq Scan on leads_lead" not in plan, plan
    assert "lead_search_text_trgm_idx" in plan, plan


@pytest.mark.parametrize(
    "params, indexes",
    [
        ({"status": "NEW"}, ["lead_status_created_idx"]),
        # The pair (owner, follow-up) led by it: the foreign key has no index of its own.
        ({"owner": "mine"}, ["lead_owner_follow_up_idx"]),
        ({"follow_up_before": "2030-01-01"}, ["lead_follow_up_idx"]),
    ],
)
def test_list_filters_use_an_index(leads, sales_user, params, indexes):
    plan = _plan(params, sales_user)
    assert "Seq Scan on leads_lead" not in plan, plan
    # One on the filtered column: with sequential scans off, any index (the one
    # for the default order, say) would keep "Seq Scan" out of the plan.
    assert any(index in plan for index in indexes), plan


def test_no_index_of_the_lead_table_is_another_ones_copy_or_prefix():
    """Every index is paid for on each write (an import writes 100,000 leads):
    a plain b-tree index whose columns another b-tree index starts with serves
    no query the other can't."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Lead._meta.db_table)
    btrees = {
        name: tuple(c["columns"])
        for name, c in constraints.items()
        if c["index"] and c["type"] == "btree" and not c["unique"] and not c["primary_key"]
    }
    redundant = [
        (name, other)
        for name, columns in btrees.items()
        for other, other_columns in btrees.items()
        if name != other
        and other_columns[: len(columns)] == columns
        and not name.endswith("_like")  # LIKE 'x%' needs its own operator class
        and (len(other_columns) > len(columns) or name > other)
    ]
    assert redundant == []
