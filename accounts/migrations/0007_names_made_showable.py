"""Users' names stored before the name rule (cohortly.models.name_validator) made
showable, so that a later edit of the account isn't refused for them."""

from django.db import migrations

from cohortly.models import make_names_showable


def make_showable(apps, schema_editor):
    if changed := make_names_showable(apps.get_model("accounts", "User"), fallback="User"):
        print(f"\n  accounts: {changed} name(s) made showable")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_visible_names_no_direction_overrides")]
    operations = [migrations.RunPython(make_showable, migrations.RunPython.noop, elidable=True)]
