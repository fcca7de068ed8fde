"""The data migrations that make names and locations stored before today's rules
showable (accounts 0007, leads 0013, bootcamps 0007): each row's later edits
must not be refused for them."""

import importlib

import pytest
from django.apps import apps

from accounts.models import User
from accounts.tests.factories import UserFactory
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory
from leads.models import Lead
from leads.services import lead_update
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def run(app, name):
    importlib.import_module(f"{app}.migrations.{name}").make_showable(apps, None)


def test_stored_names_and_locations_become_showable_and_editable_again():
    flipped, invisible, fine = (
        UserFactory(),
        UserFactory(email="zw@example.com"),
        UserFactory(full_name="Zoë"),
    )
    User.objects.filter(pk=flipped.pk).update(full_name="Ada\u202eLovelace")
    User.objects.filter(pk=invisible.pk).update(full_name="\u200b\u200b")
    lead = LeadFactory(email="nora@example.org")
    Lead.objects.filter(pk=lead.pk).update(full_name="\u2066Nora\u2069")
    camp = BootcampFactory()
    Bootcamp.objects.filter(pk=camp.pk).update(location="Berlin\u202e")

    run("accounts", "0007_names_made_showable")
    run("leads", "0013_names_made_showable")
    run("bootcamps", "0007_locations_made_showable")

    names = dict(User.objects.values_list("pk", "full_name"))
    assert (names[flipped.pk], names[invisible.pk], names[fine.pk]) == ("Ada Lovelace", "zw", "Zoë")
    assert Lead.objects.get(pk=lead.pk).full_name == "Nora"
    assert Bootcamp.objects.get(pk=camp.pk).location == "Berlin"
    # The lead's status can change again (its name was refused by every full_clean).
    lead_update(lead=Lead.objects.get(pk=lead.pk), actor=None, data={"status": "CONTACTED"})
