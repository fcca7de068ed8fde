from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from django.db.models.signals import post_delete

        from accounts.models import User
        from cohortly.authentication import user_cache_invalidate

        def forget_deleted_user(sender, instance, **kwargs):
            # A deleted user's access token must stop working at once, not
            # when the cached copy behind it expires.
            user_cache_invalidate(instance.pk)

        post_delete.connect(
            forget_deleted_user, sender=User, weak=False, dispatch_uid="accounts-user-cache-delete"
        )

        from cohortly.caching import unread_by_responses

        # What a login, a logout or a new password writes: no cached response
        # shows or reads it (test_caching holds them to that), so none goes stale.
        unread_by_responses(
            User, "password", "last_login", "token_generation", "ended_sessions", "updated_at"
        )
