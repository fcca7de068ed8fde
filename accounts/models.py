import re
import uuid
from collections.abc import Callable

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower, Replace
from django.utils import timezone
from django.utils.crypto import salted_hmac

# Names (users', leads'): cohortly.models.name_validator, imported from here too.
from cohortly.models import ImportedFromLegacy, TimeStampedModel, email_validator, name_validator
from mail.selectors import normalize

# At least six digits (lookahead), so "------" or "((((((" is not a number; \Z,
# not $, which would let a trailing line break through.
phone_validator = RegexValidator(
    r"^(?=(?:[^0-9]*[0-9]){6})\+?[0-9 ().-]{6,32}\Z",
    "Enter a phone number with at least 6 digits: digits, spaces, brackets, dots or dashes, "
    "optionally starting with +.",
)


#: What a phone number may be written with besides its digits and a leading
#: "+" (phone_validator): a search ignores them.
PHONE_SEPARATORS = " -()./"
#: A search term that is a phone number once its separators are gone: at least
#: three digits, maybe a leading "+".
_PHONE_TERM = re.compile(r"\+?[0-9]{3,}")


def without_phone_separators(expression):
    """`expression` (text) with PHONE_SEPARATORS removed, in SQL."""
    for separator in PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def phone_search_digits(term: str) -> str | None:
    """The phone number a search term is once its separators are gone ("+31 657
    985331" and "657-985-331" alike), or None when it isn't one."""
    compact = term.strip().translate(str.maketrans("", "", PHONE_SEPARATORS))
    return compact if _PHONE_TERM.fullmatch(compact) else None


#: The shortest national number a search matches in another form.
_NATIONAL_DIGITS_AT_LEAST = 6
#: The trunk 0 some write in brackets after a country code ("+44 (0)20 7946 0958"),
#: not dialled with it.
BRACKETED_TRUNK = re.compile(r"\(\s*0\s*\)")


def phone_search_forms(term: str) -> tuple[tuple[str, bool], ...]:
    """What a phone search term matches in a stored number (without separators),
    as (digits, at the number's start), or () when it isn't a phone number: the
    term itself anywhere, and the other ways one number is written. A national
    number (a trunk 0: "06 12 34 56 78") also matches that number after any
    country code ("+33 6 12 34 56 78"). An international one ("+33 6 12 34 56
    78", or "0033…") also matches the number written nationally ("06 12 34 56
    78"), at the start of a stored number, so not under another country code; a
    country code has one to three digits, so each split is looked for."""
    compact = phone_search_digits(term)
    if compact is None:
        return ()
    forms = [(compact, False)]
    if compact.startswith(("+", "00")):
        digits = compact.removeprefix("+") if compact.startswith("+") else compact[2:]
        forms.append((f"+{digits}", False))
        forms += [
            (f"0{digits[cut:]}", True) for cut in (1, 2, 3) if len(digits) - cut >= _NATIONAL_DIGITS_AT_LEAST
        ]
        # "+44 (0)20 7946 0958": a trunk 0 in brackets beside the country code
        # isn't dialled with it, and the number is stored without it.
        if (without_trunk := BRACKETED_TRUNK.sub("", term, count=1)) != term:
            forms += phone_search_forms(without_trunk)
    elif compact.startswith("0") and len(compact) - 1 >= _NATIONAL_DIGITS_AT_LEAST:
        forms.append((compact[1:], False))
    return tuple(dict.fromkeys(forms))


_SEPARATOR_CLASS = re.escape(PHONE_SEPARATORS)
#: A word of a phone number as written: digits and separators, maybe a leading "+".
_NUMBER_WORD = re.compile(rf"\+?[0-9{_SEPARATOR_CLASS}]*[0-9][0-9{_SEPARATOR_CLASS}]*")


def search_words_and_number(term: str) -> tuple[list[str], str] | None:
    """A search term read as words beside one phone number spread over several of
    them ("Waller 020 7946 0000", "Ada +44 (20) 7946 0958"): (the other words, the
    number's words joined), or None unless two or more words make a phone number.
    Searches match it so, beside every word on its own ("020" alone is no number)."""
    words = term.split()
    number = [word for word in words if _NUMBER_WORD.fullmatch(word)]
    joined = "".join(number)
    if len(number) < 2 or not phone_search_forms(joined):
        return None
    return [word for word in words if not _NUMBER_WORD.fullmatch(word)], joined


def search_match(text: str, *, word: Callable[[str], Q], number: Callable[[str], Q]) -> Q:
    """What a search for `text` matches, as the README says every search does:
    each word (`word(w)`, which matches phones too), or the whole text as one
    phone number, or the words beside a number spread over several of them
    (`number(n)`: the rows whose phone is the number `n`, in each of its
    phone_search_forms). The leads' and the users' searches build theirs so."""
    match = Q()
    for term in text.split():
        match &= word(term)
    if phone_search_forms(text):
        match |= number(text)
    if split := search_words_and_number(text):
        others, joined = split
        beside = number(joined)
        for term in others:
            beside &= word(term)
        match |= beside
    return match


#: The claims every Cohortly token carries (accounts.services.tokens_for): the
#: user's token generation when it was issued, and the session it belongs to.
GENERATION_CLAIM = "gen"
SESSION_CLAIM = "sid"


def normalize_email(email: str) -> str:
    """Emails are stored as mail.selectors.normalize writes them (trimmed,
    lower-cased, the domain in ASCII), so that uniqueness ignores case and one
    mailbox has one spelling."""
    return normalize(email)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=normalize_email(username))

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        if password is not None:
            # Whoever runs createsuperuser or a shell vouches for the address
            # they give a password to (accounts.services.user_create alike).
            extra_fields.setdefault("email_verified_at", timezone.now())
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.STUDENT)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["role"] = User.Role.ADMIN
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, TimeStampedModel, ImportedFromLegacy):
    class Role(models.TextChoices):
        ADMIN = "ADMIN", "Admin"
        SALES = "SALES", "Sales"
        INSTRUCTOR = "INSTRUCTOR", "Instructor"
        MENTOR = "MENTOR", "Mentor"
        STUDENT = "STUDENT", "Student"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, unique=True, validators=[email_validator])
    full_name = models.CharField(max_length=150, validators=[name_validator])
    phone = models.CharField(max_length=32, blank=True, validators=[phone_validator])
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT, db_index=True)
    is_active = models.BooleanField(default=True)
    # When someone proved they own `email` (a verification or set-password link
    # was used). Accounts that existed before the field did count as verified.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # Sessions (cohortly.authentication). Every token carries the generation it
    # was issued in; logout-all, a password change or reset, deactivation and a
    # role change move it on, and tokens of an earlier generation are refused.
    token_generation = models.PositiveIntegerField(default=0, editable=False)
    # Sessions ended one at a time (a device's logout): session id -> when its
    # last token expires, after which the entry is dropped. Kept on the row the
    # token check reads anyway, so checking costs no query of its own.
    ended_sessions = models.JSONField(default=dict, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["ADMIN", "SALES", "INSTRUCTOR", "MENTOR", "STUDENT"]),
                name="accounts_user_role_valid",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def check_password(self, raw_password) -> bool:
        """Django's check, whose upgrade of an outdated hash (the Node backend's
        bcrypt, at the first login) replaces only the hash it verified. Django's
        saved it over whatever the row held by then: a password reset or change
        made while a login checked the bcrypt hash (a second) was undone, and the
        old password worked again. Changed meanwhile, the login is refused."""
        verified = self.password
        changed_meanwhile = False

        def upgrade(raw):
            nonlocal changed_meanwhile
            with transaction.atomic():
                held = User.objects.select_for_update().filter(pk=self.pk)
                stored = held.values_list("password", flat=True).get()
                changed_meanwhile = stored != verified
                if changed_meanwhile:
                    self.password = stored
                    return
                self.set_password(raw)
                self.save(update_fields=["password"])

        return check_password(raw_password, verified, upgrade) and not changed_meanwhile

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def get_session_auth_hash(self):
        """What a browser session (the sales pages, the admin) is bound to: the
        password, as in Django, and the token generation, so that logging a user
        out of every device ends their sessions too, not only their tokens.
        (Sessions made under a key in SECRET_KEY_FALLBACKS end at key rotation.)"""
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.token_generation}",
            algorithm="sha256",
        ).hexdigest()

    def accepts_token(self, claims) -> bool:
        """Whether a token with these claims still stands for this user: the
        account's email proven, the token issued in the current generation, and
        its session not ended. A token without the
        claims (a Node token, one issued before they existed) is generation 0."""
        if self.email_verified_at is None:
            return False  # an unproven account signs in nowhere (accounts.backends), nor holds a session
        if claims.get(GENERATION_CLAIM, 0) != self.token_generation:
            return False
        return claims.get(SESSION_CLAIM) not in self.ended_sessions

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    # The Django admin and its permission checks: ADMIN is the only role that
    # gets into the back office, and it may do everything there.
    @property
    def is_staff(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_superuser(self) -> bool:
        return self.role == self.Role.ADMIN

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and self.role == self.Role.ADMIN

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label) -> bool:
        return self.is_active and self.role == self.Role.ADMIN
