"""JWT authentication that doesn't query the user on every request.

The user behind an access token is kept in the shared cache (Redis) for
USER_CACHE_SECONDS. Every service that changes a user (role, active flag,
password, profile; the admin calls the same services) drops the cached copy,
so deactivation takes effect on the next request. A change that bypasses the
services (a raw UPDATE) takes effect within USER_CACHE_SECONDS — far inside one
access-token lifetime. Without Redis the cache would itself be a database
query, so the user is read from the database as usual.
"""

import re

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

#: Three base64url parts without padding, as every issuer writes them. A decoder
#: forgives a trailing "=" or other slack, so one token could be presented in
#: many spellings (and slip past anything keyed on its text): only this one counts.
CANONICAL_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\Z")


def is_canonical_jwt(raw: str | bytes) -> bool:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    return bool(CANONICAL_JWT.match(raw))


UNREADABLE_TOKEN = _("Token is invalid")


def check_canonical_jwt(raw: str | bytes, detail=UNREADABLE_TOKEN) -> None:
    """Refuse (401) a token not written the one canonical way, in the words
    simplejwt uses for any token it can't read: bad tokens all look alike."""
    if not is_canonical_jwt(raw):
        raise InvalidToken(detail)


def user_cache_key(user_id) -> str:
    return f"auth:user:{user_id}"


def user_cache_invalidate(user_id) -> None:
    """Drop the cached user now and again once the change commits, so a request
    that re-cached the old row in between doesn't keep it."""
    key = user_cache_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), robust=True)


def _caching_enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.USER_CACHE_SECONDS > 0


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token):
        check_canonical_jwt(raw_token, _("Given token not valid for any token type"))
        return super().get_validated_token(raw_token)

    def get_user(self, validated_token):
        if not _caching_enabled():
            return super().get_user(validated_token)
        key = user_cache_key(validated_token.get(jwt_settings.USER_ID_CLAIM))
        user = cache.get(key)
        if user is None:
            user = super().get_user(validated_token)  # refuses unknown and inactive users
            cache.set(key, user, settings.USER_CACHE_SECONDS)
        elif not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user
