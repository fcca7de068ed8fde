from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from assignments.models import Assignment
from assignments.tests.conftest import matrix, warm_up
from assignments.tests.factories import AssignmentFactory, GradedSubmissionFactory, SubmissionFactory, enroll
from bootcamps.models import Bootcamp
from conftest import assert_error
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db
Role = User.Role
URL = "/api/v1/assignments/"


def detail(assignment):
    return f"{URL}{assignment.pk}/"


def _ids(response):
    return {row["id"] for row in response.json()["results"]}


# --- List and retrieve -----------------------------------------------------------


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 200}
)
def test_list_roles(member_client, bootcamp, role, expected):
    published = AssignmentFactory(bootcamp=bootcamp)
    draft = AssignmentFactory(bootcamp=bootcamp, is_published=False)
    client, _ = member_client(role, bootcamp)
    response = client.get(URL)
    if expected != 200:
        assert_error(response, expected)
        return
    assert response.status_code == 200
    expected_ids = {published.pk} if role == Role.STUDENT else {published.pk, draft.pk}
    assert _ids(response) == expected_ids


def test_list_scope_by_role_and_enrollment(member_client, client_for, bootcamp, other_bootcamp):
    mine = AssignmentFactory(bootcamp=bootcamp)
    my_draft = AssignmentFactory(bootcamp=bootcamp, is_published=False)
    theirs = AssignmentFactory(bootcamp=other_bootcamp)
    their_draft = AssignmentFactory(bootcamp=other_bootcamp, is_published=False)

    admin, _ = client_for(Role.ADMIN)
    assert _ids(admin.get(URL)) == {mine.pk, my_draft.pk, theirs.pk, their_draft.pk}
    for role in (Role.INSTRUCTOR, Role.MENTOR):
        client, _ = member_client(role, bootcamp)
        assert _ids(client.get(URL)) == {mine.pk, my_draft.pk}, role

    for status, sees in [
        (Enrollment.Status.ACTIVE, {mine.pk}),
        (Enrollment.Status.COMPLETED, {mine.pk}),
        (Enrollment.Status.WAITLISTED, set()),
        (Enrollment.Status.CANCELLED, set()),
        (Enrollment.Status.DROPPED, set()),
    ]:
        client, student = client_for(Role.STUDENT)
        enroll(student, bootcamp, status=status)
        assert _ids(client.get(URL)) == sees, status


def test_list_body_shape(member_client, bootcamp):
    assignment = AssignmentFactory(bootcamp=bootcamp, title="Week 1", max_score=Decimal("12.5"))
    client, _ = member_client(Role.STUDENT, bootcamp)
    body = client.get(URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["results"] == [
        {
            "id": assignment.pk,
            "bootcamp": bootcamp.pk,
            "bootcamp_title": bootcamp.title,
            "title": "Week 1",
            "description": assignment.description,
            "due_at": body["results"][0]["due_at"],
            "max_score": "12.50",
            "is_published": True,
            "created_by": {"id": str(assignment.created_by.pk), "full_name": assignment.created_by.full_name},
            "created_at": body["results"][0]["created_at"],
            "updated_at": body["results"][0]["updated_at"],
        }
    ]


def test_filters(client_for, bootcamp, other_bootcamp):
    now = timezone.now()
    soon = AssignmentFactory(bootcamp=bootcamp, due_at=now + timedelta(days=1))
    later = AssignmentFactory(bootcamp=bootcamp, due_at=now + timedelta(days=10))
    elsewhere = AssignmentFactory(bootcamp=other_bootcamp, due_at=now + timedelta(days=5))
    client, _ = client_for(Role.ADMIN)
    assert _ids(client.get(URL, {"bootcamp": bootcamp.pk})) == {soon.pk, later.pk}
    assert _ids(client.get(URL, {"due_before": (now + timedelta(days=6)).isoformat()})) == {
        soon.pk,
        elsewhere.pk,
    }
    assert _ids(client.get(URL, {"due_after": (now + timedelta(days=2)).isoformat()})) == {
        later.pk,
        elsewhere.pk,
    }
    assert _ids(
        client.get(
            URL,
            {
                "due_after": (now + timedelta(days=2)).isoformat(),
                "due_before": (now + timedelta(days=6)).isoformat(),
            },
        )
    ) == {elsewhere.pk}
    assert [r["id"] for r in client.get(URL, {"ordering": "-due_at"}).json()["results"]] == [
        later.pk,
        elsewhere.pk,
        soon.pk,
    ]
    assert_error(client.get(URL, {"due_before": "next tuesday"}), 400, attr="due_before")
    assert_error(client.get(URL, {"bootcamp": "abc"}), 400, attr="bootcamp")


def test_list_runs_a_fixed_number_of_queries(client_for, django_assert_num_queries, no_query_cache):
    client, _ = client_for(Role.ADMIN)
    AssignmentFactory()
    warm_up(client, URL)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    AssignmentFactory.create_batch(12)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert response.json()["count"] == 13


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 200, Role.STUDENT: 200}
)
def test_retrieve_roles(member_client, bootcamp, role, expected):
    assignment = AssignmentFactory(bootcamp=bootcamp)
    client, _ = member_client(role, bootcamp)
    response = client.get(detail(assignment))
    if expected != 200:
        assert_error(response, expected)
        return
    assert response.status_code == 200
    assert response.json()["id"] == assignment.pk


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.MENTOR, Role.STUDENT])
def test_retrieve_outside_scope_is_404(outsider_client, bootcamp, role):
    assignment = AssignmentFactory(bootcamp=bootcamp)
    client, _ = outsider_client(role)
    assert_error(client.get(detail(assignment)), 404)


def test_student_cannot_see_a_draft(member_client, bootcamp):
    draft = AssignmentFactory(bootcamp=bootcamp, is_published=False)
    client, _ = member_client(Role.STUDENT, bootcamp)
    assert_error(client.get(detail(draft)), 404)


def test_unknown_ids_are_404(client_for):
    client, _ = client_for(Role.ADMIN)
    assert_error(client.get(f"{URL}999999/"), 404)
    assert_error(client.get(f"{URL}abc/"), 404)


# --- Create --------------------------------------------------------------------------


def _payload(bootcamp, overrides=None):
    return {
        "bootcamp": bootcamp.pk,
        "title": "Week 2: APIs",
        "description": "Build it.",
        "due_at": (timezone.now() + timedelta(days=7)).isoformat(),
        "max_score": "20",
        "is_published": True,
        **(overrides or {}),
    }


@matrix(
    {None: 401, Role.ADMIN: 201, Role.SALES: 403, Role.INSTRUCTOR: 201, Role.MENTOR: 403, Role.STUDENT: 403}
)
def test_create_roles(member_client, bootcamp, role, expected):
    client, user = member_client(role, bootcamp)
    response = client.post(URL, _payload(bootcamp))
    if expected != 201:
        assert_error(response, expected)
        assert not Assignment.objects.exists()
        return
    assert response.status_code == 201, response.json()
    body = response.json()
    row = Assignment.objects.get(pk=body["id"])
    assert (row.bootcamp, row.title, row.max_score, row.is_published, row.created_by) == (
        bootcamp,
        "Week 2: APIs",
        Decimal("20.00"),
        True,
        user,
    )
    assert body["created_by"] == {"id": str(user.pk), "full_name": user.full_name}
    assert body["max_score"] == "20.00"


def test_create_defaults_to_a_draft(client_for, bootcamp):
    client, _ = client_for(Role.ADMIN)
    payload = _payload(bootcamp)
    del payload["is_published"], payload["description"]
    response = client.post(URL, payload)
    assert response.status_code == 201
    assert (response.json()["is_published"], response.json()["description"]) == (False, "")


def test_instructor_of_another_bootcamp_gets_400_on_bootcamp(outsider_client, bootcamp):
    client, _ = outsider_client(Role.INSTRUCTOR)
    body = assert_error(client.post(URL, _payload(bootcamp)), 400, code="not_instructor", attr="bootcamp")
    assert body["errors"][0]["detail"] == "You can only create assignments for a bootcamp you teach."
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": ["a list"]}, "title"),
        ({"title": "null \x00 byte"}, "title"),
        ({"description": "x" * 10_001}, "description"),
        ({"bootcamp": None}, "bootcamp"),
        ({"bootcamp": "abc"}, "bootcamp"),
        ({"bootcamp": 999_999}, "bootcamp"),
        ({"due_at": "next friday"}, "due_at"),
        ({"due_at": 12}, "due_at"),
        ({"max_score": "0"}, "max_score"),
        ({"max_score": "-5"}, "max_score"),
        ({"max_score": "abc"}, "max_score"),
        ({"max_score": "NaN"}, "max_score"),
        ({"max_score": "Infinity"}, "max_score"),
        ({"max_score": "10.125"}, "max_score"),
        ({"max_score": "100000"}, "max_score"),
        ({"max_score": True}, "max_score"),
        ({"is_published": "maybe"}, "is_published"),
    ],
    ids=lambda value: str(value)[:40] if isinstance(value, dict) else value,
)
def test_create_bad_input(client_for, bootcamp, change, attr):
    client, _ = client_for(Role.ADMIN)
    assert_error(client.post(URL, _payload(bootcamp, change)), 400, attr=attr)
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("due_at", "code", "detail"),
    [
        ("1900-01-01T00:00:00Z", "min_value", "Enter a time from 2000-01-01 on."),
        ("0001-01-01T00:00:00Z", "min_value", "Enter a time from 2000-01-01 on."),
        ("2100-01-02T00:00:00Z", "max_value", "Enter a time up to 2099-12-31."),
        ("9999-12-31T23:59:00Z", "max_value", "Enter a time up to 2099-12-31."),
    ],
)
def test_an_implausible_due_date_is_refused_on_create_and_edit(client_for, bootcamp, due_at, code, detail):
    client, _ = client_for(Role.ADMIN)
    body = assert_error(
        client.post(URL, _payload(bootcamp, {"due_at": due_at})), 400, code=code, attr="due_at"
    )
    assert body["errors"][0]["detail"] == detail
    assert not Assignment.objects.exists()
    assignment = AssignmentFactory(bootcamp=bootcamp)
    assert_error(client.patch(f"{URL}{assignment.pk}/", {"due_at": due_at}), 400, code=code, attr="due_at")
    assert Assignment.objects.get(pk=assignment.pk).due_at == assignment.due_at


def test_an_archived_bootcamp_takes_no_new_assignments_but_its_own_can_be_fixed(client_for, bootcamp):
    client, _ = client_for(Role.ADMIN)
    existing = AssignmentFactory(bootcamp=bootcamp)
    Bootcamp.objects.filter(pk=bootcamp.pk).update(status=Bootcamp.Status.ARCHIVED)
    body = assert_error(client.post(URL, _payload(bootcamp)), 400, code="archived", attr="bootcamp")
    assert body["errors"][0]["detail"] == "This bootcamp is archived: it takes no new assignments."
    assert list(Assignment.objects.all()) == [existing]
    response = client.patch(f"{URL}{existing.pk}/", {"title": "Typo fixed"})
    assert response.status_code == 200 and response.json()["title"] == "Typo fixed"
    # Nor is a draft published there.
    draft = AssignmentFactory(bootcamp=bootcamp, is_published=False)
    assert_error(
        client.patch(f"{URL}{draft.pk}/", {"is_published": True}), 400, code="archived", attr="is_published"
    )
    assert Assignment.objects.get(pk=draft.pk).is_published is False


def test_an_assignment_stored_with_a_due_time_now_refused_can_still_be_edited(client_for, bootcamp):
    client, _ = client_for(Role.ADMIN)
    old = AssignmentFactory(bootcamp=bootcamp)
    Assignment.objects.filter(pk=old.pk).update(due_at="0001-01-01T00:00:00Z")  # stored before the rule
    response = client.patch(f"{URL}{old.pk}/", {"title": "Typo fixed"})
    assert response.status_code == 200, response.content
    assert_error(client.patch(f"{URL}{old.pk}/", {"due_at": "0002-01-01T00:00:00Z"}), 400, attr="due_at")


@pytest.mark.parametrize("field", ["created_by", "is_late", "id", "created_at"])
def test_create_refuses_unknown_and_read_only_fields(client_for, bootcamp, field):
    client, _ = client_for(Role.ADMIN)
    body = assert_error(client.post(URL, _payload(bootcamp, {field: "x"})), 400, code="unknown_field")
    assert field in body["errors"][0]["detail"]
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("field", ["bootcamp", "title", "due_at", "max_score"])
def test_create_missing_required_field(client_for, bootcamp, field):
    client, _ = client_for(Role.ADMIN)
    payload = _payload(bootcamp)
    del payload[field]
    assert_error(client.post(URL, payload), 400, code="required", attr=field)


@pytest.mark.parametrize("body", ['{"title": "x",', "[]", '"just a string"', "null"])
def test_create_malformed_or_non_object_json(client_for, body):
    client, _ = client_for(Role.ADMIN)
    response = client.post(URL, data=body, content_type="application/json")
    assert_error(response, 400)
    assert not Assignment.objects.exists()


def test_create_form_encoded_is_415(client_for, bootcamp):
    client, _ = client_for(Role.ADMIN)
    response = client.post(URL, {"title": "x"}, format="multipart")
    assert_error(response, 415)


# --- Update ------------------------------------------------------------------------


@matrix(
    {None: 401, Role.ADMIN: 200, Role.SALES: 403, Role.INSTRUCTOR: 200, Role.MENTOR: 403, Role.STUDENT: 403}
)
def test_update_roles(member_client, bootcamp, role, expected):
    assignment = AssignmentFactory(bootcamp=bootcamp, title="Old")
    client, _ = member_client(role, bootcamp)
    response = client.patch(detail(assignment), {"title": "New", "is_published": False})
    assignment.refresh_from_db()
    if expected != 200:
        assert_error(response, expected)
        assert assignment.title == "Old"
        return
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["is_published"]) == ("New", False)
    assert (assignment.title, assignment.is_published) == ("New", False)


# Roles that may never write are refused before the lookup (403); an
# instructor who may write, but not here, does not find it (404).
@pytest.mark.parametrize(
    ("role", "expected"), [(Role.INSTRUCTOR, 404), (Role.MENTOR, 403), (Role.STUDENT, 403)]
)
def test_update_outside_scope(outsider_client, bootcamp, role, expected):
    assignment = AssignmentFactory(bootcamp=bootcamp, title="Old")
    client, _ = outsider_client(role)
    assert_error(client.patch(detail(assignment), {"title": "Hijacked"}), expected)
    assignment.refresh_from_db()
    assert assignment.title == "Old"


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"bootcamp": 1}, "non_field_errors"),  # an assignment never moves to another bootcamp
        ({"created_by": "x"}, "non_field_errors"),
        ({"title": ""}, "title"),
        ({"max_score": "-1"}, "max_score"),
        ({"due_at": None}, "due_at"),
    ],
)
def test_update_bad_input(client_for, bootcamp, change, attr):
    assignment = AssignmentFactory(bootcamp=bootcamp, title="Old")
    client, _ = client_for(Role.ADMIN)
    assert_error(client.patch(detail(assignment), change), 400, attr=attr)
    assignment.refresh_from_db()
    assert assignment.title == "Old"


def test_update_max_score_below_a_given_score(client_for):
    submission = GradedSubmissionFactory(score=Decimal("9"))
    client, _ = client_for(Role.ADMIN)
    assert_error(
        client.patch(detail(submission.assignment), {"max_score": "8.99"}),
        400,
        code="below_given_score",
        attr="max_score",
    )
    assert Assignment.objects.get(pk=submission.assignment_id).max_score == Decimal("10.00")


@pytest.mark.parametrize("new_max", ["10.01", "100", "9.5"])
def test_the_maximum_stays_once_work_is_graded(client_for, new_max, mailoutbox):
    # 9.5 of 10 must not become 9.5 of 100 in the student's gradebook behind their back.
    submission = GradedSubmissionFactory(score=Decimal("9"))
    client, _ = client_for(Role.ADMIN)
    body = assert_error(
        client.patch(detail(submission.assignment), {"max_score": new_max}),
        400,
        code="has_grades",
        attr="max_score",
    )
    assert body["errors"][0]["detail"] == (
        "1 submission is already graded: the maximum (10.00) can't change under a grade."
    )
    assert Assignment.objects.get(pk=submission.assignment_id).max_score == Decimal("10.00")
    # The same maximum sent again, or any before the first grade, is fine.
    assert client.patch(detail(submission.assignment), {"max_score": "10"}).status_code == 200
    ungraded = SubmissionFactory()
    assert client.patch(detail(ungraded.assignment), {"max_score": "100"}).status_code == 200


def test_extending_the_deadline_clears_late_flags(client_for):
    now = timezone.now()
    submission = SubmissionFactory(
        assignment=AssignmentFactory(due_at=now - timedelta(days=1)), submitted_at=now, is_late=True
    )
    client, _ = client_for(Role.ADMIN)
    response = client.patch(detail(submission.assignment), {"due_at": (now + timedelta(days=1)).isoformat()})
    assert response.status_code == 200
    submission.refresh_from_db()
    assert submission.is_late is False


def test_put_is_not_allowed(client_for, bootcamp):
    assignment = AssignmentFactory(bootcamp=bootcamp)
    client, _ = client_for(Role.ADMIN)
    assert_error(client.put(detail(assignment), _payload(bootcamp)), 405)


# --- Delete --------------------------------------------------------------------------


@matrix(
    {None: 401, Role.ADMIN: 204, Role.SALES: 403, Role.INSTRUCTOR: 204, Role.MENTOR: 403, Role.STUDENT: 403}
)
def test_delete_roles(member_client, bootcamp, role, expected):
    assignment = AssignmentFactory(bootcamp=bootcamp)
    client, _ = member_client(role, bootcamp)
    response = client.delete(detail(assignment))
    if expected != 204:
        assert_error(response, expected)
        assert Assignment.objects.filter(pk=assignment.pk).exists()
        return
    assert response.status_code == 204
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


def test_delete_outside_scope_is_404(outsider_client, bootcamp):
    assignment = AssignmentFactory(bootcamp=bootcamp)
    client, _ = outsider_client(Role.INSTRUCTOR)
    assert_error(client.delete(detail(assignment)), 404)
    assert Assignment.objects.filter(pk=assignment.pk).exists()


def test_delete_with_submissions_is_409(client_for):
    submission = SubmissionFactory()
    client, _ = client_for(Role.ADMIN)
    body = assert_error(client.delete(detail(submission.assignment)), 409, code="has_submissions")
    assert "unpublish" in body["errors"][0]["detail"]
    assert Assignment.objects.filter(pk=submission.assignment_id).exists()
