from django.apps import AppConfig


class LegacyConfig(AppConfig):
    """Moving in from the Node.js backend: the importer, its bcrypt hashes and its tokens."""

    name = "legacy"
    verbose_name = "Legacy import"
