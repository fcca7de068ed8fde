from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with Cohortly's site as the default one (admin.site)."""

    default_site = "cohortly.admin_site.AdminSite"


class CohortlyConfig(AppConfig):
    """The project's own app: its abstract models, and the response cache's
    write tracking (cohortly.caching), connected once the models are loaded."""

    name = "cohortly"

    def ready(self):
        import logging

        from cohortly import checks  # noqa: F401 (registers the system checks)
        from cohortly.caching import connect_signals

        connect_signals()
        # Python's warnings through logging ("py.warnings"), in the format of every
        # other line (LOG_FORMAT), instead of printed bare beside them.
        logging.captureWarnings(True)
