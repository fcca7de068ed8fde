import django_filters

from cohortly.filters import IdFilter, MultipleChoiceFilter, OrderingFilter
from enrollments.models import Enrollment


class EnrollmentFilterSet(django_filters.FilterSet):
    bootcamp = IdFilter(field_name="bootcamp_id", help_text="Enrollments in this bootcamp (its id).")
    student = django_filters.UUIDFilter(
        field_name="student_id", help_text="Enrollments of this student (user id)."
    )
    status = MultipleChoiceFilter(
        choices=Enrollment.Status.choices, help_text="One or more statuses (repeat the parameter)."
    )

    ordering = OrderingFilter(
        fields=["enrolled_at", "updated_at", "status", "waitlist_position"],
        default=["-enrolled_at"],
        tie_breaker="-id",
        nulls_last=["waitlist_position"],
    )

    class Meta:
        model = Enrollment
        fields = ["bootcamp", "student", "status"]
