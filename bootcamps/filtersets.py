import django_filters
from rest_framework.filters import OrderingFilter

from bootcamps.models import Bootcamp


class BootcampFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Bootcamp.Status.choices, help_text="One or more statuses (repeat the parameter)."
    )
    delivery_format = django_filters.MultipleChoiceFilter(
        choices=Bootcamp.DeliveryFormat.choices, help_text="One or more formats (repeat the parameter)."
    )
    start_after = django_filters.DateFilter(
        field_name="start_date", lookup_expr="gte", help_text="Starts on or after this date."
    )
    start_before = django_filters.DateFilter(
        field_name="start_date", lookup_expr="lte", help_text="Starts on or before this date."
    )
    instructor = django_filters.UUIDFilter(field_name="instructors", help_text="Taught by this user id.")
    mentor = django_filters.UUIDFilter(field_name="mentors", help_text="Mentored by this user id.")
    slug = django_filters.CharFilter(field_name="slug", help_text="The bootcamp with this slug.")

    class Meta:
        model = Bootcamp
        fields = ["status", "delivery_format", "start_after", "start_before", "instructor", "mentor", "slug"]


class StableOrderingFilter(OrderingFilter):
    """?ordering= with the primary key as the last tie-breaker, so pages never
    repeat or skip rows that share a value (two bootcamps at the same price).
    Generic: it would belong in cohortly/ if more apps use it."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not any(term.lstrip("-") in ("id", "pk") for term in ordering):
            ordering = [*ordering, "id"]
        return ordering
