import contextlib

from django.contrib.auth import user_logged_in
from django.core.exceptions import ValidationError
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import AuthenticationFailed, ErrorDetail
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts import selectors, services
from accounts.api.serializers import (
    NOT_A_REFRESH_TOKEN,
    LoginResponseSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
    VerifyEmailSerializer,
    spent_refresh_claims,
)
from accounts.filtersets import UserFilterSet, UserSearchFilter
from accounts.login_throttle import login_attempt_check
from accounts.models import SESSION_CLAIM, User
from accounts.permissions import ADMIN_ONLY, ALL_ROLES, PUBLIC, RolePermission
from accounts.tokens import RefreshToken
from cohortly.filters import FiltersListsOnly
from cohortly.openapi import ErrorResponse401Serializer
from cohortly.throttling import PasswordResetRateThrottle, RegisterRateThrottle

AUTH_TAG = ["auth"]
REGISTER_ACCEPTED = "Thanks. We've sent an email to this address with what to do next."


class PublicAPIView(GenericAPIView):
    """Reached without a token; any token sent is ignored rather than checked."""

    authentication_classes = []
    permission_classes = [RolePermission]
    read_roles = write_roles = PUBLIC

    def get_authenticate_header(self, request):
        # Failed credentials are a 401 (with the scheme to use), not a 403.
        return 'Bearer realm="api"'

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # The credentials are in the body here (a password, a refresh token, a link's
        # token), which CredentialedAnswersAreNotStored can't see, and login and
        # refresh answer with tokens: kept by no cache (RFC 6749 5.1).
        response.setdefault("Cache-Control", "no-store")
        return response


class RegisterView(PublicAPIView):
    serializer_class = RegisterSerializer
    throttle_classes = [RegisterRateThrottle]

    @extend_schema(
        tags=AUTH_TAG,
        summary="Register as a student",
        description=(
            "Always the same 202 once the input is valid, whether the email is new or already has an "
            "account: the new account's owner gets a welcome email with a link to confirm the address "
            "(`auth/verify-email`), an existing account's owner an email saying someone tried to "
            "register with their address (with a set-password link when nobody has confirmed that "
            "account's address either). Log in once the address is confirmed: until then login "
            "answers 403 `email_not_verified`."
        ),
        responses={202: RegisterResponseSerializer},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.user_register(
            email=data["email"],
            password=data["password"],
            full_name=data["full_name"],
            phone=data.get("phone", ""),
        )
        return Response(
            RegisterResponseSerializer({"detail": REGISTER_ACCEPTED}).data, status=status.HTTP_202_ACCEPTED
        )


class LoginView(PublicAPIView):
    # Password attempts are limited in LoginSerializer (accounts.login_throttle).
    serializer_class = LoginSerializer

    @extend_schema(
        tags=AUTH_TAG,
        summary="Log in",
        description=(
            "Reached without a token; any token sent is ignored rather than checked. Attempts are "
            "limited per account and per client address, together with the sales and admin sign-in "
            "pages (`THROTTLE_LOGIN_RATE` per account, 10 a minute by default; "
            "`THROTTLE_LOGIN_ADDRESS_RATE` per address, 60); once either limit is spent, even "
            "the right password gets 429 with `Retry-After` until the window ends. A wrong password, "
            "an unknown email and a deactivated account are the same 401 `invalid_credentials`. The "
            "right password of an account whose email address nobody has confirmed yet is a 403 "
            "`email_not_verified`: confirm it with the welcome email's link, or set a password with a "
            "link from `auth/password/reset`."
        ),
        responses={200: LoginResponseSerializer, 401: ErrorResponse401Serializer},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        user_logged_in.send(sender=User, request=request, user=user)
        return Response({**services.tokens_for(user), "user": UserSerializer(user).data})


class RefreshView(PublicAPIView):
    serializer_class = RefreshSerializer

    @extend_schema(
        tags=AUTH_TAG,
        summary="Refresh the tokens",
        responses={200: TokenPairSerializer, 401: ErrorResponse401Serializer},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        old = serializer.validated_data["refresh"]
        user = serializer.context["token_user"]
        # Rotation: the presented token is spent (once, whoever races for it), a new pair issued.
        if old is not None and not services.refresh_token_spend(token=old):
            raise InvalidToken("Token is blacklisted")
        # A token from before sessions starts one named after itself, so that its
        # reuse (accounts.services.refresh_token_reused) can end what it forked into.
        session = (old.payload.get(SESSION_CLAIM) or old[jwt_settings.JTI_CLAIM]) if old is not None else None
        return Response(services.tokens_for(user, session=session))


class LogoutView(GenericAPIView):
    serializer_class = LogoutSerializer
    permission_classes = [RolePermission]
    write_roles = PUBLIC

    def perform_authentication(self, request):
        """An access token that is refused (expired, say) counts as none here,
        not a 401: the refresh token in the body is what logs out, so a frontend
        whose access token ran out can still log out. DRF leaves the request
        anonymous when its authentication fails."""
        with contextlib.suppress(AuthenticationFailed):
            request.user  # noqa: B018 (authenticates)

    @extend_schema(
        tags=AUTH_TAG,
        summary="Log out",
        description=(
            "Ends this device's session: its refresh token is spent, and the access tokens issued "
            "in the session are refused from the next request. The refresh token is the credential; "
            "the access token is optional. When it is sent and still good it must be the same "
            "user's (else 400 on `refresh`) and its session ends too; an expired one is ignored, "
            "so a frontend whose access token ran out can still log out."
        ),
        responses={204: None},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["refresh"]
        try:
            token, claims = RefreshToken(raw), None
        except TokenError as exc:
            # Spent already, by a refresh of this session racing the logout (the
            # other tab): the session still ends, with the pair that refresh issued.
            # Its signature and expiry are checked all the same; only the blacklist
            # is not asked.
            token, claims = None, spent_refresh_claims(raw)
            if claims is None:
                raise serializers.ValidationError({"refresh": [NOT_A_REFRESH_TOKEN]}) from exc
        caller = request.user if request.user.is_authenticated else None
        owner = selectors.user_of_token(claims or token.payload)
        if owner is None:
            # Signed by us, for a user who is gone: nothing to log out of.
            raise serializers.ValidationError({"refresh": [NOT_A_REFRESH_TOKEN]})
        if caller is not None and caller.pk != owner.pk:
            raise serializers.ValidationError({"refresh": ["This refresh token belongs to another user."]})
        # This device's access token (request.auth), when sent and good, ends with its session.
        access_claims = getattr(request.auth, "payload", None) if caller is not None else None
        services.user_logout(user=owner, refresh=token, refresh_claims=claims, access_claims=access_claims)
        return Response(status=status.HTTP_204_NO_CONTENT)


# No body: an APIView, so OPTIONS doesn't look for a serializer to describe it.
class LogoutAllView(APIView):
    permission_classes = [RolePermission]
    write_roles = ALL_ROLES

    @extend_schema(tags=AUTH_TAG, summary="Log out everywhere", request=None, responses={204: None})
    def post(self, request):
        services.user_logout_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(GenericAPIView):
    serializer_class = PasswordChangeSerializer
    permission_classes = [RolePermission]
    write_roles = ALL_ROLES

    @extend_schema(
        tags=AUTH_TAG,
        summary="Change my password",
        description=(
            "Checks `old_password`, so each call counts as an attempt at the password, with "
            "the logins (`THROTTLE_LOGIN_RATE` per account, `THROTTLE_LOGIN_ADDRESS_RATE` per "
            "address): 429 with "
            "`Retry-After` once that is spent. Every other device is logged out."
        ),
        responses={200: OpenApiResponse(TokenPairSerializer, "A fresh token pair for this device")},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A stolen access token must not buy unlimited guesses at the password.
        login_attempt_check(request=request, email=request.user.email)
        tokens = services.user_change_password(
            user=request.user,
            old_password=serializer.validated_data["old_password"],
            new_password=serializer.validated_data["new_password"],
        )
        return Response(tokens)


class PasswordResetRequestView(PublicAPIView):
    serializer_class = PasswordResetRequestSerializer
    throttle_classes = [PasswordResetRateThrottle]

    @extend_schema(
        tags=AUTH_TAG,
        summary="Ask for a password reset link",
        responses={202: inline_serializer("PasswordResetAccepted", {"detail": serializers.CharField()})},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(
            {"detail": "If an account has this email, a link to set its password is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(PublicAPIView):
    serializer_class = PasswordResetConfirmSerializer
    throttle_classes = [PasswordResetRateThrottle]

    @extend_schema(
        tags=AUTH_TAG,
        summary="Set a new password from a reset link",
        description=(
            "The link of a password reset, of an invitation or of a conversion. It also confirms the "
            "account's email address, and every earlier password and session of the account ends."
        ),
        responses={204: None},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = _user_of_link(data["uid"])
        if user is None:
            raise serializers.ValidationError({"token": ["This link is invalid or has expired."]})
        services.password_reset_confirm(user=user, token=data["token"], new_password=data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _user_of_link(uid: str) -> User | None:
    """The active user a link's `uid` names, or None."""
    try:
        return User.objects.get(pk=force_str(urlsafe_base64_decode(uid)), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist, ValidationError):
        return None


@extend_validation_errors(["invalid_link", "link_expired", "link_used"], field_name="token", methods=["post"])
@extend_validation_errors(["wrong_password"], field_name="password", methods=["post"])
class VerifyEmailView(PublicAPIView):
    serializer_class = VerifyEmailSerializer

    @extend_schema(
        tags=AUTH_TAG,
        summary="Confirm my email address",
        description=(
            "The `uid` and `token` of the link in the welcome email, with the password chosen at "
            "registration (the link alone would let the address's owner confirm an account someone "
            "else registered with it). Then log in. 400 on `token`: `invalid_link`, `link_expired` "
            "(older than `EMAIL_VERIFICATION_TIMEOUT`), `link_used` (the address is confirmed "
            "already); on `password`: `wrong_password`. Whoever doesn't know the password asks "
            "`auth/password/reset` for a set-password link, which confirms the address too. It checks a "
            "password, so it counts against the login limit (per account and per client address, with "
            "the logins): 429 with `Retry-After` once that is spent."
        ),
        responses={204: None},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = _user_of_link(data["uid"])
        if user is None:
            raise serializers.ValidationError(
                {"token": [ErrorDetail(services.INVALID_VERIFICATION_LINK, code="invalid_link")]}
            )
        # It checks a password: counted with the logins, per account and address.
        login_attempt_check(request=request, email=user.email)
        services.user_verify_email(user=user, token=data["token"], password=data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(GenericAPIView):
    serializer_class = ProfileSerializer
    permission_classes = [RolePermission]
    read_roles = write_roles = ALL_ROLES

    @extend_schema(tags=AUTH_TAG, summary="Read my profile")
    def get(self, request):
        return Response(ProfileSerializer(request.user).data)

    @extend_schema(tags=AUTH_TAG, summary="Update my profile")
    def patch(self, request):
        serializer = self.get_serializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.profile_update(user=request.user, data=serializer.validated_data)
        return Response(ProfileSerializer(user).data)


@extend_schema(tags=["users"])
@extend_schema_view(
    list=extend_schema(summary="List users"),
    create=extend_schema(summary="Create a user"),
    retrieve=extend_schema(summary="Read a user"),
    partial_update=extend_schema(summary="Update a user's name, phone, role or active flag"),
)
@extend_validation_errors(["own_account", "last_admin"], field_name="is_active", actions=["partial_update"])
# holds_enrollments, on_bootcamp_staff and owns_leads come from enrollments,
# bootcamps and leads, through accounts.signals.user_role_changing.
@extend_validation_errors(
    ["own_account", "last_admin", "holds_enrollments", "on_bootcamp_staff", "owns_leads"],
    field_name="role",
    actions=["partial_update"],
)
class UserViewSet(
    FiltersListsOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """User administration: ADMIN only."""

    permission_classes = [RolePermission]
    read_roles = write_roles = ADMIN_ONLY
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    filter_backends = [DjangoFilterBackend, UserSearchFilter]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.user_list()

    def get_serializer_class(self):
        if self.action == "create":
            return UserCreateSerializer
        if self.action in ("update", "partial_update"):
            return UserUpdateSerializer
        return UserSerializer

    @extend_schema(responses={201: UserSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.user_add(
            added_by=request.user,
            password=data.get("password"),
            email=data["email"],
            full_name=data["full_name"],
            phone=data.get("phone", ""),
            role=data["role"],
            is_active=data.get("is_active", True),
        )
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: UserSerializer},
        description=(
            "Change a user's name, phone, role or active flag. Deactivating a user logs them out "
            "everywhere. Refused with a 400, saving nothing: deactivating yourself (`own_account` "
            "on `is_active`), changing your own role (`own_account` on `role`), and deactivating or "
            "demoting the last active ADMIN (`last_admin` on `is_active` or `role`), and changing "
            "the role of a student who holds an ACTIVE or WAITLISTED enrollment (`holds_enrollments`) "
            "or of an instructor or mentor on the staff of a bootcamp that isn't ARCHIVED "
            "(`on_bootcamp_staff`), and taking a SALES or ADMIN user out of those roles while they "
            "own open leads (`owns_leads`), all on `role`."
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        user = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(actor=request.user, user=user, data=serializer.validated_data)
        return Response(UserSerializer(user).data)
