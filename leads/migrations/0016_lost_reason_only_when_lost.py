"""A lead holds a lost reason only while it is LOST, in the database too. Safe
on existing rows: every writer has cleared the reason when a lead leaves LOST
since leads existed (leads.services, the importer's "" for any other status)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0015_email_domain_mailable'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='lead',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'LOST'), ('lost_reason', ''), _connector='OR'), name='lead_lost_reason_only_when_lost'),
        ),
    ]
