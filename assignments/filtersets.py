import django_filters
from django.db.models import Q

from assignments.models import Assignment, Submission, awaiting_revision
from cohortly.filters import BooleanFilter, IdFilter, IsoDateTimeFilter, MultipleChoiceFilter, OrderingFilter


class AssignmentFilterSet(django_filters.FilterSet):
    bootcamp = IdFilter(field_name="bootcamp_id", help_text="A bootcamp's id.")
    due_before = IsoDateTimeFilter(
        field_name="due_at", lookup_expr="lte", help_text="Due at or before this time (ISO 8601)."
    )
    due_after = IsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", help_text="Due at or after this time (ISO 8601)."
    )
    is_published = BooleanFilter()

    ordering = OrderingFilter(fields=["due_at", "title", "created_at"], default=["due_at"])

    class Meta:
        model = Assignment
        fields = ["bootcamp", "due_before", "due_after", "is_published"]


#: What a submission list sorts by (`ordering`), ungraded work last either way.
SUBMISSION_ORDERING = {"fields": ["submitted_at", "score", "graded_at"], "nulls_last": ["score", "graded_at"]}


class SubmissionFilterSet(django_filters.FilterSet):
    assignment = IdFilter(field_name="assignment_id", help_text="An assignment's id.")
    bootcamp = IdFilter(field_name="assignment__bootcamp_id", help_text="A bootcamp's id.")
    student = django_filters.UUIDFilter(field_name="student_id", help_text="A student's id.")
    is_late = BooleanFilter()
    graded = BooleanFilter(
        field_name="score",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: graded; false: no score (awaiting a grade, or returned for revision).",
    )
    status = MultipleChoiceFilter(
        choices=Submission.Status.choices,
        method="filter_status",
        help_text="submitted, returned or graded (repeat it for more than one): as `status` in the results.",
    )

    ordering = OrderingFilter(**SUBMISSION_ORDERING, default=["-submitted_at"], tie_breaker="-id")

    class Meta:
        model = Submission
        fields = ["assignment", "bootcamp", "student", "is_late", "graded", "status"]

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        returned = awaiting_revision()
        matches = {
            Submission.Status.GRADED: Q(score__isnull=False),
            Submission.Status.RETURNED: returned,
            Submission.Status.SUBMITTED: Q(score__isnull=True) & ~returned,
        }
        wanted = Q()
        for status in value:
            wanted |= matches[status]
        return queryset.filter(wanted)


class AssignmentSubmissionFilterSet(SubmissionFilterSet):
    """One assignment's submissions (GET /assignments/{id}/submissions/): the
    same filters, listed by student unless `ordering` says otherwise."""

    ordering = OrderingFilter(**SUBMISSION_ORDERING, default=["student__full_name", "student__email"])
