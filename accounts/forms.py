"""The login forms of the server-rendered pages (the sales workspace, the admin),
held to the same limit on password guesses as the API (accounts.login_throttle)."""

from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.core.exceptions import ValidationError

from accounts.backends import EmailNotVerified
from accounts.login_throttle import login_attempt_check
from cohortly.errors import TooManyAttempts


class ThrottledLoginMixin:
    """For a django.contrib.auth AuthenticationForm: each attempt is counted
    before the password is checked; once the limit is spent the form is invalid
    with the throttle's message and `retry_after` set, without checking the
    password. The view answers such a form with `throttled_login_response`.
    An account whose email nobody has proven is refused (accounts.backends)."""

    #: Seconds until another attempt is allowed, when the throttle refused this one.
    retry_after: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        # Where AuthenticationForm.clean would check a password.
        if username is not None and password:
            try:
                login_attempt_check(request=self.request, email=username)
            except TooManyAttempts as exc:
                self.retry_after = exc.wait
                raise ValidationError(exc.message, code=exc.code)
        try:
            return super().clean()
        except EmailNotVerified as exc:
            # The right password of an account nobody has proven. Only an account
            # that may use this page hears so; any other gets the form's usual
            # refusal (the wrong-password error), as it would once proven.
            self.confirm_login_allowed(exc.user)
            raise


def throttled_login_response(response, form):
    """The login page answers 429 with Retry-After when `form` was refused by the throttle."""
    retry_after = getattr(form, "retry_after", None)
    if retry_after:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form (cohortly.admin_site.AdminSite.login_form)."""


class AdminOwnPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "Change password" page (an ADMIN's own password). Its old
    password is a password to guess: each try counts with the logins
    (`login_attempt_check`), and once the limit is spent the password isn't
    checked. The new one is stored through accounts.services.user_set_password,
    so every session and token of the account ends but this browser's (the view
    updates its session hash)."""

    retry_after: int | None = None

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        try:
            login_attempt_check(request=self.request, email=self.user.email)
        except TooManyAttempts as exc:
            self.retry_after = exc.wait
            raise ValidationError(exc.message, code=exc.code) from exc
        return super().clean_old_password()

    def save(self, commit=True):
        from accounts.services import user_set_password

        return user_set_password(user=self.user, password=self.cleaned_data["new_password1"])
