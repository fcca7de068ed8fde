"""Two admins saving the same change form at the same moment, with real
concurrent requests at a live server on PostgreSQL (SQLite serialises every
writer, so it proves nothing here)."""

import threading
import time
from html.parser import HTMLParser

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import User
from assignments.models import Submission
from assignments.tests.factories import SubmissionFactory
from cohortly.admin import ChangedSinceShownForm
from cohortly.tests.live_servers import RaceServerThread
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TIMEOUT = 30
#: Long enough for both posts to have checked the form before either saves.
PAUSE = 0.3
REFUSED = "Someone else changed this since you opened the page"


@pytest.fixture
def live(transactional_db, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    with RaceServerThread.running() as thread:
        yield thread.url


class ChangeForm(HTMLParser):
    """What a browser posts back from an admin change form, as the page shows it."""

    def __init__(self):
        super().__init__()
        self.data, self._in_form, self._open = {}, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id", "").endswith("_form"):
            self._in_form = True
        if tag == "option" and self._open and "selected" in attrs:
            self.data[self._open[1]] = attrs.get("value", "")
        if not self._in_form or not attrs.get("name"):
            return
        if tag == "input" and attrs.get("type") == "checkbox":
            if "checked" in attrs:
                self.data[attrs["name"]] = attrs.get("value", "on")
        elif tag == "input" and attrs.get("type") != "submit":
            self.data[attrs["name"]] = attrs.get("value", "")
        elif tag in ("textarea", "select"):
            self._open = (tag, attrs["name"])
            self.data.setdefault(attrs["name"], "")

    def handle_data(self, data):
        if self._open and self._open[0] == "textarea":
            self.data[self._open[1]] += data

    def handle_endtag(self, tag):
        if tag in ("textarea", "select"):
            self._open = None
        elif tag == "form":
            self._in_form = False


def signed_in(user) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(
        django_settings.SESSION_COOKIE_NAME, client.cookies[django_settings.SESSION_COOKIE_NAME].value
    )
    return session


def opened(browsers, url, **typed) -> list[dict]:
    """Each browser opens the change page; admin i types `typed` with {i} filled in."""
    forms = []
    for i, browser in enumerate(browsers):
        page = ChangeForm()
        page.feed(browser.get(url, timeout=TIMEOUT).text)
        forms.append({**page.data, **{k: v.format(i=i) for k, v in typed.items()}, "_save": "Save"})
    return forms


def saved_at_once(browsers, url, forms, monkeypatch) -> list[requests.Response]:
    """Both forms posted at the same moment, each checked slowly enough that
    neither has saved when the other is checked (unless one waits for the other)."""
    clean = ChangedSinceShownForm.clean

    def slow_clean(self):
        cleaned = clean(self)
        time.sleep(PAUSE)
        return cleaned

    monkeypatch.setattr(ChangedSinceShownForm, "clean", slow_clean)
    barrier = threading.Barrier(2)
    responses = [None, None]

    def save(i):
        barrier.wait()
        responses[i] = browsers[i].post(
            url, data=forms[i], headers={"Referer": url}, allow_redirects=False, timeout=TIMEOUT
        )

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(r.status_code for r in responses) == [200, 302], [r.status_code for r in responses]
    return responses


def test_two_admins_saving_one_lead_at_once_are_not_both_saved(live, make_user, monkeypatch):
    """Both pages showed the same name; each admin typed another and saved at the
    same moment. Each save compared its page with the lead as read before either
    wrote, so both were saved, the second over the first, unseen."""
    admins = [make_user(User.Role.ADMIN), make_user(User.Role.ADMIN)]
    lead = LeadFactory(full_name="Nora Lind")
    url = f"{live}/admin/leads/lead/{lead.pk}/change/"
    browsers = [signed_in(admin) for admin in admins]
    forms = opened(browsers, url, full_name="Name by admin {i}")
    assert forms[0]["initial-full_name"] == "Nora Lind"

    responses = saved_at_once(browsers, url, forms, monkeypatch)

    saved = next(i for i, r in enumerate(responses) if r.status_code == 302)
    refused = responses[1 - saved].text
    assert REFUSED in refused and f"Name by admin {saved}" in refused
    assert Lead.objects.get(pk=lead.pk).full_name == f"Name by admin {saved}"


def test_two_admins_saving_one_user_at_once_are_not_both_saved(live, make_user, monkeypatch):
    """The user admin can't hold the user's row before its check (user_update
    locks it with the active admins, in id order): the service checks what the
    page showed again under its own locks."""
    admins = [make_user(User.Role.ADMIN), make_user(User.Role.ADMIN)]
    student = make_user(User.Role.STUDENT, full_name="Nora Lind")
    url = f"{live}/admin/accounts/user/{student.pk}/change/"
    browsers = [signed_in(admin) for admin in admins]
    forms = opened(browsers, url, full_name="Name by admin {i}")
    assert forms[0]["initial-full_name"] == "Nora Lind" and forms[0]["is_active"] == "on"

    responses = saved_at_once(browsers, url, forms, monkeypatch)

    saved = next(i for i, r in enumerate(responses) if r.status_code == 302)
    refused = responses[1 - saved].text
    # Said once, by the form, with what it reads now; saving that page again would replace it.
    assert refused.count(REFUSED) == 1 and f"it now reads “Name by admin {saved}”" in refused
    stored = User.objects.get(pk=student.pk)
    assert (stored.full_name, stored.is_active) == (f"Name by admin {saved}", True)

    # The refused page, saved again as it is shown: its name replaces the other.
    again = ChangeForm()
    again.feed(refused)
    response = browsers[1 - saved].post(
        url,
        data={**again.data, "_save": "Save"},
        headers={"Referer": url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302
    assert User.objects.get(pk=student.pk).full_name == f"Name by admin {1 - saved}"


def test_two_graders_saving_one_grade_at_once_are_not_both_saved(live, make_user, monkeypatch):
    """Both pages showed the work ungraded; each admin gave it a score at the same
    moment, and both grades were saved (and emailed), the second over the first.
    The grade form holds the assignment's row, then the submission's, as grading does."""
    admins = [make_user(User.Role.ADMIN), make_user(User.Role.ADMIN)]
    submission = SubmissionFactory(assignment__max_score=100)
    url = f"{live}/admin/assignments/submission/{submission.pk}/change/"
    browsers = [signed_in(admin) for admin in admins]
    forms = opened(browsers, url, score="1{i}", feedback="Feedback by admin {i}")
    assert forms[0]["initial-score"] == ""

    responses = saved_at_once(browsers, url, forms, monkeypatch)

    saved = next(i for i, r in enumerate(responses) if r.status_code == 302)
    refused = responses[1 - saved].text
    assert REFUSED in refused and f"Feedback by admin {saved}" in refused
    stored = Submission.objects.get(pk=submission.pk)
    assert (stored.score, stored.feedback, stored.graded_by_id) == (
        10 + saved,
        f"Feedback by admin {saved}",
        admins[saved].pk,
    )


def test_a_change_form_saved_while_its_row_stays_held_says_busy_not_500(transactional_db, admin_user):
    """The change form holds the row while it saves (hold_row_while_saving): a row
    held elsewhere past LOCK_TIMEOUT is Busy, and the second pass that shows the
    page again with the refusal waited for the same lock, and its Busy was a 500."""
    from django.db import connections, transaction

    from cohortly.tests.test_admin_stale_forms import page_form

    lead = LeadFactory(full_name="Held Lead")
    client = Client()
    client.force_login(admin_user)
    url = f"/admin/leads/lead/{lead.pk}/change/"
    shown = page_form(client, url)
    shown["full_name"] = "Renamed Lead"
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Lead.objects.select_for_update().get(pk=lead.pk)
                held.set()
                release.wait(TIMEOUT)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(TIMEOUT)
        response = client.post(url, shown, follow=True)
    finally:
        release.set()
        holder.join(TIMEOUT)
    assert response.status_code == 200
    assert "This is being changed by someone else right now" in response.content.decode()
    lead.refresh_from_db()
    assert lead.full_name == "Held Lead"
