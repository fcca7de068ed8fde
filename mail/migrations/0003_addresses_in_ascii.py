"""The outbox's and the suppression list's internationalised domains in their
ASCII (IDNA) form, as mail.selectors.normalize now writes them. A suppression
whose ASCII form is already suppressed is the same mailbox: the copy goes."""

from django.db import migrations

from mail.selectors import normalize


def to_ascii(apps, schema_editor):
    OutboundEmail = apps.get_model("mail", "OutboundEmail")
    SuppressedAddress = apps.get_model("mail", "SuppressedAddress")
    for pk, address in SuppressedAddress.objects.values_list("pk", "address").iterator():
        if address.isascii() or (ascii_address := normalize(address)) == address:
            continue
        if SuppressedAddress.objects.filter(address=ascii_address).exists():
            SuppressedAddress.objects.filter(pk=pk).delete()
        else:
            SuppressedAddress.objects.filter(pk=pk).update(address=ascii_address)
    for pk, to in OutboundEmail.objects.values_list("pk", "to").iterator():
        if not to.isascii() and (ascii_to := normalize(to)) != to:
            OutboundEmail.objects.filter(pk=pk).update(to=ascii_to)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0002_created_at_default"),
    ]

    operations = [
        migrations.RunPython(to_ascii, migrations.RunPython.noop, elidable=True),
    ]
