from decimal import Decimal

from django.core.validators import URLValidator
from rest_framework import serializers

from accounts.api.serializers import ContactSerializer, PersonSerializer
from assignments import services
from assignments.models import (
    CONTENT_MAX_LENGTH,
    CONTENT_OR_LINK_MESSAGE,
    CONTENT_OR_LINK_REQUIRED,
    DESCRIPTION_MAX_LENGTH,
    FEEDBACK_MAX_LENGTH,
    LINK_MAX_LENGTH,
    SCORE_DECIMAL_PLACES,
    SCORE_MAX_DIGITS,
    Assignment,
    Submission,
    link_validator,
)
from bootcamps.models import Bootcamp
from cohortly.models import plausible_moment, title_validator
from cohortly.serializers import IdRelatedField, MomentField, PlainDecimalField, StrictInput

BELOW_GIVEN_SCORE_ERRORS = {
    services.BELOW_GIVEN_SCORE: "The maximum cannot be lower than a score already given.",
    services.HAS_GRADES: "The maximum can't change once a submission is graded.",
}


def _score_field(**kwargs):
    return PlainDecimalField(max_digits=SCORE_MAX_DIGITS, decimal_places=SCORE_DECIMAL_PLACES, **kwargs)


# --- Assignments ----------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    bootcamp_title = serializers.CharField(source="bootcamp.title", read_only=True)
    created_by = PersonSerializer(read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "bootcamp",
            "bootcamp_title",
            "title",
            "description",
            "due_at",
            "max_score",
            "is_published",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AssignmentUpdateSerializer(StrictInput):
    title = serializers.CharField(max_length=200, required=False, validators=[title_validator])
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True)
    due_at = MomentField(required=False, validators=plausible_moment)
    max_score = _score_field(
        min_value=Decimal("0.01"), required=False, error_messages=BELOW_GIVEN_SCORE_ERRORS
    )
    is_published = serializers.BooleanField(
        required=False, error_messages={services.ARCHIVED: services.ARCHIVED_TAKES_NONE}
    )


class AssignmentCreateSerializer(AssignmentUpdateSerializer):
    bootcamp = IdRelatedField(
        queryset=Bootcamp.objects.all(),
        help_text="An INSTRUCTOR may only name a bootcamp they teach (else 400 on this field).",
        error_messages={
            services.NOT_INSTRUCTOR: "You can only create assignments for a bootcamp you teach.",
            services.ARCHIVED: services.ARCHIVED_TAKES_NONE,
        },
    )
    title = serializers.CharField(max_length=200, validators=[title_validator])
    due_at = MomentField(validators=plausible_moment)
    max_score = _score_field(min_value=Decimal("0.01"), error_messages=BELOW_GIVEN_SCORE_ERRORS)


# --- Submissions ----------------------------------------------------------------


class SubmissionSerializer(serializers.ModelSerializer):
    assignment_title = serializers.CharField(source="assignment.title", read_only=True)
    assignment_due_at = serializers.DateTimeField(source="assignment.due_at", read_only=True)
    bootcamp = serializers.IntegerField(
        source="assignment.bootcamp_id", read_only=True, help_text="The assignment's bootcamp."
    )
    max_score = _score_field(source="assignment.max_score", read_only=True)
    student = ContactSerializer(read_only=True)
    graded_by = PersonSerializer(read_only=True, allow_null=True)
    status = serializers.ChoiceField(
        choices=Submission.Status.choices,
        read_only=True,
        help_text=(
            "submitted: handed in, not graded yet; graded: has a score; returned: a grader returned it for "
            "revision (no score) and the student hasn't handed it in again yet."
        ),
    )
    # Declared so the schema says what the responses hold: a URL, or "" when
    # only content was handed in (the model's blank=True; read-only fields
    # built from the model lose allow_blank).
    link = serializers.URLField(read_only=True, allow_blank=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "assignment",
            "assignment_title",
            "assignment_due_at",
            "bootcamp",
            "max_score",
            "student",
            "content",
            "link",
            "submitted_at",
            "is_late",
            "status",
            "score",
            "feedback",
            "graded_by",
            "graded_at",
            "returned_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class HttpUrlField(serializers.URLField):
    """A URL with the http or https scheme (link_validator), checked once: DRF's
    URLField adds its own any-scheme check, and both refused a bad link."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, URLValidator)] + [link_validator]


class SubmitSerializer(StrictInput):
    """Content, a link, or both (at least one, else 400 on non_field_errors)."""

    default_error_messages = {
        CONTENT_OR_LINK_REQUIRED: CONTENT_OR_LINK_MESSAGE,
        services.NOT_PUBLISHED: "This assignment is not published.",
        services.ARCHIVED: services.ARCHIVED_TAKES_NO_WORK,
    }

    content = serializers.CharField(
        max_length=CONTENT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="The work as text.",
    )
    link = HttpUrlField(
        max_length=LINK_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="An http(s) link to the work (a repository, a document).",
    )


class GradeSerializer(StrictInput):
    score = _score_field(min_value=Decimal("0"), help_text="0 to the assignment's max_score.")
    feedback = serializers.CharField(
        max_length=FEEDBACK_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Left out on a regrade, the earlier feedback stays.",
    )
    submitted_at = MomentField(
        required=False,
        help_text=(
            "The submission's `submitted_at` as the grader read it. If the student has handed the "
            "work in again since, 409 `handed_in_again` and nothing is graded. Left out, the grade "
            "goes to whatever was handed in last."
        ),
    )


class ReturnSerializer(StrictInput):
    feedback = serializers.CharField(
        max_length=FEEDBACK_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="What to revise; it replaces the feedback given. Left out, that feedback stays.",
    )


# --- Gradebook ------------------------------------------------------------------


class GradebookBootcampSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bootcamp
        fields = ["id", "title", "slug", "start_date", "end_date"]
        read_only_fields = fields


class GradebookAssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "title", "due_at", "max_score"]
        read_only_fields = fields


class GradebookCellSerializer(serializers.Serializer):
    assignment_id = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=[
            ("graded", "graded"),
            ("submitted", "submitted"),
            ("returned", "returned"),
            ("missing", "missing"),
            ("not_due", "not_due"),
            ("not_expected", "not_expected"),
        ],
        help_text=(
            "missing: no submission, and the due time has passed; not_due: no submission yet, before the "
            "due time; not_expected: no submission, due after the student's enrollment was completed "
            "(they could no longer hand it in; not counted); submitted: handed in, not graded yet; "
            "returned: returned for revision, not handed in again yet (no score); graded: has a score."
        ),
    )
    submission_id = serializers.IntegerField(allow_null=True)
    score = _score_field(allow_null=True)
    is_late = serializers.BooleanField()


class GradebookRowSerializer(serializers.Serializer):
    student = ContactSerializer()
    enrollment_status = serializers.CharField(help_text="ACTIVE or COMPLETED.")
    grades = GradebookCellSerializer(
        source="cells", many=True, help_text="One per assignment, in their order."
    )
    average = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text=(
            "Mean of score / max_score × 100 over the *graded* assignments only. Missing and "
            "not-yet-graded work is left out (not counted as zero; see missing_count); null when "
            "nothing is graded."
        ),
    )
    # Sums over every assignment: wider than one score.
    points_earned = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Sum of the scores of graded work."
    )
    points_possible = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text=(
            "Sum of the max_score of the work that counts so far: graded, and missing (past due with "
            "no submission). Work awaiting a grade or a revision, work not due yet, and work due after "
            "the student's enrollment was completed, is left out."
        ),
    )
    points_percentage = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text=(
            "points_earned / points_possible × 100: the standing so far, each assignment weighted by its "
            "max_score and missing work counted as zero; null while nothing counts."
        ),
    )
    graded_count = serializers.IntegerField()
    submitted_count = serializers.IntegerField(help_text="Handed in, awaiting a grade.")
    returned_count = serializers.IntegerField(
        help_text="Returned for revision, awaiting the student's new hand-in (no score meanwhile)."
    )
    missing_count = serializers.IntegerField(
        help_text=(
            "Published assignments past their due time with no submission (not_due and not_expected "
            "cells don't count)."
        )
    )


class GradebookSerializer(serializers.Serializer):
    bootcamp = GradebookBootcampSerializer()
    assignments = GradebookAssignmentSerializer(many=True, help_text="Published assignments, by due date.")
    students = GradebookRowSerializer(
        source="rows",
        many=True,
        help_text="ACTIVE and COMPLETED students; for a STUDENT, their own row alone.",
    )
    generated_at = serializers.DateTimeField()
