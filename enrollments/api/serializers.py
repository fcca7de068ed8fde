from rest_framework import serializers

from accounts.api.serializers import ContactSerializer
from accounts.models import User
from bootcamps.models import Bootcamp
from bootcamps.selectors import bootcamp_scope_for
from cohortly.serializers import IdRelatedField, StrictFieldsMixin
from enrollments.models import Enrollment
from enrollments.services import STAFF_TARGETS


class EnrollmentBootcampSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bootcamp
        fields = ["id", "title", "slug", "start_date", "end_date", "status"]
        read_only_fields = fields


class EnrollmentSerializer(serializers.ModelSerializer):
    student = ContactSerializer(read_only=True)
    bootcamp = EnrollmentBootcampSerializer(read_only=True)
    waitlist_position = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="1 = next in line; null unless WAITLISTED."
    )
    completed_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=(
            "When staff marked it COMPLETED; null for any other status. Work due after it isn't "
            "expected of the student (the gradebook's not_expected)."
        ),
    )

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "student",
            "bootcamp",
            "status",
            "waitlist_position",
            "enrolled_at",
            "completed_at",
            "updated_at",
        ]
        read_only_fields = fields


class EnrollmentCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    """Enroll: a STUDENT sends {bootcamp}; ADMIN and SALES send {bootcamp, student}."""

    # The extra error codes are raised by enrollments.services (and the view);
    # they are listed here so the OpenAPI error schema documents them.
    bootcamp = IdRelatedField(
        queryset=Bootcamp.objects.none(),
        help_text="The bootcamp's id (a PUBLISHED one that has not ended).",
        error_messages={
            "not_open": "This bootcamp is not open for enrollment.",
            "ended": "This bootcamp has already ended.",
        },
    )
    student = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        pk_field=serializers.UUIDField(),
        required=False,
        help_text="The student's user id. Required for ADMIN and SALES; a STUDENT enrolls themself.",
        error_messages={
            "invalid": "Must be a valid UUID.",
            "does_not_exist": "There is no user with the id {pk_value}.",
            "required_for_staff": "Give the id of the student to enroll.",
            "not_a_student": "Only students can be enrolled.",
            "inactive": "This student account is deactivated.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        # A bootcamp the caller cannot see does not exist for them.
        self.fields["bootcamp"].queryset = bootcamp_scope_for(request.user if request else None).queryset


class EnrollmentTransitionSerializer(StrictFieldsMixin, serializers.Serializer):
    """A staff transition of an ACTIVE enrollment."""

    status = serializers.ChoiceField(
        choices=[(value, Enrollment.Status(value).label) for value in STAFF_TARGETS],
        help_text="Only an ACTIVE enrollment can become COMPLETED or DROPPED.",
    )
