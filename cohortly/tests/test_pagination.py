"""KeysFirstPaginator: a page read through its keys is the page the plain
slice gives, row for row, for every list's orderings, filters and scopes."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from bootcamps.selectors import bootcamp_list_for
from bootcamps.tests.factories import BootcampFactory
from cohortly.pagination import KeysFirstPaginator
from enrollments.models import Enrollment
from enrollments.selectors import enrollment_list_for
from enrollments.tests.factories import EnrollmentFactory
from leads.selectors import lead_list_for
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    teachers = [make_user(User.Role.INSTRUCTOR) for _ in range(2)]
    camps = [BootcampFactory(instructors=teachers[: n % 2 + 1], capacity=2) for n in range(7)]
    for n in range(23):
        EnrollmentFactory(bootcamp=camps[n % 7], waitlisted=n % 5 == 0)
    for n in range(17):
        LeadFactory(bootcamp=camps[n % 3], status="NEW" if n % 2 else "CONTACTED")
    return teachers


def _pages(paginator_class, queryset, per_page, orphans):
    paginator = paginator_class(queryset, per_page, orphans=orphans)
    return [
        [(row.pk, getattr(row, "waitlist_position", None)) for row in paginator.page(n)]
        for n in paginator.page_range
    ]


@pytest.mark.parametrize("per_page, orphans", [(1, 0), (4, 0), (5, 2), (100, 0)])
def test_every_page_is_the_plain_slices_page(world, admin_user, per_page, orphans):
    querysets = [
        bootcamp_list_for(admin_user).queryset.order_by("start_date", "id"),
        bootcamp_list_for(admin_user).queryset.filter(instructors=world[0]).order_by("-price", "id"),
        enrollment_list_for(admin_user).order_by("-enrolled_at", "-id"),
        enrollment_list_for(admin_user).order_by("waitlist_position", "status", "id"),  # an annotation
        enrollment_list_for(world[1]).order_by("status", "-id"),  # an instructor's scope
        lead_list_for(admin_user).filter(status="NEW").order_by("bootcamp__title", "-id"),
    ]
    for queryset in querysets:
        plain = _pages(Paginator, queryset, per_page, orphans)
        assert plain, queryset.query
        assert _pages(KeysFirstPaginator, queryset, per_page, orphans) == plain


def test_a_page_joins_and_annotates_only_its_own_rows(world, admin_user):
    """One query for the rows, with the page's keys as a subquery: the joins and
    the annotation sit outside the LIMIT/OFFSET."""
    queryset = enrollment_list_for(admin_user).order_by("-enrolled_at", "-id")
    paginator = KeysFirstPaginator(queryset, 5)
    paginator.count  # noqa: B018 (counted apart)
    with CaptureQueriesContext(connection) as captured:
        rows = list(paginator.page(3))
    assert len(rows) == 5 and len(captured) == 1
    sql = captured.captured_queries[0]["sql"]
    outer, keys = sql.split(" IN (SELECT ", 1)
    assert "accounts_user" in outer and "bootcamps_bootcamp" in outer and "LIMIT" not in outer
    assert "LIMIT 5 OFFSET 10" in keys and "accounts_user" not in keys


def test_lists_that_are_not_querysets_page_as_before():
    assert list(KeysFirstPaginator(list(range(10)), 4).page(3)) == [8, 9]


def test_the_api_pages_through_keys(admin_client, world):
    from cohortly.pagination import PageNumberPagination

    assert PageNumberPagination.django_paginator_class is KeysFirstPaginator
    everything = admin_client.get("/api/v1/enrollments/", {"page_size": 100}).json()["results"]
    paged = [
        row["id"]
        for page in (1, 2, 3)
        for row in admin_client.get("/api/v1/enrollments/", {"page_size": 10, "page": page}).json()["results"]
    ]
    assert paged == [row["id"] for row in everything] and len(paged) == Enrollment.objects.count()
