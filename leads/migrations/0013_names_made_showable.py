"""Leads' names stored before the name rule (cohortly.models.name_validator) made
showable, so that a later change of the lead (its status, on the sales pages)
isn't refused for them."""

from django.db import migrations

from cohortly.models import make_names_showable


def make_showable(apps, schema_editor):
    if changed := make_names_showable(apps.get_model("leads", "Lead"), fallback="Lead"):
        print(f"\n  leads: {changed} name(s) made showable")


class Migration(migrations.Migration):
    dependencies = [("leads", "0012_clear_follow_ups_of_converted_leads")]
    operations = [migrations.RunPython(make_showable, migrations.RunPython.noop, elidable=True)]
