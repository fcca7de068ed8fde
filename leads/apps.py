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
