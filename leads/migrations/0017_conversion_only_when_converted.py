"""A lead holds a conversion (student, enrollment, time) only while it is
CONVERTED, in the database too: conversion is final.

Before the importer kept a lead converted in Cohortly converted (2026-12-07), an
import of its changed Node row set the Node status again, with the conversion
left on it: the lead was open (or lost) with its student and enrollment, and
could be converted again into a second enrollment. Such a lead is converted
again here, as the importer now does, with a timeline entry saying so; a
follow-up it had is cleared, as for every converted lead (0012). Not reversed:
the status the import set was the Node backend's, never a decision made here."""

from django.db import migrations, models


def restore_conversions(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    LeadActivity = apps.get_model("leads", "LeadActivity")
    reopened = Lead.objects.exclude(status="CONVERTED").filter(
        models.Q(converted_student__isnull=False)
        | models.Q(converted_enrollment__isnull=False)
        | models.Q(converted_at__isnull=False)
    )
    entries = [
        LeadActivity(
            lead_id=pk,
            kind="STATUS_CHANGE",
            actor=None,
            body=f"{status} → CONVERTED (restored: the lead was converted in Cohortly)",
            data={"from": status, "to": "CONVERTED", "lost_reason": ""},
        )
        for pk, status in reopened.values_list("pk", "status")
    ]
    LeadActivity.objects.bulk_create(entries, batch_size=500)
    reopened.update(status="CONVERTED", lost_reason="", next_follow_up_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0016_lost_reason_only_when_lost"),
    ]

    operations = [
        migrations.RunPython(restore_conversions, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(status="CONVERTED")
                | models.Q(
                    converted_student__isnull=True, converted_enrollment__isnull=True, converted_at__isnull=True
                ),
                name="lead_conversion_only_when_converted",
            ),
        ),
    ]
