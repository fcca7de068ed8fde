from django.db import models

#: The largest id a bigint primary key holds.
MAX_ID = 2**63 - 1


class TimeStampedModel(models.Model):
    """created_at / updated_at for every business record."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
