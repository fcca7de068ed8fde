from django.apps import AppConfig


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        from accounts.signals import user_email_verified, user_role_changing
        from leads.services import lead_link_registered_user, on_user_role_changing

        # Someone who proves the email of an open lead is linked to it; a mere
        # registration isn't, since anyone can register anyone's address.
        def link_registered_user(sender, user, **kwargs):
            lead_link_registered_user(user=user)

        user_email_verified.connect(
            link_registered_user, weak=False, dispatch_uid="leads-link-registered-user"
        )
        # Whoever owns open leads stays in sales until they are given to someone else.
        user_role_changing.connect(on_user_role_changing, dispatch_uid="leads-user-role-changing")

        from accounts.signals import user_still_holds
        from leads.selectors import on_user_still_holds

        # A deactivated owner leaves open leads nobody works: the admin says how many.
        user_still_holds.connect(on_user_still_holds, dispatch_uid="leads-user-still-holds")
