"""A sales form sent twice (a double click, a browser's retry) is acted on once
(leads.submit_once): one note, one status change, one confirmation email."""

import io
import re
import threading
from datetime import timedelta

import pytest
import requests
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from cohortly.tests.live_servers import RaceServerThread
from leads import submit_once
from leads.models import Lead, LeadActivity, SentForm
from leads.services import lead_capture
from leads.tests.factories import BootcampFactory
from leads.tests.test_views import action, detail, follow_redirect_page, text
from mail.models import OutboundEmail

pytestmark = pytest.mark.django_db

Kind = LeadActivity.Kind
TOKEN = re.compile(rf'name="{submit_once.FIELD}" value="([^"]+)"')


@pytest.fixture
def sales(sales_user, client):
    client.force_login(sales_user)
    return client


@pytest.fixture
def lead():
    lead, _ = lead_capture(
        full_name="Nora Lind",
        email="nora@example.org",
        source=Lead.Source.REFERRAL,
        bootcamp=BootcampFactory(title="Full-Stack Web"),
    )
    return lead


def tokens(response) -> list[str]:
    return TOKEN.findall(response.content.decode())


def test_every_form_of_the_lead_page_carries_a_token_of_its_own(sales, lead):
    page = sales.get(detail(lead))
    found = tokens(page)
    # note, status, owner, assign to me, follow-up, convert
    assert len(found) == 6 and len(set(found)) == 6
    assert set(found).isdisjoint(tokens(sales.get(detail(lead)))), "a new token each time the page is shown"
    assert len(tokens(sales.get("/sales/leads/new/"))) == 1


def test_a_note_sent_twice_is_added_once_and_the_second_lands_where_the_first_did(sales, lead):
    (token, *_) = tokens(sales.get(detail(lead)))
    form = {"body": "Called, she wants the evening class.", submit_once.FIELD: token}
    first = sales.post(action(lead, "notes"), form)
    second = sales.post(action(lead, "notes"), form)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"] == detail(lead) + "#timeline"
    assert lead.activities.filter(kind=Kind.NOTE).count() == 1
    page = text(follow_redirect_page(sales, second))
    assert submit_once.REPEAT_DONE in page
    # A new page's form is a new note, the same words or not.
    (token, *_) = tokens(sales.get(detail(lead)))
    assert sales.post(action(lead, "notes"), {**form, submit_once.FIELD: token}).status_code == 302
    assert lead.activities.filter(kind=Kind.NOTE).count() == 2


def test_a_status_change_sent_twice_carries_its_note_once(sales, lead):
    page = sales.get(detail(lead))
    token = re.search(
        rf'id="status_form".*?name="{submit_once.FIELD}" value="([^"]+)"', page.content.decode(), re.S
    ).group(1)
    form = {"status": "CONTACTED", "seen": "NEW", "body": "Called, interested.", submit_once.FIELD: token}
    responses = [sales.post(action(lead, "status"), form) for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONTACTED
    assert list(lead.activities.filter(kind=Kind.NOTE).values_list("body", flat=True)) == [
        "Called, interested."
    ]
    assert lead.activities.filter(kind=Kind.STATUS_CHANGE).count() == 1


def test_a_new_lead_sent_twice_is_one_lead_with_one_confirmation_email(sales, sales_user):
    (token,) = tokens(sales.get("/sales/leads/new/"))
    form = {
        "full_name": "Dana Double",
        "email": "dana@example.com",
        "source": "EVENT",
        "owner": str(sales_user.pk),
        submit_once.FIELD: token,
    }
    first, second = (sales.post("/sales/leads/new/", form) for _ in range(2))
    (lead,) = Lead.objects.filter(email="dana@example.com")
    assert first["Location"] == second["Location"] == detail(lead)
    assert lead.activities.count() == 1  # CREATED, once
    assert OutboundEmail.objects.filter(to="dana@example.com").count() == 1


def test_a_form_refused_lets_go_of_its_token(sales, lead):
    """Nothing was done, so the same form sent again (fixed) is done."""
    (token, *_) = tokens(sales.get(detail(lead)))
    refused = sales.post(action(lead, "notes"), {"body": "  ", submit_once.FIELD: token})
    assert refused.status_code == 200 and "Nothing was saved" in text(refused)
    saved = sales.post(action(lead, "notes"), {"body": "Second try.", submit_once.FIELD: token})
    assert saved.status_code == 302
    assert list(lead.activities.filter(kind=Kind.NOTE).values_list("body", flat=True)) == ["Second try."]


def test_a_repeat_waits_for_the_first_and_says_so_when_it_is_still_being_saved(
    sales, sales_user, lead, monkeypatch
):
    monkeypatch.setattr(submit_once, "WAIT_SECONDS", 0.2)
    (token, *_) = tokens(sales.get(detail(lead)))
    form = {"body": "Called.", submit_once.FIELD: token}
    sent = RequestFactory().post(action(lead, "notes"), form)
    SentForm.objects.create(
        user=sales_user, token=token, digest=submit_once._digest(sent)
    )  # the first, under way
    response = sales.post(action(lead, "notes"), form)
    assert response.status_code == 302 and response["Location"] == detail(lead) + "#timeline"
    assert not lead.activities.filter(kind=Kind.NOTE).exists()
    assert submit_once.REPEAT_PENDING in text(follow_redirect_page(sales, response))


def test_a_claim_abandoned_long_ago_is_taken_back_not_refused_for_a_day(sales, sales_user, lead):
    """Its worker was killed, or its database connection lost before it could let
    go: the same form sent again waited, said "still being saved" and did nothing,
    until housekeeping a day later."""
    (token, *_) = tokens(sales.get(detail(lead)))
    form = {"body": "Called.", submit_once.FIELD: token}
    sent = RequestFactory().post(action(lead, "notes"), form)
    SentForm.objects.create(
        user=sales_user,
        token=token,
        digest=submit_once._digest(sent),
        created_at=timezone.now() - submit_once.ABANDONED_AFTER - timedelta(seconds=1),
    )
    response = sales.post(action(lead, "notes"), form)
    assert response.status_code == 302
    assert submit_once.REPEAT_PENDING not in text(follow_redirect_page(sales, response))
    assert list(lead.activities.filter(kind=Kind.NOTE).values_list("body", flat=True)) == ["Called."]
    assert SentForm.objects.get().outcome == detail(lead) + "#timeline"


def test_a_request_that_fails_lets_go_of_its_claim_and_the_form_can_be_sent_again(sales, lead, monkeypatch):
    from leads import views

    def fail(**kwargs):
        raise RuntimeError("the database went away")

    (token, *_) = tokens(sales.get(detail(lead)))
    form = {"body": "Called.", submit_once.FIELD: token}
    with monkeypatch.context() as patch:
        patch.setattr(views, "lead_add_note", fail)
        sales.raise_request_exception = False
        assert sales.post(action(lead, "notes"), form).status_code == 500
    assert not SentForm.objects.exists()
    assert sales.post(action(lead, "notes"), form).status_code == 302
    assert lead.activities.filter(kind=Kind.NOTE).count() == 1


def test_tokens_are_per_user(sales, lead, admin_user):
    (token, *_) = tokens(sales.get(detail(lead)))
    form = {"body": "From the sales rep.", submit_once.FIELD: token}
    assert sales.post(action(lead, "notes"), form).status_code == 302
    admin = Client()
    admin.force_login(admin_user)
    assert admin.post(action(lead, "notes"), form).status_code == 302
    assert lead.activities.filter(kind=Kind.NOTE).count() == 2


def test_the_same_form_saying_something_else_is_a_new_form(sales, lead):
    """A page the browser restored with its token, its note then edited: not a repeat."""
    (token, *_) = tokens(sales.get(detail(lead)))
    for body in ("First call.", "Second call."):
        response = sales.post(action(lead, "notes"), {"body": body, submit_once.FIELD: token})
        assert response.status_code == 302
        assert submit_once.REPEAT_DONE not in text(follow_redirect_page(sales, response))
    assert sorted(lead.activities.filter(kind=Kind.NOTE).values_list("body", flat=True)) == [
        "First call.",
        "Second call.",
    ]


def test_without_a_token_forms_work_as_before(sales, lead):
    form = {"body": "No token."}
    assert [sales.post(action(lead, "notes"), form).status_code for _ in range(2)] == [302, 302]
    assert lead.activities.filter(kind=Kind.NOTE, body="No token.").count() == 2
    assert not SentForm.objects.exists()


def test_claims_are_kept_a_day_then_housekeeping_deletes_them(sales, lead):
    (token, *_) = tokens(sales.get(detail(lead)))
    assert sales.post(action(lead, "notes"), {"body": "Kept.", submit_once.FIELD: token}).status_code == 302
    (claim,) = SentForm.objects.all()
    assert claim.outcome == detail(lead) + "#timeline"
    out = io.StringIO()
    call_command("housekeeping", stdout=out)
    assert (
        SentForm.objects.exists()
        and "Sales forms acted on more than a day ago (a repeat of one is new by then): 0 deleted"
        in out.getvalue()
    )
    SentForm.objects.update(created_at=timezone.now() - submit_once.KEEP - timedelta(minutes=1))
    call_command("housekeeping", stdout=out)
    assert not SentForm.objects.exists()


# --- A real double click: two requests at once ---------------------------------------


@pytest.fixture
def live(transactional_db):
    with RaceServerThread.running() as thread:
        yield thread.url


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_posts_at_once_add_one_note(live, sales_user, lead, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    browser = Client()
    browser.force_login(sales_user)
    cookies = {
        django_settings.SESSION_COOKIE_NAME: browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    }
    with requests.Session() as session:
        page = session.get(f"{live}{detail(lead)}", cookies=cookies, timeout=30)
        csrf = session.cookies["csrftoken"]
        token = TOKEN.search(page.text).group(1)
    form = {"csrfmiddlewaretoken": csrf, "body": "Double click.", submit_once.FIELD: token}
    barrier = threading.Barrier(2)
    results = [None, None]

    def click(i):
        with requests.Session() as session:
            session.cookies.update({**cookies, "csrftoken": csrf})
            barrier.wait()
            results[i] = session.post(
                f"{live}{action(lead, 'notes')}",
                data=form,
                headers={"Referer": f"{live}{detail(lead)}"},
                allow_redirects=False,
                timeout=30,
            )

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status_code for r in results] == [302, 302], [r.text[:300] for r in results]
    assert {r.headers["Location"] for r in results} == {detail(lead) + "#timeline"}
    assert lead.activities.filter(kind=Kind.NOTE).count() == 1
