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
        if tag == "input" and attrs.get("type") not in ("submit", "checkbox"):
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


def test_two_admins_saving_one_lead_at_once_are_not_both_saved(live, make_user, monkeypatch):
    """Both pages showed the same name; each admin typed another and saved at the
    same moment. Each save compared its page with the lead as read before either
    wrote, so both were saved, the second over the first, unseen."""
    admins = [make_user(User.Role.ADMIN), make_user(User.Role.ADMIN)]
    lead = LeadFactory(full_name="Nora Lind")
    url = f"{live}/admin/leads/lead/{lead.pk}/change/"
    browsers = [signed_in(admin) for admin in admins]
    forms = []
    for i, browser in enumerate(browsers):
        page = ChangeForm()
        page.feed(browser.get(url, timeout=TIMEOUT).text)
        forms.append({**page.data, "full_name": f"Name by admin {i}", "_save": "Save"})
    assert forms[0]["initial-full_name"] == "Nora Lind"

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
    saved = next(i for i, r in enumerate(responses) if r.status_code == 302)
    refused = responses[1 - saved].text
    assert REFUSED in refused and f"Name by admin {saved}" in refused
    assert Lead.objects.get(pk=lead.pk).full_name == f"Name by admin {saved}"
