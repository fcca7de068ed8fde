"""Locations stored before the title rule (cohortly.models.title_validator) made
showable: control characters and text-direction overrides become a space."""

from django.db import migrations

from cohortly.models import showable


def make_showable(apps, schema_editor):
    Bootcamp = apps.get_model("bootcamps", "Bootcamp")
    for pk, location in Bootcamp.objects.exclude(location="").values_list("pk", "location").iterator():
        if (fixed := showable(location)) != location:
            Bootcamp.objects.filter(pk=pk).update(location=fixed)


class Migration(migrations.Migration):
    dependencies = [
        ("bootcamps", "0006_location_no_direction_overrides"),
    ]

    operations = [
        migrations.RunPython(make_showable, migrations.RunPython.noop, elidable=True),
    ]
