"""The password login every way in uses: the API, the sales pages and the admin.

An account whose email nobody has proven (User.email_verified_at is empty) is
nobody's yet: anyone could have registered it with someone else's address. It
logs in nowhere until the address's owner uses a link sent to it (the
verification link of the welcome email, or a set-password link).
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

EMAIL_NOT_VERIFIED = (
    "This account's email address isn't confirmed yet. Use the link in the email we sent to it, "
    "or ask for a new password link."
)


class EmailNotVerified(ValidationError):
    """The password is right but the account's email is unproven.

    A ValidationError, so Django's login forms (the sales pages, the admin)
    show it as a form error; the API answers it as a 403. It propagates out of
    django.contrib.auth.authenticate(), which only stops on PermissionDenied.
    """

    def __init__(self, user):
        super().__init__(EMAIL_NOT_VERIFIED, code="email_not_verified")
        self.user = user


class EmailVerifiedModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend returns the user only when the password is right and the
        # account active: only then is "not confirmed yet" said, so it tells a
        # guesser nothing that a wrong password wouldn't.
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and user.email_verified_at is None:
            raise EmailNotVerified(user)
        return user

    def get_user(self, user_id):
        # A session's user (sales pages, admin): the same rule, should one exist.
        user = super().get_user(user_id)
        return user if user is not None and user.email_verified_at is not None else None
