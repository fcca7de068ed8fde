"""Clears the follow-up of every converted lead, with a timeline entry saying so.
Conversion now clears it (leads.services.lead_convert) and a converted lead takes
none; leads converted before kept theirs, listed as due for a student."""

from datetime import UTC

from django.db import migrations


def clear(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    LeadActivity = apps.get_model("leads", "LeadActivity")
    converted = Lead.objects.filter(status="CONVERTED", next_follow_up_at__isnull=False)
    entries = [
        LeadActivity(
            lead_id=pk,
            kind="FOLLOW_UP_CHANGE",
            actor=None,
            body=f"Follow-up: {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC → — (cleared: the lead is converted)",
            data={"from": when.isoformat(), "to": None},
        )
        for pk, when in converted.values_list("pk", "next_follow_up_at")
    ]
    LeadActivity.objects.bulk_create(entries, batch_size=500)
    converted.update(next_follow_up_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0011_visible_names_no_direction_overrides"),
    ]

    operations = [
        migrations.RunPython(clear, migrations.RunPython.noop, elidable=True),
    ]
