"""System checks for what starts cleanly and then fails people quietly.

`manage.py check --deploy` (and the release step's migrate, for the errors)
reports them; each was found running the documented production setup."""

import warnings
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


#: Django's SMTP backend: the default with DEBUG off when EMAIL_BACKEND is unset.
_SMTP = "django.core.mail.backends.smtp.EmailBackend"


@register(Tags.security, deploy=True)
def check_mail_can_leave(app_configs=None, **kwargs):
    """Mail that can't leave: EMAIL_BACKEND left unset (SMTP to this machine, where a
    container runs no mail server), or a provider's backend without its key. Every
    email then fails: retried for hours and given up, or given up at once."""
    from anymail.exceptions import AnymailConfigurationError, AnymailWarning
    from django.core.exceptions import ImproperlyConfigured
    from django.core.mail import get_connection

    # Django's default host, not one the operator named: EMAIL_HOST=127.0.0.1 says
    # that this machine does run a mail server.
    if settings.EMAIL_BACKEND == _SMTP and settings.EMAIL_HOST == "localhost":
        return [
            Warning(
                f"Email goes to an SMTP server on this machine ({settings.EMAIL_HOST}:"
                f"{settings.EMAIL_PORT}): without one every email fails, is retried for hours and given up.",
                hint="Set EMAIL_BACKEND to your provider's (anymail.backends.sendgrid.EmailBackend) with its "
                "key, or EMAIL_HOST to your SMTP server (127.0.0.1 if it does run on this machine).",
                id="cohortly.W006",
            )
        ]
    try:
        with warnings.catch_warnings():  # anymail's notice about SendGrid: the README says it
            warnings.simplefilter("ignore", AnymailWarning)
            get_connection()
    except ImportError:  # cohortly.E001 says so
        return []
    except (ImproperlyConfigured, AnymailConfigurationError) as exc:
        return [
            Warning(
                f"EMAIL_BACKEND {settings.EMAIL_BACKEND!r} can't send: {str(exc).splitlines()[0]}",
                hint="Set the provider's key (e.g. ANYMAIL_SENDGRID_API_KEY).",
                id="cohortly.W006",
            )
        ]
    return []


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
