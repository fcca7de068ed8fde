from django.apps import AppConfig


class BootcampsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bootcamps"

    def ready(self):
        from bootcamps.metrics import seats_left_collector
        from cohortly.metrics import register_scrape_collector

        register_scrape_collector(seats_left_collector)
