"""An authentication backend for the Node backend's refresh tokens.

`accounts` asks `authenticate(request, refresh_token=...)` when a refresh token
isn't one of Cohortly's; this backend answers while LEGACY_* is configured.
"""

from django.contrib.auth.backends import BaseBackend

from legacy import tokens


class LegacyRefreshTokenBackend(BaseBackend):
    def authenticate(self, request, refresh_token=None, **kwargs):
        if not refresh_token or kwargs:
            return None
        return tokens.spend_refresh_token(refresh_token)
