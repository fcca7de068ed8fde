"""Writes for accounts: registration, profiles, passwords and tokens."""

import time

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import GENERATION_CLAIM, SESSION_CLAIM, User, normalize_email
from accounts.signals import user_registered
from cohortly.authentication import user_cache_invalidate
from cohortly.emails import send_templated_email
from cohortly.errors import NotFound


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _save_new_user(user: User) -> User:
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations of one email racing past full_clean's check.
        raise ValidationError({"email": ["A user with this email already exists."]}) from exc
    return user


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    full_name: str,
    phone: str = "",
    role: str = User.Role.STUDENT,
    is_active: bool = True,
) -> User:
    """Create a user of any role (ADMIN's path; registration uses user_register)."""
    user = User(
        email=normalize_email(email),
        full_name=full_name.strip(),
        phone=phone.strip(),
        role=role,
        is_active=is_active,
    )
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    return _save_new_user(user)


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str, phone: str = "") -> User | None:
    """Self-registration: always a STUDENT. Sends a welcome email after commit.
    Apps that react to a new user (leads links it to an open lead) do so on
    accounts.signals.user_registered, in this transaction.

    An email that already has an account gets no second one and no error: the
    caller can't tell, so registration can't be used to find out who has an
    account. The input is checked the same way (a weak password is refused
    either way), the password hashed as for a new account (so the time says
    nothing either), and the address's owner is emailed instead. Returns the
    new user, or None when the email was taken.
    """
    candidate = User(
        email=normalize_email(email), full_name=full_name.strip(), phone=phone.strip(), role=User.Role.STUDENT
    )
    candidate.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    _check_password(password, candidate)
    existing = User.objects.filter(email=candidate.email).first()
    if existing is None:
        try:
            user = user_create(
                email=email, password=password, full_name=full_name, phone=phone, role=User.Role.STUDENT
            )
        except ValidationError:
            # Everything else was checked above: another registration of this email got in first.
            existing = User.objects.get(email=candidate.email)
        else:
            user_registered.send(sender=User, user=user)
            send_templated_email(to=user.email, template="welcome", context={"user": user})
            return user
    make_password(password)
    send_templated_email(to=existing.email, template="registration_attempt", context={"user": existing})
    return None


def _user_lock_for_update(*, user: User, changes: dict) -> tuple[User, list[User]]:
    """Lock the stored row of `user` and return it with the other active ADMINs.

    When the change could take an ADMIN away (a role other than ADMIN, or
    deactivation), the active ADMIN rows are locked too, in the same query and
    ordered by pk: two admins demoting each other at once then queue up, and
    the second sees the first's change instead of both counting the other as
    still there. Other changes lock the one row only (they use up no admins).
    """
    demotes = changes.get("role", User.Role.ADMIN) != User.Role.ADMIN
    deactivates = not changes.get("is_active", True)
    wanted = Q(pk=user.pk)
    if demotes or deactivates:
        wanted |= Q(role=User.Role.ADMIN, is_active=True)
    rows = list(User.objects.select_for_update().filter(wanted).order_by("pk"))
    stored = next((row for row in rows if row.pk == user.pk), None)
    if stored is None:
        raise NotFound("The user to update no longer exists.")
    other_admins = [row for row in rows if row.pk != user.pk]
    return stored, other_admins


def _check_no_lockout(*, actor: User, stored: User, other_admins: list[User], changes: dict) -> None:
    """Refuse what would lock Cohortly out: changing one's own role or active
    flag, and leaving no active ADMIN (whoever asks)."""
    deactivates = stored.is_active and not changes.get("is_active", True)
    new_role = changes.get("role", stored.role)
    if actor.pk == stored.pk:
        if deactivates:
            raise ValidationError(
                {"is_active": ValidationError("You can't deactivate your own account.", code="own_account")}
            )
        if new_role != stored.role:
            raise ValidationError(
                {"role": ValidationError("You can't change your own role.", code="own_account")}
            )
    is_active_admin = stored.role == User.Role.ADMIN and stored.is_active
    if is_active_admin and (deactivates or new_role != User.Role.ADMIN) and not other_admins:
        field = "is_active" if deactivates else "role"
        raise ValidationError(
            {field: ValidationError("Cohortly needs at least one active admin.", code="last_admin")}
        )


@transaction.atomic
def user_update(*, actor: User, user: User, data: dict) -> User:
    """An ADMIN (`actor`) changes a user's name, phone, role or active flag.

    Nobody may deactivate themself or change their own role, and no change may
    leave Cohortly without an active ADMIN: both are checked on locked rows
    before anything is written, so a refusal saves nothing and revokes no tokens.
    `user` may already carry the new values (the admin's form sets them); the
    checks compare with the stored row.
    """
    allowed = {"full_name", "phone", "role", "is_active"}
    for field in data:
        if field not in allowed:
            raise ValidationError({field: ["This field cannot be changed."]})
    changes = {field: value.strip() if isinstance(value, str) else value for field, value in data.items()}
    stored, other_admins = _user_lock_for_update(user=user, changes=changes)
    _check_no_lockout(actor=actor, stored=stored, other_admins=other_admins, changes=changes)
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save()
    user_cache_invalidate(user.pk)
    if user.role != stored.role or user.is_active != stored.is_active:
        # Sessions opened under the old role or before the deactivation end: the
        # user signs in again (if they still may) and gets what the new state allows.
        user_logout_all(user=user)
    return user


@transaction.atomic
def user_delete(*, actor: User, users) -> int:
    """An ADMIN (`actor`) deletes users (the admin's delete page and action).

    The same lockout rules as user_update, on locked rows before anything is
    deleted: nobody deletes their own account, and no deletion may leave
    Cohortly without an active ADMIN. Deactivating is the usual way out:
    anyone another record refers to (an enrollment, a lead they own or came
    from, coursework, a timeline entry) is refused (`protected`), as the
    database would. Returns how many users went.
    """
    pks = {user.pk for user in users}
    if actor.pk in pks:
        raise ValidationError("You can't delete your own account.", code="own_account")
    wanted = Q(pk__in=pks) | Q(role=User.Role.ADMIN, is_active=True)
    rows = list(User.objects.select_for_update().filter(wanted).order_by("pk"))
    active_admins = {row.pk for row in rows if row.role == User.Role.ADMIN and row.is_active}
    if active_admins & pks and not active_admins - pks:
        raise ValidationError("Cohortly needs at least one active admin.", code="last_admin")
    # The cached copies go too (accounts.apps: on every delete, whatever the path).
    try:
        # Refused while Django collects what would go, before anything is deleted.
        _total, by_model = User.objects.filter(pk__in=pks).delete()
    except (ProtectedError, RestrictedError) as exc:
        # The admin's confirmation page lists these first; this is the race where
        # a record appeared in between (or a caller that skipped that page).
        raise ValidationError(
            "Other records refer to this user (enrollments, leads, coursework): deactivate them instead.",
            code="protected",
        ) from exc
    return by_model.get(User._meta.label, 0)


@transaction.atomic
def profile_update(*, user: User, data: dict) -> User:
    """A user's own profile: name and phone only (never role, email or active)."""
    allowed = {"full_name", "phone"}
    for field, value in data.items():
        if field not in allowed:
            raise ValidationError({field: ["This field cannot be changed here."]})
        setattr(user, field, value.strip())
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*data.keys(), "updated_at"])
    user_cache_invalidate(user.pk)
    return user


def tokens_for(user: User, *, session: str | None = None) -> dict:
    """A new token pair for `user`, in their current token generation and in
    `session` (a refresh continues its session; a login starts one)."""
    refresh = RefreshToken.for_user(user)
    refresh[GENERATION_CLAIM] = user.token_generation
    refresh[SESSION_CLAIM] = session or refresh[jwt_settings.JTI_CLAIM]
    # The access token copies both claims from the refresh token.
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _end_every_session(user: User) -> None:
    """Move the user's token generation on: every token issued so far, access
    and refresh, on every device, is refused from the next request."""
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1, ended_sessions={})
    user.refresh_from_db(fields=["token_generation", "ended_sessions"])
    user_cache_invalidate(user.pk)


@transaction.atomic
def refresh_token_spend(*, token: RefreshToken) -> bool:
    """Blacklist a refresh token; True only for the one caller that spent it.

    The blacklist row is the check: BlacklistedToken.token is one-to-one with
    OutstandingToken, so of concurrent spenders of one token (in any process)
    exactly one inserts the row and the others meet the unique constraint
    (get_or_create then finds the committed row and says it wasn't created).
    A check-then-blacklist in two steps would let each of them through.
    """
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[jwt_settings.JTI_CLAIM],
        defaults={
            "user_id": token.get(jwt_settings.USER_ID_CLAIM),
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


@transaction.atomic
def user_logout(*, user: User, refresh: RefreshToken, access_claims=None) -> None:
    """One device logs out: its refresh token is spent, and its session ended,
    so the access tokens issued in it stop too (on every process: the ended
    session is on the user row the token check reads)."""
    refresh.blacklist()
    sessions = {claims.get(SESSION_CLAIM) for claims in (refresh.payload, access_claims or {})} - {None}
    if not sessions:
        return  # a token from before sessions: its refresh token is spent, which is all it had
    stored = User.objects.select_for_update().get(pk=user.pk)
    now = time.time()
    # Expired sessions are kept no longer: their tokens are refused on their own.
    ended = {sid: until for sid, until in stored.ended_sessions.items() if until > now}
    until = refresh.payload["exp"]
    ended.update({sid: max(until, ended.get(sid, 0)) for sid in sessions})
    User.objects.filter(pk=user.pk).update(ended_sessions=ended)
    user.ended_sessions = ended
    user_cache_invalidate(user.pk)


@transaction.atomic
def user_logout_all(*, user: User) -> int:
    """Log `user` out of every device: every token issued so far stops working
    (the generation moves on), and every outstanding refresh token is blacklisted."""
    _end_every_session(user)
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


@transaction.atomic
def user_set_password(*, user: User, password: str | None) -> User:
    """Store a new password (None: no password logs in any more) and log every
    device out. The caller has validated the password against the user (the
    API's serializers and the admin's form show those errors on their field)."""
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    user_cache_invalidate(user.pk)
    user_logout_all(user=user)
    return user


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> dict:
    """Change a password; every other device is logged out. Returns a fresh token
    pair for the device that made the change."""
    # The request's user may be a cached copy: check against the stored hash.
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is not correct."]})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user_set_password(user=user, password=new_password)
    return tokens_for(user)


def password_reset_link(user: User) -> str:
    from django.conf import settings

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"


def password_reset_request(*, email: str) -> None:
    """Email a set-password link when an active account has this email. Says
    nothing either way, so the endpoint can't be used to probe for accounts."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        return
    send_templated_email(
        to=user.email,
        template="password_reset",
        context={"user": user, "link": password_reset_link(user)},
        # The person asked for it: it goes out even if the address bounced before.
        ignore_suppression=True,
    )


@transaction.atomic
def password_reset_confirm(*, user: User, token: str, new_password: str) -> None:
    if not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["This link is invalid or has expired."]})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user_set_password(user=user, password=new_password)
