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


class LegacyUserState(models.Model):
    """What `import_legacy` last brought over of an imported user that the user row
    doesn't say: the Node password hash (the row may hold the Argon2 one a login
    upgraded it to), and which of the Node backend's tokens still stand for the user.

    A Node token carries no token generation. It stands for the user while the
    user's generation is `token_generation` (a logout-all in Cohortly moves it on)
    and it was issued at or after `tokens_issued_since` (a password change or a
    deactivation in the Node backend, which ended the user's sessions here).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="legacy_state"
    )
    password_hash = models.CharField(max_length=128, help_text="The bcrypt hash the Node backend holds.")
    token_generation = models.PositiveIntegerField(default=0)
    tokens_issued_since = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Node state of {self.user_id}"
