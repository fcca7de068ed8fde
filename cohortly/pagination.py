import functools
from collections.abc import Callable

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, ValidationError

PAGE_SIZE_ERROR = "Give a whole number of results per page, from 1 to {max}."
PAGE_ERROR = "Give a page number: a whole number, 1 or more."


def page_number_digits(text: str) -> str | None:
    """A page number as sent, without its leading zeros ("007" is "7"), read
    without int() (Python refuses one of more than 4,300 digits); None when it
    isn't a whole number of 1 or more in ASCII digits. The API's lists, the sales
    pages and the response cache's key read page numbers alike."""
    number = text.lstrip("0") if text.isascii() and text.isdecimal() else ""
    return number or None


def strict_page_size(paginator, request):
    """`page_size` from 1 to max_page_size; anything else is a 400 on the field
    (DRF would quietly fall back to the default, or cap it)."""
    raw = request.query_params.get(paginator.page_size_query_param)
    if not raw:  # not given, or given empty: the default
        return paginator.page_size
    # ASCII digits only: int() would take "1_0" and "𝟙𝟘" too.
    size = int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= 4 else 0
    if not 1 <= size <= paginator.max_page_size:
        detail = PAGE_SIZE_ERROR.format(max=paginator.max_page_size)
        raise ValidationError({paginator.page_size_query_param: [ErrorDetail(detail, code="invalid")]})
    return size


class KeysFirstPaginator(Paginator):
    """Django's Paginator, with a page of a queryset read as "the rows whose keys
    are that page of the keys" (one query, a subquery for the keys).

    OFFSET makes the database produce every row it skips, joins and annotations
    included, so a deep page cost as much as all the pages before it. The keys
    alone come from the ordering's index; only the page's rows are joined,
    annotated and prefetched. The rows are the ones the plain slice
    gives, in the same order, when the ordering is total (every list here ends
    on the primary key); test_pagination holds the two to each other.
    """

    def __init__(self, *args, counter: Callable[[Callable[[], int]], int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.counter = counter

    @cached_property
    def count(self):
        """The rows' count; `counter`, where given, is asked for it with a function
        that counts them (the view's count_rows, which may have it cached)."""
        if self.counter is None or not isinstance(self.object_list, QuerySet):
            return super().count
        return self.counter(self.object_list.count)

    def page(self, number):
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.object_list.values("pk")[bottom:top]
        return Page(self.object_list.filter(pk__in=keys), number, self)


class PageNumberPagination(pagination.PageNumberPagination):
    """{count, next, previous, results} with `page` (not a page number: 400; a
    page past the end: 404) and `page_size` (1 to 100, else 400)."""

    django_paginator_class = KeysFirstPaginator
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        # DRF builds the Django paginator from django_paginator_class: this one
        # asks the view for the count, where the view can say it (count_rows).
        counter = getattr(view, "count_rows", None)
        if counter is not None:
            self.django_paginator_class = functools.partial(KeysFirstPaginator, counter=counter)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        return strict_page_size(self, request)

    def get_page_number(self, request, paginator):
        number = super().get_page_number(request, paginator)
        # DRF answers "abc", 0 or 1.5 as a page not found (404): it's the request that's wrong.
        # No int(): Python refuses one of more than 4,300 digits (a page past the end all the same).
        if number in self.last_page_strings:
            return number
        digits = page_number_digits(str(number))
        if digits is None:
            raise ValidationError({self.page_query_param: [ErrorDetail(PAGE_ERROR, code="invalid")]})
        return digits

    def get_paginated_response_schema(self, schema):
        # DRF writes OpenAPI 3.0's `nullable`, which 3.1 (this schema's version)
        # doesn't know: a 3.1 validator or generator then refused every first and
        # last page's null. And all four keys are always there.
        paginated = super().get_paginated_response_schema(schema)
        for name in ("next", "previous"):
            link = paginated["properties"][name]
            link.pop("nullable", None)
            link["type"] = ["string", "null"]
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated

    def get_schema_operation_parameters(self, view):
        # DRF documents both as bare integers; these are the limits really enforced.
        limits = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(limits.get(parameter["name"], {}))
            if parameter["name"] == self.page_query_param:
                # ?page=last (last_page_strings) is a page too.
                parameter["schema"] = {
                    "anyOf": [parameter["schema"], {"type": "string", "enum": list(self.last_page_strings)}]
                }
                parameter["description"] = "A page number, or `last` for the last page."
        return parameters
