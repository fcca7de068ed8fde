"""System checks for what starts cleanly and then fails people quietly.

`manage.py check --deploy` (and the release step's migrate, for the errors)
reports them; each was found running the documented production setup."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string


@register(Tags.compatibility)
def check_email_backend(app_configs=None, **kwargs):
    """An EMAIL_BACKEND that doesn't import failed only each email, as it was sent."""
    try:
        import_string(settings.EMAIL_BACKEND)
    except ImportError as exc:
        return [
            Error(
                f"EMAIL_BACKEND {settings.EMAIL_BACKEND!r} can't be imported ({exc}).",
                hint="Check its spelling, e.g. anymail.backends.sendgrid.EmailBackend.",
                id="cohortly.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_production_links_and_mail(app_configs=None, **kwargs):
    """What a production environment must say for its email to work."""
    problems = []
    links = {
        "FRONTEND_URL": (
            "the links in every welcome, invitation and password email point there, and nobody can "
            "confirm an address or sign in",
            "the frontend's https:// address",
            "cohortly.W001",
        ),
        "SITE_URL": (
            "the links in the sales team's emails (a new lead) point there, and open nothing",
            "Cohortly's own https:// address (where /sales/ is served)",
            "cohortly.W004",
        ),
    }
    for name, (why, what, check_id) in links.items():
        url = getattr(settings, name)
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname in (None, "127.0.0.1", "localhost"):
            problems.append(Warning(f"{name} is {url!r}: {why}.", hint=f"Set {name} to {what}.", id=check_id))
    if settings.DEFAULT_FROM_EMAIL.rstrip(">").endswith(".local"):
        problems.append(
            Warning(
                f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL!r}: a mail provider refuses a sender "
                "it hasn't verified.",
                hint="Set DEFAULT_FROM_EMAIL to an address of a domain your provider has verified.",
                id="cohortly.W002",
            )
        )
    if settings.TASKS["default"]["BACKEND"].endswith("ImmediateBackend"):
        problems.append(
            Warning(
                "TASKS_BACKEND is immediate: every email is sent inside the request that causes it, so a "
                "slow mail provider holds requests up to their timeout.",
                hint="Set TASKS_BACKEND=database and run `manage.py db_worker` beside the web process.",
                id="cohortly.W003",
            )
        )
    return problems


@register(Tags.caches, deploy=True)
def check_release_known(app_configs=None, **kwargs):
    """The response cache keys its entries by the release (cohortly.caching): unknown,
    a deploy serves the bodies the previous code rendered until they expire."""
    if settings.RELEASE or not settings.REDIS_URL or settings.RESPONSE_CACHE_SECONDS <= 0:
        return []
    return [
        Warning(
            "The release deployed is unknown: after a deploy, the API can answer with bodies the previous "
            f"code rendered for up to RESPONSE_CACHE_SECONDS ({settings.RESPONSE_CACHE_SECONDS} s).",
            hint="Set SENTRY_RELEASE to the commit deployed (Render and Railway say it themselves).",
            id="cohortly.W005",
        )
    ]
