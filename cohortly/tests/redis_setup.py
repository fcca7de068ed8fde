"""Production's Redis cache pointed anywhere: at a port where nothing listens, a
listener that never answers, a proxy the test cuts."""

#: The production cache's options (settings.py; test_redis_client holds the two together).
REDIS_OPTIONS = {
    "REDIS_CLIENT_CLASS": "cohortly.redis_client.Redis",
    "SOCKET_CONNECT_TIMEOUT": 0.1,
    "SOCKET_TIMEOUT": 0.1,
    "IGNORE_EXCEPTIONS": True,
}


def use_redis_at(settings, url: str) -> None:
    """Production's Redis cache (the user behind a token cached in it too) at `url`,
    through pytest-django's `settings` (the CACHES change resets Django's caches)."""
    settings.REDIS_URL = url
    settings.USER_CACHE_SECONDS = 60
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url, "OPTIONS": REDIS_OPTIONS}
    }
