"""The Node backend's JWTs, accepted during the cutover so nobody is logged out by it.

Access tokens: HS256, signed with LEGACY_JWT_SECRET, claims {userId, role, iat, exp}.
Refresh tokens: HS256, signed with LEGACY_JWT_REFRESH_SECRET, claims {userId, iat, exp};
the importer brought over the SHA-256 of every one the Node backend issued.

Both are honoured only while LEGACY_TOKENS_UNTIL is in the future and the secret is set,
only for active users the importer created, and only with HS256: anything else (alg
"none", another algorithm, a wrong secret, an expired token, an unknown user) is
refused exactly as any bad token is.
"""

import hashlib

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils import timezone

from accounts.models import GENERATION_CLAIM
from cohortly.authentication import is_canonical_jwt

ALGORITHMS = ["HS256"]


def token_hash(raw: str) -> str:
    """What the Node backend stored for a refresh token: its SHA-256, hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


#: How far the Node backend's clock may be from this one's: PyJWT refuses a token
#: issued "in the future" (its iat past now) with no leeway, where Node's
#: jsonwebtoken doesn't check iat at all, so a token minted a second ahead of this
#: clock was a 401. The same margin applies to exp.
CLOCK_SKEW_SECONDS = 60


def _claims(raw: str | bytes, secret: str, *, access: bool) -> dict | None:
    """The verified claims of a Node access or refresh token, or None. Only an
    access token has a role, so that a refresh token can't pass for one even
    where both secrets are the same."""
    if not secret or settings.LEGACY_TOKENS_UNTIL is None or timezone.now() >= settings.LEGACY_TOKENS_UNTIL:
        return None
    # Anything else (a trailing "=", spaces, another alphabet) is not a token the Node backend issued.
    if not is_canonical_jwt(raw):
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("ascii")
    try:
        claims = jwt.decode(
            raw,
            secret,
            algorithms=ALGORITHMS,
            options={"require": ["userId", "exp", "iat"]},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.InvalidTokenError:
        return None
    if not isinstance(claims.get("userId"), str) or isinstance(claims.get("role"), str) != access:
        return None
    # Node writes whole seconds; PyJWT also passes "123" as text, which compared with
    # a number further on (the sessions an import ended) would be a 500.
    if not all(type(claims[name]) is int for name in ("iat", "exp")):
        return None
    return claims


def _imported_active_user(claims: dict):
    """The imported, active user a Node token's claims stand for, while the token
    still does.

    A Node token carries no token generation. It stands for the user while the
    user's generation is the one the importer last recorded for Node tokens (0
    until then): after a logout-all, a password change or reset, a role change or
    a deactivation here the Node backend's tokens open nothing, and the user signs
    in to Cohortly. And it must have been issued since the importer last ended the
    user's sessions for a change in the Node backend (a new password, a
    deactivation): a token the Node backend issued after that change works on.
    """
    User = get_user_model()
    try:
        user = User.objects.select_related("legacy_state").get(
            pk=claims["userId"], legacy_id__isnull=False, is_active=True
        )
    except (User.DoesNotExist, ValidationError):  # unknown, or not a UUID at all
        return None
    try:
        state = user.legacy_state
    except ObjectDoesNotExist:
        state = None
    # iat is in whole seconds: a token of the change's own second counts as after it.
    since = state.tokens_issued_since if state is not None else None
    if since is not None and claims["iat"] < int(since.timestamp()):
        return None
    generation = state.token_generation if state is not None else 0
    return user if user.accepts_token({GENERATION_CLAIM: generation}) else None


def access_token_user(raw: str | bytes):
    """The imported, active user a Node access token stands for, or None."""
    claims = _claims(raw, settings.LEGACY_JWT_SECRET, access=True)
    return _imported_active_user(claims) if claims else None


def spend_refresh_token(raw: str):
    """Exchange a Node refresh token once: the user it stands for, or None.

    The token must verify, be among the imported ones, not be revoked in the Node
    backend, not be expired, and not have been spent; the check and the spending
    are one UPDATE, so of several concurrent exchanges exactly one succeeds.
    """
    from legacy.models import LegacyRefreshToken

    claims = _claims(raw, settings.LEGACY_JWT_REFRESH_SECRET, access=False)
    if claims is None:
        return None
    user = _imported_active_user(claims)
    if user is None:
        return None
    now = timezone.now()
    spent = LegacyRefreshToken.objects.filter(
        token_hash=token_hash(raw),
        user=user,
        revoked_at__isnull=True,
        spent_at__isnull=True,
        expires_at__gt=now,
    ).update(spent_at=now)
    return user if spent == 1 else None
