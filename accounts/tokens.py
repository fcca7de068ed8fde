"""simplejwt's token classes, for every token a request brings.

A token signed with our key whose `exp` lies beyond the calendar (10**30)
passed PyJWT's check, then made simplejwt's check_exp raise OverflowError
turning it into a date: a 500 where any bad token is a 401. Only a holder of
the signing key can make one; it is refused like any other bad token all the
same. The API's authentication (AUTH_TOKEN_CLASSES), login, refresh and logout
use these classes."""

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.exceptions import TokenError


class _CalendarExpiry:
    def check_exp(self, claim="exp", current_time=None):
        try:
            super().check_exp(claim, current_time)
        except (OverflowError, OSError, ValueError, TypeError) as exc:
            raise TokenError(_("Token is invalid or expired")) from exc


class AccessToken(_CalendarExpiry, tokens.AccessToken):
    pass


class RefreshToken(_CalendarExpiry, tokens.RefreshToken):
    access_token_class = AccessToken


class UntypedToken(_CalendarExpiry, tokens.UntypedToken):
    pass
