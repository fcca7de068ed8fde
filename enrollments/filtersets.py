import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cohortly.filters import FilterSet
from enrollments.models import Enrollment


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A whole-number id: "1.5" is a 400, not bootcamp 1."""

    field_class = forms.IntegerField


class EnrollmentFilterSet(FilterSet):
    bootcamp = IdFilter(field_name="bootcamp_id", help_text="Enrollments in this bootcamp (its id).")
    student = django_filters.UUIDFilter(
        field_name="student_id", help_text="Enrollments of this student (user id)."
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Enrollment.Status.choices, help_text="One or more statuses (repeat the parameter)."
    )

    class Meta:
        model = Enrollment
        fields = ["bootcamp", "student", "status"]
