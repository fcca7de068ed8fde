from django.apps import AppConfig


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        from accounts.signals import user_registered
        from leads.services import lead_link_registered_user

        # Someone who registers with the email of an open lead is linked to it.
        def link_registered_user(sender, user, **kwargs):
            lead_link_registered_user(user=user)

        user_registered.connect(link_registered_user, weak=False, dispatch_uid="leads-link-registered-user")
