"""The read path's cache seam (cohortly.caching): the API's response cache and
its tags. Every way of writing a row is seen by the next read, in this process
and in another; a write makes stale only the responses that showed it."""

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings as settings_module
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_update
from bootcamps.models import Bootcamp
from bootcamps.services import bootcamp_update
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory
from bootcamps.tests.test_admin import form_data
from cohortly.caching import CACHED_TABLES
from cohortly.tests.live_servers import BASE_DIR, database_url_for_servers, gunicorn, request
from enrollments.models import Enrollment
from enrollments.services import enrollment_create

URL = "/api/v1/bootcamps/"
needs_response_cache = pytest.mark.skipif(
    not settings_module.REDIS_URL, reason="the response cache runs only with Redis (set REDIS_URL)"
)
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    """Bootcamps with people (names that sort unlike their ids), seats and odd prices."""
    people = [
        make_user(User.Role.INSTRUCTOR, full_name=name) for name in ("Zed Zulu", "Amy Alpha", "Amy Alpha")
    ]
    mentors = [make_user(User.Role.MENTOR, full_name=name) for name in ("Moe Mentor", "Bea Mentor")]
    camps = [
        BootcampFactory(instructors=people, mentors=mentors, price=Decimal("0.50"), capacity=2),
        BootcampFactory(instructors=people[:1], price=Decimal("12345678.90"), location="Lisbon"),
        BootcampFactory(description="", start_date=timezone.localdate() + timedelta(days=3)),
        DraftBootcampFactory(mentors=mentors[:1]),
    ]
    for _ in range(3):  # the third waits: seats_left never goes below zero
        enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=camps[0], notify=False)
    return camps


def _bootcamp_queries(client, url=URL, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    return response, [q["sql"] for q in captured.captured_queries if "bootcamps_bootcamp" in q["sql"]]


def _titles(client, **params):
    return sorted(row["title"] for row in client.get(URL, {"page_size": 100, **params}).json()["results"])


def test_a_bootcamp_shows_its_seats_and_people_by_name(admin_client, world):
    body = admin_client.get(f"{URL}{world[0].pk}/").json()
    assert (body["seats_taken"], body["seats_left"], body["price"]) == (2, 0, "0.50")
    assert [p["full_name"] for p in body["instructors"]] == ["Amy Alpha", "Amy Alpha", "Zed Zulu"]
    assert [p["full_name"] for p in body["mentors"]] == ["Bea Mentor", "Moe Mentor"]
    listed = {row["id"]: row for row in admin_client.get(URL).json()["results"]}
    assert listed[world[0].pk] == body


# --- the response cache ---------------------------------------------------------


@pytest.fixture
def response_cache(settings):
    settings.RESPONSE_CACHE_SECONDS = 60


@needs_response_cache
def test_a_repeated_request_is_served_from_the_cache(response_cache, admin_client, world):
    first, queries = _bootcamp_queries(admin_client)
    assert queries
    second, queries = _bootcamp_queries(admin_client)
    assert queries == []
    assert second.json() == first.json()
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")


@needs_response_cache
def test_scopes_are_cached_apart(response_cache, admin_client, student_client, anon_client, world):
    assert admin_client.get(URL).json()["count"] == 4
    assert student_client.get(URL).json()["count"] == 3
    assert anon_client.get(URL).json()["count"] == 3
    draft = world[3]
    assert admin_client.get(f"{URL}{draft.pk}/").status_code == 200
    assert student_client.get(f"{URL}{draft.pk}/").status_code == 404


def test_the_cache_key_is_the_selectors_scope(admin_user, instructor_user, student_user):
    from bootcamps.selectors import bootcamp_list_for

    assert bootcamp_list_for(admin_user).key == bootcamp_list_for(instructor_user).key == "all"
    assert bootcamp_list_for(student_user).key == bootcamp_list_for(None).key == "published"


@needs_response_cache
def test_permissions_and_throttles_still_run_on_a_cached_response(
    response_cache, admin_client, anon_client, world
):
    admin_client.get(f"{URL}{world[3].pk}/")  # cached for staff
    assert anon_client.get(f"{URL}{world[3].pk}/").status_code == 404
    assert anon_client.delete(f"{URL}{world[0].pk}/").status_code == 401


# --- every write path is seen by the next read ------------------------------------


@needs_response_cache
def test_an_api_edit_is_seen_at_once(response_cache, admin_client, world):
    admin_client.get(URL)
    response = admin_client.patch(f"{URL}{world[1].pk}/", {"title": "Renamed camp"}, format="json")
    assert response.status_code == 200
    assert "Renamed camp" in _titles(admin_client)
    assert admin_client.get(f"{URL}{world[1].pk}/").json()["title"] == "Renamed camp"


@needs_response_cache
def test_queryset_update_is_seen(response_cache, admin_client, world):
    assert "Bulk renamed" not in _titles(admin_client)
    Bootcamp.objects.filter(pk=world[1].pk).update(title="Bulk renamed")
    assert "Bulk renamed" in _titles(admin_client)


@needs_response_cache
def test_bulk_create_is_seen_in_rows_and_counts(response_cache, admin_client, world):
    assert admin_client.get(URL).json()["count"] == 4
    template = world[1]
    Bootcamp.objects.bulk_create(
        [
            Bootcamp(
                title=f"Bulk {n}",
                slug=f"bulk-{n}",
                start_date=template.start_date,
                end_date=template.end_date,
                capacity=5,
                price=Decimal("10.00"),
                status=Bootcamp.Status.PUBLISHED,
            )
            for n in range(2)
        ]
    )
    assert admin_client.get(URL).json()["count"] == 6


@needs_response_cache
def test_raw_sql_is_seen(response_cache, admin_client, world):
    admin_client.get(f"{URL}{world[2].pk}/")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bootcamps_bootcamp SET location = %s WHERE id = %s", ["Raw City", world[2].pk])
    assert admin_client.get(f"{URL}{world[2].pk}/").json()["location"] == "Raw City"


@needs_response_cache
def test_an_admin_edit_is_seen(response_cache, admin_client, admin_user, world, client):
    camp = world[1]
    assert admin_client.get(f"{URL}{camp.pk}/").json()["capacity"] == camp.capacity
    client.force_login(admin_user)
    data = form_data(camp, capacity=str(camp.capacity + 7))
    response = client.post(f"/admin/bootcamps/bootcamp/{camp.pk}/change/", data)
    assert response.status_code == 302
    assert admin_client.get(f"{URL}{camp.pk}/").json()["capacity"] == camp.capacity + 7


@needs_response_cache
def test_a_transaction_is_seen_once_it_commits_and_never_if_rolled_back(response_cache, admin_client, world):
    camp = world[1]
    admin_client.get(f"{URL}{camp.pk}/")
    with pytest.raises(RuntimeError), transaction.atomic():
        Bootcamp.objects.filter(pk=camp.pk).update(title="Rolled back")
        raise RuntimeError
    assert admin_client.get(f"{URL}{camp.pk}/").json()["title"] == camp.title
    with transaction.atomic():
        Bootcamp.objects.filter(pk=camp.pk).update(title="Committed")
    assert admin_client.get(f"{URL}{camp.pk}/").json()["title"] == "Committed"


@needs_response_cache
def test_seats_people_and_names_are_seen(response_cache, admin_client, admin_user, make_user, world):
    camp = world[1]
    assert admin_client.get(f"{URL}{camp.pk}/").json()["seats_taken"] == 0
    enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=camp, notify=False)
    assert admin_client.get(f"{URL}{camp.pk}/").json()["seats_taken"] == 1
    Enrollment.objects.filter(bootcamp=camp).update(status=Enrollment.Status.DROPPED)
    assert admin_client.get(f"{URL}{camp.pk}/").json()["seats_taken"] == 0

    teacher = make_user(User.Role.INSTRUCTOR, full_name="New Teacher")
    bootcamp_update(bootcamp=camp, actor=admin_user, data={"instructors": [teacher]})
    assert [p["full_name"] for p in admin_client.get(f"{URL}{camp.pk}/").json()["instructors"]] == [
        "New Teacher"
    ]
    profile_update(user=teacher, data={"full_name": "Renamed Teacher"})
    assert [p["full_name"] for p in admin_client.get(f"{URL}{camp.pk}/").json()["instructors"]] == [
        "Renamed Teacher"
    ]
    world[2].mentors.add(teacher)  # the through table alone, the bootcamp row untouched
    assert [p["id"] for p in admin_client.get(f"{URL}{world[2].pk}/").json()["mentors"]] == [str(teacher.pk)]


@needs_response_cache
def test_a_deleted_instructor_leaves_the_bootcamp_and_its_counts(
    response_cache, admin_client, admin_user, make_user, world
):
    camp = world[2]
    teacher = make_user(User.Role.INSTRUCTOR, full_name="Gone Teacher")
    bootcamp_update(bootcamp=camp, actor=admin_user, data={"instructors": [teacher]})
    assert admin_client.get(URL, {"instructor": str(teacher.pk)}).json()["count"] == 1  # now cached

    # Their instructor rows go by cascade. (user_delete refuses this: the staff list
    # must stay on record; the ORM's own delete, as a shell or migration makes it, doesn't.)
    User.objects.filter(pk=teacher.pk).delete()

    assert admin_client.get(f"{URL}{camp.pk}/").json()["instructors"] == []
    body = admin_client.get(URL, {"instructor": str(teacher.pk)}).json()
    assert (body["count"], body["results"]) == (0, [])


# --- across processes ------------------------------------------------------------

WRITER = """
import django, sys
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("UPDATE bootcamps_bootcamp SET title = %s WHERE id = %s", [sys.argv[1], int(sys.argv[2])])
"""


@needs_response_cache
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_writes_in_one_process_are_seen_by_another(settings, make_user):
    """A gunicorn server and this process share Redis: a write here is seen
    there at once, and a raw UPDATE from a third process is seen by both."""
    from rest_framework_simplejwt.tokens import RefreshToken

    settings.RESPONSE_CACHE_SECONDS = 60
    admin = make_user(User.Role.ADMIN)
    camp = BootcampFactory(title="First title")
    token = str(RefreshToken.for_user(admin).access_token)
    env = {"REDIS_URL": settings.REDIS_URL, "RESPONSE_CACHE_SECONDS": "60"}

    def title_there(base):
        status, body = request("GET", f"{base}{URL}{camp.pk}/", token=token)
        assert status == 200, body
        import json

        return json.loads(body)["title"]

    with gunicorn(workers=1, env=env) as base:
        assert title_there(base) == "First title"
        assert title_there(base) == "First title"  # now cached there
        Bootcamp.objects.filter(pk=camp.pk).update(title="Written here")
        assert title_there(base) == "Written here"

        from rest_framework.test import APIClient

        here = APIClient()
        here.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert here.get(f"{URL}{camp.pk}/").json()["title"] == "Written here"  # cached here too
        writer_env = {
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "cohortly.settings_test",
            "DATABASE_URL": database_url_for_servers(),
            "REDIS_URL": settings.REDIS_URL,
        }
        result = subprocess.run(
            [sys.executable, "-c", WRITER, "Written elsewhere", str(camp.pk)],
            cwd=BASE_DIR,
            env=writer_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert here.get(f"{URL}{camp.pk}/").json()["title"] == "Written elsewhere"
        assert title_there(base) == "Written elsewhere"


# --- a write whose invalidation never reached Redis ---------------------------------
# SECURITY.md, "Redis is a cache, not a dependency": other processes may read the old
# rows until the entries it should have dropped expire, never longer.


@needs_response_cache
@pytest.mark.django_db(transaction=True)  # tags are moved again once a transaction commits
def test_every_cache_entry_expires_within_the_stale_bound(response_cache, admin_client, world):
    """Every key the caches write expires, none later than the bound:
    RESPONSE_CACHE_SECONDS for responses and lists' counts, USER_CACHE_SECONDS for the user behind
    a token. Tags live twice as long as a response (one missing makes its
    responses stale, so they bound nothing); throttle windows are counts, not
    copies of anything."""
    from django.conf import settings
    from django.core.cache import cache

    admin_client.get(URL)
    admin_client.get(f"{URL}{world[0].pk}/")
    admin_client.get("/api/v1/enrollments/")
    kinds = set()
    for key in cache.keys("*"):  # django-redis
        if key.startswith("throttle_"):
            continue
        kind = (
            "user"
            if key.startswith("auth:user:")
            else "response"
            if key.startswith("response:")
            else "count"
            if key.startswith("count:")
            else "tag"
            if key.startswith("tag:")
            else "other"
        )
        # A tag is a time, not a copy: one missing makes its entries stale.
        bound = {
            "user": settings.USER_CACHE_SECONDS,
            "response": settings.RESPONSE_CACHE_SECONDS,
            "count": settings.RESPONSE_CACHE_SECONDS,
            "tag": 2 * settings.RESPONSE_CACHE_SECONDS,
        }.get(kind, 0)
        ttl = cache.ttl(key)
        assert ttl is not None and 0 < ttl <= bound, (key, ttl, bound)
        kinds.add(kind)
    assert kinds == {"user", "response", "count", "tag"}


WRITER_WITHOUT_REDIS = """
import django, sys
django.setup()
from accounts.models import User
from accounts.services import user_update
from bootcamps.models import Bootcamp
print("ready", flush=True)
sys.stdin.readline()
Bootcamp.objects.filter(pk=int(sys.argv[1])).update(title="Written without Redis")
user_update(actor=User.objects.get(pk=sys.argv[3]), user=User.objects.get(pk=sys.argv[2]), data={"is_active": False})
print("written", flush=True)
"""


@needs_response_cache
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_write_whose_invalidation_failed_is_seen_everywhere_within_the_bound(settings, make_user):
    """A writer that can't reach Redis (a port where nothing listens) renames a
    bootcamp and deactivates a student; a gunicorn server that reads through
    Redis keeps serving what it had cached, but only until the bound (4 s here,
    a minute by default) has passed since the write."""
    import json
    import time
    import uuid

    from rest_framework_simplejwt.tokens import AccessToken

    from cohortly.tests.live_servers import free_port

    bound = 4
    admin, student = make_user(User.Role.ADMIN), make_user(User.Role.STUDENT)
    camp = BootcampFactory(title="Cached title")
    token = str(AccessToken.for_user(student))
    env = {
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": f"stale-bound-{uuid.uuid4().hex}",
        "RESPONSE_CACHE_SECONDS": str(bound),
        "USER_CACHE_SECONDS": str(bound),
    }
    writer_env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "cohortly.settings_test",
        "DATABASE_URL": database_url_for_servers(),
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER_WITHOUT_REDIS, str(camp.pk), str(student.pk), str(admin.pk)],
        cwd=BASE_DIR,
        env=writer_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        with gunicorn(workers=1, env=env) as base:

            def title():
                status, body = request("GET", f"{base}{URL}{camp.pk}/")
                assert status == 200, body
                return json.loads(body)["title"]

            def me():
                return request("GET", f"{base}/api/v1/auth/me", token=token)[0]

            assert (title(), title(), me()) == ("Cached title", "Cached title", 200)  # now cached there
            writer.stdin.write("go\n")
            writer.stdin.flush()
            assert writer.stdout.readline().strip() == "written"
            written_at = time.monotonic()
            _, errors = writer.communicate(timeout=60)
            assert writer.returncode == 0, errors
            assert "Redis unavailable" in errors  # its invalidations really were lost

            # Inside the bound the server may still serve what it had: here it does.
            assert (title(), me()) == ("Cached title", 200)
            time.sleep(max(0.0, written_at + bound + 0.5 - time.monotonic()))
            assert title() == "Written without Redis"
            assert me() == 401
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()


# --- scopes that depend on who asks ------------------------------------------------


@needs_response_cache
def test_my_leads_are_cached_per_salesperson(response_cache, client_for):
    from leads.tests.factories import LeadFactory

    (ana_client, ana), (bo_client, bo) = client_for(User.Role.SALES), client_for(User.Role.SALES)
    LeadFactory(owner=ana, full_name="Ana's lead")
    LeadFactory(owner=bo, full_name="Bo's lead")
    mine = "/api/v1/leads/?owner=me"
    assert [row["full_name"] for row in ana_client.get(mine).json()["results"]] == ["Ana's lead"]
    assert [row["full_name"] for row in bo_client.get(mine).json()["results"]] == ["Bo's lead"]
    assert [row["full_name"] for row in ana_client.get(mine).json()["results"]] == ["Ana's lead"]


@needs_response_cache
def test_the_lead_csv_is_never_answered_from_the_json_cache(response_cache, sales_client):
    from leads.tests.factories import LeadFactory

    LeadFactory(full_name="Csv Person")
    assert sales_client.get("/api/v1/leads/").json()["count"] == 1
    response = sales_client.get("/api/v1/leads/", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "Csv Person" in b"".join(response.streaming_content).decode()


@needs_response_cache
def test_enrollments_are_cached_per_scope(response_cache, admin_client, client_for, make_user):
    from enrollments.tests.factories import EnrollmentFactory

    instructor_client, instructor = client_for(User.Role.INSTRUCTOR)
    taught, other = BootcampFactory(instructors=[instructor]), BootcampFactory()
    EnrollmentFactory(bootcamp=taught)
    EnrollmentFactory(bootcamp=other)
    url = "/api/v1/enrollments/"
    assert admin_client.get(url).json()["count"] == 2  # cached for ADMIN and SALES
    assert [row["bootcamp"]["id"] for row in instructor_client.get(url).json()["results"]] == [taught.pk]
    other.instructors.add(instructor)  # their scope grows: the through table moves the stamp
    assert instructor_client.get(url).json()["count"] == 2


@needs_response_cache
def test_each_student_and_instructor_has_their_own_cached_enrollments(client_for):
    from enrollments.tests.factories import EnrollmentFactory

    (ann_client, ann), (ben_client, ben) = client_for(User.Role.STUDENT), client_for(User.Role.STUDENT)
    (ida_client, ida), (ivo_client, ivo) = client_for(User.Role.INSTRUCTOR), client_for(User.Role.INSTRUCTOR)
    first, second = BootcampFactory(instructors=[ida]), BootcampFactory(instructors=[ivo])
    mine = {
        ann: EnrollmentFactory(student=ann, bootcamp=first),
        ben: EnrollmentFactory(student=ben, bootcamp=second),
    }
    url = "/api/v1/enrollments/"
    for _ in range(2):  # the second round is answered from the cache
        assert [row["id"] for row in ann_client.get(url).json()["results"]] == [mine[ann].pk]
        assert [row["id"] for row in ben_client.get(url).json()["results"]] == [mine[ben].pk]
        assert [row["id"] for row in ida_client.get(url).json()["results"]] == [mine[ann].pk]
        assert [row["id"] for row in ivo_client.get(url).json()["results"]] == [mine[ben].pk]
    assert ann_client.get(url)["X-Cache"] == "hit"


# --- a scope's tables are the tables its responses read ------------------------------

READS = [
    # (role, URL template, the selector whose Scoped the view uses)
    (User.Role.ADMIN, "/api/v1/bootcamps/", "bootcamps.selectors.bootcamp_list_for"),
    (User.Role.STUDENT, "/api/v1/bootcamps/{bootcamp}/", "bootcamps.selectors.bootcamp_list_for"),
    (User.Role.ADMIN, "/api/v1/enrollments/", "enrollments.selectors.enrollment_scope"),
    (User.Role.INSTRUCTOR, "/api/v1/enrollments/", "enrollments.selectors.enrollment_scope"),
    (User.Role.MENTOR, "/api/v1/enrollments/{enrollment}/", "enrollments.selectors.enrollment_scope"),
    (User.Role.STUDENT, "/api/v1/enrollments/", "enrollments.selectors.enrollment_scope"),
    (User.Role.SALES, "/api/v1/leads/?search=a", "leads.selectors.lead_scope"),
    (User.Role.SALES, "/api/v1/leads/{lead}/", "leads.selectors.lead_scope"),
]


@pytest.mark.parametrize("role, url, selector", READS, ids=[f"{r[0]} {r[1]}" for r in READS])
def test_a_scope_names_every_table_its_responses_read(
    no_query_cache, client_for, role, url, selector, settings
):
    """A response is stamped with the tables its selector names: a table it reads
    but doesn't name would let a write there go unseen."""
    import re

    from django.utils.module_loading import import_string

    from leads.services import lead_convert
    from leads.tests.factories import LeadFactory

    client, user = client_for(role)
    camp = BootcampFactory(
        instructors=[user] if role == User.Role.INSTRUCTOR else [],
        mentors=[user] if role == User.Role.MENTOR else [],
    )
    student = user if role == User.Role.STUDENT else client_for(User.Role.STUDENT)[1]
    enrollment = enrollment_create(student=student, bootcamp=camp, notify=False)
    lead = LeadFactory(full_name="Ana Converted", owner=user if role == User.Role.SALES else None)
    lead_convert(
        lead=lead, actor=user if role == User.Role.SALES else client_for(User.Role.SALES)[1], bootcamp=camp
    )
    path = url.format(bootcamp=camp.pk, enrollment=enrollment.pk, lead=lead.pk)
    client.get(path)  # the user behind the token is then cached
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    # Tables of models: not the database cache's table, which holds throttle counts without Redis.
    models = {model._meta.db_table for model in apps.get_models()}
    read = {
        t for q in captured.captured_queries for t in re.findall(r'(?:FROM|JOIN) "(\w+)"', q["sql"])
    } & models
    named = {model._meta.db_table for model in import_string(selector)(user).tables}
    assert read, "no query captured"
    assert read <= named, f"read but not in the scope's tables: {read - named}"
    assert named <= CACHED_TABLES, "a named table whose writes move no response cache tag"


@needs_response_cache
def test_parameters_the_view_doesnt_read_are_never_cached(response_cache, admin_client, world):
    """?junk=<anything> would otherwise make a new cache entry per value."""
    from django.core.cache import cache

    first = admin_client.get(URL, {"junk": "1", "page_size": 2})
    again = admin_client.get(URL, {"junk": "1", "page_size": 2})
    assert "X-Cache" not in first and "X-Cache" not in again
    assert "junk=1" in first.json()["next"]  # the body is still exactly this request's
    assert not any(str(key).startswith("response:") for key in cache.keys("*"))  # django-redis
    known = {"status": "PUBLISHED", "search": "a", "ordering": "-price", "page": "1", "page_size": "2"}
    assert admin_client.get(URL, known)["X-Cache"] == "miss"
    assert admin_client.get(URL, known)["X-Cache"] == "hit"


@needs_response_cache
def test_one_query_in_any_order_is_one_cache_entry(response_cache, admin_client, world):
    """The key is the path and the known parameters in one order: reordering a
    query string or repeating a value can't make new entries."""
    from django.core.cache import cache

    def entries():
        return [key for key in cache.keys("*") if str(key).startswith("response:")]  # django-redis

    first = admin_client.get(f"{URL}?status=PUBLISHED&ordering=-price&page_size=2")
    reordered = admin_client.get(f"{URL}?page_size=2&ordering=-price&status=PUBLISHED")
    assert (first["X-Cache"], reordered["X-Cache"]) == ("miss", "hit")
    assert reordered.json()["results"] == first.json()["results"]
    repeated = admin_client.get(f"{URL}?status=PUBLISHED&status=PUBLISHED&ordering=-price&page_size=2")
    assert "X-Cache" not in repeated
    assert repeated.json()["results"] == first.json()["results"]
    assert len(entries()) == 1 + 2  # the page, and the details of its two rows
    # Values of one name keep their order: a single-valued parameter reads one of them.
    by_price = admin_client.get(f"{URL}?ordering=title&ordering=-price&page_size=2")
    by_title = admin_client.get(f"{URL}?ordering=-price&ordering=title&page_size=2")
    assert (by_price["X-Cache"], by_title["X-Cache"]) == ("miss", "miss")


@needs_response_cache
def test_a_page_number_with_leading_zeros_is_its_page_one_entry(response_cache, admin_client, world):
    """?page=01, 001, …: the same page, which made a new entry per spelling."""
    from django.core.cache import cache

    first = admin_client.get(URL, {"page": "1", "page_size": 2})
    padded = [admin_client.get(URL, {"page": "0" * n + "1", "page_size": 2}) for n in (1, 2, 4000)]
    assert [r["X-Cache"] for r in [first, *padded]] == ["miss", "hit", "hit", "hit"]
    assert all(r.json() == first.json() for r in padded)
    assert len([key for key in cache.keys("*") if str(key).startswith("response:")]) == 1 + 2


# --- a write that failed -------------------------------------------------------------


@needs_response_cache
def test_writes_after_a_save_that_failed_are_still_seen(response_cache, admin_client, world):
    """A save announces its statements before it runs them; one that fails in the
    database must not leave later writes to its table looking announced."""
    from django.db import IntegrityError

    camp = world[1]
    admin_client.get(f"{URL}{camp.pk}/")
    with pytest.raises(IntegrityError), transaction.atomic():
        BootcampFactory.build(slug=world[0].slug).save()  # the slug is taken
    Bootcamp.objects.filter(pk=camp.pk).update(title="After a failed save")
    assert admin_client.get(f"{URL}{camp.pk}/").json()["title"] == "After a failed save"


# --- narrow invalidation: a write makes stale only what showed it ------------------


def _page(client, n, **params):
    return client.get(URL, {"page_size": 2, "page": n, **params})


@needs_response_cache
def test_an_edit_to_one_bootcamp_leaves_the_other_pages_and_bootcamps_cached(response_cache, admin_client):
    camps = [BootcampFactory(start_date=timezone.localdate() + timedelta(days=10 + n)) for n in range(6)]
    for n in (1, 2, 3):
        _page(admin_client, n)
    for camp in camps:
        admin_client.get(f"{URL}{camp.pk}/")
    edited = camps[2]  # on page 2 (ordered by start date)

    response = admin_client.patch(f"{URL}{edited.pk}/", {"description": "Evening sessions."}, format="json")

    assert response.status_code == 200, response.content
    second = _page(admin_client, 2)
    assert second["X-Cache"] == "miss"
    assert second.json()["results"][0]["description"] == "Evening sessions."
    assert (_page(admin_client, 1)["X-Cache"], _page(admin_client, 3)["X-Cache"]) == ("hit", "hit")
    # Its detail was stored again with the page that shows it.
    assert admin_client.get(f"{URL}{edited.pk}/").json()["description"] == "Evening sessions."
    assert {admin_client.get(f"{URL}{camp.pk}/")["X-Cache"] for camp in camps if camp != edited} == {"hit"}
    # A search reads the description: it is stale too.
    assert admin_client.get(URL, {"search": "evening"}).json()["count"] == 1


@needs_response_cache
def test_a_change_to_what_a_list_is_ordered_or_filtered_by_makes_every_page_stale(
    response_cache, admin_client
):
    camps = [BootcampFactory(start_date=timezone.localdate() + timedelta(days=10 + n)) for n in range(6)]
    for n in (1, 2, 3):
        _page(admin_client, n)
        _page(admin_client, n, ordering="title")
    # The last bootcamp now starts first: every page by start date moves; by title none does.
    admin_client.patch(f"{URL}{camps[5].pk}/", {"start_date": str(timezone.localdate())}, format="json")
    assert [_page(admin_client, n)["X-Cache"] for n in (1, 2, 3)] == ["miss"] * 3
    assert _page(admin_client, 1).json()["results"][0]["id"] == camps[5].pk
    titled = [_page(admin_client, n, ordering="title")["X-Cache"] for n in (1, 2, 3)]
    assert titled.count("hit") == 2  # only the page showing the bootcamp is stale

    # Publishing a draft changes what the PUBLISHED scope and a status filter show.
    draft = DraftBootcampFactory()
    anon = admin_client.__class__()
    before = anon.get(URL).json()["count"]
    admin_client.get(URL, {"status": "DRAFT"})
    admin_client.patch(f"{URL}{draft.pk}/", {"status": "PUBLISHED"}, format="json")
    assert anon.get(URL).json()["count"] == before + 1
    assert admin_client.get(URL, {"status": "DRAFT"}).json()["count"] == 0


@needs_response_cache
def test_an_enrollment_makes_only_its_bootcamp_stale(response_cache, admin_client, make_user):
    first, second = BootcampFactory(capacity=5), BootcampFactory(capacity=5)
    for camp in (first, second):
        assert admin_client.get(f"{URL}{camp.pk}/").json()["seats_taken"] == 0
    enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=first, notify=False)
    assert admin_client.get(f"{URL}{first.pk}/").json()["seats_taken"] == 1
    assert admin_client.get(f"{URL}{second.pk}/")["X-Cache"] == "hit"


@needs_response_cache
def test_a_lead_status_change_leaves_lists_that_dont_show_or_filter_it_cached(response_cache, sales_client):
    from leads.models import Lead
    from leads.tests.factories import LeadFactory

    smith = LeadFactory(full_name="Ann Smith", status=Lead.Status.CONTACTED)
    LeadFactory(full_name="Bob Jones", status=Lead.Status.CONTACTED)
    url = "/api/v1/leads/"
    searches = [{"search": "smith"}, {"search": "jones"}, {"status": "CONTACTED"}]
    for params in searches:
        assert sales_client.get(url, params).json()["count"] == 1 + (params.get("status") is not None)

    response = sales_client.patch(
        f"{url}{smith.pk}/", {"status": "LOST", "lost_reason": "No budget this year."}, format="json"
    )

    assert response.status_code == 200, response.content
    shown = sales_client.get(url, {"search": "smith"})
    assert (shown["X-Cache"], shown.json()["results"][0]["status"]) == ("miss", "LOST")
    assert sales_client.get(url, {"search": "jones"})["X-Cache"] == "hit"
    assert sales_client.get(url, {"status": "CONTACTED"}).json()["count"] == 1


ENROLLMENTS = "/api/v1/enrollments/"


def _enrollments(client, **params):
    """(response, COUNT queries run) for a page of enrollments."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(ENROLLMENTS, {"page_size": 2, **params})
    counts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    return response, counts


@needs_response_cache
def test_a_lists_count_is_cached_apart_from_its_pages(response_cache, admin_client, make_user):
    """A re-enrollment moves every page ordered by date, not the count: the pages
    are built again without counting again. What changes which rows are in the
    list (a new row, a filtered or searched field) is counted again at once."""
    camp = BootcampFactory(capacity=50)
    # Names no factory sequence can contain: a search matches each word anywhere.
    names = ("Amsel", "Birke", "Clover", "Dorsalfin", "Eschenholz")
    students = [make_user(User.Role.STUDENT, full_name=f"Student {name}") for name in names]
    for student in students:
        enrollment_create(student=student, bootcamp=camp, notify=False)
    first, counted = _enrollments(admin_client, page=1)
    assert (first["X-Cache"], first.json()["count"], len(counted)) == ("miss", 5, 1)
    second, counted = _enrollments(admin_client, page=2)
    assert (second["X-Cache"], second.json()["count"], counted) == ("miss", 5, [])

    # The oldest enrollment is cancelled and made again: it comes first, every page moves.
    oldest = Enrollment.objects.get(student=students[0])
    assert admin_client.post(f"{ENROLLMENTS}{oldest.pk}/cancel/").status_code == 200
    response = admin_client.post(ENROLLMENTS, {"bootcamp": camp.pk, "student": str(students[0].pk)})
    assert response.status_code == 201, response.content
    for page in (1, 2, 3):
        again, counted = _enrollments(admin_client, page=page)
        assert (again["X-Cache"], again.json()["count"], counted) == ("miss", 5, [])
    assert _enrollments(admin_client, page=1)[0].json()["results"][0]["id"] == oldest.pk

    # A new row is counted at once; so is a change to a filtered or searched field.
    enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=camp, notify=False)
    response, counted = _enrollments(admin_client, page=2)
    assert (response.json()["count"], len(counted)) == (6, 1)
    assert _enrollments(admin_client, status="ACTIVE")[0].json()["count"] == 6
    assert _enrollments(admin_client, search="student dorsalfin")[0].json()["count"] == 1
    admin_client.post(f"{ENROLLMENTS}{oldest.pk}/cancel/")
    profile_update(user=students[3], data={"full_name": "Renamed Person"})
    active, counted = _enrollments(admin_client, status="ACTIVE")
    assert (active.json()["count"], len(counted)) == (5, 1)
    assert _enrollments(admin_client, search="student dorsalfin")[0].json()["count"] == 0
    # Neither a cancel nor a new name changes how many enrollments there are.
    unfiltered, counted = _enrollments(admin_client, page=3)
    assert (unfiltered["X-Cache"], unfiltered.json()["count"], counted) == ("miss", 6, [])


@needs_response_cache
def test_a_count_is_only_served_when_every_write_since_is_in_it(response_cache, admin_client, client_for):
    """Every way the mixed workload writes (and a few more), each followed by a
    page not read before: the count served is the database's."""
    from leads.models import Lead
    from leads.tests.factories import LeadFactory

    camps = [BootcampFactory(capacity=2) for _ in range(2)]
    instructor_client, instructor = client_for(User.Role.INSTRUCTOR)
    camps[0].instructors.add(instructor)
    students = [client_for(User.Role.STUDENT) for _ in range(3)]
    for _, student in students:
        enrollment_create(student=student, bootcamp=camps[0], notify=False)  # the third waits
    leads = [LeadFactory(full_name=f"Lead {n}", status=Lead.Status.NEW) for n in range(3)]
    sales_client, _ = client_for(User.Role.SALES)
    pages = iter(range(1, 1000))

    def check():
        page = next(pages)
        for client, url, params, rows in (
            (admin_client, ENROLLMENTS, {}, Enrollment.objects.all()),
            (
                admin_client,
                ENROLLMENTS,
                {"status": "WAITLISTED"},
                Enrollment.objects.filter(status="WAITLISTED"),
            ),
            (instructor_client, ENROLLMENTS, {}, Enrollment.objects.filter(bootcamp__instructors=instructor)),
            (students[0][0], ENROLLMENTS, {}, Enrollment.objects.filter(student=students[0][1])),
            (sales_client, "/api/v1/leads/", {"status": "NEW"}, Lead.objects.filter(status="NEW")),
            (
                sales_client,
                "/api/v1/leads/",
                {"search": "lead"},
                Lead.objects.filter(email__startswith="lead"),
            ),
        ):
            response = client.get(url, {"page_size": 1, "page": page, **params})
            # A page past the end is a 404; the count is then read from a page size not used before.
            if response.status_code == 404:
                response = client.get(url, {"page_size": 100 - page, **params})
            assert response.json()["count"] == rows.count(), (url, params, page)

    check()
    admin_client.post(f"{ENROLLMENTS}{Enrollment.objects.get(student=students[0][1]).pk}/cancel/")
    check()  # the waitlisted student was promoted
    enrollment_create(student=students[0][1], bootcamp=camps[1], notify=False)
    check()
    camps[0].instructors.remove(instructor)
    check()
    camps[1].instructors.add(instructor)
    check()
    sales_client.patch(f"/api/v1/leads/{leads[0].pk}/", {"status": "CONTACTED"}, format="json")
    check()
    Lead.objects.filter(pk=leads[1].pk).update(full_name="Someone else", email="someone@example.org")
    check()
    Enrollment.objects.filter(status="ACTIVE").delete()
    check()


@needs_response_cache
def test_a_missing_tag_makes_its_entries_stale(response_cache, admin_client):
    """An evicted or expired tag can't say when its row last changed: the entries
    that depend on it are rebuilt, never served."""
    from django.core.cache import cache

    camp = BootcampFactory()
    admin_client.get(f"{URL}{camp.pk}/")
    assert admin_client.get(f"{URL}{camp.pk}/")["X-Cache"] == "hit"
    assert cache.delete(f"tag:bootcamps_bootcamp:{camp.pk}")  # django-redis: the same key
    assert admin_client.get(f"{URL}{camp.pk}/")["X-Cache"] == "miss"
    assert admin_client.get(f"{URL}{camp.pk}/")["X-Cache"] == "hit"


def _cached_viewsets():
    """Every viewset the URLs route to whose responses are cached."""
    from django.urls import get_resolver

    from cohortly.caching import CachedReadsMixin

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield getattr(pattern.callback, "cls", None)

    return [
        view
        for view in set(views(get_resolver().url_patterns))
        if view and issubclass(view, CachedReadsMixin)
    ]


def test_every_filter_of_a_cached_list_says_what_it_reads():
    """A list is tagged with the fields of the filters it was asked for; a method
    filter's fields can't be read off it, so its filterset names them."""
    from cohortly.caching import path_tags

    cached = _cached_viewsets()
    assert len(cached) >= 3
    for view in cached:
        filterset_class = view.filterset_class
        model = filterset_class._meta.model
        for name, filter_ in filterset_class.base_filters.items():
            if name == "ordering":  # read from the terms in effect; a computed one reads every field
                continue
            paths = (
                filterset_class.method_fields[name] if filter_.method is not None else [filter_.field_name]
            )
            for path in paths:
                assert not any(tag.endswith(".*") for tag in path_tags(model, path)), (view, name, path)


@needs_response_cache
def test_a_list_page_stores_the_detail_of_each_of_its_bootcamps(
    response_cache, admin_client, settings, world
):
    rows = admin_client.get(URL, {"page_size": 3}).json()["results"]
    for row in rows:
        detail = admin_client.get(f"{URL}{row['id']}/")
        assert (detail["X-Cache"], detail.json()) == ("hit", row)
    # What the prefill assumes: the detail, built from the database, is the row as listed.
    settings.RESPONSE_CACHE_SECONDS = 0
    assert [admin_client.get(f"{URL}{row['id']}/").json() for row in rows] == rows
    settings.RESPONSE_CACHE_SECONDS = 60
    # And a stored detail is tagged like any other: an edit makes it stale.
    admin_client.patch(f"{URL}{rows[0]['id']}/", {"location": "Porto"}, format="json")
    assert admin_client.get(f"{URL}{rows[0]['id']}/").json()["location"] == "Porto"


def test_details_are_stored_from_lists_only_where_both_use_one_serializer():
    from rest_framework.test import APIRequestFactory

    prefilling = [view for view in _cached_viewsets() if view.details_from_list]
    assert prefilling
    for view_class in prefilling:
        classes = set()
        for action in ("list", "retrieve"):
            view = view_class(action=action, request=APIRequestFactory().get("/"), format_kwarg=None)
            classes.add(view.get_serializer_class())
        assert len(classes) == 1, (view_class, classes)


@needs_response_cache
def test_a_process_with_the_cache_off_still_makes_the_others_entries_stale(
    response_cache, admin_client, admin_user, settings, world
):
    """Processes sharing Redis may differ in RESPONSE_CACHE_SECONDS (the benchmark's
    second server, a worker set to 0 by hand): one that serves nothing from the
    cache must still say what its writes changed."""
    camp = world[1]
    admin_client.get(f"{URL}{camp.pk}/")
    admin_client.get(f"{URL}{world[2].pk}/")
    settings.RESPONSE_CACHE_SECONDS = 0
    bootcamp_update(bootcamp=camp, actor=admin_user, data={"location": "Written with the cache off"})
    Bootcamp.objects.filter(pk=world[2].pk).update(location="Updated with the cache off")
    settings.RESPONSE_CACHE_SECONDS = 60
    assert admin_client.get(f"{URL}{camp.pk}/").json()["location"] == "Written with the cache off"
    assert admin_client.get(f"{URL}{world[2].pk}/").json()["location"] == "Updated with the cache off"


@needs_response_cache
def test_logins_logouts_and_new_passwords_leave_every_cached_page_cached(
    response_cache, admin_client, anon_client, world
):
    """What they write (the last login, the password, the sessions) is shown and
    read by no response: the pages that show the user stay cached."""
    from accounts.services import user_logout_all, user_mark_email_verified
    from accounts.tests.factories import DEFAULT_PASSWORD

    instructor = world[0].instructors.get(full_name="Zed Zulu")
    pages = [URL, f"{URL}{world[0].pk}/", ENROLLMENTS, f"{ENROLLMENTS}?bootcamp={world[0].pk}"]

    def cached():
        return [admin_client.get(page)["X-Cache"] for page in pages]

    cached()
    assert cached() == ["hit"] * 4
    auth = "/api/v1/auth/"
    tokens = anon_client.post(
        f"{auth}login", {"email": instructor.email, "password": DEFAULT_PASSWORD}, format="json"
    ).json()
    tokens = anon_client.post(f"{auth}refresh", {"refresh": tokens["refresh"]}, format="json").json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = anon_client.post(
        f"{auth}password/change",
        {"old_password": DEFAULT_PASSWORD, "new_password": "A-Fresh-Secret-2026!"},
        format="json",
    )
    assert response.status_code == 200, response.content
    tokens = anon_client.post(
        f"{auth}login", {"email": instructor.email, "password": "A-Fresh-Secret-2026!"}, format="json"
    ).json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon_client.post(f"{auth}logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    user_logout_all(user=User.objects.get(pk=instructor.pk))
    assert not user_mark_email_verified(user=User.objects.get(pk=instructor.pk))  # proven already
    assert User.objects.get(pk=instructor.pk).last_login is not None
    assert cached() == ["hit"] * 4

    # A change a page shows is still seen.
    profile_update(user=User.objects.get(pk=instructor.pk), data={"full_name": "Zed Zulu-Smith"})
    # (The detail first: a list page that misses stores its bootcamps' details again.)
    assert [admin_client.get(page)["X-Cache"] for page in (pages[1], pages[0])] == ["miss", "miss"]
    assert "Zed Zulu-Smith" in str(admin_client.get(pages[1]).json()["instructors"])


def test_no_cached_response_reads_what_a_login_or_a_logout_writes(make_user):
    """The fields declared unread_by_responses (a save of them alone moves no
    tag) are in no cached view's serializers, at any depth, nor in its filters,
    orderings, search or every role's scope. A field added to a nested user, or
    a filter on last_login, fails here instead of being served stale."""
    from rest_framework import serializers

    from cohortly.caching import _UNREAD, path_tags

    unread = {f"{model._meta.db_table}.{name}" for model, names in _UNREAD.items() for name in names}
    assert "accounts_user.last_login" in unread

    def read_by(serializer, model):
        for field in serializer.fields.values():
            child = getattr(field, "child", field)
            path = "__".join(field.source_attrs) if field.source != "*" else ""
            tags = path_tags(model, path) if path else []
            yield from ((field.field_name, tag) for tag in tags)
            if isinstance(child, serializers.BaseSerializer):
                nested = getattr(getattr(child, "Meta", None), "model", None)
                if nested is not None:
                    yield from read_by(child, nested)

    for view in _cached_viewsets():
        read = set()
        for action in ("list", "retrieve"):  # what the cache holds
            serializer_class = view(action=action, request=None, format_kwarg=None).get_serializer_class()
            model = serializer_class.Meta.model
            read |= set(read_by(serializer_class(), model))
        filterset_class = view.filterset_class
        for name, filter_ in filterset_class.base_filters.items():
            if name == "ordering":
                paths = list(filter_.param_map.values())
            elif filter_.method is not None:
                paths = filterset_class.method_fields[name]
            else:
                paths = [filter_.field_name]
            read |= {(name, tag) for path in paths for tag in path_tags(model, path)}
        for path in getattr(view, "search_fields", None) or ():
            read |= {("search", tag) for tag in path_tags(model, path)}
        for role in [None, *User.Role.values]:
            scoped = view.scope(make_user(role) if role else None)
            for scope_model, path in scoped.depends:
                read |= {(f"scope {scoped.key}", tag) for tag in path_tags(scope_model, path)}
        assert read, view
        assert not {(name, tag) for name, tag in read if tag in unread}, view


@needs_response_cache
def test_a_new_release_serves_nothing_the_previous_one_rendered(
    response_cache, admin_client, world, settings
):
    """A deploy that changes a serializer and no table would otherwise serve the
    old code's bodies until they expire (and both during a rolling deploy)."""
    settings.RELEASE = "1111111"
    admin_client.get(URL)
    assert admin_client.get(URL)["X-Cache"] == "hit"
    settings.RELEASE = "2222222"
    assert admin_client.get(URL)["X-Cache"] == "miss"
    assert admin_client.get(URL)["X-Cache"] == "hit"
