from django.apps import AppConfig


class MailConfig(AppConfig):
    """The outbox: every email Cohortly sends or tries, its provider's delivery
    events, and the addresses it no longer mails. Infrastructure like cohortly/:
    it stands on nothing but cohortly/, so every app (accounts included) may use it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "mail"
    verbose_name = "Mail"

    def ready(self):
        from anymail.signals import tracking

        from cohortly.metrics import register_scrape_collector, task_queue_collector
        from mail.metrics import outbox_collector
        from mail.webhooks import record_tracking_event

        tracking.connect(record_tracking_event, weak=False, dispatch_uid="mail-tracking-event")
        # The task queue carries the mail: its depth and failures are read with the outbox.
        register_scrape_collector(task_queue_collector)
        register_scrape_collector(outbox_collector)
