"""Students hear of a new assignment, of a deadline that moved under them, and of
one removed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import StudentFactory
from assignments.tests.factories import AssignmentFactory, enroll, staffed_bootcamp
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db


@pytest.fixture
def bootcamp_with_students():
    bootcamp, instructor, _mentor = staffed_bootcamp(title="Data")
    seated = [StudentFactory(email="ava@example.com"), StudentFactory(email="ben@example.com")]
    for student in seated:
        enroll(student, bootcamp)
    # Neither of these can hand in work, so neither hears of it.
    enroll(StudentFactory(email="waiting@example.com"), bootcamp, status=Enrollment.Status.WAITLISTED)
    enroll(StudentFactory(email="gone@example.com", is_active=False), bootcamp)
    return bootcamp, instructor


def test_a_published_assignment_is_announced_to_the_students_who_can_hand_it_in(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp, instructor = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    body = {
        "bootcamp": bootcamp.pk,
        "title": "Week 4",
        "description": "Build a CLI.",
        "due_at": "2030-03-01T18:00:00Z",
        "max_score": "20",
        "is_published": True,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/v1/assignments/", body, format="json").status_code == 201
    assert sorted(m.to[0] for m in mailoutbox) == ["ava@example.com", "ben@example.com"]
    message = mailoutbox[0]
    assert message.subject == "New assignment in Data: Week 4"
    assert 'A new assignment is out in Data: "Week 4", due 1 March 2030, 18:00 UTC, out of 20 points.' in (
        message.body
    )
    assert "Build a CLI." in message.body


def test_a_draft_is_announced_when_it_is_published_and_not_before(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    draft = AssignmentFactory(bootcamp=bootcamp, title="Week 5", is_published=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"/api/v1/assignments/{draft.pk}/", {"title": "Week 5: graphs"}, format="json")
        client.patch(f"/api/v1/assignments/{draft.pk}/", {"due_at": "2030-04-01T18:00:00Z"}, format="json")
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"/api/v1/assignments/{draft.pk}/", {"is_published": True}, format="json")
    assert response.status_code == 200
    assert {m.subject for m in mailoutbox} == {"New assignment in Data: Week 5: graphs"}
    assert len(mailoutbox) == 2


def test_a_moved_deadline_is_announced_with_the_old_one(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    due = timezone.now().replace(microsecond=0) + timedelta(days=3)
    published = AssignmentFactory(bootcamp=bootcamp, title="Week 6", due_at=due, max_score=Decimal("10"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/assignments/{published.pk}/", {"due_at": "2030-05-02T09:30:00Z"}, format="json"
        )
    assert response.status_code == 200
    assert len(mailoutbox) == 2
    message = mailoutbox[0]
    assert message.subject == "New deadline for Week 6 (Data)"
    assert '"Week 6" in Data is now due 2 May 2030, 09:30 UTC (it was due ' in message.body
    # The same deadline sent again, or another field, tells nobody anything.
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(
            f"/api/v1/assignments/{published.pk}/", {"due_at": "2030-05-02T09:30:00Z"}, format="json"
        )
        client.patch(f"/api/v1/assignments/{published.pk}/", {"title": "Week 6: trees"}, format="json")
    assert len(mailoutbox) == 2


def test_publishing_again_is_no_news_unless_the_deadline_moved_meanwhile(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    url = None
    with django_capture_on_commit_callbacks(execute=True):
        body = {
            "bootcamp": bootcamp.pk,
            "title": "Week 7",
            "due_at": "2030-06-01T18:00:00Z",
            "max_score": "10",
            "is_published": True,
        }
        url = f"/api/v1/assignments/{client.post('/api/v1/assignments/', body, format='json').json()['id']}/"
    assert len(mailoutbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(url, {"is_published": False}, format="json")
        client.patch(url, {"is_published": True}, format="json")
    assert len(mailoutbox) == 2  # unpublished and published again: nothing new
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(url, {"is_published": False}, format="json")
        client.patch(url, {"due_at": "2030-06-08T18:00:00Z"}, format="json")
        client.patch(url, {"is_published": True}, format="json")
    assert [m.subject for m in mailoutbox[2:]] == ["New deadline for Week 7 (Data)"] * 2
    assert "(it was due 1 June 2030, 18:00 UTC)" in mailoutbox[2].body


def test_a_move_within_the_minute_shown_is_no_news(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    assignment = AssignmentFactory(bootcamp=bootcamp)
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(
            f"/api/v1/assignments/{assignment.pk}/", {"due_at": "2030-05-02T09:30:45Z"}, format="json"
        )
    assert len(mailoutbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/assignments/{assignment.pk}/", {"due_at": "2030-05-02T09:30:00Z"}, format="json"
        )
    assert response.status_code == 200 and len(mailoutbox) == 2


def test_an_archived_bootcamp_announces_nothing(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    from bootcamps.models import Bootcamp

    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    assignment = AssignmentFactory(bootcamp=bootcamp)
    Bootcamp.objects.filter(pk=bootcamp.pk).update(status=Bootcamp.Status.ARCHIVED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/assignments/{assignment.pk}/", {"due_at": "2030-05-02T09:30:00Z"}, format="json"
        )
    assert response.status_code == 200 and mailoutbox == []


def test_deleting_a_published_assignment_tells_its_students_it_is_gone(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    body = {"bootcamp": bootcamp.pk, "title": "Week 8", "due_at": "2030-07-01T18:00:00Z", "max_score": "10"}
    published = client.post("/api/v1/assignments/", {**body, "is_published": True}, format="json").json()
    mailoutbox.clear()  # its announcement
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/assignments/{published['id']}/").status_code == 204
    assert sorted(m.to[0] for m in mailoutbox) == ["ava@example.com", "ben@example.com"]
    assert {m.subject for m in mailoutbox} == {"Assignment removed in Data: Week 8"}
    assert '"Week 8" in Data, which was due 1 July 2030, 18:00 UTC, has been removed' in mailoutbox[0].body


def test_deleting_an_unpublished_assignment_says_nothing(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    # Announced, then unpublished and edited: what it is now, students never saw.
    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    body = {"bootcamp": bootcamp.pk, "title": "Week 9", "due_at": "2030-07-01T18:00:00Z", "max_score": "10"}
    hidden = client.post("/api/v1/assignments/", {**body, "is_published": True}, format="json").json()
    never_published = client.post(
        "/api/v1/assignments/", {**body, "is_published": False}, format="json"
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"/api/v1/assignments/{hidden['id']}/", {"is_published": False}, format="json")
        client.patch(f"/api/v1/assignments/{hidden['id']}/", {"title": "Final exam (draft)"}, format="json")
    mailoutbox.clear()
    for assignment in (hidden, never_published):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.delete(f"/api/v1/assignments/{assignment['id']}/").status_code == 204
    assert mailoutbox == []


def test_a_delete_refused_or_in_an_archived_bootcamp_tells_nobody(
    client_for, bootcamp_with_students, django_capture_on_commit_callbacks, mailoutbox
):
    from assignments.tests.factories import SubmissionFactory
    from bootcamps.models import Bootcamp

    bootcamp, _ = bootcamp_with_students
    client, _ = client_for(User.Role.ADMIN)
    handed_in = AssignmentFactory(bootcamp=bootcamp)
    SubmissionFactory(assignment=handed_in, student=User.objects.get(email="ava@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/assignments/{handed_in.pk}/").status_code == 409
    assert mailoutbox == []
    archived = AssignmentFactory(bootcamp=bootcamp)
    Bootcamp.objects.filter(pk=bootcamp.pk).update(status=Bootcamp.Status.ARCHIVED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/v1/assignments/{archived.pk}/")
    assert response.status_code == 204 and mailoutbox == []
