from django.conf import settings
from django.db import models


class LegacyRefreshToken(models.Model):
    """A refresh token the Node backend issued, by its SHA-256, as `import_legacy` found it.

    Posted to /api/v1/auth/refresh while LEGACY_* is configured, it is exchanged
    once for a Cohortly pair: `spent_at` is set in the same UPDATE that checks it.
    """

    legacy_id = models.UUIDField(unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 hex of the token.")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Logged out in the Node backend.")
    created_at = models.DateTimeField()
    spent_at = models.DateTimeField(
        null=True, blank=True, help_text="Exchanged for a Cohortly pair; it can't be used again."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Node refresh token of {self.user_id} (expires {self.expires_at:%Y-%m-%d})"
