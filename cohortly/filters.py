"""Filters shared by the API and the pages' filtersets (django-filter)."""

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import BaseCSVWidget
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, filters

from cohortly.dates import MOMENT_MESSAGES, moment_text_problem
from cohortly.models import ASCII_DIGITS, MAX_ID


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, handed on in UTC. PostgreSQL refuses offsets past
    ±15:59 that Python parses (-18:00: a 500), and a time at the edge of the
    calendar may have no UTC equivalent at all (a 400 here)."""

    default_error_messages = MOMENT_MESSAGES

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and (problem := moment_text_problem(value)):
            raise ValidationError(self.error_messages[problem], code=problem)
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictBooleanField(forms.Field):
    """`true` or `false` (also `1` or `0`, in any case). Django's NullBooleanField
    reads anything else as "no filter" or even as false (`3`), so a typo
    listed every row as if filtered; here it is a 400."""

    widget = forms.TextInput
    values = {"true": True, "1": True, "false": False, "0": False}
    default_error_messages = {"invalid": "Must be true or false."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.values[str(value).strip().lower()]
        except KeyError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        pass  # None (not given) is "no filter"; to_python refused the rest.


class ChoicesField(django_filters.fields.MultipleChoiceField):
    """Several of the choices; a value given empty (`?status=`, what a form's
    untouched select sends) is no value, as it is for every other filter."""

    def clean(self, value):
        if isinstance(value, list | tuple):
            value = [item for item in value if item != ""]
        return super().clean(value)


class MultipleChoiceFilter(django_filters.MultipleChoiceFilter):
    """One or more of the choices (repeat the parameter); empty values are left out.

    Without DISTINCT unless asked for (django-filter adds it by default, for a
    to-many field): on a column of the listed row it changes nothing but the
    plan, and the page's count became a COUNT over SELECT DISTINCT of every
    column (60 ms for ?status=NEW over 100,000 leads, 4 ms without)."""

    field_class = ChoicesField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class BooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that refuses what it can't read (StrictBooleanField)."""

    field_class = StrictBooleanField


def _check_id_text(value, message: str, code: str) -> None:
    """An id in a query: ASCII digits and nothing else (not even the "1.0"
    Django's IntegerField reads)."""
    if isinstance(value, str) and value and not ASCII_DIGITS.fullmatch(value):
        raise ValidationError(message, code=code)


class IdField(forms.IntegerField):
    def to_python(self, value):
        _check_id_text(value, self.error_messages["invalid"], "invalid")
        return super().to_python(value)


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        _check_id_text(value, self.error_messages["invalid_choice"], "invalid_choice")
        return super().to_python(value)


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number in the primary key's range, in ASCII digits ("1.5"
    or "٣" is a 400, not row 1 or 3; a number past bigint is a 400, never a
    database overflow)."""

    field_class = IdField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
        # The schema says what is read, so a client that validates first doesn't
        # send a 0 to meet a 400 min_value. drf-spectacular takes the help text
        # only from such an explicit schema.
        schema = {"type": "integer", "minimum": kwargs["min_value"], "maximum": kwargs["max_value"]}
        if self.extra.get("help_text"):
            schema["description"] = str(self.extra["help_text"])
        extend_schema_field(schema)(self)


class IdChoiceFilter(django_filters.ModelChoiceFilter):
    """A row of the queryset by its id, in ASCII digits (as IdFilter)."""

    field_class = IdChoiceField


class FiltersListsOnly:
    """A viewset mixin: the filter backends (filters, search, ordering) narrow
    the lists (`filtered_actions`), never the one row an action reads by its
    id, which is found in the user's scope or not at all. A detail then builds
    no filterset either."""

    filtered_actions = frozenset({"list"})

    def filter_queryset(self, queryset):
        if self.action not in self.filtered_actions:
            return queryset
        return super().filter_queryset(queryset)


#: Words a search matches, each against every field it searches (ORed), the
#: words ANDed: past a few words nobody types, the query only grows (SQLite
#: refuses such an expression tree outright). More is a 400, `too_many_terms`.
MAX_SEARCH_TERMS = 10
TOO_MANY_TERMS = f"Search for at most {MAX_SEARCH_TERMS} words."


def at_most_max_search_terms(value: str) -> None:
    """A form field's validator: the word limit of SearchFilter, for a
    filterset's own search (the leads list)."""
    if value and len(value.split()) > MAX_SEARCH_TERMS:
        raise ValidationError(TOO_MANY_TERMS, code="too_many_terms")


class SearchFilter(filters.SearchFilter):
    """DRF's ?search=, with a refused term reported on `search` (DRF raises a
    bare list, which the error handler turns into attr null), as the leads
    list's filterset reports it. `error_codes` are what it can answer; the
    OpenAPI schema documents them (cohortly.openapi.AutoSchema)."""

    max_terms = MAX_SEARCH_TERMS

    #: DRF checks the term with a plain CharField: only a NUL character fails
    #: it; then the word count.
    error_codes = frozenset({"null_characters_not_allowed", "too_many_terms"})

    def get_search_terms(self, request):
        try:
            terms = super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from exc
        if len(terms) > self.max_terms:
            raise exceptions.ValidationError({self.search_param: TOO_MANY_TERMS}, code="too_many_terms")
        return terms


class OrderingWidget(BaseCSVWidget, forms.Select):
    """?ordering= as comma-separated terms, repeated parameters, or both
    (`?ordering=a&ordering=-b` is how generated clients send an array), in
    the order given."""

    def value_from_datadict(self, data, files, name):
        if name not in data:
            return None
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [term.strip() for value in values for term in str(value or "").split(",") if term.strip()]


class OrderingFilter(django_filters.OrderingFilter):
    """The one `ordering` parameter of every list: any of `fields`, each
    optionally descending with `-`; an unknown field is a 400 on `ordering`.

    `default` applies when the caller gives none. The primary key
    (`tie_breaker`) always comes last, so pages never repeat or skip rows that
    share a value. Fields in `nulls_last` sort their empty values last either
    way (only those: NULLS LAST on a column that is never empty would stop
    PostgreSQL reading a descending index backwards). A field in `expressions`
    sorts by its expression instead of its value (a status in pipeline order)."""

    def __init__(self, *args, default=(), tie_breaker="id", nulls_last=(), expressions=None, **kwargs):
        kwargs.setdefault("widget", OrderingWidget)
        self.default = tuple(default)
        self.tie_breaker = tie_breaker
        self.nulls_last = frozenset(nulls_last)
        self.expressions = dict(expressions or {})
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        terms = [self.get_ordering_value(param) for param in value or () if param] or list(self.default)
        if not terms:
            return qs
        ordering = []
        for term in terms:
            name = term.lstrip("-")
            if name in self.expressions:
                expression = self.expressions[name]
                term = expression.desc() if term.startswith("-") else expression.asc()
            elif name in self.nulls_last:
                term = F(name).desc(nulls_last=True) if term.startswith("-") else F(name).asc(nulls_last=True)
            ordering.append(term)
        if not any(isinstance(t, str) and t.lstrip("-") in ("id", "pk") for t in terms):
            ordering.append(self.tie_breaker)
        return qs.order_by(*ordering)
