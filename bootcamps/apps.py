from django.apps import AppConfig


class BootcampsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bootcamps"

    def ready(self):
        from bootcamps.metrics import seats_left_collector
        from cohortly.metrics import register_scrape_collector

        register_scrape_collector(seats_left_collector)

        from accounts.signals import user_role_changing
        from bootcamps.services import on_user_role_changing

        # An instructor or mentor on a bootcamp's staff keeps that role.
        user_role_changing.connect(on_user_role_changing, dispatch_uid="bootcamps-user-role-changing")

        from accounts.signals import user_still_holds
        from bootcamps.selectors import on_user_still_holds

        # A deactivated instructor or mentor leaves a bootcamp without them: the admin says which.
        user_still_holds.connect(on_user_still_holds, dispatch_uid="bootcamps-user-still-holds")
