"""The benchmark's request lists (bench/workload.py): the same lists for a seed,
the mix's shares, and writes that the API accepts and that leave the data as it was."""

import json
import sys
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from demo import scale

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import workload  # noqa: E402 (bench/ is not a package: run.py imports it as a script's neighbour)


def _catalogue(**overrides):
    values = {
        "bootcamp_pages": 50,
        "enrollment_pages": 1000,
        "bootcamp_ids": list(range(1, 1001)),
        "search_terms": ["garcia", "martin", "novak", "patel"],
        "editable": [(pk, f"Bootcamp {pk}.") for pk in range(500, 700)],
        "pairs": [(10_000 + pk, pk, f"00000000-0000-4000-8000-{pk:012d}") for pk in range(500, 600)],
        "leads": list(range(1, 3000, 7)),
    }
    return workload.Catalogue(**{**values, **overrides})


def test_the_same_seed_gives_the_same_lists_and_another_seed_others():
    catalogue = _catalogue()
    assert workload.mixed(catalogue, seed=17) == workload.mixed(catalogue, seed=17)
    assert workload.mixed(catalogue, seed=17) != workload.mixed(catalogue, seed=18)
    assert workload.random_pages(catalogue, seed=17) == workload.random_pages(catalogue, seed=17)


def test_the_mix_has_its_shares_and_five_percent_writes():
    lists = workload.mixed(_catalogue(), threads=2, per_thread=4000)
    assert [len(items) for items in lists] == [4000, 4000]
    kinds = Counter(req.kind for items in lists for req in items)
    kinds["cancel"] = kinds["enroll"]  # mix.lua sends one after each enroll
    sent = sum(kinds.values())
    shares = {kind: n / sent for kind, n in kinds.items()}
    assert shares["list"] == pytest.approx(0.30, abs=0.005)
    assert shares["detail"] == pytest.approx(0.30, abs=0.005)
    assert shares["enrollments"] == pytest.approx(0.15, abs=0.005)
    assert shares["leads"] == pytest.approx(0.20, abs=0.005)
    assert sum(shares[kind] for kind in workload.WRITES) == pytest.approx(0.05, abs=0.002)
    # Pages over the whole catalogue, not a few.
    pages = {int(req.path.rsplit("=", 1)[1]) for items in lists for req in items if req.kind == "list"}
    assert pages == set(range(1, 51))
    enrollment_pages = {
        int(req.path.rsplit("=", 1)[1]) for items in lists for req in items if req.kind == "enrollments"
    }
    assert min(enrollment_pages) >= 1 and max(enrollment_pages) <= 1000 and len(enrollment_pages) > 500


def test_writes_are_well_formed_and_each_pair_belongs_to_one_thread():
    lists = workload.mixed(_catalogue(), threads=2)
    owners = {}
    for thread, items in enumerate(lists):
        for req in items:
            if req.kind in workload.WRITES:
                body = json.loads(req.body)
                assert req.role == {"edit": "ADMIN"}.get(req.kind, "SALES")
            if req.kind == "enroll":
                assert req.method == "POST" and req.path == "/api/v1/enrollments/"
                assert set(body) == {"bootcamp", "student"}
                assert req.then.startswith("/api/v1/enrollments/") and req.then.endswith("/cancel/")
                assert owners.setdefault(req.then, thread) == thread
            elif req.kind == "lead_status":
                assert body in (
                    {"status": "LOST", "lost_reason": workload.LOST_REASON},
                    {"status": "CONTACTED"},
                )
            elif req.kind == "edit":
                assert set(body) == {"description"} and body["description"] == body["description"].strip()
            else:
                assert req.method == "GET" and not req.body
    assert len(owners) == 2 * workload.PAIRS_PER_THREAD


def test_the_file_for_mix_lua_has_one_line_per_request(tmp_path):
    lists = workload.mixed(_catalogue(), threads=2, per_thread=100)
    path = tmp_path / "requests.tsv"
    workload.write_lists(path, lists)
    lines = path.read_text().splitlines()
    assert len(lines) == 200
    assert all(len(line.split("\t")) == 7 for line in lines)
    assert {line.split("\t")[0] for line in lines} == {"1", "2"}
    assert "Bearer" not in path.read_text()


def test_a_catalogue_without_what_the_writes_need_is_refused():
    with pytest.raises(ValueError, match="re-enrollable enrollments"):
        workload.mixed(_catalogue(pairs=[]))


def _query(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _state():
    from bootcamps.models import Bootcamp
    from enrollments.models import Enrollment
    from leads.models import Lead

    return (
        sorted(Enrollment.objects.values_list("id", "status", "waitlist_seq")),
        sorted(Lead.objects.values_list("id", "status", "lost_reason")),
        sorted(Bootcamp.objects.values_list("id", "description", "capacity")),
    )


@pytest.mark.django_db
def test_every_write_of_the_mix_succeeds_and_restore_leaves_the_data_as_it_was(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    call_command("seed_demo", "--without-debug", "--scale", "0.02", stdout=StringIO())
    clients = {}
    for role, email in (("ADMIN", scale.BENCH_ADMIN_EMAIL), ("SALES", scale.BENCH_SALES_EMAIL)):
        clients[role] = APIClient()
        clients[role].force_authenticate(User.objects.get(email=email))
    catalogue = workload.read_catalogue(_query, bootcamp_pages=1, enrollment_pages=1)
    assert catalogue.pairs and catalogue.leads and catalogue.editable and catalogue.search_terms
    lists = workload.mixed(catalogue, threads=2, per_thread=600)
    before = _state()

    def send(method, path, role, body):
        client = clients[role]
        call = {"GET": client.get, "POST": client.post, "PATCH": client.patch}[method]
        response = call(path, data=body or None, content_type="application/json")
        return response.status_code

    sent, enrolled = Counter(), set()
    for items in lists:
        for req in items:
            if req.kind not in workload.WRITES or req.then in enrolled:
                continue  # as mix.lua passes over an enroll whose pair is still enrolled
            assert send(req.method, req.path, req.role, req.body) in (200, 201), req
            sent[req.kind] += 1
            if req.then and sent["enroll"] % 2:
                assert send("POST", req.then, "SALES", "") == 200, req
            elif req.then:
                enrolled.add(req.then)  # left for restore() to cancel, as the end of a run leaves some
    assert set(sent) == {"edit", "lead_status", "enroll"}
    assert _state() != before

    fixed = workload.restore(_query, send, lists, catalogue)
    assert fixed["enrollments"] > 0
    assert _state() == before
    assert workload.restore(_query, send, lists, catalogue) == {
        "enrollments": 0,
        "leads": 0,
        "descriptions": 0,
    }
