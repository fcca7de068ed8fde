"""Two reps saving the same lead's page at the same moment, with real concurrent
requests at a live server on PostgreSQL (SQLite serialises every writer)."""

import re
import threading
import time

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import User
from cohortly.tests.live_servers import RaceServerThread
from leads import views
from leads.models import Lead, LeadActivity
from leads.services import lead_capture
from leads.submit_once import FIELD
from leads.tests.test_views import action, detail

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TIMEOUT = 30
#: Long enough for both requests to have checked the lead before either saves.
PAUSE = 0.3


@pytest.fixture
def live(transactional_db, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    with RaceServerThread.running() as thread:
        yield thread.url


def browser(live, user, lead) -> tuple[requests.Session, dict]:
    """A signed-in browser on the lead's page, and the owner form's hidden fields."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(
        django_settings.SESSION_COOKIE_NAME, client.cookies[django_settings.SESSION_COOKIE_NAME].value
    )
    page = session.get(f"{live}{detail(lead)}", timeout=TIMEOUT).text
    owner_form = page[page.index(f'action="{action(lead, "owner")}"') :]
    token = re.search(rf'name="{FIELD}" value="([^"]+)"', owner_form).group(1)
    return session, {"csrfmiddlewaretoken": session.cookies["csrftoken"], FIELD: token}


def test_two_reps_assigning_a_new_lead_to_themselves_at_once_are_not_both_told_it_is_theirs(
    live, make_user, monkeypatch
):
    """Every rep is emailed a new lead; two click "Assign to me" at once. Both
    pages showed it unassigned, so both passed the check of what the page showed:
    both were told the lead was theirs, and the second overwrote the first."""
    ana = make_user(User.Role.SALES, full_name="Ana Seller")
    ben = make_user(User.Role.SALES, full_name="Ben Seller")
    lead, _ = lead_capture(full_name="Nora Lind", email="nora@example.org")
    browsers = [(browser(live, rep, lead), rep) for rep in (ana, ben)]

    check = views.LeadActionView.changed_meanwhile

    def slow_check(self, lead, form):
        said = check(self, lead, form)
        time.sleep(PAUSE)
        return said

    monkeypatch.setattr(views.LeadActionView, "changed_meanwhile", slow_check)
    barrier = threading.Barrier(2)
    responses = [None, None]

    def assign_to_me(i):
        (session, hidden), rep = browsers[i]
        barrier.wait()
        responses[i] = session.post(
            f"{live}{action(lead, 'owner')}",
            data={**hidden, "owner": rep.pk, "seen": ""},
            headers={"Referer": f"{live}{detail(lead)}"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    threads = [threading.Thread(target=assign_to_me, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)

    assert sorted(r.status_code for r in responses) == [200, 302], [r.status_code for r in responses]
    lead.refresh_from_db()
    winner = lead.owner
    loser = next(rep for rep in (ana, ben) if rep != winner)
    told = responses[[ana, ben].index(loser)].text
    assert f"While this page was open, {winner.full_name} changed the owner to {winner.full_name}." in told
    assert list(
        lead.activities.filter(kind=LeadActivity.Kind.OWNER_CHANGE).values_list("actor", flat=True)
    ) == [winner.pk]
    assert Lead.objects.get(pk=lead.pk).owner == winner
