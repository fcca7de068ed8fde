"""A lead converted at the moment its prospect proves their address, with real
concurrent requests at a live server on PostgreSQL (SQLite serialises every
writer, so it proves nothing here)."""

import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from bootcamps.tests.factories import BootcampFactory
from cohortly.tests.live_servers import RaceServerThread, race
from enrollments.models import Enrollment
from leads import services as lead_services
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TIMEOUT = 60
#: Long enough for each request to take its first lock before the other asks for it.
PAUSE = 0.5


@pytest.fixture
def race_server(transactional_db):
    with RaceServerThread.running() as thread:
        yield thread


def test_converting_a_lead_while_its_prospect_confirms_their_address_is_no_deadlock(
    race_server, make_user, monkeypatch
):
    """The prospect registered and clicks the welcome email's link while a rep
    converts their lead. The verification locked the user, then (linking the
    lead) the lead; the conversion locked the lead, then the user it enrolls:
    each waited for the other, and PostgreSQL rolled one back (a 500)."""
    sales = make_user(User.Role.SALES)
    bootcamp = BootcampFactory(capacity=5)
    student = UserFactory(email="prospect@example.com", email_verified_at=None)
    lead = LeadFactory(email="prospect@example.com", status=Lead.Status.CONTACTED)
    link = parse_qs(urlsplit(account_services.email_verification_link(student)).query)

    # Each request holds its first lock a while, so that both hold one before either asks for the other's.
    invalidate, lock = account_services.user_cache_invalidate, lead_services._lock

    def slow_invalidate(pk):
        invalidate(pk)
        time.sleep(PAUSE)

    def slow_lock(held):
        held = lock(held)
        time.sleep(PAUSE)
        return held

    monkeypatch.setattr(account_services, "user_cache_invalidate", slow_invalidate)
    monkeypatch.setattr(lead_services, "_lock", slow_lock)
    sales_auth = {"Authorization": f"Bearer {RefreshToken.for_user(sales).access_token}"}

    responses = race(
        [
            lambda s: s.post(
                f"{race_server.url}/api/v1/auth/verify-email",
                json={"uid": link["uid"][0], "token": link["token"][0], "password": DEFAULT_PASSWORD},
                timeout=TIMEOUT,
            ),
            lambda s: s.post(
                f"{race_server.url}/api/v1/leads/{lead.pk}/convert/",
                json={"bootcamp": bootcamp.pk},
                headers=sales_auth,
                timeout=TIMEOUT,
            ),
        ]
    )

    codes = [r.status_code if isinstance(r, requests.Response) else repr(r) for r in responses]
    assert codes == [204, 200], [getattr(r, "text", r) for r in responses]
    student.refresh_from_db()
    lead.refresh_from_db()
    assert student.email_verified_at is not None
    assert lead.status == Lead.Status.CONVERTED and lead.converted_student == student
    assert Counter(Enrollment.objects.filter(student=student).values_list("status", flat=True)) == {
        "ACTIVE": 1
    }
