"""Numbers and times are read as JSON and ISO 8601 write them, not as whatever
Python's parsers forgive: a grade of "4_2" or a deadline of a bare date is a
400 naming the field, and nothing is stored."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from assignments.models import Assignment, Submission
from assignments.tests.factories import AssignmentFactory, SubmissionFactory, staffed_bootcamp
from bootcamps.tests.factories import BootcampFactory
from conftest import assert_error
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["4_2", "٤٢", "４２", "4.2.1", "1e1", "0x2A", " "])
def test_a_score_that_is_not_a_plain_decimal_is_refused(client_for, typed):
    submission = SubmissionFactory(assignment=AssignmentFactory(max_score=Decimal("100")))
    client, _ = client_for(User.Role.ADMIN)
    response = client.post(f"/api/v1/submissions/{submission.pk}/grade/", {"score": typed}, format="json")
    assert_error(response, 400, attr="score")
    assert Submission.objects.get(pk=submission.pk).score is None


@pytest.mark.parametrize(
    ("typed", "stored"), [("42", "42"), ("4.25", "4.25"), (".5", "0.5"), ("7.", "7"), (8, "8")]
)
def test_plain_decimals_still_count(client_for, typed, stored):
    submission = SubmissionFactory(assignment=AssignmentFactory(max_score=Decimal("100")))
    client, _ = client_for(User.Role.ADMIN)
    response = client.post(f"/api/v1/submissions/{submission.pk}/grade/", {"score": typed}, format="json")
    assert response.status_code == 200, response.content
    assert Submission.objects.get(pk=submission.pk).score == Decimal(stored)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"score": 9.999999999999999999}', "max_digits"),  # was 10.00: full marks
        ('{"score": 8.499999999999999999}', "max_digits"),  # was 8.50
        ('{"score": 1e1}', "invalid"),
        ('{"score": 0.5e1}', "invalid"),
    ],
)
def test_a_score_sent_as_a_json_number_is_read_as_written_not_rounded(client_for, body, code):
    """Parsed as a float, a number with more digits than a score holds was rounded
    (to full marks), and one in exponent notation taken: in quotes, both were 400."""
    submission = SubmissionFactory(assignment=AssignmentFactory(max_score=Decimal("10")))
    client, _ = client_for(User.Role.ADMIN)
    response = client.post(
        f"/api/v1/submissions/{submission.pk}/grade/", body, content_type="application/json"
    )
    error = assert_error(response, 400, attr="score")
    assert error["errors"][0]["code"] == code
    assert Submission.objects.get(pk=submission.pk).score is None
    # Plain numbers still count, exactly.
    response = client.post(
        f"/api/v1/submissions/{submission.pk}/grade/", '{"score": 8.25}', content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert Submission.objects.get(pk=submission.pk).score == Decimal("8.25")


@pytest.mark.parametrize(
    ("attr", "number"),
    [("price", "1e2"), ("price", "1e-400"), ("capacity", "4.99999999999999999"), ("capacity", "1e1")],
)
def test_a_price_or_capacity_sent_as_a_json_number_in_exponent_or_rounded_is_refused(
    admin_client, attr, number
):
    """1e2 was a price of 100.00, 1e-400 one of 0.00, 4.99999999999999999 seats 5."""
    bootcamp = BootcampFactory(price=Decimal("1000"), capacity=20)
    body = f'{{"{attr}": {number}}}'
    response = admin_client.patch(f"/api/v1/bootcamps/{bootcamp.pk}/", body, content_type="application/json")
    assert_error(response, 400, attr=attr)
    bootcamp.refresh_from_db()
    assert (bootcamp.price, bootcamp.capacity) == (Decimal("1000"), 20)
    ok = admin_client.patch(
        f"/api/v1/bootcamps/{bootcamp.pk}/",
        '{"price": 1200.5, "capacity": 25}',
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    bootcamp.refresh_from_db()
    assert (bootcamp.price, bootcamp.capacity) == (Decimal("1200.50"), 25)


def test_a_price_in_other_digits_is_refused(admin_client):
    bootcamp = BootcampFactory(price=Decimal("1000"))
    response = admin_client.patch(f"/api/v1/bootcamps/{bootcamp.pk}/", {"price": "٤٥٠٠"}, format="json")
    assert_error(response, 400, code="invalid", attr="price")
    bootcamp.refresh_from_db()
    assert bootcamp.price == Decimal("1000")


@pytest.mark.parametrize("day", ["2030-12-21", "20301221", "2030-W51-1"])
def test_a_deadline_needs_a_time_not_just_a_day(client_for, day):
    bootcamp, instructor, _mentor = staffed_bootcamp()
    client, _ = client_for(User.Role.ADMIN)
    body = {"bootcamp": bootcamp.pk, "title": "Recheck", "due_at": day, "max_score": "10"}
    error = assert_error(client.post("/api/v1/assignments/", body, format="json"), 400, attr="due_at")
    assert error["errors"][0]["code"] == "date_only"
    assert error["errors"][0]["detail"].startswith("Give a time too, e.g. 2026-12-21T18:00:00Z")
    assert not Assignment.objects.filter(title="Recheck").exists()

    assignment = AssignmentFactory(bootcamp=bootcamp)
    due = assignment.due_at
    response = client.patch(f"/api/v1/assignments/{assignment.pk}/", {"due_at": day}, format="json")
    assert_error(response, 400, code="date_only", attr="due_at")
    assert Assignment.objects.get(pk=assignment.pk).due_at == due
    # With a time, the same day is fine.
    response = client.patch(
        f"/api/v1/assignments/{assignment.pk}/", {"due_at": "2030-12-21T18:00:00Z"}, format="json"
    )
    assert response.status_code == 200, response.content


def test_a_follow_up_needs_a_time_too(sales_client):
    lead = LeadFactory()
    tomorrow = (timezone.localdate() + timezone.timedelta(days=1)).isoformat()
    response = sales_client.patch(f"/api/v1/leads/{lead.pk}/", {"next_follow_up_at": tomorrow}, format="json")
    assert_error(response, 400, code="date_only", attr="next_follow_up_at")
    lead.refresh_from_db()
    assert lead.next_follow_up_at is None


def test_a_day_joined_to_a_time_by_anything_but_t_or_a_space_is_refused(client_for):
    # Python reads "2030-12-21-05:00" ("the 21st in New York") as 05:00 UTC.
    assignment = AssignmentFactory()
    client, _ = client_for(User.Role.ADMIN)
    due = assignment.due_at
    for typed in ("2030-12-21-05:00", "2030-12-21x18:00"):
        response = client.patch(f"/api/v1/assignments/{assignment.pk}/", {"due_at": typed}, format="json")
        body = assert_error(response, 400, code="invalid", attr="due_at")
        assert body["errors"][0]["detail"].startswith("Datetime has wrong format.")
    assert Assignment.objects.get(pk=assignment.pk).due_at == due


@pytest.mark.parametrize("typed", ["2030-12-21T18:00", "2030-12-21T18:00:00", "2030-12-21 18:00:00.5"])
def test_a_time_needs_its_offset(client_for, sales_client, typed):
    # A datetime-local input's value, read as UTC, was an hour off in Berlin.
    assignment = AssignmentFactory()
    due = assignment.due_at
    client, _ = client_for(User.Role.ADMIN)
    response = client.patch(f"/api/v1/assignments/{assignment.pk}/", {"due_at": typed}, format="json")
    body = assert_error(response, 400, code="no_offset", attr="due_at")
    assert body["errors"][0]["detail"].startswith("Give the time zone too, e.g. 2026-12-21T18:00:00+01:00")
    assert Assignment.objects.get(pk=assignment.pk).due_at == due
    body = {"bootcamp": assignment.bootcamp_id, "title": "Naive", "due_at": typed, "max_score": "10"}
    assert_error(
        client.post("/api/v1/assignments/", body, format="json"), 400, code="no_offset", attr="due_at"
    )
    assert not Assignment.objects.filter(title="Naive").exists()
    lead = LeadFactory()
    response = sales_client.patch(f"/api/v1/leads/{lead.pk}/", {"next_follow_up_at": typed}, format="json")
    assert_error(response, 400, code="no_offset", attr="next_follow_up_at")
    assert LeadFactory._meta.model.objects.get(pk=lead.pk).next_follow_up_at is None
    assert_error(client.get("/api/v1/assignments/", {"due_before": typed}), 400, code="no_offset")
    # With its offset the same clock time is that moment: 18:00 in Berlin is 17:00 UTC.
    response = client.patch(
        f"/api/v1/assignments/{assignment.pk}/", {"due_at": "2030-12-21T18:00:00+01:00"}, format="json"
    )
    assert response.json()["due_at"] == "2030-12-21T17:00:00Z"


@pytest.mark.parametrize(
    "typed", ["2030-12-21T18:00:00+23:59", "2030-12-21T18:00:00-1201", "2030-12-21T18:00+14:01"]
)
def test_an_offset_no_clock_keeps_is_refused(client_for, typed, mailoutbox):
    # "+23:59" for "-00:01" moved a deadline by a day, and told every student so.
    assignment = AssignmentFactory()
    due = assignment.due_at
    client, _ = client_for(User.Role.ADMIN)
    response = client.patch(f"/api/v1/assignments/{assignment.pk}/", {"due_at": typed}, format="json")
    body = assert_error(response, 400, code="bad_offset", attr="due_at")
    assert body["errors"][0]["detail"] == "A UTC offset runs from -12:00 to +14:00."
    assert Assignment.objects.get(pk=assignment.pk).due_at == due and mailoutbox == []
    assert_error(client.get("/api/v1/assignments/", {"due_before": typed}), 400, code="bad_offset")


@pytest.mark.parametrize(
    "typed, utc",
    [
        ("2030-12-21T18:00:00+14:00", "2030-12-21T04:00:00Z"),
        ("2030-12-21T18:00:00-12:00", "2030-12-22T06:00:00Z"),
    ],
)
def test_the_offsets_at_either_end_of_the_world_are_read(client_for, typed, utc):
    assignment = AssignmentFactory()
    client, _ = client_for(User.Role.ADMIN)
    response = client.patch(f"/api/v1/assignments/{assignment.pk}/", {"due_at": typed}, format="json")
    assert response.status_code == 200 and response.json()["due_at"] == utc


def test_a_time_filter_needs_a_time_too(client_for):
    client, _ = client_for(User.Role.ADMIN)
    body = assert_error(
        client.get("/api/v1/assignments/", {"due_before": "2030-12-21"}), 400, attr="due_before"
    )
    assert body["errors"][0]["code"] == "date_only"
    assert client.get("/api/v1/assignments/", {"due_before": "2030-12-21T00:00:00Z"}).status_code == 200


@pytest.mark.parametrize("typed", ["4_2", "٤٢", "1e1"])
def test_the_admin_reads_decimals_as_the_api_does(admin_web, typed):
    from assignments.tests.factories import SubmissionFactory

    submission = SubmissionFactory(assignment=AssignmentFactory(max_score=Decimal("100")))
    response = admin_web.post(
        f"/admin/assignments/submission/{submission.pk}/change/", {"score": typed, "feedback": ""}
    )
    assert response.status_code == 200
    assert "Enter a number." in str(response.context["adminform"].form.errors["score"])
    assert Submission.objects.get(pk=submission.pk).score is None

    # The bootcamp's price and the assignment's maximum are read by the same field.
    bootcamp = BootcampFactory(price=Decimal("1000"))
    price = admin_web.get(f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/").context["adminform"].form
    maximum = admin_web.get(f"/admin/assignments/assignment/{submission.assignment_id}/change/")
    for field in (price.fields["price"], maximum.context["adminform"].form.fields["max_score"]):
        with pytest.raises(ValidationError):
            field.clean(typed)
