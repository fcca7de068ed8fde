"""cohortly.counting: list pages run from SQL compiled once per kind of list
give exactly the rows a fresh build gives, and never outlive a write."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from cohortly import counting
from cohortly.recent import RecentlyUsed
from enrollments.api.views import EnrollmentViewSet
from enrollments.services import enrollment_cancel, enrollment_create
from enrollments.tests.factories import BootcampFactory
from leads.api.views import LeadViewSet
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(shared_cache):
    """Counts and versions in the (stand-in) shared cache: page queries are kept."""
    shared_cache.COUNT_CACHE_SECONDS = 300
    return shared_cache


@pytest.fixture
def builds(monkeypatch):
    """How many times each list view built its queryset."""
    counts = {"enrollments": 0, "leads": 0}

    def counting_get_queryset(name, original):
        def get_queryset(self):
            counts[name] += 1
            return original(self)

        return get_queryset

    monkeypatch.setattr(
        EnrollmentViewSet,
        "get_queryset",
        counting_get_queryset("enrollments", EnrollmentViewSet.get_queryset),
    )
    monkeypatch.setattr(LeadViewSet, "get_queryset", counting_get_queryset("leads", LeadViewSet.get_queryset))
    return counts


@pytest.fixture
def enrollments(make_user):
    bootcamps = [BootcampFactory(title="Data Science", capacity=2), BootcampFactory(title="Web Development")]
    made = [
        enrollment_create(
            student=make_user(User.Role.STUDENT, full_name=f"Student {i}"), bootcamp=b, notify=False
        )
        for i, b in enumerate(bootcamps * 3)
    ]
    enrollment_cancel(enrollment=made[0], notify=False)
    return made


ENROLLMENT_QUERIES = [
    {},
    {"page_size": 2, "page": 2},
    {"ordering": "waitlist_position"},
    {"ordering": "-updated_at", "page_size": 3},
    {"search": "data"},
    {"status": "WAITLISTED"},
    {"search": "student 1", "ordering": "status"},
]


@pytest.mark.parametrize("params", ENROLLMENT_QUERIES, ids=str)
def test_a_kept_page_query_gives_what_a_fresh_build_gives(settings, admin_client, enrollments, params):
    settings.COUNT_CACHE_SECONDS = 0  # nothing kept: built and compiled on each request
    fresh = admin_client.get("/api/v1/enrollments/", params)
    assert fresh.status_code == 200
    assert counting.compiled_pages.entries == {}

    settings.REDIS_URL = settings.REDIS_URL or "redis://stand-in"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.COUNT_CACHE_SECONDS = 300
    first = admin_client.get("/api/v1/enrollments/", params)
    kept = admin_client.get("/api/v1/enrollments/", params)
    assert len(counting.compiled_pages.entries) == 1
    assert first.json() == kept.json() == fresh.json()


def test_a_repeated_list_is_neither_rebuilt_nor_recounted(kept, builds, admin_client, enrollments):
    first = admin_client.get("/api/v1/enrollments/", {"search": "student"}).json()
    assert builds["enrollments"] == 1
    for _ in range(3):
        assert admin_client.get("/api/v1/enrollments/", {"search": "student"}).json() == first
    assert builds["enrollments"] == 1
    # Another page of the same list is the same SQL with another OFFSET.
    second_page = admin_client.get("/api/v1/enrollments/", {"search": "student", "page_size": 2, "page": 2})
    assert [row["id"] for row in second_page.json()["results"]] == [
        row["id"] for row in first["results"][2:4]
    ]
    assert builds["enrollments"] == 1


def test_a_write_makes_the_kept_queries_stale(kept, builds, admin_client, enrollments, make_user):
    before = admin_client.get("/api/v1/enrollments/").json()
    newcomer = make_user(User.Role.STUDENT, full_name="Newest Student")
    enrollment_create(student=newcomer, bootcamp=enrollments[1].bootcamp, notify=False)
    after = admin_client.get("/api/v1/enrollments/").json()
    assert after["count"] == before["count"] + 1
    assert after["results"][0]["student"]["full_name"] == "Newest Student"
    assert builds["enrollments"] == 2


def test_each_caller_keeps_their_own_scope(kept, client_for):
    bootcamp = BootcampFactory()
    clients = []
    for name in ("Ada", "Grace"):
        client, student = client_for(User.Role.STUDENT, full_name=name)
        enrollment_create(student=student, bootcamp=bootcamp, notify=False)
        clients.append(client)
    for _ in range(2):
        for client, name in zip(clients, ("Ada", "Grace"), strict=True):
            rows = client.get("/api/v1/enrollments/").json()["results"]
            assert [row["student"]["full_name"] for row in rows] == [name]


def test_a_bad_filter_is_a_400_every_time_and_nothing_is_kept(kept, sales_client):
    for _ in range(2):
        response = sales_client.get("/api/v1/leads/", {"status": "NOT_A_STATUS"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "status"
    assert counting.compiled_pages.entries == {}


def test_date_filters_follow_the_current_time_zone(kept, settings, sales_client):
    lead = LeadFactory(full_name="Late Night")
    type(lead).objects.filter(pk=lead.pk).update(created_at=dt.datetime(2026, 1, 1, 23, 30, tzinfo=dt.UTC))
    params = {"created_after": "2026-01-02"}
    settings.TIME_ZONE = "UTC"
    assert sales_client.get("/api/v1/leads/", params).json()["count"] == 0
    settings.TIME_ZONE = "Asia/Tokyo"  # 08:30 on 2 January there
    with timezone.override("Asia/Tokyo"):
        assert [row["full_name"] for row in sales_client.get("/api/v1/leads/", params).json()["results"]] == [
            "Late Night"
        ]


def test_deleting_a_bootcamp_makes_its_lead_filter_a_400_again(kept, sales_client):
    bootcamp = BootcampFactory()  # no leads: a bootcamp with leads can't be deleted
    params = {"bootcamp": bootcamp.pk}
    LeadFactory()
    assert sales_client.get("/api/v1/leads/", params).json()["count"] == 0
    assert sales_client.get("/api/v1/leads/", params).json()["count"] == 0
    bootcamp.delete()
    response = sales_client.get("/api/v1/leads/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "bootcamp"


def test_the_worker_keeps_only_the_most_recently_used():
    pages = RecentlyUsed(size=2)
    pages.put("a", 1)
    pages.put("b", 2)
    assert pages.get("a") == 1  # now the most recent
    pages.put("c", 3)
    assert list(pages.entries) == ["a", "c"]
    assert pages.get("b") is None


def test_only_values_querysets_are_compiled():
    with pytest.raises(TypeError, match="values"):
        counting.CompiledPage(User.objects.all())


# Search text that quoting must carry through intact: the kept query holds its
# values as literals on PostgreSQL, so each must find its own lead and only it.
TRICKY_SEARCHES = ["O'Brien", "back\\slash", "100%", "under_score", "'; DROP TABLE leads_lead; --", "Zoë"]


@pytest.mark.parametrize("term", TRICKY_SEARCHES)
def test_a_kept_search_finds_exactly_what_it_says(kept, sales_client, term):
    wanted = LeadFactory(full_name=f"Lead {term} here")
    LeadFactory(full_name="Lead 100 under score backslash OBrien")  # near misses
    for _ in range(3):  # built, then kept
        response = sales_client.get("/api/v1/leads/", {"search": term})
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [wanted.pk]
    assert len(counting.compiled_pages.entries) == 1
    assert sales_client.get("/api/v1/leads/").json()["count"] == 2  # the table is there


@pytest.mark.postgres
def test_on_postgresql_a_kept_query_has_its_values_inlined(kept, sales_client):
    from leads.models import Lead

    LeadFactory(full_name="Martina Example")
    queryset = Lead.objects.filter(full_name__icontains="martin", created_at__lte=timezone.now()).values("id")
    page = counting.CompiledPage(queryset)
    assert page.params is None
    assert "'%martin%'" in page.sql.lower()
    assert [row["id"] for row in page.rows(offset=0, limit=20)] == list(queryset.values_list("id", flat=True))


# --- one row by id: CompiledLookup ----------------------------------------------------


def test_a_compiled_lookup_gives_what_first_gives_for_any_id(make_user, django_assert_num_queries):
    from bootcamps.models import Bootcamp
    from bootcamps.selectors import bootcamp_scope_for, bootcamp_values
    from bootcamps.tests.factories import DraftBootcampFactory

    published, draft = BootcampFactory(), DraftBootcampFactory()
    student = make_user(User.Role.STUDENT)
    built = []

    def build(pk):
        built.append(pk)
        return bootcamp_values(bootcamp_scope_for(student).filter(pk=pk))

    lookup = counting.CompiledLookup(build)
    for pk in (published.pk, draft.pk, published.pk + draft.pk + 1000):
        expected = bootcamp_values(bootcamp_scope_for(student).filter(pk=pk)).first()
        with django_assert_num_queries(1):
            assert lookup.get(pk) == expected
    assert lookup.get(published.pk)["created_at"] == Bootcamp.objects.get(pk=published.pk).created_at
    assert lookup.get(draft.pk) is None  # outside a student's scope
    assert len(built) == 1  # compiled once, whatever the id


@pytest.mark.parametrize("pk", [0, -1, 2**63, 10**30])
def test_a_compiled_lookup_answers_none_for_ids_no_row_can_have(pk, django_assert_num_queries):
    from bootcamps.models import Bootcamp

    lookup = counting.CompiledLookup(lambda key: Bootcamp.objects.filter(pk=key).values("id"))
    with django_assert_num_queries(0):
        assert lookup.get(pk) is None


def test_a_compiled_lookup_must_filter_on_the_key_it_is_given():
    from bootcamps.models import Bootcamp

    with pytest.raises(ValueError, match="primary key"):
        counting.CompiledLookup(lambda key: Bootcamp.objects.values("id"))
