"""Filtering shared by the API and the pages: django-filter, made cheap enough
for the busiest lists."""

import copy
from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django_filters import utils
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, filters

from cohortly.models import MAX_ID


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, cheaper to build on every request.

    - The filters are copied shallowly (with their own `extra` kwargs) instead
      of deep-copied: what each copy changes (model, parent, its form field, the
      kwargs that field is built from) is its own; the rest is never mutated.
    - With `only_given` set (the API does, the pages don't since they render
      the whole form), the form holds only the filters the request names:
      filters left out would have been empty and changed nothing.
    """

    only_given = False

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            filter_ = copy.copy(base)
            filter_.extra = dict(base.extra)
            if getattr(base, "_method", None) is not None:
                filter_.method = base._method  # rebinds its FilterMethod to this copy
            filter_.model = queryset.model
            filter_.parent = self
            self.filters[name] = filter_

    def get_form_class(self):
        if not self.only_given:
            return super().get_form_class()
        fields = {name: f.field for name, f in self.filters.items() if name in self.data}
        return type(f"{type(self).__name__}Form", (self._meta.form,), fields)


class FilterBackend(DjangoFilterBackend):
    """django-filter for the API: skipped when the request names none of the
    filters (it would change nothing), and with only the named ones validated."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if not any(name in request.query_params for name in filterset_class.base_filters):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        filterset.only_given = True
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        return filterset.qs


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, handed on in UTC. PostgreSQL refuses offsets past
    ±15:59 that Python parses (-18:00: a 500), and a time at the edge of the
    calendar may have no UTC equivalent at all (a 400 here)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number in the primary key's range ("1.5" is a 400, not
    row 1; a number past bigint is a 400, never a database overflow)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class SearchFilter(filters.SearchFilter):
    """DRF's ?search=, with a refused term reported on `search` (DRF raises a
    bare list, which the error handler turns into attr null), as the leads
    list's filterset reports it. `error_codes` are what it can answer; the
    OpenAPI schema documents them (cohortly.openapi.AutoSchema)."""

    #: DRF checks the term with a plain CharField: only a NUL character fails it.
    error_codes = frozenset({"null_characters_not_allowed"})

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from exc
