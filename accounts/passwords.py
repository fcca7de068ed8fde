"""A password validator of Cohortly's own, beside Django's (AUTH_PASSWORD_VALIDATORS)."""

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
