"""Cohortly settings.

Configuration comes only from the environment (12-factor). A `.env` file in the
project folder is read when present; `.env.example` lists every variable. A
variable set to nothing means its default, as if it were not set.
"""

import os
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS as JSON_LOG_RESERVED_ATTRS

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """django-environ's Env, naming the variable whose value it can't read (it
    raised a bare ValueError), and reading a yes/no only from the usual words:
    "SECURE_SSL_REDIRECT=enabled" was silently false, and so was "t" (django-environ
    reads "y" as true but "t" as false), as gunicorn.conf.py refuses both."""

    YES_NO = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var)
        if cast is bool and raw is not None and raw.strip().lower() not in self.YES_NO:
            raise ImproperlyConfigured(f"{var} must be true or false (it is {raw!r}).")
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            kind = {int: "a whole number", float: "a number"}.get(cast, "readable")
            raise ImproperlyConfigured(f"{var} must be {kind} (it is {raw!r}).") from exc

    def list(self, var, cast=None, default=environ.Env.NOTSET):
        # "cohortly.example.com, www.cohortly.example.com", as people write lists,
        # kept " www.cohortly.example.com": a host no request names, every one a 400.
        values = super().list(var, cast=cast, default=default)
        return [value.strip() for value in values if value.strip()]


env = _Env()


def _forget_empty_variables():
    # A hosting dashboard, a compose file's ${NAME} or a copied .env.example leaves
    # names with no value: read as set, "" would be a database URL, a signing key
    # or a log format of nothing.
    for name in [name for name, value in os.environ.items() if value == ""]:
        del os.environ[name]


# Before .env is read, so that it fills in what the environment left empty, and
# after, for what it leaves empty itself.
_forget_empty_variables()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
_forget_empty_variables()

DEBUG = env.bool("DEBUG", default=False)

#: The secrets and addresses .env.production.example writes as <…> stand-ins, to fill in.
_PLACEHOLDERED = (
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ANYMAIL_SENDGRID_API_KEY",
    "ANYMAIL_WEBHOOK_SECRET",
    "ANYMAIL_SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
    "METRICS_TOKEN",
    "SENTRY_RELEASE",
)
for _name in (*_PLACEHOLDERED, "SENTRY_DSN", *(name for name in os.environ if name.startswith("ANYMAIL_"))):
    # Copied from the example and never filled in, such a stand-in passes every
    # other check (it is long, and random-looking enough): a webhook secret of
    # "sendgrid:<a long random password>" would let anyone post bounces.
    if "<" in os.environ.get(_name, "") and ">" in os.environ[_name]:
        raise ImproperlyConfigured(f"{_name} still holds the example's <…> text: set the real value.")


def _aware_datetime(value: str, name: str):
    """An ISO 8601 datetime from the environment (UTC when it names no offset), or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an ISO 8601 datetime, e.g. 2027-01-31T18:00:00Z") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_DEV_SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production-0123456789"
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    not SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "cohortly.apps.AdminConfig",  # django.contrib.admin, with cohortly.admin_site.AdminSite
    "cohortly.apps.CohortlyConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    # django-anymail sends (EMAIL_BACKEND) and receives SendGrid's delivery events
    # (mail.webhooks). Installed for its system checks (anymail.W002: request
    # dumping on in production); it has no models.
    "anymail",
    "django_tasks",
    "django_tasks_db",
    # The outbox, delivery events and suppression list: infrastructure under every app.
    "mail",
    "accounts",
    "bootcamps",
    "enrollments",
    "assignments",
    "leads",
    # Moving in from the Node.js backend: import_legacy, its bcrypt hashes and JWTs.
    "legacy",
    # Seeds every app above with demo or benchmark data: it stands on all of them.
    "demo",
]

MIDDLEWARE = [
    "cohortly.middleware.HeadAnswersHaveNoBody",
    "cohortly.middleware.RequestIDMiddleware",
    "cohortly.middleware.CredentialedAnswersAreNotStored",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cohortly.middleware.UnservedMethodsAre405",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cohortly.middleware.DatabaseUnavailableIs503",
]

ROOT_URLCONF = "cohortly.urls"
WSGI_APPLICATION = "cohortly.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Plain-text emails: the same templates folder without HTML escaping.
        "NAME": "emails",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": False},
    },
]

# --- Database -------------------------------------------------------------
# Default: an embedded SQLite file, so `make run` needs nothing installed.
# postgres://user:pass@host:5432/name?sslmode=require works for hosted PostgreSQL.
try:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
except (KeyError, ValueError):
    DATABASES = {"default": {}}
if DATABASES["default"].get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
    # django-environ only warns of a scheme it doesn't know, and the first query fails.
    raise ImproperlyConfigured(
        "DATABASE_URL must be a postgres:// (or sqlite:///) URL, e.g. postgres://user:password@host:5432/name."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    # A dead database answers within seconds instead of hanging a worker.
    _connect_timeout = env.int("DB_CONNECT_TIMEOUT", default=5)
    if _connect_timeout <= 0:
        # libpq reads 0 as "wait for ever": a database that never answers hung every worker.
        raise ImproperlyConfigured("DB_CONNECT_TIMEOUT must be a positive number of seconds.")
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", _connect_timeout)
    # Behind a transaction-mode pooler (Neon's pooled endpoint, PgBouncer)
    # server-side cursors cannot be used.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DB_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
    # Server-side parameter binding with prepared statements: a query the app
    # sends over and over is parsed and planned once per connection. Needs a
    # direct connection or a pooler that supports prepared statements (PgBouncer
    # >= 1.21 with max_prepared_statements, as on Neon).
    if env.bool("DB_PREPARED_STATEMENTS", default=False):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # A transaction takes SQLite's write lock as it begins, so concurrent
    # writers queue for up to `timeout` seconds. In the default (deferred) mode
    # a transaction that read first and then writes fails at once with
    # "database is locked" when another holds the lock: a 503 under a few
    # simultaneous sign-ups on `make run`.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------
# Throttle counters must be shared by every worker process: Redis when
# configured, otherwise the database cache (never per-process memory).
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL and REDIS_URL.partition("://")[0].lower() not in ("redis", "rediss", "unix"):
    # Anything else fails only at the first request, then at every one.
    raise ImproperlyConfigured("REDIS_URL must be a redis://, rediss:// or unix:// URL, or unset.")
if REDIS_URL:
    from redis.connection import parse_url as _parse_redis_url

    # redis-py reads the scheme in small letters only (REDIS:// failed every request).
    _scheme, _, _rest = REDIS_URL.partition("://")
    REDIS_URL = f"{_scheme.lower()}://{_rest}"

    try:
        _parse_redis_url(REDIS_URL)
    except ValueError:
        # A port that isn't a number, a password with an unescaped "#": it started,
        # then every request that reached Redis was a 500 while health said "degraded".
        # Not redis-py's words: they quote the "port", which is then the password
        # up to its "#", into the deploy's log.
        raise ImproperlyConfigured(
            "REDIS_URL can't be read: its port and database must be numbers, and a password's "
            "special characters percent-encoded (# as %23, / as %2F, @ as %40)."
        ) from None
# Redis is a cache, never a dependency (cohortly/redis_client.py): a call waits at
# most REDIS_TIMEOUT_MS to connect and as long for the reply, and after a failure
# the worker doesn't call Redis for REDIS_BACKOFF_SECONDS, serving without it.
REDIS_TIMEOUT_MS = env.int("REDIS_TIMEOUT_MS", default=100)
if REDIS_TIMEOUT_MS <= 0:
    # django-redis reads 0 as "no timeout": a hung Redis would hang every request.
    raise ImproperlyConfigured("REDIS_TIMEOUT_MS must be a positive number of milliseconds.")
REDIS_BACKOFF_SECONDS = env.float("REDIS_BACKOFF_SECONDS", default=5.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="cohortly"),
            "OPTIONS": {
                "REDIS_CLIENT_CLASS": "cohortly.redis_client.Redis",
                "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_MS / 1000,
                "SOCKET_TIMEOUT": REDIS_TIMEOUT_MS / 1000,
                # A Redis outage is a miss or a no-op instead of a failed
                # request; cohortly.redis_client logs it, once a minute.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    # Seconds the user behind a JWT is cached in Redis (0 = read it on every request).
    USER_CACHE_SECONDS = env.int("USER_CACHE_SECONDS", default=60)
else:
    USER_CACHE_SECONDS = 0
    CACHES = {}
# The database cache: the default without Redis. With Redis it is declared too, and
# used by nothing, so that `createcachetable` (every deploy runs it) always makes
# its table: a deployment that later drops REDIS_URL finds it there, instead of
# throttles that count nothing until someone runs the command.
CACHES.setdefault(
    "default" if not REDIS_URL else "database",
    {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cohortly_cache",
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="cohortly"),
    },
)

# The read path's cache (cohortly/caching.py), only with Redis: rendered API
# lists and details, kept this many seconds (0 = off) and made stale at once by
# any write to what they show. It is also the bound on stale reads after a write
# whose invalidation never reached Redis (a worker cut off from it, or Redis
# away and back): SECURITY.md, "Redis is a cache, not a dependency".
RESPONSE_CACHE_SECONDS = env.int("RESPONSE_CACHE_SECONDS", default=60)
# The commit deployed: SENTRY_RELEASE, else what Render or Railway say ("" unknown).
# Sentry reports it, and the response cache keys its entries by it, so that a deploy
# serves no body that the previous code rendered (a serializer changed, no migration).
RELEASE = (
    env("SENTRY_RELEASE", default="")
    or env("RENDER_GIT_COMMIT", default="")
    or env("RAILWAY_GIT_COMMIT_SHA", default="")
)

# --- Accounts and passwords ---------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    # Hashes imported from the Node backend; upgraded to Argon2 at first login.
    "legacy.hashers.LegacyBcryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    # Django's ModelBackend, refusing accounts whose email nobody has proven.
    "accounts.backends.EmailVerifiedModelBackend",
    # Exchanges a Node backend refresh token once while LEGACY_* is configured.
    "legacy.backends.LegacyRefreshTokenBackend",
]

# --- The Node backend's tokens during the cutover (see MIGRATING.md) ------------
# Its access tokens authenticate, and its refresh tokens are exchanged once for a
# Cohortly pair, until LEGACY_TOKENS_UNTIL. Unset, they are plain bad tokens.
LEGACY_JWT_SECRET = env("LEGACY_JWT_SECRET", default="")
# Where `manage.py import_legacy` reads the Node backend's database when --source isn't given.
LEGACY_DATABASE_URL = env("LEGACY_DATABASE_URL", default="")
LEGACY_JWT_REFRESH_SECRET = env("LEGACY_JWT_REFRESH_SECRET", default="")
LEGACY_TOKENS_UNTIL = _aware_datetime(env("LEGACY_TOKENS_UNTIL", default=""), "LEGACY_TOKENS_UNTIL")
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.VariedPasswordValidator"},
    {"NAME": "accounts.passwords.MaximumLengthValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24 * 3)
# Seconds the link of the welcome email that confirms a new account's address stays valid.
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=60 * 60 * 24 * 3)
for _name in ("PASSWORD_RESET_TIMEOUT", "EMAIL_VERIFICATION_TIMEOUT"):
    if globals()[_name] < 60:
        # 0 made every link expire as it was sent.
        raise ImproperlyConfigured(f"{_name} must be a number of seconds, 60 or more.")
LOGIN_URL = "/sales/login/"
LOGIN_REDIRECT_URL = "/sales/"
LOGOUT_REDIRECT_URL = "/sales/login/"

# Where links in emails point (the frontend that the API serves).
FRONTEND_URL = env("FRONTEND_URL", default="http://127.0.0.1:8000").rstrip("/")
# Cohortly's own address, where it serves the sales workspace and the admin: the
# links in the sales team's emails point there (the frontend has no /sales/). Unset,
# the two are taken to share one host, as they did before it existed.
SITE_URL = env("SITE_URL", default=FRONTEND_URL).rstrip("/")

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE must be an IANA time zone name such as UTC or Europe/Berlin (it is {TIME_ZONE!r})."
    ) from None
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ----------------------------------------------------------------
# Console in development; any Anymail provider (or SMTP) in production, e.g.
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend with ANYMAIL_* keys.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Cohortly <no-reply@cohortly.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
if not 1 <= EMAIL_PORT <= 65535:
    # Every send failed at the socket, and the outbox retried each one till it gave up.
    raise ImproperlyConfigured("EMAIL_PORT must be a port number, 1 to 65535.")
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)  # SMTPS, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL (SMTPS), not both.")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
if EMAIL_TIMEOUT <= 0:
    # SMTP reads 0 as "don't wait at all" (every send fails); said here, not as the
    # ANYMAIL_REQUESTS_TIMEOUT it becomes below, which the operator never set.
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be a number of seconds, more than 0.")
# django-anymail no longer tests its SendGrid backend (anymail.W003); it ships and
# works, and is what Cohortly's delivery webhook (mail.webhooks) reads. The README
# says so, and how to move to another provider.
SILENCED_SYSTEM_CHECKS = ["anymail.W003"]
#: Anymail's yes/no settings (any provider's, e.g. ANYMAIL_SENDGRID_GENERATE_MESSAGE_ID):
#: read as true or false. Passed on as text, "false" was true: DEBUG_API_REQUESTS=false
#: printed every send's API key, recipients and links.
_ANYMAIL_YES_NO = (
    "DEBUG_API_REQUESTS",
    "IGNORE_RECIPIENT_STATUS",
    "IGNORE_UNSUPPORTED_FEATURES",
    "GENERATE_MESSAGE_ID",
    "AUTO_CONFIRM_SNS_SUBSCRIPTIONS",
    "TRACK_INITIAL_OPEN_AS_OPENED",
    "USE_BULK_API",
    "PREVENT_HEADER_ENCODING_BUGS",
    "WORKAROUND_DISPLAY_NAME_BUGS",
)
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): env.bool(key) if key.endswith(_ANYMAIL_YES_NO) else value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_")
}
# The provider's API call waits as long as SMTP would (anymail's own default is 30 s,
# gunicorn's whole request timeout, for a send made inside a request).
try:
    ANYMAIL["REQUESTS_TIMEOUT"] = float(ANYMAIL.get("REQUESTS_TIMEOUT") or EMAIL_TIMEOUT)
except ValueError:
    raise ImproperlyConfigured(
        f"ANYMAIL_REQUESTS_TIMEOUT must be a number of seconds (it is {ANYMAIL['REQUESTS_TIMEOUT']!r})."
    ) from None
if not 0 < ANYMAIL["REQUESTS_TIMEOUT"] < float("inf"):
    raise ImproperlyConfigured("ANYMAIL_REQUESTS_TIMEOUT must be a number of seconds, more than 0.")

# --- Background tasks (django-tasks) ----------------------------------------------
# Outgoing mail is a task. Development and tests run tasks immediately; production
# stores them in the database (TASKS_BACKEND=database) and `manage.py db_worker`
# runs and retries them.
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_tasks_backend = env("TASKS_BACKEND", default="immediate")
if _tasks_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be immediate or database (it is {_tasks_backend!r}).")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_tasks_backend]}}
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=5)
if EMAIL_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("EMAIL_MAX_ATTEMPTS must be 1 or more (one try, and the retries after it).")

# --- Housekeeping (manage.py housekeeping, run daily) ---------------------------------
# How long what has served its purpose is kept: finished background tasks (their
# arguments name the addresses they mailed) and the outbox's finished emails (their
# bodies hold the links they sent), with the delivery events about them.
TASK_RESULTS_KEEP_DAYS = env.int("TASK_RESULTS_KEEP_DAYS", default=14)
EMAIL_KEEP_DAYS = env.int("EMAIL_KEEP_DAYS", default=180)
for _name in ("TASK_RESULTS_KEEP_DAYS", "EMAIL_KEEP_DAYS"):
    # At most about a century: a cutoff further back than the calendar goes is no date.
    if not 1 <= globals()[_name] <= 36500:
        raise ImproperlyConfigured(f"{_name} must be a number of days, from 1 to 36500.")

# --- REST framework -------------------------------------------------------
THROTTLE_RATES = {
    "anon": env("THROTTLE_ANON_RATE", default="120/min"),
    "user": env("THROTTLE_USER_RATE", default="1200/min"),
    # Password attempts per account, and per client address (a classroom signs
    # in from one): accounts.login_throttle.
    "login": env("THROTTLE_LOGIN_RATE", default="10/min"),
    "login_address": env("THROTTLE_LOGIN_ADDRESS_RATE", default="60/min"),
    "register": env("THROTTLE_REGISTER_RATE", default="5/min"),
    "password_reset": env("THROTTLE_PASSWORD_RESET_RATE", default="5/min"),
    "lead_capture": env("THROTTLE_LEAD_CAPTURE_RATE", default="10/min"),
}
for _scope, _rate in THROTTLE_RATES.items():
    # DRF reads a rate only at the first request it limits: a typo made every
    # login, or every request, a 500 while the health check said 200.
    # DRF reads the number, and the period by its first letter only ("10/mins", "5/hours"):
    # any other word was read by its letter, "100/month" as 100 a minute.
    if not re.fullmatch(r"[1-9][0-9]*/(s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)", _rate):
        raise ImproperlyConfigured(
            f"THROTTLE_{_scope.upper()}_RATE must be a number of requests per s, min, hour or day, "
            f"such as 10/min (it is {_rate!r})."
        )

#: Proxies in front of the app, each adding one X-Forwarded-For entry (DRF reads
#: the client's address that many entries from the end).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
if NUM_PROXIES < 0:
    # DRF indexes the header with it: every throttled request was a 500.
    raise ImproperlyConfigured("NUM_PROXIES must be 0 or more.")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Cohortly's JWTs; the Node backend's too while LEGACY_* is configured.
        "legacy.authentication.CutoverJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["cohortly.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["cohortly.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "cohortly.pagination.PageNumberPagination",
    "DEFAULT_METADATA_CLASS": "cohortly.metadata.ActionMetadata",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "cohortly.filters.SearchFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "cohortly.throttling.AnonRateThrottle",
        "cohortly.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "DEFAULT_SCHEMA_CLASS": "cohortly.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cohortly.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": NUM_PROXIES,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "cohortly.exceptions.ExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "409",
        "413",
        "415",
        "429",
        "500",
        "503",
    ],
    "ERROR_SCHEMAS": {
        "401": "cohortly.openapi.ErrorResponse401Serializer",
        "403": "cohortly.openapi.ErrorResponse403Serializer",
        "409": "cohortly.openapi.ErrorResponse409Serializer",
        "413": "cohortly.openapi.ErrorResponse413Serializer",
        "503": "cohortly.openapi.ErrorResponse503Serializer",
    },
}

JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default=SECRET_KEY)
if not DEBUG and len(JWT_SIGNING_KEY) < 50:
    # Every token is signed with it (HS256): a short one can be guessed offline.
    raise ImproperlyConfigured(
        "JWT_SIGNING_KEY must be a long random value (50 characters or more) when DEBUG is off, "
        "or unset to use SECRET_KEY."
    )

_ACCESS_MINUTES = env.int("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", default=5)
_REFRESH_DAYS = env.int("JWT_REFRESH_TOKEN_LIFETIME_DAYS", default=7)
if _ACCESS_MINUTES < 1 or _REFRESH_DAYS < 1:
    # 0 made every token dead on arrival: logins succeeded, then nothing else did.
    raise ImproperlyConfigured(
        "JWT_ACCESS_TOKEN_LIFETIME_MINUTES and JWT_REFRESH_TOKEN_LIFETIME_DAYS must be 1 or more."
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=_ACCESS_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=_REFRESH_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # simplejwt's, refusing an expiry beyond the calendar as a bad token (accounts/tokens.py).
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cohortly API",
    "DESCRIPTION": (
        "The API of Cohortly: bootcamps, enrollments, assignments and the sales pipeline. "
        "Authenticate with `POST /api/v1/auth/login` and send the access token as "
        "`Authorization: Bearer <token>`. Errors share one shape: "
        '`{"type": ..., "errors": [{"code", "detail", "attr"}]}`.'
    ),
    "VERSION": "1.0.0",
    # 3.1: a nullable object is `oneOf: [$ref, {type: null}]`, which strict
    # validators and generators accept (3.0's `allOf` + `nullable` has no type).
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs and the schema are public: a browser's stale Authorization header
    # (an expired token) must not stand between a reader and them.
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "/" + STATIC_URL.lstrip("/") + "img/favicon.svg",
    # No validator badge: Swagger UI would send the schema to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    # System fonts: the docs load nothing from outside (docs/redoc.html drops Google Fonts).
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
                "code": {"fontFamily": "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace"},
            }
        }
    },
    "ENUM_NAME_OVERRIDES": {
        "ErrorTypeEnum": "cohortly.openapi.ERROR_TYPES",
        "UserRoleEnum": "cohortly.openapi_enums.USER_ROLE",
        "BootcampStatusEnum": "cohortly.openapi_enums.BOOTCAMP_STATUS",
        "EnrollmentStatusEnum": "cohortly.openapi_enums.ENROLLMENT_STATUS",
        "LeadStatusEnum": "cohortly.openapi_enums.LEAD_STATUS",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "cohortly.openapi.ERROR_CODES_401",
        "ErrorCode409Enum": "cohortly.openapi.ERROR_CODES_409",
        "ErrorCode413Enum": "cohortly.openapi.ERROR_CODES_413",
        "ErrorCode503Enum": "cohortly.openapi.ERROR_CODES_503",
        "ErrorCode403Enum": "cohortly.openapi.ERROR_CODES_403",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "cohortly.openapi.add_health_path",
        "cohortly.openapi.finish_schema",
    ],
}

# --- CORS -----------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# A frontend may send its own X-Request-ID (README), and read a CSV download's file name.
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Content-Disposition"]

# --- Health ---------------------------------------------------------------
# /api/v1/health probes the database and Redis at most this often per worker (seconds).
HEALTH_CHECK_INTERVAL = env.float("HEALTH_CHECK_INTERVAL", default=1.0)

# --- Request limits -------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
if DATA_UPLOAD_MAX_MEMORY_SIZE < 1024:
    # 0 refused every request with a body (a login included) as too large.
    raise ImproperlyConfigured("DATA_UPLOAD_MAX_MEMORY_SIZE must be a number of bytes, 1024 or more.")

# --- Metrics --------------------------------------------------------------
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`, and 404 while it is unset.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- Benchmark ------------------------------------------------------------
# /bench/minimal, the load benchmark's baseline view (bench/run.py); never in production.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

# --- Security -------------------------------------------------------------
ADMIN_URL = env("ADMIN_URL", default="admin/")
if not re.fullmatch(r"(?:[A-Za-z0-9._~-]+/)+", ADMIN_URL):
    # "backoffice" put the admin's login at /backofficelogin/, "/backoffice/" at /%2Fbackoffice/.
    raise ImproperlyConfigured(
        f"ADMIN_URL must be a path without a leading slash and ending in one, e.g. backoffice-7c1e/ "
        f"(it is {ADMIN_URL!r})."
    )
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SECURE_PROXY_SSL_HEADER", default=not DEBUG) else None
)
# Health checks and Prometheus reach an instance over the host's private network.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/?$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
if SECURE_HSTS_SECONDS < 0:
    # -1 sent "max-age=-1", which browsers ignore: no HTTPS pinning, and check --deploy content.
    raise ImproperlyConfigured("SECURE_HSTS_SECONDS must be a number of seconds, 0 (off) or more.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "cohortly.exceptions.csrf_failure"

# --- Logging --------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (it is {LOG_LEVEL!r})."
    )
# plain: one readable line per record; json: one JSON object per line (time, level,
# request_id, the message, and the request log's fields: user_id, method, route,
# status, duration_ms, db_time_ms, db_queries).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "cohortly.middleware.RequestIDLogFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "{asctime}{levelname}{name}{request_id}{message}",
            "style": "{",
            "rename_fields": {"asctime": "time", "levelname": "level"},
            # Django's request lines carry the request, whose repr has the query
            # string (a lead search's name or address); their message has the path.
            "reserved_attrs": [*JSON_LOG_RESERVED_ATTRS, "request"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request logger below writes one line per request; Django's own
        # request/server loggers would repeat errors without the request id.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # runserver's own line per 4xx repeats the request logger's, with the query
        # string (a search for a name or an address) and no request id.
        # Its errors stay (a request Django never saw: HTTPS to the HTTP dev server).
        "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # Python's warnings (cohortly.apps routes them to logging) in the same
        # format as every other line.
        "py.warnings": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # A request for a host not in ALLOWED_HOSTS (scanners, all day) is answered
        # 400 and logged as a line by the request logger; Django's own record of it
        # is an ERROR with a traceback each.
        "django.security.DisallowedHost": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}

# --- Errors to Sentry -------------------------------------------------------
# Only with SENTRY_DSN: otherwise sentry-sdk isn't even started and nothing is sent.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(SENTRY_DSN)
    except BadDsn as exc:
        raise ImproperlyConfigured(f"SENTRY_DSN must be the DSN your Sentry project shows ({exc}).") from None
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

    from cohortly.privacy import sentry_before_breadcrumb, sentry_before_send

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        # RELEASE, else sentry-sdk's own guess (`git rev-parse HEAD`, Heroku's and
        # others' variables).
        release=RELEASE or None,
        send_default_pii=False,
        # Passwords, tokens, cookies and email bodies are replaced by [Filtered] wherever
        # they appear: request data, headers, and the local variables of every frame.
        event_scrubber=EventScrubber(
            denylist=[
                *DEFAULT_DENYLIST,
                *DEFAULT_PII_DENYLIST,
                "password1",
                "password2",
                "new_password",
                "old_password",
                "refresh",
                "access",
                "link",
                "body",
                "subject",
                "message",
                # Personal data: who an email went to, a person's details.
                "email",
                "to",
                "recipient",
                "recipients",
                "address",
                "phone",
                "full_name",
            ],
            recursive=True,
        ),
        # And the addresses in messages and exceptions' texts, which aren't keyed.
        before_send=sentry_before_send,
        before_send_transaction=sentry_before_send,
        before_breadcrumb=sentry_before_breadcrumb,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
