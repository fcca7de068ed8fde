"""Writes for accounts: registration, profiles, passwords and tokens."""

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import GENERATION_CLAIM, SESSION_CLAIM, User, normalize_email
from accounts.signals import user_email_verified, user_reactivated, user_role_changing
from accounts.tasks import password_reset_task
from accounts.tokens import RefreshToken
from cohortly.authentication import user_cache_invalidate
from cohortly.emails import send_templated_email
from cohortly.errors import CHANGED_MEANWHILE, NotFound
from cohortly.middleware import current_request_id
from cohortly.models import field_values, save_changes
from mail.selectors import suppression_for


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc


def _save_new_user(user: User) -> User:
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations of one email racing past full_clean's check.
        # The same answer, code included, as full_clean's check gives the one that lost by more.
        raise ValidationError(
            {"email": ValidationError("A user with this email already exists.", code="unique")}
        ) from exc
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
    """Create a user of any role (ADMIN's path; registration uses user_register).

    Given a password, the account's email counts as verified: the ADMIN who
    sets it vouches for the address. Without one (an ADMIN inviting someone,
    conversion creating a student), nobody has proven it yet: the account's
    set-password link does (password_reset_confirm).
    """
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
        user.email_verified_at = timezone.now()
    return _save_new_user(user)


@transaction.atomic
def user_invite(
    *,
    invited_by: User,
    email: str,
    full_name: str,
    phone: str = "",
    role: str = User.Role.STUDENT,
    is_active: bool = True,
) -> User:
    """Create an account without a password (an ADMIN's invitation) and email its
    owner the link to set one, which also proves the address. An inactive
    account is not told: there is nothing it could sign in to yet (a
    set-password link is sent when it is activated, user_update)."""
    user = user_create(
        email=email, password=None, full_name=full_name, phone=phone, role=role, is_active=is_active
    )
    if user.is_active:
        send_templated_email(
            to=user.email,
            template="invitation",
            context={"user": user, "invited_by": invited_by, "link": password_reset_link(user)},
        )
    return user


@transaction.atomic
def user_add(
    *,
    added_by: User,
    password: str | None,
    email: str,
    full_name: str,
    phone: str = "",
    role: str = User.Role.STUDENT,
    is_active: bool = True,
) -> User:
    """An ADMIN adds someone (the API's POST /users/, the admin's add form):
    with the password they set, or, without one, invited by email (user_invite)."""
    person = {"email": email, "full_name": full_name, "phone": phone, "role": role, "is_active": is_active}
    if password:
        user = user_create(password=password, **person)
        # Proven as a used link proves it (user_mark_email_verified): its open lead is
        # told, after commit, as there.
        transaction.on_commit(lambda: user_email_verified.send(sender=User, user=user), robust=True)
        return user
    return user_invite(invited_by=added_by, **person)


def user_awaits_invitation(user: User) -> bool:
    """Never had a password: none now, and never signed in nor proved the address.
    One whose password was taken away later is no newcomer ("has made you an account")."""
    return not user.has_usable_password() and user.last_login is None and user.email_verified_at is None


#: Why user_send_password_link sent nothing.
LINK_NOT_SENT_INACTIVE = "inactive"
LINK_NOT_SENT_SUPPRESSED = "suppressed"


def user_send_password_link(*, user: User, sent_by: User) -> str | None:
    """An ADMIN sends `user` a set-password link: the invitation again to an
    account that never had a password (it was lost, or expired), else a link
    to set a new one. Returns None once sent, or why nothing was: the account
    is inactive (it could use neither), or its address is on the suppression
    list (it bounced or reported spam; only a reset the person asks for
    themself still goes there)."""
    if not user.is_active:
        return LINK_NOT_SENT_INACTIVE
    if suppression_for(user.email) is not None:
        return LINK_NOT_SENT_SUPPRESSED
    send_templated_email(
        to=user.email,
        template="invitation" if user_awaits_invitation(user) else "password_link",
        context={"user": user, "invited_by": sent_by, "sent_by": sent_by, "link": password_reset_link(user)},
    )
    return None


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str, phone: str = "") -> User | None:
    """Self-registration: always a STUDENT, whose email nobody has proven yet.
    Sends a welcome email with the link that proves it (email_verification_link)
    after commit; until it is used (or a set-password link is), the account
    logs in nowhere (accounts.backends) and is given nobody's lead.

    An email that already has an account gets no second one and no error: the
    caller can't tell, so registration can't be used to find out who has an
    account. The input is checked the same way (a weak password is refused
    either way), the password hashed as for a new account (so the time says
    nothing either), and the address's owner is emailed instead. When nobody
    has proven that account's address either, the email carries its
    set-password link: whoever registered it first can't keep the address's
    owner out of it. Returns the new user, or None when the email was taken.
    """
    candidate = User(
        email=normalize_email(email), full_name=full_name.strip(), phone=phone.strip(), role=User.Role.STUDENT
    )
    candidate.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    _check_password(password, candidate)
    existing = User.objects.filter(email=candidate.email).first()
    if existing is None:
        candidate.set_password(password)
        try:
            user = _save_new_user(candidate)
        except ValidationError:
            # Everything else was checked above: another registration of this email got in first.
            existing = User.objects.get(email=candidate.email)
        else:
            send_templated_email(
                to=user.email,
                template="welcome",
                context={"user": user, "link": email_verification_link(user)},
                # name+1@, name+2@, ... are new accounts each, and one mailbox.
                limit_per_address=True,
            )
            return user
    else:
        make_password(password)
    context = {"user": existing}
    if existing.email_verified_at is None and existing.is_active:
        context["link"] = password_reset_link(existing)
    send_templated_email(
        to=existing.email, template="registration_attempt", context=context, limit_per_address=True
    )
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


def _check_unchanged_since_shown(*, stored: User, changes: dict, shown: dict) -> None:
    """Refuse a change of a field someone else changed since `shown` (what an
    admin's page showed) was read, checked on the locked row: two admins saving
    one user at once each passed the page's own check, made before this lock,
    and the second overwrote the first unseen. The admin can't hold the row
    before that check: this service locks the user with the active admins, in
    id order (_user_lock_for_update)."""
    moved = {
        field: ValidationError(
            "Someone else changed this since you opened the page: open it again.", code=CHANGED_MEANWHILE
        )
        for field in changes
        if field in shown and _as_compared(getattr(stored, field)) != _as_compared(shown[field])
    }
    if moved:
        raise ValidationError(moved)


def _as_compared(value):
    return value.strip() if isinstance(value, str) else value


@transaction.atomic
def user_update(*, actor: User, user: User, data: dict, shown: dict | None = None) -> User:
    """An ADMIN (`actor`) changes a user's name, phone, role or active flag.

    Nobody may deactivate themself or change their own role, and no change may
    leave Cohortly without an active ADMIN: both are checked on locked rows
    before anything is written, so a refusal saves nothing and revokes no tokens.
    Nor may a role change while the user still holds something by it (a seat,
    a place on a bootcamp's staff): the apps holding it refuse through
    accounts.signals.user_role_changing.
    `user` may already carry the new values (the admin's form sets them); the
    checks compare with the stored row. `shown`, what an admin's page showed,
    refuses a field changed there that someone else changed meanwhile
    (_check_unchanged_since_shown).
    """
    allowed = {"full_name", "phone", "role", "is_active"}
    for field in data:
        if field not in allowed:
            raise ValidationError({field: ["This field cannot be changed."]})
    changes = {field: value.strip() if isinstance(value, str) else value for field, value in data.items()}
    stored, other_admins = _user_lock_for_update(user=user, changes=changes)
    # What the stored row already holds is no change: nothing is written for it.
    changes = {field: value for field, value in changes.items() if getattr(stored, field) != value}
    if not changes:
        return user
    _check_unchanged_since_shown(stored=stored, changes=changes, shown=shown or {})
    _check_no_lockout(actor=actor, stored=stored, other_admins=other_admins, changes=changes)
    if changes.get("role", stored.role) != stored.role:
        # The apps that hold something by this role may refuse (accounts.signals).
        user_role_changing.send(sender=User, user=stored, role=changes["role"])
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    # Only what changed: `user` was read before the lock (an admin's form, the
    # API's object) and may carry an old password, generation or ended sessions.
    user.save(update_fields=[*changes, "updated_at"])
    user_cache_invalidate(user.pk)
    if user.role != stored.role or user.is_active != stored.is_active:
        # Sessions opened under the old role or before the deactivation end: the
        # user signs in again (if they still may) and gets what the new state allows.
        user_logout_all(user=user)
    if user.is_active and not stored.is_active:
        # What was held for them meanwhile (a waitlist's free seat) is theirs again.
        transaction.on_commit(lambda: user_reactivated.send(sender=User, user=user), robust=True)
        if user_awaits_invitation(stored):
            # Made inactive without a password (user_invite told nobody): invited now.
            user_send_password_link(user=user, sent_by=actor)
    return user


def user_delete_blockers(pks) -> list[str]:
    """What deleting these users would take with it although it must stay on
    record (the database would cascade it, not refuse): the back office's history
    of the changes they made, and the lists that name them (a bootcamp's
    instructors and mentors, which a role change refuses to leave wrong too)."""
    from django.contrib.admin.models import LogEntry

    blockers = []
    changes = LogEntry.objects.filter(user_id__in=pks).count()
    if changes:
        plural = "s" if changes != 1 else ""
        blockers.append(f"the back office's history of {changes} change{plural} they made")
    for relation in User._meta.related_objects:
        if not relation.many_to_many:
            continue
        naming = relation.related_model.objects.filter(**{f"{relation.field.name}__in": pks}).distinct()
        names = [str(row) for row in naming.order_by("pk")[:4]]
        if names:
            shown = ", ".join(names[:3]) + (" and more" if len(names) > 3 else "")
            blockers.append(f"them from the {relation.field.verbose_name} of {shown}")
    return blockers


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
    if blockers := user_delete_blockers(pks):
        raise ValidationError(
            f"Deleting would erase {'; '.join(blockers)}: deactivate them instead.", code="protected"
        )
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
    before = field_values(user)
    for field, value in data.items():
        if field not in allowed:
            raise ValidationError({field: ["This field cannot be changed here."]})
        setattr(user, field, value.strip())
    user.full_clean(exclude=["password"])
    if save_changes(user, before):
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
    # A save, not QuerySet.update(): the response cache sees which fields it
    # wrote (none that a response shows), where an update would make every
    # cached response that reads users stale.
    # The stored row (`user` may be an importer's copy, never read from the database).
    stored = User.objects.only("pk").get(pk=user.pk)
    stored.token_generation = F("token_generation") + 1
    stored.ended_sessions = {}
    stored.save(update_fields=["token_generation", "ended_sessions"])
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


#: A spent refresh token presented again this long after it was spent is taken
#: for a copy in someone else's hands, and its session ends (refresh_token_reused).
#: Sooner, it is the same client's two tabs racing for one refresh: only refused.
REFRESH_REUSE_GRACE = timedelta(seconds=30)


def refresh_token_reused(*, claims: dict) -> bool:
    """A refresh token whose signature, expiry and kind hold (`claims`) came back
    spent. Past REFRESH_REUSE_GRACE, whoever refreshed with it first may be a thief
    as much as the user: the session ends, for both (OAuth 2.0's reuse detection),
    and the user signs in again. True when it ended the session."""
    spent = (
        BlacklistedToken.objects.filter(token__jti=claims.get(jwt_settings.JTI_CLAIM))
        .values_list("blacklisted_at", flat=True)
        .first()
    )
    if spent is None or spent > timezone.now() - REFRESH_REUSE_GRACE:
        return False
    user = User.objects.filter(pk=claims.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None:
        return False
    # A token from before sessions: its successors carry its jti as their session.
    session = claims.get(SESSION_CLAIM) or claims.get(jwt_settings.JTI_CLAIM)
    claims = {**claims, SESSION_CLAIM: session}
    # Spent by the end of its session (its device logged out; logout-all, a password
    # change or reset, a deactivation ended them all), not by a rotation: revoked,
    # nothing to alarm anyone about, and nothing left to end.
    if not user.is_active or not user.accepts_token(claims):
        return False
    user_logout(user=user, refresh=None, refresh_claims=claims)
    return True


@transaction.atomic
def user_logout(
    *, user: User, refresh: RefreshToken | None, refresh_claims: dict | None = None, access_claims=None
) -> None:
    """One device logs out: its refresh token is spent, and its session ended,
    so the access tokens issued in it stop too (on every process: the ended
    session is on the user row the token check reads). A refresh token spent
    already comes as its verified claims alone (refresh None, refresh_claims).

    The user's row is locked first, as a password change and logout-all lock
    it before they blacklist every outstanding token: blacklisting this one
    first and then waiting for the row deadlocked with them (a 500)."""
    stored = User.objects.select_for_update().get(pk=user.pk)
    if refresh is not None:
        refresh.blacklist()
        refresh_claims = refresh.payload
    sessions = {claims.get(SESSION_CLAIM) for claims in (refresh_claims or {}, access_claims or {})} - {None}
    if not sessions:
        return  # a token from before sessions: its refresh token is spent, which is all it had
    now = time.time()
    # Expired sessions are kept no longer: their tokens are refused on their own.
    ended = {sid: until for sid, until in stored.ended_sessions.items() if until > now}
    # Until any token of the session can have expired: a refresh racing this
    # logout may have issued one that outlives the token presented here.
    until = now + jwt_settings.REFRESH_TOKEN_LIFETIME.total_seconds()
    ended.update({sid: max(until, ended.get(sid, 0)) for sid in sessions})
    stored.ended_sessions = ended
    stored.save(update_fields=["ended_sessions"])  # a save: see _end_every_session
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
def user_set_password_by_admin(*, user: User, password: str | None) -> bool:
    """An ADMIN sets another user's password (user_set_password). A password handed
    over this way confirms the address, as for an account an admin creates with
    one (user_create): else it would sign in nowhere. True when it confirmed it."""
    user_set_password(user=user, password=password)
    return password is not None and user_mark_email_verified(user=user)


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> dict:
    """Change a password; every other device is logged out. Returns a fresh token
    pair for the device that made the change."""
    # The request's user may be a cached copy: check against the stored hash.
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password):
        raise ValidationError(
            {"old_password": ValidationError("The current password is not correct.", code="wrong_password")}
        )
    if new_password == old_password:
        # Not a change: it would only log every other device out.
        raise ValidationError(
            {
                "new_password": ValidationError(
                    "Choose a password different from the current one.", code="unchanged"
                )
            }
        )
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    user_set_password(user=user, password=new_password)
    return tokens_for(user)


def password_reset_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"


def password_reset_request(*, email: str) -> None:
    """Email a set-password link when an active account has this email. Says
    nothing either way, so the endpoint can't be used to probe for accounts:
    the request only queues the look-up (the same one write whoever asked), so
    neither its answer nor its time tells whether the account exists."""
    password_reset_task.enqueue(email=normalize_email(email), request_id=current_request_id())


def password_reset_send(*, email: str) -> int:
    """The set-password link, to the active account with this (normalised) email,
    if there is one (password_reset_task). 1 if sent, else 0 (no such account,
    or its mailbox had its fill of working links this hour: cohortly.emails)."""
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        return 0
    return send_templated_email(
        to=user.email,
        template="password_reset",
        context={"user": user, "link": password_reset_link(user)},
        # The person asked for it: it goes out even if the address bounced before.
        ignore_suppression=True,
        # Links sent before the last sign-in no longer work (Django's reset token
        # reads it): they don't count, so whoever signs in can't use up the owner's.
        limit_per_address=True,
        counted_after=user.last_login,
    )


@transaction.atomic
def password_reset_confirm(*, user: User, token: str, new_password: str) -> None:
    """Set a password from a set-password link (reset, invitation, conversion).

    The link went to the account's address, so using it proves the address:
    an unverified account becomes verified, after user_set_password has ended
    every earlier password and session, whoever had them.

    The link is checked on the row read afresh under its lock: it is spent by
    the password it sets, so of two uses at once the second sees the new
    password and is refused, instead of both being told their password is set.
    """
    user = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["This link is invalid or has expired."]})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    user_set_password(user=user, password=new_password)
    user_mark_email_verified(user=user)


# --- Proving an email ---------------------------------------------------------------

_EMAIL_VERIFICATION_SALT = "accounts.services.email_verification"


def _email_verification_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_EMAIL_VERIFICATION_SALT, algorithm="sha256")


def _email_fingerprint(user: User) -> str:
    """What a verification link is bound to: this account with this address
    (an ADMIN changing the email voids the links sent to the old one). Keyed,
    so the link says nothing about the address to whoever sees the URL."""
    digest = salted_hmac(_EMAIL_VERIFICATION_SALT, f"{user.pk}:{user.email}", algorithm="sha256")
    return digest.hexdigest()[:32]


def email_verification_link(user: User) -> str:
    """The link of the welcome email that proves `user` owns their address.
    Signed and timestamped: valid for EMAIL_VERIFICATION_TIMEOUT seconds, and
    only until the address is proven (user_verify_email)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = _email_verification_signer().sign(_email_fingerprint(user))
    return f"{settings.FRONTEND_URL}/verify-email?uid={uid}&token={token}"


def _link_error(code: str, message: str) -> ValidationError:
    return ValidationError({"token": ValidationError(message, code=code)})


INVALID_VERIFICATION_LINK = "This link is not a valid email confirmation link."


@transaction.atomic
def user_verify_email(*, user: User, token: str, password: str) -> User:
    """Prove `user`'s email with the link of the welcome email and the account's password.

    The link proves whoever follows it reads the address; the password, that
    they are also who registered. Without it, the owner of an address someone
    else registered could confirm that stranger's account by clicking "confirm"
    in an email they never expected. Someone who doesn't know the password
    takes the account over with a set-password link instead.

    Refusals are 400s on `token` (`invalid_link`, `link_expired`, `link_used`:
    the address is proven already) or on `password` (`wrong_password`).
    """
    try:
        fingerprint = _email_verification_signer().unsign(token, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
    except signing.SignatureExpired:
        raise _link_error(
            "link_expired",
            "This link has expired. Ask for a password link from the sign-in page: it confirms the "
            "address too.",
        ) from None
    except signing.BadSignature:
        raise _link_error("invalid_link", INVALID_VERIFICATION_LINK) from None
    if not constant_time_compare(fingerprint, _email_fingerprint(user)):
        raise _link_error("invalid_link", INVALID_VERIFICATION_LINK)
    used = _link_error("link_used", "This address is confirmed already: sign in.")
    if user.email_verified_at is not None:
        raise used
    if not user.check_password(password):
        raise ValidationError(
            {
                "password": ValidationError(
                    "That isn't this account's password. If you don't know it, ask for a password "
                    "link from the sign-in page: it confirms the address too.",
                    code="wrong_password",
                )
            }
        )
    if not user_mark_email_verified(user=user):
        raise used  # another request used the link in between
    return user


@transaction.atomic
def user_mark_email_verified(*, user: User) -> bool:
    """Record that `user`'s address is proven (a verification or set-password
    link sent to it was used). True only for the one caller
    that changed it, so concurrent callers can't both
    (accounts.signals.user_email_verified is sent once, after this transaction commits)."""
    # The row locked, then saved: of concurrent callers only the first finds it
    # unproven, and the response cache moves this user's tags alone (an
    # UPDATE it isn't told of would make every response that reads users stale).
    stored = User.objects.select_for_update().get(pk=user.pk)
    if stored.email_verified_at is not None:
        return False
    stored.email_verified_at = timezone.now()
    stored.save(update_fields=["email_verified_at", "updated_at"])
    user.email_verified_at, user.updated_at = stored.email_verified_at, stored.updated_at
    user_cache_invalidate(user.pk)
    # After commit, outside this lock on the user's row (as user_reactivated): its
    # receiver locks the address's open lead, and converting that lead locks the
    # lead, then this user; sent in here, the two waited for each other (a deadlock,
    # a 500 for one of them).
    transaction.on_commit(lambda: user_email_verified.send(sender=User, user=user), robust=True)
    return True
