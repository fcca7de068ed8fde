"""JWT authentication that doesn't query the user on every request.

Which tokens count. Every token carries the user's token generation ("gen")
and its session ("sid": one per login, kept through refreshes). A token is
refused once the user's generation has moved on (logout-all, a password change
or reset, deactivation, a role change: accounts.services) or its session was
ended (a device's logout). Both live on the user row, so the check costs
nothing beyond loading the user. Tokens issued before these claims existed
count as generation 0 and no session.

The cached user. The user behind an access token is kept in the shared cache
(Redis) for USER_CACHE_SECONDS. Every service that changes a user drops it, by
moving the user's cache version on (now, and again once the change commits).
An entry records the version it was read under and is served only while that
is still the version: a request that read the row before a change committed
and writes it into the cache afterwards writes it under a version that is
already gone, so it can't put the old state back. A change that bypasses the
services (a raw UPDATE) takes effect within USER_CACHE_SECONDS. Without Redis
the cache would itself be a database query, so the user is read from the
database on every request.
"""

import re
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
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


def _version_key(user_id) -> str:
    return f"auth:user:{user_id}:version"


def _new_version() -> str:
    return uuid.uuid4().hex


def user_cache_invalidate(user_id) -> None:
    """Move the cached user's version on now and again once the change commits,
    so no copy read before the commit is served after it."""
    key = _version_key(user_id)
    timeout = settings.USER_CACHE_SECONDS
    if timeout <= 0:
        return
    cache.set(key, _new_version(), timeout)
    transaction.on_commit(lambda: cache.set(key, _new_version(), timeout), robust=True)


def _read_user(user_id):
    """The stored user, from the database itself (never a cached query: the
    copy is about to be cached under a version that says it is current)."""
    from accounts.models import User

    try:
        return User.objects.filter(pk=user_id).first()
    except (ValueError, ValidationError):  # not an id at all
        return None


def cached_user(user_id):
    """The user `user_id` (None if there is none), through the versioned cache."""
    entry_key, version_key = user_cache_key(user_id), _version_key(user_id)
    timeout = settings.USER_CACHE_SECONDS
    found = cache.get_many([version_key, entry_key])
    version, entry = found.get(version_key), found.get(entry_key)
    if version is not None and entry is not None and entry[0] == version:
        return entry[1]
    if version is None:
        # No version yet (or it expired): start one. add() keeps a version a
        # concurrent change has just set; then that one is read back.
        fresh = _new_version()
        version = fresh if cache.add(version_key, fresh, timeout) else cache.get(version_key)
    user = _read_user(user_id)
    if version is not None:
        cache.set(entry_key, (version, user), timeout)
    return user


def _caching_enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.USER_CACHE_SECONDS > 0


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token):
        check_canonical_jwt(raw_token, _("Given token not valid for any token type"))
        return super().get_validated_token(raw_token)

    def get_user(self, validated_token):
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = cached_user(user_id) if _caching_enabled() else _read_user(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if not user.accepts_token(validated_token.payload):
            raise InvalidToken(_("Token has been revoked"))
        return user
