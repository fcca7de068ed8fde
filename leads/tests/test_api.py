"""The leads API: /api/v1/leads/."""

import csv
import datetime
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import tokens_for
from accounts.tests.factories import JUNK_NAMES, JUNK_PHONES
from cohortly.tests.openapi_checks import documented_fields
from cohortly.throttling import LeadCaptureRateThrottle
from conftest import assert_error
from enrollments.models import Enrollment
from leads.api.views import LEAD_RECEIPT
from leads.models import Lead, LeadActivity
from leads.tests.factories import BootcampFactory, LeadFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
EXPORT = "/api/v1/leads/export.csv"
Status = Lead.Status
Kind = LeadActivity.Kind

FORM = {
    "full_name": "Ana Lima",
    "email": "Ana.Lima@Example.org",
    "phone": "+351 912 345 678",
    "message": "Is there a part-time option?",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "autumn",
}


def detail(lead):
    return f"{LEADS}{lead.pk}/"


def read_csv(response):
    assert response.status_code == 200, response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- permissions: anonymous and every role, every endpoint ------------------------

STAFF_OK = {"ADMIN", "SALES"}


def _endpoints(lead, bootcamp):
    return [
        ("get", LEADS, None, 200),
        ("get", f"{LEADS}?format=csv", None, 200),
        ("get", EXPORT, None, 200),
        ("get", detail(lead), None, 200),
        ("patch", detail(lead), {"status": "CONTACTED"}, 200),
        ("post", f"{detail(lead)}notes/", {"body": "Called."}, 201),
        ("get", f"{detail(lead)}activities/", None, 200),
        ("post", f"{detail(lead)}convert/", {"bootcamp": bootcamp.pk}, 200),
    ]


@pytest.mark.parametrize("role", [None, *User.Role.values])
@pytest.mark.parametrize(
    "endpoint", ["list", "list_csv", "export", "retrieve", "patch", "notes", "activities", "convert"]
)
def test_roles(client_for, role, endpoint):
    lead, bootcamp = LeadFactory(), BootcampFactory()
    index = ["list", "list_csv", "export", "retrieve", "patch", "notes", "activities", "convert"].index(
        endpoint
    )
    method, url, data, ok = _endpoints(lead, bootcamp)[index]
    client, _user = client_for(role)
    response = getattr(client, method)(url, data, format="json") if data else getattr(client, method)(url)
    if role in STAFF_OK:
        assert response.status_code == ok, getattr(response, "content", b"")[:300]
    elif role is None:
        assert_error(response, 401, code="not_authenticated")
    else:
        assert_error(response, 403, code="permission_denied")
    if role not in STAFF_OK:
        lead.refresh_from_db()
        assert lead.status == Status.NEW and not lead.activities.exists()


@pytest.mark.parametrize("role", [None, *User.Role.values])
def test_every_role_and_anonymous_can_capture(client_for, role):
    client, _user = client_for(role)
    response = client.post(LEADS, {**FORM, "email": f"{role or 'anon'}@example.org"}, format="json")
    assert response.status_code == 201, response.content
    if role in STAFF_OK:
        assert set(response.json()) == documented_fields("Lead")
    else:
        assert response.json() == LEAD_RECEIPT


@pytest.mark.parametrize("method", ["put", "delete"])
def test_no_put_and_no_delete(sales_client, method):
    lead = LeadFactory()
    response = getattr(sales_client, method)(detail(lead), {"status": "CONTACTED"}, format="json")
    assert_error(response, 405, code="method_not_allowed")
    assert Lead.objects.filter(pk=lead.pk, status=Status.NEW).exists()


def test_unknown_lead_is_404(sales_client):
    assert_error(sales_client.get(f"{LEADS}999999/"), 404)
    assert_error(sales_client.post(f"{LEADS}999999/notes/", {"body": "x"}, format="json"), 404)


# --- public capture --------------------------------------------------------------


def test_anonymous_capture_stores_the_lead_and_answers_only_its_id(
    anon_client, sales_user, django_capture_on_commit_callbacks, settings
):
    # The frontend and Cohortly on hosts of their own, as in production.
    settings.FRONTEND_URL, settings.SITE_URL = (
        "https://app.cohortly.example.com",
        "https://cohortly.example.com",
    )
    bootcamp = BootcampFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(
            LEADS, {**FORM, "bootcamp": bootcamp.pk, "source": "SOCIAL"}, format="json"
        )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert response.json() == LEAD_RECEIPT
    assert (lead.email, lead.full_name, lead.source, lead.status, lead.bootcamp) == (
        "ana.lima@example.org",
        "Ana Lima",
        "SOCIAL",
        Status.NEW,
        bootcamp,
    )
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("newsletter", "email", "autumn")
    assert lead.message == "Is there a part-time option?"
    assert lead.activities.get().kind == Kind.CREATED
    assert [m.to for m in mail.outbox] == [["ana.lima@example.org"], ["sales@example.com"]]
    # The sales team's link opens the lead in the sales workspace, which Cohortly serves.
    assert f"Open the lead: https://cohortly.example.com/sales/leads/{lead.pk}/" in mail.outbox[1].body


def test_anonymous_capture_of_a_known_open_email_joins_its_timeline(anon_client):
    lead = LeadFactory(email="ana.lima@example.org")
    response = anon_client.post(LEADS, {**FORM, "message": "Second try"}, format="json")
    new = anon_client.post(LEADS, {**FORM, "email": "someone.new@example.org"}, format="json")
    # The same answer as for a new lead, no id: nothing to learn about other people's leads.
    assert (response.status_code, response.json()) == (new.status_code, new.json()) == (201, LEAD_RECEIPT)
    assert str(lead.pk) not in response.content.decode()
    assert Lead.objects.count() == 2
    submission = lead.activities.get()
    assert (submission.kind, submission.body) == (Kind.SUBMISSION, "Second try")


@pytest.mark.parametrize("website", ["http://spam.example", "x", " "])
def test_honeypot_drops_the_submission_silently(anon_client, website, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(LEADS, {**FORM, "website": website}, format="json")
    assert response.status_code == 201
    assert response.json() == LEAD_RECEIPT
    assert not Lead.objects.exists() and not LeadActivity.objects.exists()
    assert mail.outbox == []


def test_staff_filling_the_honeypot_are_told_not_dropped(sales_client, django_capture_on_commit_callbacks):
    # A salesperson who typed the prospect's site there lost the lead, with a 201.
    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(LEADS, {**FORM, "website": "https://acme.example"}, format="json")
    body = assert_error(response, 400, code="invalid", attr="website")
    assert body["errors"][0]["detail"].startswith("Leave this out: it is the public form's trap for bots")
    assert not Lead.objects.exists() and mail.outbox == []


def test_empty_honeypot_is_fine(anon_client):
    response = anon_client.post(LEADS, {**FORM, "website": ""}, format="json")
    assert (response.status_code, response.json()) == (201, LEAD_RECEIPT)
    assert Lead.objects.filter(email__iexact=FORM["email"]).exists()


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "1" * 33}, "phone"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "x" * 151}, "full_name"),
        ({"message": "x" * 5001}, "message"),
        ({"utm_source": "x" * 101}, "utm_source"),
        ({"source": "TV"}, "source"),
        ({"bootcamp": 999999}, "bootcamp"),
    ],
)
def test_capture_validation(anon_client, change, attr):
    response = anon_client.post(LEADS, {**FORM, **change}, format="json")
    assert_error(response, 400, attr=attr)
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("full_name", name) for name in JUNK_NAMES] + [("phone", phone) for phone in JUNK_PHONES],
)
def test_capture_and_patch_refuse_control_characters_and_phones_without_digits(
    anon_client, sales_client, field, value
):
    response = anon_client.post(LEADS, {**FORM, field: value}, format="json")
    assert_error(response, 400, code="invalid", attr=field)
    assert not Lead.objects.exists()

    lead = LeadFactory(full_name="Bea Costa")
    before = Lead.objects.filter(pk=lead.pk).values().get()
    assert_error(
        sales_client.patch(detail(lead), {field: value}, format="json"), 400, code="invalid", attr=field
    )
    assert Lead.objects.filter(pk=lead.pk).values().get() == before


@pytest.mark.parametrize(
    "change",
    [
        {"owner": "00000000-0000-0000-0000-000000000000"},  # staff only
        {"status": "NEW"},  # staff only
        {"is_admin": True},
    ],
)
def test_capture_refuses_fields_the_public_may_not_send(anon_client, change):
    body = assert_error(anon_client.post(LEADS, {**FORM, **change}, format="json"), 400, code="unknown_field")
    assert next(iter(change)) in body["errors"][0]["detail"]
    assert not Lead.objects.exists()


def test_capture_refuses_a_draft_bootcamp_from_the_public(anon_client):
    from bootcamps.models import Bootcamp

    draft = BootcampFactory(status=Bootcamp.Status.DRAFT)
    assert_error(anon_client.post(LEADS, {**FORM, "bootcamp": draft.pk}, format="json"), 400, attr="bootcamp")


def test_capture_refuses_non_object_bodies(anon_client):
    assert_error(anon_client.post(LEADS, "[1, 2]", content_type="application/json"), 400)
    assert_error(anon_client.post(LEADS, "{oops", content_type="application/json"), 400, code="parse_error")


def test_capture_is_throttled_per_ip(anon_client, monkeypatch):
    monkeypatch.setattr(
        LeadCaptureRateThrottle,
        "THROTTLE_RATES",
        {**LeadCaptureRateThrottle.THROTTLE_RATES, "lead_capture": "3/hour"},
    )
    for i in range(3):
        response = anon_client.post(LEADS, {**FORM, "email": f"p{i}@example.org"}, format="json")
        assert response.status_code == 201
    response = anon_client.post(LEADS, {**FORM, "email": "p9@example.org"}, format="json")
    assert_error(response, 429, code="throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert not Lead.objects.filter(email="p9@example.org").exists()
    # Honeypot hits count too: a bot can't use them to probe the limit.
    assert_error(anon_client.post(LEADS, {**FORM, "website": "x"}, format="json"), 429)
    # Another IP still gets through.
    response = anon_client.post(
        LEADS, {**FORM, "email": "q@example.org"}, format="json", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 201


def test_the_capture_limit_does_not_apply_to_the_sales_team(sales_client, monkeypatch):
    monkeypatch.setattr(
        LeadCaptureRateThrottle,
        "THROTTLE_RATES",
        {**LeadCaptureRateThrottle.THROTTLE_RATES, "lead_capture": "1/hour"},
    )
    for i in range(3):
        response = sales_client.post(LEADS, {**FORM, "email": f"p{i}@example.org"}, format="json")
        assert response.status_code == 201


def test_staff_capture_returns_the_lead_and_may_set_the_owner(sales_client, sales_user, admin_user):
    response = sales_client.post(
        LEADS, {**FORM, "owner": str(admin_user.pk), "status": "NEW", "source": "EVENT"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == documented_fields("Lead")
    assert body["owner"] == {"id": str(admin_user.pk), "full_name": "Ada Admin", "email": "admin@example.com"}
    assert (body["status"], body["source"], body["email"]) == ("NEW", "EVENT", "ana.lima@example.org")
    lead = Lead.objects.get()
    assert lead.owner == admin_user
    assert lead.activities.get().actor == sales_user
    # The same email again: merged, 200 with the same lead.
    response = sales_client.post(LEADS, {**FORM, "message": "Called in"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == lead.pk


@pytest.mark.parametrize(
    ("change", "attr"),
    [({"status": "CONTACTED"}, "status"), ({"owner": "instructor"}, "owner")],
)
def test_staff_capture_validation(sales_client, instructor_user, change, attr):
    if change.get("owner") == "instructor":
        change = {"owner": str(instructor_user.pk)}
    assert_error(sales_client.post(LEADS, {**FORM, **change}, format="json"), 400, attr=attr)
    assert not Lead.objects.exists()


# --- list and retrieve -------------------------------------------------------------


def test_list_body(sales_client, sales_user):
    bootcamp = BootcampFactory(title="Data Science")
    lead = LeadFactory(full_name="Ana", owner=sales_user, bootcamp=bootcamp)
    response = sales_client.get(LEADS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None
    [row] = body["results"]
    assert set(row) == documented_fields("Lead")
    assert row["id"] == lead.pk and row["full_name"] == "Ana"
    assert row["bootcamp"] == {
        "id": bootcamp.pk,
        "title": "Data Science",
        "slug": bootcamp.slug,
        "start_date": bootcamp.start_date.isoformat(),
    }
    assert row["owner"]["id"] == str(sales_user.pk)
    assert row["is_open"] is True and row["converted_enrollment"] is None


def test_retrieve(admin_client):
    lead = LeadFactory(full_name="Ana")
    body = admin_client.get(detail(lead)).json()
    assert body["id"] == lead.pk and body["full_name"] == "Ana"
    # Query parameters meant for the list do not hide a lead fetched by id.
    assert admin_client.get(f"{detail(lead)}?status=LOST").status_code == 200


@pytest.fixture
def no_throttles(monkeypatch):
    """The throttle counters live in the database cache: out of query counts."""
    from cohortly import throttling

    monkeypatch.setattr(
        throttling.FixedWindowThrottleMixin, "allow_request", lambda self, request, view: True
    )


@pytest.mark.usefixtures("no_throttles")
@pytest.mark.parametrize("page_size", [1, 5, 40])
def test_list_costs_a_fixed_number_of_queries(sales_client, sales_user, django_assert_num_queries, page_size):
    bootcamps = BootcampFactory.create_batch(3)
    for i in range(40):
        LeadFactory(owner=sales_user if i % 2 else None, bootcamp=bootcamps[i % 3])
    # The user (JWT), the count, the page.
    with django_assert_num_queries(3):
        response = sales_client.get(f"{LEADS}?page_size={page_size}&ordering=-owner__full_name")
    assert len(response.json()["results"]) == page_size


@pytest.mark.usefixtures("no_throttles")
def test_converted_lead_queries_stay_fixed(
    sales_client, sales_user, django_assert_num_queries, django_assert_max_num_queries, no_query_cache
):
    from leads import services

    def convert(n):
        for _ in range(n):
            services.lead_convert(lead=LeadFactory(), actor=sales_user, bootcamp=BootcampFactory())

    # the user (unless cached in Redis), count, the page, the conversions' students and enrollments
    convert(3)
    sales_client.get(LEADS)  # the user is then cached where Redis is: both measurements alike
    with django_assert_max_num_queries(5) as first:
        response = sales_client.get(LEADS)
    assert all(row["converted_enrollment"]["status"] == "ACTIVE" for row in response.json()["results"])
    convert(6)
    with django_assert_num_queries(len(first.captured_queries)):
        response = sales_client.get(LEADS)
    assert len(response.json()["results"]) == 9


# --- filters through the API ----------------------------------------------------------


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_every_filter(sales_client, sales_user, make_user):
    other = make_user(User.Role.SALES, full_name="Olga Other")
    camp_a, camp_b = BootcampFactory(title="Alpha"), BootcampFactory(title="Beta")
    now = timezone.now()
    ana = LeadFactory(
        full_name="Ana Lima",
        email="ana@example.org",
        phone="+351 912",
        owner=sales_user,
        bootcamp=camp_a,
        source="ADS",
        next_follow_up_at=now + datetime.timedelta(days=1),
    )
    bob = LeadFactory(
        full_name="Bob Stone",
        email="bob@corp.example",
        phone="+1 555 0100",
        owner=other,
        bootcamp=camp_b,
        status=Status.CONTACTED,
        source="EVENT",
        next_follow_up_at=now + datetime.timedelta(days=10),
    )
    cid = LeadFactory(full_name="Cid", email="cid@example.org", phone="", status=Status.LOST, lost_reason="x")
    Lead.objects.filter(pk=cid.pk).update(created_at=now - datetime.timedelta(days=30))
    everyone = sorted([ana.pk, bob.pk, cid.pk])

    assert ids(sales_client.get(LEADS)) == everyone
    assert ids(sales_client.get(LEADS, {"search": "LIMA"})) == [ana.pk]
    assert ids(sales_client.get(LEADS, {"search": "corp.example"})) == [bob.pk]
    assert ids(sales_client.get(LEADS, {"search": "555 01"})) == [bob.pk]
    assert ids(sales_client.get(LEADS, {"status": "NEW"})) == [ana.pk]
    assert ids(sales_client.get(f"{LEADS}?status=NEW&status=LOST")) == sorted([ana.pk, cid.pk])
    assert ids(sales_client.get(LEADS, {"source": "EVENT"})) == [bob.pk]
    assert ids(sales_client.get(LEADS, {"owner": "me"})) == [ana.pk]
    assert ids(sales_client.get(LEADS, {"owner": "mine"})) == [ana.pk]
    assert ids(sales_client.get(LEADS, {"owner": "unassigned"})) == [cid.pk]
    assert ids(sales_client.get(LEADS, {"owner": str(other.pk)})) == [bob.pk]
    assert ids(sales_client.get(LEADS, {"bootcamp": camp_b.pk})) == [bob.pk]
    today = timezone.localdate()
    assert ids(sales_client.get(LEADS, {"created_after": today.isoformat()})) == sorted([ana.pk, bob.pk])
    assert ids(
        sales_client.get(LEADS, {"created_before": (today - datetime.timedelta(days=1)).isoformat()})
    ) == [cid.pk]
    assert ids(
        sales_client.get(LEADS, {"follow_up_after": (today + datetime.timedelta(days=5)).isoformat()})
    ) == [bob.pk]
    assert ids(
        sales_client.get(LEADS, {"follow_up_before": (today + datetime.timedelta(days=5)).isoformat()})
    ) == [ana.pk]
    # Combined.
    assert ids(sales_client.get(LEADS, {"status": "CONTACTED", "owner": "me"})) == []


def test_ordering(sales_client, make_user):
    zed = make_user(User.Role.SALES, full_name="Zed")
    amy = make_user(User.Role.SALES, full_name="Amy")
    b = LeadFactory(full_name="Bea", owner=zed)
    a = LeadFactory(full_name="Abe", owner=amy)
    c = LeadFactory(full_name="Cy")

    def order(param):
        response = sales_client.get(LEADS, {"ordering": param})
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert order("full_name") == [a.pk, b.pk, c.pk]
    assert order("-full_name") == [c.pk, b.pk, a.pk]
    assert order("owner__full_name") == [a.pk, b.pk, c.pk]  # unowned last
    assert order("-owner__full_name") == [b.pk, a.pk, c.pk]  # unowned last either way
    assert order("-created_at") == [c.pk, a.pk, b.pk]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"status": "OPEN"}, "status"),
        ({"source": "TV"}, "source"),
        ({"owner": "someone"}, "owner"),
        ({"bootcamp": "999999"}, "bootcamp"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"ordering": "password"}, "ordering"),
    ],
)
def test_bad_filters_are_400(sales_client, params, attr):
    assert_error(sales_client.get(LEADS, params), 400, attr=attr)


# --- PATCH ----------------------------------------------------------------------------


def test_patch_status_owner_and_follow_up(sales_client, sales_user):
    lead = LeadFactory()
    day = datetime.date.today() + datetime.timedelta(days=30)
    when = f"{day:%Y-%m-%d}T09:30:00Z"
    response = sales_client.patch(
        detail(lead),
        {"status": "QUALIFIED", "owner": str(sales_user.pk), "next_follow_up_at": when},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "QUALIFIED" and body["owner"]["id"] == str(sales_user.pk)
    assert body["next_follow_up_at"].startswith(f"{day:%Y-%m-%d}T09:30:00")
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED and lead.owner == sales_user
    assert sorted(lead.activities.values_list("kind", flat=True)) == sorted(
        [Kind.STATUS_CHANGE, Kind.OWNER_CHANGE, Kind.FOLLOW_UP_CHANGE]
    )


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("0001-01-01T00:00:00Z", "follow_up_past"),
        ("2001-01-01T09:00:00Z", "follow_up_past"),
        ("9999-12-31T23:59:00Z", "follow_up_too_far"),
    ],
)
def test_a_follow_up_outside_its_window_is_refused(sales_client, sales_user, when, code):
    # Nothing of the request is kept: not the owner sent beside it either.
    lead = LeadFactory()
    response = sales_client.patch(
        detail(lead), {"owner": str(sales_user.pk), "next_follow_up_at": when}, format="json"
    )
    assert_error(response, 400, code=code, attr="next_follow_up_at")
    lead.refresh_from_db()
    assert lead.next_follow_up_at is None and lead.owner is None
    assert not lead.activities.exists()


def test_patch_lost_then_reopen(sales_client):
    lead = LeadFactory()
    assert_error(sales_client.patch(detail(lead), {"status": "LOST"}, format="json"), 400, attr="lost_reason")
    response = sales_client.patch(detail(lead), {"status": "LOST", "lost_reason": "Budget"}, format="json")
    assert response.json()["lost_reason"] == "Budget" and response.json()["is_open"] is False
    response = sales_client.patch(detail(lead), {"status": "CONTACTED"}, format="json")
    assert response.status_code == 200
    assert response.json()["lost_reason"] == ""


def test_patch_refused_transitions(sales_client):
    lead = LeadFactory(status=Status.QUALIFIED)
    assert_error(sales_client.patch(detail(lead), {"status": "NEW"}, format="json"), 400, attr="status")
    assert_error(sales_client.patch(detail(lead), {"status": "CONVERTED"}, format="json"), 400, attr="status")
    assert_error(sales_client.patch(detail(lead), {"status": "WON"}, format="json"), 400, attr="status")
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED and not lead.activities.exists()


def test_patch_reopen_conflict_is_409(sales_client):
    lost = LeadFactory(email="ana@example.org", status=Status.LOST, lost_reason="x")
    LeadFactory(email="ana@example.org")
    assert_error(
        sales_client.patch(detail(lost), {"status": "NEW"}, format="json"), 409, code="open_lead_exists"
    )


def test_patch_owner_must_be_sales_or_admin(sales_client, instructor_user):
    lead = LeadFactory()
    response = sales_client.patch(detail(lead), {"owner": str(instructor_user.pk)}, format="json")
    assert_error(response, 400, attr="owner")


def test_patch_contact_fields_and_refusals(sales_client):
    LeadFactory(email="taken@example.org")
    lead = LeadFactory(email="ana@example.org")
    response = sales_client.patch(
        detail(lead), {"full_name": "Ana Lima", "phone": "+33 1 02 03 04 05"}, format="json"
    )
    assert response.status_code == 200
    assert lead.activities.get().kind == Kind.CONTACT_CHANGE
    assert_error(
        sales_client.patch(detail(lead), {"email": "taken@example.org"}, format="json"), 400, attr="email"
    )
    assert_error(sales_client.patch(detail(lead), {"phone": "abc"}, format="json"), 400, attr="phone")
    for field in ("converted_at", "message"):
        response = sales_client.patch(detail(lead), {field: "2030-01-01T00:00:00Z"}, format="json")
        assert_error(response, 400, code="unknown_field")


# --- notes and activities ------------------------------------------------------------


def test_notes_and_activities(sales_client, sales_user):
    lead = LeadFactory()
    response = sales_client.post(f"{detail(lead)}notes/", {"body": "Left a voicemail."}, format="json")
    assert response.status_code == 201
    note = response.json()
    assert note["kind"] == "NOTE" and note["body"] == "Left a voicemail."
    assert note["actor"] == {"id": str(sales_user.pk), "full_name": "Sam Sales", "email": "sales@example.com"}
    assert_error(sales_client.post(f"{detail(lead)}notes/", {"body": "  "}, format="json"), 400, attr="body")
    assert_error(sales_client.post(f"{detail(lead)}notes/", {}, format="json"), 400, attr="body")

    sales_client.patch(detail(lead), {"status": "CONTACTED"}, format="json")
    body = sales_client.get(f"{detail(lead)}activities/").json()
    assert body["count"] == 2
    assert [a["kind"] for a in body["results"]] == ["STATUS_CHANGE", "NOTE"]
    assert body["results"][0]["data"] == {"from": "NEW", "to": "CONTACTED", "lost_reason": ""}
    assert body["results"][0]["kind_display"] == "Status changed"


@pytest.mark.usefixtures("no_throttles")
def test_activities_are_paginated(sales_client, sales_user, django_assert_num_queries):
    from leads import services

    lead = LeadFactory()
    for i in range(25):
        services.lead_add_note(lead=lead, actor=sales_user, body=f"note {i}")
    # The user, the lead, the count, the page (actors joined).
    with django_assert_num_queries(4):
        body = sales_client.get(f"{detail(lead)}activities/").json()
    assert body["count"] == 25 and len(body["results"]) == 20 and body["next"]
    assert body["results"][0]["body"] == "note 24"


# --- conversion -------------------------------------------------------------------


def test_convert(sales_client, django_capture_on_commit_callbacks):
    bootcamp = BootcampFactory()
    lead = LeadFactory(email="ana@example.org", full_name="Visit evil.example now", status=Status.QUALIFIED)
    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(f"{detail(lead)}convert/", {"bootcamp": bootcamp.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    enrollment = Enrollment.objects.get()
    student = User.objects.get(email="ana@example.org")
    assert body["status"] == "CONVERTED"
    assert body["converted_enrollment"] == {"id": enrollment.pk, "status": "ACTIVE", "bootcamp": bootcamp.pk}
    assert body["converted_student"]["id"] == str(student.pk)
    assert body["converted_at"]
    assert enrollment.student == student and enrollment.bootcamp == bootcamp
    invitation = [m for m in mail.outbox if "set your Cohortly password" in m.subject]
    assert len(invitation) == 1 and "/reset-password?uid=" in invitation[0].body
    # The name came with the public form: not mailed to an address nobody has proven yet.
    assert invitation[0].body.startswith("Hello,") and "evil" not in invitation[0].body

    again = sales_client.post(f"{detail(lead)}convert/", {"bootcamp": bootcamp.pk}, format="json")
    assert_error(again, 409, code="already_converted")
    assert Enrollment.objects.count() == 1 and User.objects.filter(email="ana@example.org").count() == 1


def test_convert_into_a_full_bootcamp_waitlists(sales_client, make_user):
    bootcamp = BootcampFactory(capacity=1)
    Enrollment.objects.create(student=make_user(), bootcamp=bootcamp, status=Enrollment.Status.ACTIVE)
    lead = LeadFactory()
    response = sales_client.post(f"{detail(lead)}convert/", {"bootcamp": bootcamp.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["converted_enrollment"]["status"] == "WAITLISTED"


def test_convert_errors(sales_client, instructor_user):
    from bootcamps.models import Bootcamp

    lead = LeadFactory(email="ana@example.org")
    assert_error(sales_client.post(f"{detail(lead)}convert/", {}, format="json"), 400, attr="bootcamp")
    assert_error(
        sales_client.post(f"{detail(lead)}convert/", {"bootcamp": 999999}, format="json"),
        400,
        attr="bootcamp",
    )
    draft = BootcampFactory(status=Bootcamp.Status.DRAFT)
    assert_error(
        sales_client.post(f"{detail(lead)}convert/", {"bootcamp": draft.pk}, format="json"),
        400,
        attr="bootcamp",
    )
    assert not User.objects.filter(email="ana@example.org").exists()

    staff_lead = LeadFactory(email="instructor@example.com")
    body = assert_error(
        sales_client.post(f"{detail(staff_lead)}convert/", {"bootcamp": BootcampFactory().pk}, format="json"),
        400,
        code="not_a_student",
    )
    detail_text = body["errors"][0]["detail"]
    assert "belongs to an account that is not a student's" in detail_text
    # The API's caller can correct the email (PATCH): no advice meant for the pages.
    assert detail_text.endswith("Correct the lead's email, then convert it.") and "admin" not in detail_text

    lost = LeadFactory(status=Status.LOST, lost_reason="x")
    assert_error(
        sales_client.post(f"{detail(lost)}convert/", {"bootcamp": BootcampFactory().pk}, format="json"),
        409,
        code="lead_lost",
    )


# --- registration links the lead --------------------------------------------------


def _link(message, path: str) -> dict:
    """The uid and token of the `path` link (verify-email, reset-password) in an email."""
    line = next(line for line in message.body.splitlines() if f"/{path}?" in line)
    query = parse_qs(urlsplit(line.strip()).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}


def test_registration_links_the_open_lead_once_the_address_is_proven(
    anon_client, django_capture_on_commit_callbacks
):
    lead = LeadFactory(email="new.person@example.com", status=Status.CONTACTED)
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(
            "/api/v1/auth/register",
            {"email": "New.Person@example.com", "password": "Quiet-Harbour-77", "full_name": "New Person"},
            format="json",
        )
    assert response.status_code == 202, response.content
    # Anyone could have registered this address: nothing is recorded yet.
    assert not lead.activities.exists()
    welcome = mail.outbox[-1]
    with django_capture_on_commit_callbacks(execute=True):
        verified = anon_client.post(
            "/api/v1/auth/verify-email",
            {**_link(welcome, "verify-email"), "password": "Quiet-Harbour-77"},
            format="json",
        )
    assert verified.status_code == 204, verified.content
    user = User.objects.get(email="new.person@example.com")
    entry = lead.activities.get()
    assert entry.kind == Kind.USER_LINKED
    assert entry.data["user"]["id"] == str(user.pk)
    assert entry.actor_id == user.pk


def test_registration_without_a_lead_is_unaffected(anon_client):
    response = anon_client.post(
        "/api/v1/auth/register",
        {"email": "someone@example.com", "password": "Quiet-Harbour-77", "full_name": "Some One"},
        format="json",
    )
    assert response.status_code == 202
    assert not LeadActivity.objects.exists()


def test_an_account_registered_in_advance_never_gets_the_lead_of_the_addresss_owner(
    anon_client, sales_client, django_capture_on_commit_callbacks
):
    """The attack: someone registers the victim's address before the victim
    fills in the lead form; sales converts the lead. The registrant can't sign
    in to see the enrollment; the victim gets the set-password link, and using
    it ends the registrant's password and sessions and shows the victim their
    enrollment."""
    attacker, victim = APIClient(), APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        registered = attacker.post(
            "/api/v1/auth/register",
            {"email": "victim@example.com", "password": "Attacker-Knows-This-1", "full_name": "Not Victim"},
            format="json",
        )
    assert registered.status_code == 202
    account = User.objects.get(email="victim@example.com")
    # A session from before this rule existed (logins give an unproven account none).
    earlier = tokens_for(account)

    bootcamp = BootcampFactory(title="Web Dev")
    with django_capture_on_commit_callbacks(execute=True):
        captured = victim.post(
            LEADS, {**FORM, "email": "victim@example.com", "bootcamp": bootcamp.pk}, format="json"
        )
    assert captured.status_code == 201
    lead = Lead.objects.get(email="victim@example.com")
    assert not lead.activities.filter(kind=Kind.USER_LINKED).exists()
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        converted = sales_client.post(f"{detail(lead)}convert/", {"bootcamp": bootcamp.pk}, format="json")
    assert converted.status_code == 200, converted.content
    enrollment = Enrollment.objects.get(bootcamp=bootcamp)
    assert enrollment.student == account

    # The registrant: no way in, so nothing of the lead, the enrollment or anyone's data.
    refused = attacker.post(
        "/api/v1/auth/login",
        {"email": "victim@example.com", "password": "Attacker-Knows-This-1"},
        format="json",
    )
    assert_error(refused, 403, code="email_not_verified")
    assert "access" not in refused.json() and "Web Dev" not in refused.content.decode()
    assert_error(attacker.post("/api/v1/auth/refresh", {"refresh": earlier["refresh"]}, format="json"), 401)

    # The address's owner: the set-password link, which makes the account theirs.
    invitation = next(m for m in mail.outbox[sent:] if "set your Cohortly password" in m.subject)
    assert invitation.to == ["victim@example.com"]
    confirmed = victim.post(
        "/api/v1/auth/password/reset/confirm",
        {**_link(invitation, "reset-password"), "new_password": "Victim-Chose-This-2"},
        format="json",
    )
    assert confirmed.status_code == 204, confirmed.content
    account.refresh_from_db()
    assert account.email_verified_at is not None

    old_password = attacker.post(
        "/api/v1/auth/login",
        {"email": "victim@example.com", "password": "Attacker-Knows-This-1"},
        format="json",
    )
    assert_error(old_password, 401, code="invalid_credentials")
    assert_error(attacker.post("/api/v1/auth/refresh", {"refresh": earlier["refresh"]}, format="json"), 401)
    attacker.credentials(HTTP_AUTHORIZATION=f"Bearer {earlier['access']}")
    assert_error(attacker.get("/api/v1/enrollments/"), 401)

    tokens = victim.post(
        "/api/v1/auth/login",
        {"email": "victim@example.com", "password": "Victim-Chose-This-2"},
        format="json",
    )
    assert tokens.status_code == 200
    victim.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    mine = victim.get("/api/v1/enrollments/").json()["results"]
    assert [row["id"] for row in mine] == [enrollment.pk]


# --- CSV export -------------------------------------------------------------------


def test_export_csv_content(sales_client, sales_user):
    bootcamp = BootcampFactory(title='Data, "Science"')
    follow_up = timezone.now().replace(microsecond=0)
    lead = LeadFactory(
        full_name='=HYPERLINK("http://evil")',
        email="ana@example.org",
        phone="+33 6 12",
        source="ADS",
        owner=sales_user,
        bootcamp=bootcamp,
        next_follow_up_at=follow_up,
        utm_source="@news",
        utm_medium="-cpc",
        utm_campaign="plain",
    )
    rows = read_csv(sales_client.get(EXPORT))
    assert rows[0] == [
        "id",
        "full_name",
        "email",
        "phone",
        "source",
        "status",
        "bootcamp",
        "owner",
        "next_follow_up_at",
        "created_at",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    ]
    assert rows[1] == [
        str(lead.pk),
        '\'=HYPERLINK("http://evil")',
        "ana@example.org",
        "'+33 6 12",
        "ADS",
        "NEW",
        'Data, "Science"',
        "Sam Sales",
        timezone.localtime(follow_up).isoformat(timespec="seconds"),  # to the second
        timezone.localtime(lead.created_at).isoformat(timespec="seconds"),
        "'@news",
        "'-cpc",
        "plain",
    ]
    assert len(rows) == 2


@pytest.mark.parametrize("url", [EXPORT, EXPORT + "/", f"{LEADS}?format=csv", "/api/v1/leads?format=csv"])
def test_export_urls_apply_the_same_filters(sales_client, url):
    keep = LeadFactory(full_name="Keep", status=Status.CONTACTED)
    LeadFactory(full_name="Drop")
    sep = "&" if "?" in url else "?"
    rows = read_csv(sales_client.get(f"{url}{sep}status=CONTACTED&search=kee"))
    assert [row[0] for row in rows[1:]] == [str(keep.pk)]


@pytest.mark.parametrize("accept", ["text/csv", "text/csv, application/json;q=0.5", "*/*"])
def test_export_answers_a_client_asking_for_csv(sales_client, accept):
    lead = LeadFactory()
    response = sales_client.get(EXPORT, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert [row[0] for row in read_csv(response)[1:]] == [str(lead.pk)]


def test_export_filter_errors_stay_json(sales_client):
    assert_error(sales_client.get(f"{EXPORT}?status=NOPE"), 400, attr="status")
    assert_error(sales_client.get(f"{LEADS}?format=csv&status=NOPE"), 400, attr="status")


@pytest.mark.parametrize("suffix", ["/", "/activities/"])
def test_csv_is_only_the_lists_format(sales_client, suffix):
    """A lead's own page has no CSV: `?format=csv` there is an unknown format, a
    404 like `?format=xml`, not JSON under a name that says CSV."""
    lead = LeadFactory()
    for name in ("csv", "xml"):
        assert_error(sales_client.get(f"{LEADS}{lead.pk}{suffix}?format={name}"), 404)
    assert sales_client.get(f"{LEADS}{lead.pk}{suffix}").status_code == 200


def test_export_keeps_the_ordering(sales_client):
    b = LeadFactory(full_name="Bea")
    a = LeadFactory(full_name="Abe")
    rows = read_csv(sales_client.get(f"{EXPORT}?ordering=full_name"))
    assert [row[0] for row in rows[1:]] == [str(a.pk), str(b.pk)]


def test_export_query_count_is_fixed(sales_client, django_assert_num_queries):
    LeadFactory.create_batch(30)
    response = sales_client.get(EXPORT)
    with django_assert_num_queries(1):
        rows = list(response.streaming_content)
    assert len(rows) == 31


def test_a_search_of_more_words_than_anyone_types_is_a_documented_400(sales_client):
    # Each word is a LIKE of its own: past ten the query only grows (SQLite
    # refused three thousand outright, as a 503), as for every other list.
    from cohortly.tests.openapi_checks import assert_documented

    response = sales_client.get("/api/v1/leads/", {"search": "a " * 3000})
    body = assert_error(response, 400, code="too_many_terms", attr="search")
    assert body["errors"][0]["detail"] == "Search for at most 10 words."
    assert_documented(response)
    assert sales_client.get("/api/v1/leads/", {"search": " ".join(["a"] * 10)}).status_code == 200
