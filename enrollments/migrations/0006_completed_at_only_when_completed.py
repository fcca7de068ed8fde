"""An enrollment has a completed_at only while it is COMPLETED, in the database
too. Safe on existing rows: since the field was added (0005) the service, the
importer and the demo data have set it exactly when the status is COMPLETED."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollments', '0005_enrollment_completed_at'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='enrollment',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'COMPLETED'), ('completed_at__isnull', True), _connector='OR'), name='enrollment_completed_at_only_when_completed'),
        ),
    ]
