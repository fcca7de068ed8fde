from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import selectors, services
from accounts.backends import EmailNotVerified
from accounts.login_throttle import login_attempt_check
from accounts.models import User, name_validator, normalize_email, phone_validator
from accounts.passwords import PASSWORD_MAX_LENGTH
from accounts.tokens import RefreshToken, UntypedToken
from cohortly.authentication import check_canonical_jwt
from cohortly.models import email_validator
from cohortly.serializers import StrictFieldsMixin


class NewPasswordField(serializers.CharField):
    """A password being chosen. The services check it against AUTH_PASSWORD_VALIDATORS
    and answer with their codes; declared here, so the schema lists them."""

    default_error_messages = {
        "password_too_short": "This password is too short.",
        "password_too_common": "This password is too common.",
        "password_entirely_numeric": "This password is entirely numeric.",
        "password_too_similar": "The password is too similar to the email or the name.",
        "password_too_uniform": "This password uses too few different characters.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", PASSWORD_MAX_LENGTH)
        super().__init__(trim_whitespace=False, write_only=True, **kwargs)


class PersonSerializer(serializers.ModelSerializer):
    """A user as other resources show them: a bootcamp's instructors, who graded."""

    class Meta:
        model = User
        fields = ["id", "full_name"]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    """A user as the staff see them on others' records: a lead's owner, an enrolled student."""

    class Meta:
        model = User
        fields = ["id", "full_name", "email"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "phone", "role", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "enum": [User.Role.STUDENT.value]})
class SelfRegisteredRoleField(serializers.CharField):
    """`role` at registration: documented as the one value it takes (anything
    else is refused with its own code, invalid_role, by RegisterSerializer)."""


class RegisterSerializer(StrictFieldsMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254, validators=[email_validator])
    password = NewPasswordField()
    full_name = serializers.CharField(max_length=150, validators=[name_validator])
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )
    role = SelfRegisteredRoleField(
        required=False,
        write_only=True,
        max_length=16,
        help_text="Self-registration always creates a STUDENT; any other value is refused.",
        error_messages={"invalid_role": "Self-registration creates student accounts only."},
    )

    def validate_email(self, value):
        # Whether it is taken is never said here (accounts.services.user_register).
        return normalize_email(value)

    def validate_role(self, value):
        if value != User.Role.STUDENT:
            raise serializers.ValidationError(
                "Self-registration creates student accounts only.", code="invalid_role"
            )
        return value


class RegisterResponseSerializer(serializers.Serializer):
    """The same whether the email was new or taken: nothing to learn about who has an account."""

    detail = serializers.CharField()


#: The longest password a login takes (Django's forms take any length; Argon2 costs
#: the same whatever the length).
LOGIN_PASSWORD_MAX_LENGTH = 4096


class LoginSerializer(StrictFieldsMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    # Longer than the 128 a new password may have: the Node backend set no limit, and
    # its users sign in with what they chose there (bcrypt reads the first 72 bytes).
    password = serializers.CharField(
        max_length=LOGIN_PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True
    )

    # Not in default_error_messages: those are the body's 400 codes in the schema, and
    # this is the 401 (documented by the view).
    INVALID_CREDENTIALS = "No active account found with these credentials."

    def validate(self, attrs):
        request = self.context.get("request")
        email = normalize_email(attrs["email"])
        # Counted with the sales and admin logins; when spent, the password isn't checked.
        login_attempt_check(request=request, email=email)
        try:
            user = authenticate(request=request, email=email, password=attrs["password"])
        except EmailNotVerified as exc:
            # Only said once the password is right (accounts.backends).
            raise exceptions.PermissionDenied(exc.message, code="email_not_verified") from None
        # Wrong password, unknown email and inactive account look the same.
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(self.INVALID_CREDENTIALS, code="invalid_credentials")
        attrs["user"] = user
        return attrs


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


REUSED_REFRESH = (
    "This refresh token was used before, so it may be in someone else's hands: its session has "
    "ended. Sign in again."
)


def spent_refresh_claims(raw: str) -> dict | None:
    """The claims of a refresh token of ours whose signature and expiry hold,
    the blacklist not asked (UntypedToken); None for anything else."""
    try:
        claims = UntypedToken(raw).payload
    except TokenError:
        return None
    return claims if claims.get("token_type") == "refresh" else None


class RefreshSerializer(StrictFieldsMixin, serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)

    def validate_refresh(self, value):
        check_canonical_jwt(value)  # Cohortly's and the Node backend's alike
        try:
            token = RefreshToken(value)
        except TokenError as exc:
            # Ours, but spent: a copy used again ends its session (reuse detection).
            claims = spent_refresh_claims(value)
            if claims is not None and services.refresh_token_reused(claims=claims):
                raise InvalidToken(REUSED_REFRESH) from exc
            # Not one of ours: an authentication backend may still take it once
            # (the Node backend's refresh tokens during the cutover, see MIGRATING.md).
            user = authenticate(self.context.get("request"), refresh_token=value)
            if user is None:
                raise InvalidToken(str(exc)) from exc
            self.context["token_user"] = user
            return None  # spent by the backend; nothing of ours to blacklist
        user = selectors.user_of_token(token.payload)
        # An unproven account gets no tokens at login; nor does one from before that rule.
        if user is None or not user.is_active or not user.email_verified:
            raise exceptions.AuthenticationFailed(
                "No active account found for this token.", code="no_active_account"
            )
        if not user.accepts_token(token.payload):
            raise InvalidToken("Token has been revoked")
        self.context["token_user"] = user
        return token


NOT_A_REFRESH_TOKEN = "This is not a refresh token of this API, or it has expired."


class LogoutSerializer(StrictFieldsMixin, serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)

    def validate_refresh(self, value):
        # Logout's refresh token is the one thing it needs: a bad one is this field's
        # 400, whatever the access token (refresh answers 401, a credential refused).
        try:
            check_canonical_jwt(value)
        except InvalidToken as exc:
            raise serializers.ValidationError(NOT_A_REFRESH_TOKEN) from exc
        return value


class PasswordChangeSerializer(StrictFieldsMixin, serializers.Serializer):
    old_password = serializers.CharField(
        max_length=LOGIN_PASSWORD_MAX_LENGTH,  # what a login takes: a Node user's may be longer than 128
        trim_whitespace=False,
        write_only=True,
        error_messages={"wrong_password": "The current password is not correct."},
    )
    new_password = NewPasswordField(
        error_messages={"unchanged": "Choose a password different from the current one."}
    )


class PasswordResetRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(StrictFieldsMixin, serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = NewPasswordField()


class VerifyEmailSerializer(StrictFieldsMixin, serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    password = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        write_only=True,
        help_text="The password chosen at registration: the link alone doesn't prove who registered.",
    )


class ProfileSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "phone", "role", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "email", "role", "is_active", "created_at", "updated_at"]
        # Only ever PATCHed (partial: nothing is required there), and always in the
        # answer: required, so the schema's Profile doesn't call it optional.
        extra_kwargs = {"phone": {"required": True}}


class UserCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    email = serializers.EmailField(
        max_length=254,
        validators=[email_validator],
        error_messages={"unique": "A user with this email already exists."},
    )
    password = NewPasswordField(
        required=False,
        help_text=(
            "Leave out to invite the person: the account has no password, and they are emailed a link "
            "to set one (which also confirms their address)."
        ),
    )
    full_name = serializers.CharField(max_length=150, validators=[name_validator])
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )
    role = serializers.ChoiceField(choices=User.Role.choices)
    is_active = serializers.BooleanField(
        required=False,
        default=True,
        help_text=(
            "false: the account signs in nowhere until it is activated. Made without a password, "
            "it is emailed its link when it is activated, not before."
        ),
    )

    def validate_email(self, value):
        value = normalize_email(value)
        if User.objects.filter(email=value).exists():
            raise serializers.ValidationError("A user with this email already exists.", code="unique")
        return value


class UserUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False, validators=[name_validator])
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)
