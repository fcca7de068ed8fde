"""Password validators of Cohortly's own, beside Django's (AUTH_PASSWORD_VALIDATORS)."""

from django.core.exceptions import ValidationError


class VariedPasswordValidator:
    """Refuse a password of fewer than `min_distinct` different characters,
    spaces not counted: eight spaces, or "abababab", pass Django's length,
    common-password and numeric checks."""

    def __init__(self, min_distinct: int = 4):
        self.min_distinct = min_distinct

    def validate(self, password: str, user=None) -> None:
        if len({char for char in password if not char.isspace()}) < self.min_distinct:
            raise ValidationError(self.get_help_text(), code="password_too_uniform")

    def get_help_text(self) -> str:
        return (
            f"Your password must use at least {self.min_distinct} different characters, spaces not counted."
        )


#: The longest password anyone may choose (a login takes longer ones: the Node
#: backend set no limit).
PASSWORD_MAX_LENGTH = 128


class MaximumLengthValidator:
    """Refuse a password longer than `max_length`: the API's forms refused one, and
    the back office set it, after which the API's login refused it as too long."""

    def __init__(self, max_length: int = PASSWORD_MAX_LENGTH):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long: use at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can't be longer than {self.max_length} characters."
