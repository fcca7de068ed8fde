"""The API's authentication: Cohortly's JWTs, and the Node backend's during the cutover."""

from rest_framework_simplejwt.exceptions import InvalidToken

from cohortly.authentication import JWTAuthentication
from legacy import tokens


class LegacyAccessToken(dict):
    """request.auth for a request authenticated with a Node access token."""


class CutoverJWTAuthentication(JWTAuthentication):
    """Cohortly's tokens as always; a token Cohortly refuses is tried as a Node access token.

    The Node check runs only on the refusal path, so Cohortly's own tokens cost
    nothing more, and with LEGACY_* unset it refuses at once.
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except InvalidToken:
            raw = self.get_raw_token(self.get_header(request))
            user = tokens.access_token_user(raw) if raw else None
            if user is None:
                raise
            return user, LegacyAccessToken(user_id=str(user.pk), legacy=True)
