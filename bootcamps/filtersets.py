import django_filters

from bootcamps.models import Bootcamp
from cohortly.filters import MultipleChoiceFilter, OrderingFilter


class BootcampFilterSet(django_filters.FilterSet):
    status = MultipleChoiceFilter(
        choices=Bootcamp.Status.choices, help_text="One or more statuses (repeat the parameter)."
    )
    delivery_format = MultipleChoiceFilter(
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
    ordering = OrderingFilter(
        fields=["start_date", "end_date", "title", "price", "created_at"], default=["start_date"]
    )

    class Meta:
        model = Bootcamp
        fields = ["status", "delivery_format", "start_after", "start_before", "instructor", "mentor", "slug"]
