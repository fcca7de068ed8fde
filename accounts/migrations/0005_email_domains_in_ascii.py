"""Stores each internationalised email domain in its ASCII (IDNA) form, as
normalize_email now writes it: "zoe@exämple.com" becomes "zoe@xn--exmple-cua.com",
the spelling mail is sent to and SendGrid reports on, so one mailbox can't hold
two accounts. An address whose ASCII form another account already has is left
as it is and named in the output, for an admin to settle."""

from django.db import migrations

from mail.selectors import normalize


def to_ascii(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for pk, email in User.objects.values_list("pk", "email").iterator():
        if email.isascii() or (ascii_email := normalize(email)) == email:
            continue
        if User.objects.filter(email__iexact=ascii_email).exclude(pk=pk).exists():
            print(f"\n  accounts: {email} left as it is: {ascii_email} is another account's")
            continue
        User.objects.filter(pk=pk).update(email=ascii_email)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_sessions_and_verified_email"),
    ]

    operations = [
        migrations.RunPython(to_ascii, migrations.RunPython.noop, elidable=True),
    ]
