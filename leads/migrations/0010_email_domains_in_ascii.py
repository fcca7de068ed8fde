"""Leads' internationalised email domains in their ASCII (IDNA) form, as
normalize_email now writes them (accounts 0005). An open lead whose ASCII form
another open lead already has is left as it is and named in the output."""

from django.db import migrations

from mail.selectors import normalize

OPEN = ["NEW", "CONTACTED", "QUALIFIED"]


def to_ascii(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    for pk, email, status in Lead.objects.values_list("pk", "email", "status").iterator():
        if email.isascii() or (ascii_email := normalize(email)) == email:
            continue
        if status in OPEN and Lead.objects.filter(email=ascii_email, status__in=OPEN).exclude(pk=pk).exists():
            print(f"\n  leads: lead {pk}'s {email} left as it is: {ascii_email} is another open lead's")
            continue
        Lead.objects.filter(pk=pk).update(email=ascii_email)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0009_clear_follow_ups_at_the_ends_of_time"),
    ]

    operations = [
        migrations.RunPython(to_ascii, migrations.RunPython.noop, elidable=True),
    ]
