import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from accounts.tests.factories import StudentFactory
from assignments.admin import AssignmentInline, SubmissionAdmin
from assignments.models import Assignment, Submission
from assignments.tests.factories import (
    AssignmentFactory,
    BootcampFactory,
    GradedSubmissionFactory,
    SubmissionFactory,
    enroll,
)
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def _datetime_fields(name, value):
    local = timezone.localtime(value)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "week"},
        {"is_published__exact": "1"},
        {"due_at__gte": "2020-01-01 00:00:00+00:00"},
    ],
)
def test_assignment_changelist(admin_browser, params):
    SubmissionFactory(assignment=AssignmentFactory(title="Week 1"))
    response = admin_browser.get(reverse("admin:assignments_assignment_changelist"), params)
    assert response.status_code == 200
    assert b"Week 1" in response.content


@pytest.mark.parametrize(
    "params",
    [{}, {"graded": "yes"}, {"graded": "no"}, {"is_late__exact": "0"}, {"q": "grace@example.com"}],
)
def test_submission_changelist_filters_and_search(admin_browser, params):
    graded = GradedSubmissionFactory(student__email="grace@example.com")
    ungraded = SubmissionFactory(student__email="ungraded@example.com")
    response = admin_browser.get(reverse("admin:assignments_submission_changelist"), params)
    assert response.status_code == 200
    shown = set(response.context["cl"].result_list)
    shows_graded = params.get("graded") != "no"
    shows_ungraded = params.get("graded") != "yes" and "q" not in params
    assert (graded in shown, ungraded in shown) == (shows_graded, shows_ungraded)
    # Each row names the student and says the grade, or that it awaits one.
    content = response.content.decode()
    assert (f"{graded.score.normalize():f} / 10" in content) == shows_graded
    assert ('status-badge--submitted">Awaiting a grade' in content) == shows_ungraded


def test_submission_filter_by_bootcamp(admin_browser):
    here = SubmissionFactory(student__email="here@example.com")
    SubmissionFactory(student__email="there@example.com")
    response = admin_browser.get(
        reverse("admin:assignments_submission_changelist"),
        {"assignment__bootcamp__id__exact": here.assignment.bootcamp_id},
    )
    assert list(response.context["cl"].result_list) == [here]


def test_add_assignment_goes_through_the_service(admin_browser, admin_user):
    bootcamp = BootcampFactory()
    due = timezone.now() + timedelta(days=5)
    response = admin_browser.post(
        reverse("admin:assignments_assignment_add"),
        {
            "bootcamp": bootcamp.pk,
            "title": "  Admin-made  ",
            "description": "",
            **_datetime_fields("due_at", due),
            "max_score": "15",
            "is_published": "on",
            "submissions-TOTAL_FORMS": "0",
            "submissions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Assignment.objects.get()
    assert (row.title, row.created_by, row.max_score, row.is_published) == (
        "Admin-made",
        admin_user,
        Decimal("15.00"),
        True,
    )


def test_change_assignment_max_score_below_a_grade_is_a_form_error(admin_browser):
    submission = GradedSubmissionFactory(score=Decimal("9"))
    assignment = submission.assignment
    response = admin_browser.post(
        reverse("admin:assignments_assignment_change", args=[assignment.pk]),
        {
            "title": assignment.title,
            "description": assignment.description,
            **_datetime_fields("due_at", assignment.due_at),
            "max_score": "5",
            "is_published": "on",
            "submissions-TOTAL_FORMS": "1",
            "submissions-INITIAL_FORMS": "1",
        },
    )
    assert response.status_code == 200
    assert "cannot be lower" in response.content.decode()
    assert Assignment.objects.get(pk=assignment.pk).max_score == Decimal("10.00")


def test_assignment_change_page_shows_submissions_inline(admin_browser):
    submission = SubmissionFactory(student__email="inline@example.com")
    response = admin_browser.get(
        reverse("admin:assignments_assignment_change", args=[submission.assignment_id])
    )
    assert response.status_code == 200
    assert "inline@example.com" in response.content.decode()


def test_delete_assignment_with_submissions_is_refused(admin_browser):
    submission = SubmissionFactory()
    response = admin_browser.post(
        reverse("admin:assignments_assignment_delete", args=[submission.assignment_id]), {"post": "yes"}
    )
    assert response.status_code == 200  # Django's "cannot delete: protected objects" page
    assert Assignment.objects.filter(pk=submission.assignment_id).exists()


def test_grade_form_grades_through_the_service(
    admin_browser, admin_user, django_capture_on_commit_callbacks, mailoutbox
):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(
            reverse("admin:assignments_submission_change", args=[submission.pk]),
            {"score": "6.5", "feedback": "From the back office."},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Submission.objects.get(pk=submission.pk)
    assert (row.score, row.feedback, row.graded_by) == (Decimal("6.50"), "From the back office.", admin_user)
    assert row.graded_at is not None
    assert [m.to for m in mailoutbox] == [[submission.student.email]]
    assert mailoutbox[0].subject.startswith("Graded:")


@pytest.mark.parametrize("score", ["10.01", "-1", "", "abc"])
def test_grade_form_refuses_bad_scores(admin_browser, score, django_capture_on_commit_callbacks, mailoutbox):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(
            reverse("admin:assignments_submission_change", args=[submission.pk]),
            {"score": score, "feedback": ""},
        )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert Submission.objects.get(pk=submission.pk).score is None
    assert mailoutbox == []


def test_submissions_cannot_be_added_in_the_admin(admin_browser):
    assert admin_browser.get(reverse("admin:assignments_submission_add")).status_code == 403
    assert not SubmissionAdmin(Submission, admin.site).has_add_permission(None)


@pytest.mark.parametrize("role", [User.Role.INSTRUCTOR, User.Role.MENTOR, User.Role.SALES, User.Role.STUDENT])
def test_only_admins_get_in(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    response = client.get(reverse("admin:assignments_submission_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_assignment_inline_for_the_bootcamp_admin_is_read_only():
    inline = AssignmentInline(Assignment._meta.get_field("bootcamp").related_model, admin.site)
    assert inline.model is Assignment
    assert not inline.has_add_permission(None)
    assert not inline.has_change_permission(None)
    assert not inline.can_delete
    assert inline.show_change_link


def test_submissions_cannot_be_deleted_in_the_admin(admin_browser):
    submission = GradedSubmissionFactory(score=Decimal("9"))
    delete = reverse("admin:assignments_submission_delete", args=[submission.pk])
    assert admin_browser.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:assignments_submission_changelist")
    page = admin_browser.get(changelist).content.decode()
    assert 'value="delete_selected"' not in page
    admin_browser.post(
        changelist, {"action": "delete_selected", "_selected_action": [submission.pk], "post": "yes"}
    )
    assert Submission.objects.filter(pk=submission.pk, score=Decimal("9")).exists()


def test_the_submission_page_says_on_time_or_late_in_words(admin_browser):
    on_time, late = SubmissionFactory(), SubmissionFactory(is_late=True)
    page = admin_browser.get(
        reverse("admin:assignments_submission_change", args=[on_time.pk])
    ).content.decode()
    assert re.search(r"Handed in:</label>\s*<div class=\"readonly\">On time</div>", page)
    assert "Submitted after the assignment" not in page
    page = admin_browser.get(reverse("admin:assignments_submission_change", args=[late.pk])).content.decode()
    assert re.search(r"Handed in:</label>\s*<div class=\"readonly\">Late: after the due date \(", page)


def test_the_back_office_shows_a_bootcamps_gradebook_and_its_csv(admin_browser, client_for):
    from assignments.tests.factories import enroll, staffed_bootcamp

    bootcamp, instructor, _mentor = staffed_bootcamp(title="Data")
    week1 = AssignmentFactory(bootcamp=bootcamp, title="Week 1", max_score=Decimal("10"))
    ava, ben = StudentFactory(full_name="Ava Kowalski"), StudentFactory(full_name="Ben Ode")
    for student in (ava, ben):
        enroll(student, bootcamp)
    GradedSubmissionFactory(assignment=week1, student=ava, score=Decimal("9.5"))

    change = admin_browser.get(
        reverse("admin:bootcamps_bootcamp_change", args=[bootcamp.pk])
    ).content.decode()
    page_url = reverse("admin:bootcamps_bootcamp_gradebook", args=[bootcamp.pk])
    assert f'href="{page_url}">Gradebook</a>' in change

    page = admin_browser.get(page_url)
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))
    assert "Gradebook: Data" in text
    assert re.search(r"Ava Kowalski \S+@example\.com 9\.50 95\.00 % 9\.50 / 10 95\.00 % 1 0 0", text)
    assert re.search(r"Ben Ode \S+@example\.com not due – – 0 0 0", text)

    download = admin_browser.get(page_url, {"format": "csv"})
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == f'attachment; filename="gradebook-{bootcamp.slug}.csv"'
    # The same table the API gives the bootcamp's instructor.
    client, _ = client_for(User.Role.ADMIN)
    api_csv = client.get(f"/api/v1/bootcamps/{bootcamp.pk}/gradebook.csv")
    # The same table; the back office's download, for a spreadsheet, starts with
    # a byte-order mark (Excel reads UTF-8 by it), the API's has none.
    assert download.content == b"\xef\xbb\xbf" + api_csv.content
    assert not api_csv.content.startswith(b"\xef\xbb\xbf")


def test_the_grade_form_refuses_work_handed_in_again_after_it_was_shown(admin_browser):
    from assignments import services
    from assignments.tests.factories import staffed_bootcamp

    bootcamp, _instructor, _mentor = staffed_bootcamp()
    assignment = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"))
    student = StudentFactory()
    enroll(student, bootcamp)
    submission, _ = services.submission_submit(
        assignment=assignment, student=student, content="draft, half done"
    )
    url = reverse("admin:assignments_submission_change", args=[submission.pk])
    shown = admin_browser.get(url)
    assert "draft, half done" in shown.content.decode()
    form = shown.context["adminform"].form
    data = {
        "score": "9",
        "feedback": "Great draft",
        "shown_submitted_at": form.initial["shown_submitted_at"],
        "initial-score": "",
        "initial-feedback": "",
        "initial-shown_submitted_at": form.initial["shown_submitted_at"],
        "_save": "Save",
    }
    services.submission_submit(
        assignment=assignment, student=student, content="a completely different answer"
    )

    refused = admin_browser.post(url, data)
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "The student handed this work in again after you opened it" in page
    assert "a completely different answer" in page
    assert Submission.objects.get(pk=submission.pk).score is None

    # A time without its offset isn't one the page wrote: a form error, not a 500.
    naive = datetime.fromisoformat(form.initial["shown_submitted_at"]).replace(tzinfo=None).isoformat()
    damaged = admin_browser.post(
        url, {**data, "shown_submitted_at": naive, "initial-shown_submitted_at": naive}
    )
    assert damaged.status_code == 200 and "The page is damaged" in damaged.content.decode()

    # The refused page shows the new work and counts as having shown it: saving it
    # again, as it is, grades that work.
    form = refused.context["adminform"].form
    again = {**data, **{key: form.data[key] for key in ("shown_submitted_at", "initial-shown_submitted_at")}}
    assert again["shown_submitted_at"] != data["shown_submitted_at"]
    assert admin_browser.post(url, again).status_code == 302
    row = Submission.objects.get(pk=submission.pk)
    assert (row.content, row.score) == ("a completely different answer", Decimal("9.00"))


def test_the_grade_form_says_so_when_the_grade_shown_was_withdrawn_meanwhile(admin_browser, admin_user):
    """Returned for revision while the page was open: its feedback-only save read
    the stored score (none now) and said "Enter a number." on every save."""
    from assignments import services
    from assignments.tests.factories import staffed_bootcamp
    from cohortly.tests.test_admin_stale_forms import page_form

    bootcamp, _instructor, mentor = staffed_bootcamp()
    assignment = AssignmentFactory(bootcamp=bootcamp, max_score=Decimal("10"))
    student = StudentFactory()
    enroll(student, bootcamp)
    submission, _ = services.submission_submit(assignment=assignment, student=student, content="answer")
    services.submission_grade(submission=submission, grader=admin_user, score=Decimal("8.8"), feedback="Good")
    url = reverse("admin:assignments_submission_change", args=[submission.pk])
    shown = page_form(admin_browser, url)
    assert shown["score"] == ["8.80"]
    services.submission_return(submission=submission, returned_by=mentor)

    refused = admin_browser.post(url, {**shown, "feedback": ["Good, see the notes"], "_save": ["Save"]})
    assert refused.status_code == 200
    assert "returned for revision after you opened it" in refused.content.decode()
    row = Submission.objects.get(pk=submission.pk)
    assert (row.score, row.feedback) == (None, "Good")
    form = refused.context["adminform"].form
    assert (form.data["score"], form.data["initial-score"]) == ("", "")  # the page shows it ungraded

    # A score entered on that page grades it.
    again = {**{key: form.data.getlist(key) for key in form.data}, "score": ["9"]}
    assert admin_browser.post(url, again).status_code == 302
    row.refresh_from_db()
    assert (row.score, row.feedback) == (Decimal("9.00"), "Good, see the notes")


def test_the_back_office_gradebook_says_work_due_after_completion_is_not_expected(admin_browser):
    from assignments.tests.factories import enroll, staffed_bootcamp

    bootcamp, _instructor, _mentor = staffed_bootcamp(title="Data")
    done = StudentFactory(full_name="Cleo Done")
    enrollment = enroll(done, bootcamp)
    now = timezone.now()
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=Enrollment.Status.COMPLETED, completed_at=now - timedelta(days=5)
    )
    AssignmentFactory(bootcamp=bootcamp, title="Late week", due_at=now - timedelta(days=1))

    page = admin_browser.get(reverse("admin:bootcamps_bootcamp_gradebook", args=[bootcamp.pk]))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))
    # Past its due time, but due after the enrollment was completed: the API's
    # not_expected, neither "not due" nor missing.
    assert re.search(
        r"Cleo Done \S+@example\.com · completed not expected \(due after completion\) – – 0 0 0 0", text
    )


def test_a_gradebook_of_no_bootcamp_is_404(admin_browser):
    assert admin_browser.get(reverse("admin:bootcamps_bootcamp_gradebook", args=[999999])).status_code == 404


# --- The back office ---------------------------------------------------------------------


def test_the_admin_action_returns_graded_work_and_names_what_it_could_not(
    admin_browser, django_capture_on_commit_callbacks, mailoutbox
):
    graded = GradedSubmissionFactory()
    assignment = graded.assignment
    enroll(graded.student, assignment.bootcamp)
    ungraded = SubmissionFactory(assignment=assignment)
    url = reverse("admin:assignments_submission_changelist")
    selected = {"action": "return_for_revision", "_selected_action": [graded.pk, ungraded.pk]}
    # Grades withdrawn and students emailed can't be undone: the action asks first.
    asking = admin_browser.post(url, selected)
    assert asking.status_code == 200
    page = asking.content.decode()
    assert "This can't be undone." in page
    # The feedback stays (it says what to revise): the page doesn't say it goes.
    assert "grade is withdrawn (the History keeps the score); its feedback stays" in page
    score = f"{graded.score.normalize():f} / {assignment.max_score.normalize():f}"
    assert (
        escape(f"{graded.student.full_name} <{graded.student.email}>: {assignment.title}, graded {score}")
        in page
    )
    assert escape(f"<{ungraded.student.email}>: {assignment.title}, not graded") in page
    assert Submission.objects.get(pk=graded.pk).score == graded.score
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(url, {**selected, "post": "yes"}, follow=True)
    text = response.content.decode()
    # The History keeps the grade that was withdrawn.
    assert LogEntry.objects.get(object_id=str(graded.pk)).get_change_message() == (
        f"Returned for revision (grade withdrawn: graded {score})."
    )
    assert "1 submission returned for revision; their students were emailed" in text
    assert escape(f"Not changed: {ungraded}: This submission isn't graded") in text
    assert Submission.objects.get(pk=graded.pk).status == "returned"
    assert [message.to for message in mailoutbox] == [[graded.student.email]]
    listed = admin_browser.get(url, {"graded": "returned"}).content.decode()
    assert "Returned for revision" in listed
    assert graded.student.full_name in listed
    assert ungraded.student.full_name not in listed
    # Returned again: nothing to do, nobody emailed, nothing recorded, and said so.
    with django_capture_on_commit_callbacks(execute=True):
        again = admin_browser.post(
            url, {**selected, "_selected_action": [graded.pk], "post": "yes"}, follow=True
        )
    assert [str(m) for m in again.context["messages"]] == [f"Already returned for revision: {graded}."]
    assert len(mailoutbox) == 1 and LogEntry.objects.filter(object_id=str(graded.pk)).count() == 1
    gradebook = admin_browser.get(
        reverse("admin:bootcamps_bootcamp_gradebook", args=[assignment.bootcamp_id])
    ).content.decode()
    assert "returned for revision" in gradebook
    assert "Awaiting revision" in gradebook


def test_an_empty_gradebook_of_a_finished_bootcamp_does_not_say_yet(admin_browser):
    # The demo's archived spring cohort said "Nobody holds a seat in it yet".
    from assignments.tests.factories import staffed_bootcamp

    today = timezone.localdate()
    finished, _, _ = staffed_bootcamp(
        title="Spring",
        start_date=today - timedelta(days=200),
        end_date=today - timedelta(days=150),
        status=Bootcamp.Status.ARCHIVED,
    )
    upcoming, _, _ = staffed_bootcamp(title="Autumn")

    def text_of(bootcamp):
        page = admin_browser.get(reverse("admin:bootcamps_bootcamp_gradebook", args=[bootcamp.pk]))
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))

    assert "Nobody held a seat in Spring." in text_of(finished)
    assert "yet" not in text_of(finished).split("Download CSV")[1]
    assert "Nobody holds a seat in Autumn yet." in text_of(upcoming)
