"""Clears a follow-up stored within two days of either end of what a datetime
holds (year 1, year 9999). Shown in a time zone on the far side of UTC, such
a moment is outside what a datetime holds and every page showing the lead was
a 500. The service now takes a follow-up only from a day and a half ago to two
years ahead (leads.services); this clears any saved before, typos that no lead
can mean."""

from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.db.models import Q

EDGE = timedelta(days=2)


def clear(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    first = datetime.min.replace(tzinfo=UTC) + EDGE
    last = datetime.max.replace(tzinfo=UTC) - EDGE
    Lead.objects.filter(Q(next_follow_up_at__lt=first) | Q(next_follow_up_at__gt=last)).update(
        next_follow_up_at=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0008_search_text_phone_without_separators"),
    ]

    operations = [
        migrations.RunPython(clear, migrations.RunPython.noop),
    ]
