"""/metrics: Prometheus text from the real endpoint, after real requests."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from bootcamps.tests.factories import BootcampFactory
from enrollments.services import enrollment_cancel, enrollment_create
from leads.services import lead_capture, lead_convert
from mail.tests.factories import OutboundEmailFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def scrape(settings):
    settings.METRICS_TOKEN = TOKEN

    def _scrape() -> dict:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return _scrape


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize(
    "headers", [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}], ids=str
)
def test_without_the_token_it_is_not_there(settings, client, headers):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", **headers)
    assert response.status_code == 404
    assert b"cohortly_" not in response.content


def test_without_a_configured_token_it_is_not_there_at_all(settings, client):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    # Whatever the method: a 405 would say the endpoint is there.
    for method in ("post", "put", "delete", "head", "options"):
        assert getattr(client, method)("/metrics").status_code == 404, method


def test_with_the_token_it_answers_get_and_head_only(settings, client):
    settings.METRICS_TOKEN = TOKEN
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.head("/metrics", **auth).status_code == 200
    refused = client.post("/metrics", **auth)
    assert (refused.status_code, refused["Allow"]) == (405, "GET, HEAD")


def test_it_is_not_in_the_public_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/metrics" not in schema


def test_requests_by_route_template_method_and_status_with_their_queries(scrape, anon_client, student_client):
    bootcamp = BootcampFactory()
    route = "api/v1/bootcamps/(?P<pk>[0-9]+)/?"
    before = scrape()
    for _ in range(3):
        assert anon_client.get(f"/api/v1/bootcamps/{bootcamp.pk}/").status_code == 200
    assert anon_client.get("/api/v1/bootcamps/999999/").status_code == 404
    assert student_client.get("/api/v1/nowhere").status_code == 404
    after = scrape()

    count = "cohortly_http_request_duration_seconds_count"
    assert (
        value(after, count, route=route, method="GET", status="200")
        - value(before, count, route=route, method="GET", status="200")
        == 3
    )
    assert (
        value(after, count, route=route, method="GET", status="404")
        - value(before, count, route=route, method="GET", status="404")
        == 1
    )
    bucket = "cohortly_http_request_duration_seconds_bucket"
    assert value(after, bucket, route=route, method="GET", status="200", le="+Inf") >= 3
    assert value(after, "cohortly_db_queries_total", route=route, method="GET") > value(
        before, "cohortly_db_queries_total", route=route, method="GET"
    )
    assert value(after, "cohortly_db_query_seconds_total", route=route, method="GET") > 0
    # Routes are templates, never raw paths: the ids above made no series of their own.
    assert not any("999999" in str(labels) for _, labels in after)


def test_business_counters(scrape, student_user, make_user, sales_user, django_capture_on_commit_callbacks):
    bootcamp = BootcampFactory(capacity=1)
    other = make_user(email="second@example.com")
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        first = enrollment_create(student=student_user, bootcamp=bootcamp)
        enrollment_create(student=other, bootcamp=bootcamp)  # waitlisted
        enrollment_cancel(enrollment=first)  # the waitlisted one is promoted
        lead, _ = lead_capture(full_name="Grace Hopper", email="grace@example.com")
        lead_capture(full_name="Grace Hopper", email="grace@example.com")  # the same open lead
        lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory())
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # The conversion enrolled Grace too: a second active enrollment.
    assert {
        o: delta("cohortly_enrollments_total", outcome=o)
        for o in ("active", "waitlisted", "promoted", "cancelled")
    } == {
        "active": 2,
        "waitlisted": 1,
        "promoted": 1,
        "cancelled": 1,
    }
    assert {
        o: delta("cohortly_leads_total", outcome=o) for o in ("captured", "deduplicated", "converted")
    } == {
        "captured": 1,
        "deduplicated": 1,
        "converted": 1,
    }


def test_a_rolled_back_enrollment_is_not_counted(scrape, student_user, django_capture_on_commit_callbacks):
    from django.db import transaction

    bootcamp = BootcampFactory()
    before = scrape()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enrollment_create(student=student_user, bootcamp=bootcamp)
        raise RuntimeError("the request failed after enrolling")
    after = scrape()
    name = "cohortly_enrollments_total"
    assert value(after, name, outcome="active") == value(before, name, outcome="active")


def test_throttle_refusals(scrape, monkeypatch, anon_client):
    from cohortly.throttling import LoginRateThrottle

    monkeypatch.setattr(LoginRateThrottle, "THROTTLE_RATES", {"login": "20/hour", "login_address": "2/hour"})
    before = scrape()
    codes = [
        anon_client.post(
            "/api/v1/auth/login", {"email": "x@example.com", "password": "y"}, format="json"
        ).status_code
        for _ in range(4)
    ]
    after = scrape()
    assert codes.count(429) == 2
    name = "cohortly_throttle_refusals_total"
    assert value(after, name, scope="login") - value(before, name, scope="login") == 2


def test_numbers_read_from_the_database_at_scrape_time(scrape, student_user):
    bootcamp = BootcampFactory(capacity=5, title="Data Science")
    BootcampFactory(capacity=5, status="DRAFT")
    enrollment_create(student=student_user, bootcamp=bootcamp)
    OutboundEmailFactory.create_batch(2, status="SENT")
    OutboundEmailFactory(status="FAILED")
    OutboundEmailFactory(status="BOUNCED")
    samples = scrape()
    seats = {labels: v for (name, labels), v in samples.items() if name == "cohortly_bootcamp_seats_left"}
    assert seats == {(("bootcamp", "Data Science"), ("bootcamp_id", str(bootcamp.pk))): 4}
    assert value(samples, "cohortly_emails", status="sent") == 2
    assert value(samples, "cohortly_emails", status="failed") == 1
    assert value(samples, "cohortly_emails", status="bounced") == 1
    assert value(samples, "cohortly_tasks", status="ready") == 0
