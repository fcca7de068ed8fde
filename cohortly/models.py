import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, validate_email
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.encoding import punycode

#: The days a bootcamp or a deadline can fall on: outside them is a typo (2207
#: for 2027, year 1), which would sort first or last in every list.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)
plausible_date = [
    MinValueValidator(FIRST_DATE, f"Enter a date from {FIRST_DATE:%Y-%m-%d} on."),
    MaxValueValidator(LAST_DATE, f"Enter a date up to {LAST_DATE:%Y-%m-%d}."),
]
#: The same days for a time, wherever it is written: from the first moment of
#: 2000-01-01 at UTC+14 to the last of 2099-12-31 at UTC-12.
plausible_moment = [
    MinValueValidator(datetime(1999, 12, 31, 10, tzinfo=UTC), f"Enter a time from {FIRST_DATE:%Y-%m-%d} on."),
    MaxValueValidator(datetime(2100, 1, 1, 12, tzinfo=UTC), f"Enter a time up to {LAST_DATE:%Y-%m-%d}."),
]


#: A decimal number as JSON writes one: ASCII digits, at most one point, a sign.
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def is_plain_decimal(text: str) -> bool:
    """Whether `text` is a decimal as JSON writes one. Python's Decimal also
    reads "4_2" as 42, "1e1" as 10 and Arabic-Indic or fullwidth digits: a typo
    or a paste from elsewhere became a grade or a price nobody typed."""
    return bool(_PLAIN_DECIMAL.fullmatch(text.strip()))


def field_values(instance: models.Model) -> dict[str, object]:
    """The instance's column values, to tell later which ones a change touched."""
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def save_changes(instance: models.Model, before: dict[str, object]) -> list[str]:
    """Save the fields whose values differ from `before` (field_values), with
    updated_at, and return their names. When none differ nothing is written: a
    PATCH that changes nothing leaves updated_at, the history and the caches as
    they were. Saving only what changed lets the response cache
    (cohortly.caching) keep what doesn't read those fields."""
    fields = [
        field.name
        for field in instance._meta.concrete_fields
        if not field.generated and getattr(instance, field.attname) != before[field.attname]
    ]
    if fields:
        instance.save(update_fields=[*fields, "updated_at"] if "updated_at" not in fields else fields)
    return fields


def constraint_fields(constraint: models.BaseConstraint, model: type[models.Model]) -> set[str]:
    """The names of the model's fields a Meta.constraints entry reads: a unique
    constraint's fields and those of its condition, a check's condition's.
    Anything else (an expression-based constraint) reads every field."""
    fields = set(getattr(constraint, "fields", ()))
    condition = getattr(constraint, "condition", None)
    if condition is not None:
        fields |= Q(condition).referenced_base_fields
    if not fields or getattr(constraint, "expressions", ()):
        return {field.name for field in model._meta.fields}
    return fields


def clean_edit(instance: models.Model, changed: Iterable[str]) -> None:
    """full_clean() for an edit of a row read from the database: the `changed`
    fields, and every constraint one of them takes part in with all of that
    constraint's fields. The rest the row already held to, and the database
    still does (its CHECK and UNIQUE constraints): validating them again cost a
    query and a savepoint per constraint on every edit.

    Model.full_clean skips a constraint that reads an excluded field, so the
    constraints a change can break are the only ones left to run
    (test_validation holds it to that)."""
    meta = instance._meta
    changed = set(changed)
    involved = set(changed)
    for constraint in meta.constraints:
        fields = constraint_fields(constraint, type(instance))
        if fields & changed:
            involved |= fields
    for together in meta.unique_together:
        if changed & set(together):
            involved |= set(together)
    instance.full_clean(exclude={field.name for field in meta.fields} - involved)


#: The largest id a bigint primary key holds.
MAX_ID = 2**63 - 1
#: How an id is written: ASCII digits. int() also reads "٣", "1_0" and " 1".
ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class TimeStampedModel(models.Model):
    """created_at / updated_at for every business record.

    created_at is a default rather than auto_now_add so that an import can keep
    a row's original creation time (auto_now_add overwrites whatever is set).
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ImportedFromLegacy(models.Model):
    """Where a row came from when `import_legacy` brought it over from the Node backend.

    Empty on rows created in Cohortly, which the importer never touches.
    """

    legacy_id = models.UUIDField(
        null=True, blank=True, unique=True, editable=False, help_text="The row's id in the Node backend."
    )
    legacy_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The row's updated_at in the Node backend when it was last imported.",
    )

    class Meta:
        abstract = True


#: What a title (a bootcamp's, an assignment's) can't hold: control characters
#: (Unicode Cc: line breaks, tabs, terminal escapes) and the text-direction
#: overrides and isolates, which reorder the rest of a line wherever it is shown.
TITLE_UNSHOWABLE = "\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
#: Characters that show nothing on their own: spaces, the zero-width ones and
#: the joiners and marks (allowed inside a name), fillers and variation selectors.
INVISIBLE = (
    "\\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u2060-\u2064\u206a-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0"
)
#: Something to read, without the characters above: a title's and a name's rule.
SHOWABLE_TEXT = rf"^(?=[\s\S]*[^{INVISIBLE}{TITLE_UNSHOWABLE}])[^{TITLE_UNSHOWABLE}]*\Z"
#: A title of zero-width spaces showed as an empty column in a gradebook.
title_validator = RegexValidator(
    SHOWABLE_TEXT,
    "A title needs a visible character, and can't contain control characters (line breaks, tabs) "
    "or text-direction overrides.",
)
#: A place's name (a bootcamp's location), by the title's rule, in its own words.
location_validator = RegexValidator(
    SHOWABLE_TEXT,
    "A location needs a visible character, and can't contain control characters (line breaks, tabs) "
    "or text-direction overrides.",
)
_UNSHOWABLE_RUN = re.compile(f"[{TITLE_UNSHOWABLE}]+")
_NOTHING_VISIBLE = re.compile(f"[{INVISIBLE}]*")


def showable(text: str) -> str:
    """`text` as a title or name may hold it: control characters and
    text-direction overrides become a space, the ends are trimmed, and a text
    with nothing visible left is empty."""
    text = _UNSHOWABLE_RUN.sub(" ", text or "").strip()
    return "" if _NOTHING_VISIBLE.fullmatch(text) else text


def make_names_showable(model, *, fallback: str) -> int:
    """For a data migration: every `full_name` of `model` (a historical model with
    `full_name` and `email`) made showable, the email's part before the @ standing
    in for a name with nothing visible (`fallback` when that shows nothing
    either), as the importer does. Returns how many changed."""
    changed = 0
    for pk, name, email in model.objects.values_list("pk", "full_name", "email").iterator():
        fixed = showable(name)[:150] or showable(email.partition("@")[0])[:150] or fallback
        if fixed != name:
            model.objects.filter(pk=pk).update(full_name=fixed)
            changed += 1
    return changed


#: A person's name (a user's, a lead's): the title rule (control characters and
#: the text-direction overrides, which reorder the rest of a line wherever staff
#: read it: a gradebook, a CSV), and something to read. The other format
#: characters (the joiners some scripts' names are written with) are allowed.
#: One pattern, not two validators: the OpenAPI schema copies it as the one a
#: valid name must match.
name_validator = RegexValidator(
    SHOWABLE_TEXT,
    "A name needs a visible character, and can't contain control characters (line breaks, tabs) "
    "or text-direction overrides.",
)


def as_uuid(value) -> uuid.UUID | None:
    """An id sent as text, in any spelling of a UUID (upper case, no dashes,
    braces); None for anything else (not text, or not a UUID)."""
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def email_validator(value) -> None:
    """Beside Django's email check (which every email field runs, and which says
    what is wrong with an address it refuses): a domain that can be written in
    ASCII (IDNA), which is how mail is addressed. Django takes any Unicode label
    of up to 63 characters, but some have no ASCII form that short ("ä" * 63 is
    130), so no mail could ever reach the address: a user whose welcome email
    can't be sent can never confirm it. mail.selectors.normalize keeps such a
    domain as it is; this refuses it, in Django's words."""
    try:
        validate_email(value)
    except ValidationError:
        return  # Django's check, run beside this one, says so
    domain = str(value).strip().rpartition("@")[2]
    if not domain.isascii():
        try:
            punycode(domain)
        except UnicodeError:
            raise ValidationError(
                validate_email.message, code=validate_email.code, params={"value": value}
            ) from None
