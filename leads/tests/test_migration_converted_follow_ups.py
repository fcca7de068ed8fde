"""leads 0012: converted leads' follow-ups are cleared, each with a timeline entry."""

import datetime
import importlib

import pytest
from django.apps import apps

from leads.models import Lead, LeadActivity
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("leads.migrations.0012_clear_follow_ups_of_converted_leads")


def test_converted_leads_lose_their_follow_up_and_say_so():
    when = datetime.datetime(2027, 1, 14, 15, 29, tzinfo=datetime.UTC)
    converted = LeadFactory(
        status="CONVERTED", legacy_id="6b1f0f7e-3c2a-4b8e-9a51-0d7f3e2c1a90", next_follow_up_at=when
    )
    open_lead = LeadFactory(next_follow_up_at=when)

    migration.clear(apps, None)

    assert Lead.objects.get(pk=converted.pk).next_follow_up_at is None
    assert Lead.objects.get(pk=open_lead.pk).next_follow_up_at == when
    entry = LeadActivity.objects.get(lead=converted)
    assert (entry.kind, entry.actor, entry.data) == (
        "FOLLOW_UP_CHANGE",
        None,
        {"from": when.isoformat(), "to": None},
    )
    assert entry.body == "Follow-up: 2027-01-14 15:29 UTC → — (cleared: the lead is converted)"
    assert not LeadActivity.objects.filter(lead=open_lead).exists()
