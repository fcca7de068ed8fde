from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of the filters.

    Building and validating the filter form costs more than a page query on the
    busiest lists; with no filter parameter it would change nothing anyway
    (django-filter ignores empty values), so it isn't built.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names = filterset_class.base_filters.keys()
            if not any(name in request.query_params for name in names):
                return queryset
        return super().filter_queryset(request, queryset, view)
