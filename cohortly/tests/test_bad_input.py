"""Bad input of every kind is a 4xx in the error shape, and nothing is stored."""

import json

import pytest

from bootcamps.models import Bootcamp
from conftest import assert_error
from leads.models import Lead

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/users/",
    "/api/v1/bootcamps/",
    "/api/v1/enrollments/",
    "/api/v1/leads/",
    "/api/v1/assignments/",
]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    "params, status, attr",
    [
        ({"page": "-1"}, 404, None),
        ({"page": "0"}, 404, None),
        ({"page": "99999999999999999999999"}, 404, None),
        ({"page": "abc"}, 404, None),
        ({"page_size": "-5"}, 400, "page_size"),
        ({"page_size": "0"}, 400, "page_size"),
        ({"page_size": "10000000000000000000000"}, 400, "page_size"),
        ({"page_size": "ten"}, 400, "page_size"),
    ],
)
def test_page_numbers_and_sizes_out_of_range(admin_client, url, params, status, attr):
    assert_error(admin_client.get(url, params), status, attr=attr)


@pytest.mark.parametrize(
    "url, params",
    [
        ("/api/v1/bootcamps/", {"start_after": "2026-13-45"}),
        ("/api/v1/bootcamps/", {"start_before": "99999-01-01"}),
        ("/api/v1/leads/", {"created_after": "0000-00-00"}),
        ("/api/v1/assignments/", {"due_before": "not a date"}),
        ("/api/v1/bootcamps/", {"status": "DELETED"}),
    ],
)
def test_filters_out_of_range_are_400(admin_client, url, params):
    assert_error(admin_client.get(url, params), 400, attr=next(iter(params)))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/users/not-a-uuid/",
        "/api/v1/users/00000000-0000-0000-0000-00000000000g/",
        "/api/v1/bootcamps/abc/",
        "/api/v1/bootcamps/99999999999999999999999/",
        "/api/v1/enrollments/-1/",
        "/api/v1/leads/1e10/",
        "/api/v1/submissions/%00/",
    ],
)
def test_invalid_ids_in_paths_are_404(admin_client, url):
    assert_error(admin_client.get(url), 404)


BOOTCAMP = {
    "title": "Data Engineering",
    "start_date": "2027-01-10",
    "end_date": "2027-03-10",
    "capacity": 12,
    "price": "4900.00",
}


@pytest.mark.parametrize(
    "change, attr",
    [
        ({"title": "Nul\x00byte"}, "title"),
        ({"title": "lone \ud800 surrogate"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"start_date": "0000-01-01"}, "start_date"),
        ({"end_date": "10000-01-01"}, "end_date"),
        ({"capacity": 10**20}, "capacity"),
        ({"price": "1e400"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"capacity": "12; DROP TABLE"}, "capacity"),
    ],
)
def test_bad_text_numbers_and_dates_store_nothing(admin_client, change, attr):
    body = json.dumps({**BOOTCAMP, **change})
    response = admin_client.post("/api/v1/bootcamps/", body, content_type="application/json")
    assert_error(response, 400, attr=attr)
    assert not Bootcamp.objects.exists()


def test_odd_but_valid_unicode_is_stored_exactly(admin_client):
    title = "Ünïcødé 🚀 עברית ‮rtl‬ e\u0301"
    response = admin_client.post("/api/v1/bootcamps/", {**BOOTCAMP, "title": title}, format="json")
    assert response.status_code == 201, response.content
    assert Bootcamp.objects.get().title == title
    assert admin_client.get(f"/api/v1/bootcamps/{response.json()['id']}/").json()["title"] == title


@pytest.mark.parametrize(
    "payload", ['{"full_name": "A\\u0000B", "email": "a@example.com"}', "[1, 2]", "{", '"text"']
)
def test_public_lead_form_refuses_bad_json_and_nul_bytes(anon_client, payload):
    response = anon_client.post("/api/v1/leads/", payload, content_type="application/json")
    assert_error(response, 400)
    assert not Lead.objects.exists()
