"""A lead's email is stored lower-cased, in the database too: the one open lead
per email (lead_one_open_per_email) compares emails as stored, so a mixed-case
copy written by a raw write or a bug would be a second open lead that no lookup
(email=normalize_email(...)) finds. Safe on existing rows: every writer has
stored normalize_email's lower-cased form since leads existed (the services, the
admin through them, the importer, the demo and scale data)."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0017_conversion_only_when_converted'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='lead',
            constraint=models.CheckConstraint(condition=models.Q(('email', django.db.models.functions.text.Lower('email'))), name='lead_email_lower_case'),
        ),
    ]
