from django.apps import AppConfig


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        from accounts.signals import user_email_verified
        from leads.services import lead_link_registered_user

        # Someone who proves the email of an open lead is linked to it; a mere
        # registration isn't, since anyone can register anyone's address.
        def link_registered_user(sender, user, **kwargs):
            lead_link_registered_user(user=user)

        user_email_verified.connect(
            link_registered_user, weak=False, dispatch_uid="leads-link-registered-user"
        )
