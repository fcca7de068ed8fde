from django.apps import AppConfig


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        from bootcamps.models import Bootcamp
        from cohortly.counting import connect_signals
        from leads.models import Lead

        # Lead lists are counted and compiled per version of leads and of
        # bootcamps (the bootcamp filter checks the bootcamp exists).
        connect_signals(Lead, Bootcamp)

        from accounts.signals import user_registered
        from leads.services import lead_link_registered_user

        def link_registered_user(sender, user, **kwargs):
            lead_link_registered_user(user=user)

        user_registered.connect(link_registered_user, weak=False, dispatch_uid="leads-link-registered-user")
