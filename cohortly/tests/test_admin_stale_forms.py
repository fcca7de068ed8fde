"""Two admins, or an admin and the API, on the same row: a change page opened
before another change saves only what was changed on it, and a field both
changed is refused with what it reads now. The pages are filled in as a browser
would: every input the rendered form holds, the hidden values it was shown
with included."""

from html.parser import HTMLParser

import pytest

from accounts import services as account_services
from accounts.models import User
from bootcamps import services as bootcamp_services
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The values a browser would post from the page's change form (<form id="…_form">)."""

    def __init__(self):
        super().__init__()
        self.data, self.in_form, self.done = {}, False, False
        self.select, self.textarea = None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form") and not self.done:
            self.in_form = True
        if not self.in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data.setdefault(name, []).append(attrs.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self.data.setdefault(name, []).append(attrs.get("value", ""))
        elif tag == "select" and name:
            self.select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in attrs:
            self.data[self.select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.data[self.textarea][0] = self.data[self.textarea][0].removeprefix("\n")
            self.textarea = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True


def page_form(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    parser = _FormFields()
    parser.feed(response.content.decode())
    return parser.data


def test_a_user_deactivated_while_their_page_was_open_stays_deactivated(admin_web, admin_user, make_user):
    person = make_user(User.Role.SALES, phone="+1 555 0100")
    url = f"/admin/accounts/user/{person.pk}/change/"
    shown = page_form(admin_web, url)

    other_admin = make_user(User.Role.ADMIN)
    account_services.user_update(actor=other_admin, user=person, data={"is_active": False})

    response = admin_web.post(url, {**shown, "phone": ["+1 555 0199"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert (person.phone, person.is_active) == ("+1 555 0199", False)


def test_a_bootcamp_archived_while_its_page_was_open_stays_archived(admin_web, admin_user):
    bootcamp = BootcampFactory(location="Room 1", capacity=10)
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    shown = page_form(admin_web, url)

    bootcamp_services.bootcamp_update(
        bootcamp=bootcamp, actor=admin_user, data={"status": Bootcamp.Status.ARCHIVED, "capacity": 12}
    )

    response = admin_web.post(url, {**shown, "location": ["Room 42"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    bootcamp.refresh_from_db()
    assert (bootcamp.status, bootcamp.capacity, bootcamp.location) == ("ARCHIVED", 12, "Room 42")


def browser_post(shown: dict) -> dict:
    """What a browser sends: every newline of every field as CRLF, hidden inputs too."""
    return {
        key: [value.replace("\r\n", "\n").replace("\n", "\r\n") for value in values]
        for key, values in shown.items()
    }


def rendered_form(response) -> dict:
    parser = _FormFields()
    parser.feed(response.content.decode())
    return parser.data


def test_a_field_both_changed_is_refused_naming_what_it_reads_now_and_saving_again_replaces_it(
    admin_web, admin_user
):
    bootcamp = BootcampFactory(capacity=10)
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    shown = page_form(admin_web, url)
    bootcamp_services.bootcamp_update(bootcamp=bootcamp, actor=admin_user, data={"capacity": 12})

    response = admin_web.post(url, {**shown, "capacity": ["20"], "_save": ["Save"]})
    assert response.status_code == 200
    form = response.context["adminform"].form
    [error] = form.errors.as_data()["capacity"]
    assert error.code == "changed_meanwhile"
    assert "it now reads “12”" in error.message % error.params
    bootcamp.refresh_from_db()
    assert bootcamp.capacity == 12

    # The error page, posted as it is rendered (still 20 typed in): 20 replaces 12.
    again = rendered_form(response)
    assert again["capacity"] == ["20"] and again["initial-capacity"] == ["12"]
    response = admin_web.post(url, {**again, "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    bootcamp.refresh_from_db()
    assert bootcamp.capacity == 20


def test_both_changing_a_field_to_the_same_value_is_no_conflict(admin_web, admin_user):
    bootcamp = BootcampFactory(location="Room 1")
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    shown = page_form(admin_web, url)
    bootcamp_services.bootcamp_update(bootcamp=bootcamp, actor=admin_user, data={"location": "Room 2"})
    response = admin_web.post(url, {**shown, "location": ["Room 2"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_a_multiline_field_written_by_the_api_can_be_edited_from_a_fresh_page(admin_web):
    bootcamp = BootcampFactory(description="Line one.\nLine two.")
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    shown = browser_post(page_form(admin_web, url))
    response = admin_web.post(
        url, {**shown, "description": ["Line one.\r\nLine two, edited."], "_save": ["Save"]}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    bootcamp.refresh_from_db()
    assert bootcamp.description.replace("\r\n", "\n") == "Line one.\nLine two, edited."


def test_a_mentor_added_while_an_empty_list_was_shown_is_kept(admin_web, admin_user, make_user):
    bootcamp = BootcampFactory(location="Room 1")
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    shown = page_form(admin_web, url)
    mentor = make_user(User.Role.MENTOR)
    bootcamp_services.bootcamp_update(bootcamp=bootcamp, actor=admin_user, data={"mentors": [mentor]})
    response = admin_web.post(url, {**shown, "location": ["Room 42"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(bootcamp.mentors.all()) == [mentor]


def test_a_location_fix_is_not_refused_for_a_capacity_nobody_changed_on_the_page(
    admin_web, admin_user, make_user
):
    from enrollments.services import enrollment_create

    bootcamp = BootcampFactory(capacity=1, status="PUBLISHED")
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    shown = page_form(admin_web, url)  # capacity 1
    bootcamp_services.bootcamp_update(bootcamp=bootcamp, actor=admin_user, data={"capacity": 3})
    for _ in range(3):
        enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=bootcamp, notify=False)
    response = admin_web.post(url, {**shown, "location": ["Room 42"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    bootcamp.refresh_from_db()
    assert (bootcamp.capacity, bootcamp.location) == (3, "Room 42")


def test_a_score_fix_in_the_admin_keeps_the_feedback_given_meanwhile(admin_web, admin_user):
    from decimal import Decimal

    from assignments import services as assignment_services
    from assignments.tests.factories import SubmissionFactory

    submission = SubmissionFactory()
    assignment_services.submission_grade(
        submission=submission, grader=admin_user, score=Decimal("5"), feedback="First"
    )
    url = f"/admin/assignments/submission/{submission.pk}/change/"
    shown = page_form(admin_web, url)
    assignment_services.submission_grade(
        submission=submission, grader=admin_user, score=Decimal("5"), feedback="Second opinion"
    )
    response = admin_web.post(url, {**shown, "score": ["6"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    submission.refresh_from_db()
    assert (submission.score, submission.feedback) == (6, "Second opinion")


def test_a_multiline_text_saved_from_a_browser_stays_editable(admin_web):
    """A browser's own save stores CRLF: the next edit, from a fresh page, is no conflict."""
    bootcamp = BootcampFactory(description="Line one.\r\nLine two.\r\n\r\nLine four.")
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    for edit in ("Line one.\r\nLine two, edited.", "Line one.\r\nLine two, edited again."):
        shown = browser_post(page_form(admin_web, url))
        response = admin_web.post(url, {**shown, "description": [edit], "_save": ["Save"]})
        assert response.status_code == 302, response.context["adminform"].form.errors
        bootcamp.refresh_from_db()
        assert bootcamp.description.replace("\r\n", "\n") == edit.replace("\r\n", "\n")


def test_raising_capacity_in_the_admin_says_who_it_seated_and_records_it_on_their_enrollment(
    admin_web, admin_user, make_user
):
    from django.contrib.admin.models import LogEntry

    from enrollments.models import Enrollment
    from enrollments.services import enrollment_create

    bootcamp = BootcampFactory(capacity=1, status="PUBLISHED")
    first = enrollment_create(student=make_user(User.Role.STUDENT, full_name="Seated Sam"), bootcamp=bootcamp)
    waiting = enrollment_create(
        student=make_user(User.Role.STUDENT, full_name="Waiting Wendy"), bootcamp=bootcamp
    )
    assert (first.status, waiting.status) == ("ACTIVE", "WAITLISTED")
    url = f"/admin/bootcamps/bootcamp/{bootcamp.pk}/change/"
    response = admin_web.post(
        url, {**page_form(admin_web, url), "capacity": ["2"], "_save": ["Save"]}, follow=True
    )
    assert "Promoted from the waitlist: Waiting Wendy." in [str(m) for m in response.context["messages"]]
    assert Enrollment.objects.get(pk=waiting.pk).status == "ACTIVE"
    entry = LogEntry.objects.get(object_id=str(waiting.pk))
    assert "Promoted from the waitlist (a change to its bootcamp freed a seat)." in entry.get_change_message()
