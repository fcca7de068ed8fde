from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, ValidationError

PAGE_SIZE_ERROR = "Give a whole number of results per page, from 1 to {max}."


def strict_page_size(paginator, request):
    """`page_size` from 1 to max_page_size; anything else is a 400 on the field
    (DRF would quietly fall back to the default, or cap it)."""
    raw = request.query_params.get(paginator.page_size_query_param)
    if raw is None:
        return paginator.page_size
    try:
        size = int(raw)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= paginator.max_page_size:
        detail = PAGE_SIZE_ERROR.format(max=paginator.max_page_size)
        raise ValidationError({paginator.page_size_query_param: [ErrorDetail(detail, code="invalid")]})
    return size


class PageNumberPagination(pagination.PageNumberPagination):
    """{count, next, previous, results} with `page` (a page past the end, or not
    a page number, is 404) and `page_size` (1 to 100, else 400)."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        return strict_page_size(self, request)

    def get_schema_operation_parameters(self, view):
        # DRF documents both as bare integers; these are the limits really enforced.
        limits = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(limits.get(parameter["name"], {}))
        return parameters
