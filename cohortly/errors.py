"""The errors services raise: what went wrong in the domain, and nothing of HTTP.

- NotFound: what the service was asked to act on is not there (any more).
- Conflict: the request makes sense but clashes with the current state
  (already enrolled, a bootcamp that still has enrollments...).
- NotAllowed: this actor may not do this.
- Busy: a lock another transaction holds was not released in time; trying
  again shortly is the answer (cohortly.locking).
- TooManyAttempts: a limit on attempts (password guesses) is spent until
  `wait` seconds from now (accounts.login_throttle).
- Invalid input is Django's ValidationError, field by field with a code:
  full_clean raises it already, forms show it beside the field it names, and
  the API answers it as a 400 on that field.

Each error carries a message for people and a stable code for programs. They
are translated once per way in: to HTTP in cohortly.exceptions (the API), to
form errors in leads.forms (the sales pages), to messages in cohortly.admin.
"""

from django.core.exceptions import ValidationError


class DomainError(Exception):
    default_message = "The request could not be carried out."
    default_code = "error"

    def __init__(self, message: str | None = None, *, code: str | None = None):
        self.message = message or self.default_message
        self.code = code or self.default_code
        super().__init__(self.message)


class NotFound(DomainError):
    default_message = "Not found."
    default_code = "not_found"


class Conflict(DomainError):
    default_message = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class NotAllowed(DomainError):
    default_message = "You do not have permission to perform this action."
    default_code = "permission_denied"


class Busy(DomainError):
    default_message = "This is being changed by someone else right now; try again in a moment."
    default_code = "busy"


class TooManyAttempts(DomainError):
    default_message = "Too many attempts. Try again shortly."
    default_code = "throttled"

    def __init__(self, message: str | None = None, *, code: str | None = None, wait: int):
        super().__init__(message, code=code)
        self.wait = wait  # seconds until the limit allows another attempt


#: Everything a service raises when it refuses a request (catch these, not Exception).
SERVICE_ERRORS = (DomainError, ValidationError)


#: The code of a field's "someone else changed this since you opened the page":
#: an admin change form's own check (cohortly.admin.ChangedSinceShownForm), and a
#: service's that checks it again under its locks (accounts.services.user_update).
CHANGED_MEANWHILE = "changed_meanwhile"
