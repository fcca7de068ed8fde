from django.apps import AppConfig


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        from cohortly.counting import connect_signals
        from leads.models import Lead

        # Lead list counts are cached per lead version (cohortly.counting).
        connect_signals(Lead)
