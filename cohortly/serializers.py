import re
from collections.abc import Mapping
from decimal import Decimal

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings
from rest_framework.utils import humanize_datetime

from cohortly.dates import MOMENT_MESSAGES, moment_text_problem
from cohortly.models import ASCII_DIGITS, MAX_ID, is_plain_decimal


class StrictFieldsMixin:
    # Refuses fields the serializer does not accept instead of silently dropping
    # them, so `{"role": "ADMIN"}` on a profile is a clear 400, not a quiet no-op.
    # (Comments, not a docstring: drf-spectacular would give the docstring of a
    # base class to every request body of a subclass without its own, in the
    # public API docs.)

    # Declared so the OpenAPI schema documents the code among the non-field errors.
    default_error_messages = {"unknown_field": "Unknown field(s)."}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                # Reported as a non-field error: the attr of a field error must
                # name a documented field, and these are not.
                names = ", ".join(repr(name)[:60] for name in unknown[:10])
                raise serializers.ValidationError(
                    {
                        api_settings.NON_FIELD_ERRORS_KEY: [
                            serializers.ErrorDetail(f"Unknown field(s): {names}.", code="unknown_field")
                        ]
                    }
                )
            loose = {
                name: self.fields[name] for name in data if not _plainly_typed(self.fields[name], data[name])
            }
            if loose:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail(field.error_messages["invalid"], code="invalid")]
                        for name, field in loose.items()
                    }
                )
        return super().to_internal_value(data)


#: A whole number written as JSON writes one: ASCII digits, maybe a minus.
_ASCII_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)


def _plainly_typed(field, value) -> bool:
    """Whether `value` has the type `field` stands for, as JSON writes it. DRF
    reads more: a number into a text field (1e309 was stored as "inf", in a
    currency as "INF"), and into a whole number any digits Python's int() takes
    ("𝟙𝟘" and "1_4" were stored as 10 and 14), into a yes/no "on" or 1, and
    into a UUID a number. Those are `invalid`, as any other value of the wrong type."""
    if value is None:
        return True
    if isinstance(field, serializers.CharField) and not isinstance(field, serializers.DateField):
        return isinstance(value, str)
    if isinstance(field, serializers.IntegerField) and isinstance(value, str):
        return bool(_ASCII_INTEGER.fullmatch(value))
    if isinstance(field, serializers.BooleanField):
        # DRF also reads "on", "no", "True", 1 and 0: a form's words, not JSON's.
        return isinstance(value, bool)
    uuid_field = field if isinstance(field, serializers.UUIDField) else getattr(field, "pk_field", None)
    if isinstance(uuid_field, serializers.UUIDField):
        # A UUID is written as a string; DRF takes a number as UUID(int=...), and a
        # related field takes "" as null (which unassigned a lead's owner).
        return isinstance(value, str) and (value != "" or not isinstance(field, serializers.RelatedField))
    return True


class StrictInput(StrictFieldsMixin, serializers.Serializer):
    # An input serializer that refuses unknown fields. The error codes the
    # services add are declared on the fields (error_messages) so that the OpenAPI
    # schema documents every code a 400 can carry. (No docstring: see above.)
    pass


class PlainDecimalField(serializers.DecimalField):
    """A decimal number as JSON writes one (cohortly.models.is_plain_decimal);
    anything else DRF would hand to Python's Decimal is `invalid`, as any other
    non-number."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not is_plain_decimal(data):
            self.fail("invalid")
        if isinstance(data, Decimal) and data.is_finite() and data.as_tuple().exponent >= 0:
            # A JSON number with a point always has a digit after it, so an exponent
            # of 0 or more was written in exponent notation (1e2, 0.5e1), which
            # is_plain_decimal refuses in quotes (cohortly.parsers reads it exactly).
            self.fail("invalid")
        return super().to_internal_value(data)


class MomentField(serializers.DateTimeField):
    """A point in time, date and time with its UTC offset (ISO 8601). A date
    alone ("2026-12-21"), which Python reads as that day's first moment in UTC,
    is refused: whoever sends a day means the day, and a deadline of the 21st
    taken as its midnight flagged all the work handed in that day late. So is a
    time without an offset ("2026-12-21T18:00", a datetime-local input's value),
    which would be read as UTC: an hour off in Berlin (cohortly.dates)."""

    default_error_messages = MOMENT_MESSAGES

    def to_internal_value(self, value):
        problem = moment_text_problem(value) if isinstance(value, str) else None
        if problem in MOMENT_MESSAGES:
            self.fail(problem)
        if problem:  # DRF's own message, which names the formats it reads
            formats = getattr(self, "input_formats", None) or api_settings.DATETIME_INPUT_FORMATS
            self.fail("invalid", format=humanize_datetime.datetime_formats(formats))
        return super().to_internal_value(value)


#: What a JSON value is, as a message names it (not Python's type names).
JSON_KINDS = {
    str: "text",
    float: "a decimal number",
    Decimal: "a decimal number",  # how cohortly.parsers reads one
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


class RelatedListField(serializers.ManyRelatedField):
    """A list of related objects. DRF's takes any iterable but a string, so a JSON
    object counted as the list of its keys ({"<id>": "x"} set that one, {} none):
    an object is `not_a_list`, as a string is."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            self.fail("not_a_list", input_type=type(data).__name__)
        if isinstance(data, list) and not all(_plainly_typed(self.child_relation, item) for item in data):
            self.child_relation.fail("invalid")
        return super().to_internal_value(data)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by its integer id: a JSON integer or a string of digits.

    DRF's field hands the value to the database lookup as it comes, so 1.5
    became object 1 (Django's int() truncates) and 1e400 a 500 (infinity has no
    int()). Anything but a whole number is refused as `incorrect_type`, and a
    number no bigint id can have as `does_not_exist`: the codes DRF's field
    already answers (and the schema documents) for those inputs, worded for
    whoever reads them (DRF's say 'Invalid pk "5" - object does not exist.')."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        given = kwargs.get("error_messages") or {}
        model = getattr(self.queryset, "model", None)
        name = model._meta.verbose_name if model is not None else "object"
        worded = {
            "does_not_exist": f"There is no {name} with the id {{pk_value}}.",
            "incorrect_type": f"Give the {name}'s id as a whole number, not {{data_type}}.",
        }
        self.error_messages.update({key: text for key, text in worded.items() if key not in given})

    def run_validation(self, data=empty):
        # DRF's related fields take "" as null: a lead's bootcamp was cleared by it,
        # and a conversion to "" said "may not be null", which nobody had sent.
        if data == "":
            self.fail("incorrect_type", data_type=JSON_KINDS[str])
        return super().run_validation(data)

    def to_internal_value(self, data):
        if isinstance(data, str) and ASCII_DIGITS.fullmatch(data.strip()):
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=JSON_KINDS.get(type(data), type(data).__name__))
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)
