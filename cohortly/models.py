from django.db import models
from django.utils import timezone

#: The largest id a bigint primary key holds.
MAX_ID = 2**63 - 1


class TimeStampedModel(models.Model):
    """created_at / updated_at for every business record.

    created_at is a default rather than auto_now_add so that an import can keep
    a row's original creation time (auto_now_add overwrites whatever is set).
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ImportedFromLegacy(models.Model):
    """Where a row came from when `import_legacy` brought it over from the Node backend.

    Empty on rows created in Cohortly, which the importer never touches.
    """

    legacy_id = models.UUIDField(
        null=True, blank=True, unique=True, editable=False, help_text="The row's id in the Node backend."
    )
    legacy_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The row's updated_at in the Node backend when it was last imported.",
    )

    class Meta:
        abstract = True
