from decimal import Decimal

from rest_framework import serializers

from accounts.api.serializers import PersonSerializer
from accounts.models import User
from bootcamps.models import Bootcamp
from bootcamps.services import WRITABLE_FIELDS
from cohortly.models import location_validator
from cohortly.serializers import PlainDecimalField, RelatedListField, StrictFieldsMixin


class BootcampSerializer(serializers.ModelSerializer):
    instructors = PersonSerializer(many=True, read_only=True, source="instructors_by_name")
    mentors = PersonSerializer(many=True, read_only=True, source="mentors_by_name")
    seats_taken = serializers.IntegerField(
        read_only=True, help_text="Seats held by ACTIVE and COMPLETED enrollments."
    )
    seats_left = serializers.IntegerField(read_only=True, help_text="capacity - seats_taken, never below 0.")

    class Meta:
        model = Bootcamp
        fields = ["id", "slug", *WRITABLE_FIELDS, "seats_taken", "seats_left", "created_at", "updated_at"]
        read_only_fields = fields


def _user_ids(help_text: str) -> serializers.ManyRelatedField:
    return RelatedListField(
        child_relation=serializers.PrimaryKeyRelatedField(
            queryset=User.objects.all(),
            pk_field=serializers.UUIDField(),
            # Documented here so the OpenAPI error schema lists every code:
            # "invalid" comes from the UUID, "invalid_role" and "inactive" from bootcamp services.
            error_messages={
                "invalid": "Must be a valid UUID.",
                "does_not_exist": "There is no user with the id {pk_value}.",
                "invalid_role": "Only users with the right role can be listed here.",
                "inactive": "These accounts are deactivated and can't be added.",
            },
        ),
        required=False,
        allow_empty=True,
        help_text=help_text,
    )


class BootcampWriteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Create (every required field) and PATCH (any subset). Instructors and
    mentors are lists of user ids; their roles are checked by the service."""

    description = serializers.CharField(
        max_length=Bootcamp.DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False, default=""
    )
    capacity = serializers.IntegerField(
        min_value=1,
        max_value=Bootcamp.MAX_CAPACITY,
        help_text="Seats, at least 1, and never fewer than the seats already taken.",
        error_messages={"below_seats_taken": "The capacity cannot be lower than the seats already taken."},
    )
    price = PlainDecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        max_length=3,
        required=False,
        default="EUR",
        error_messages={"invalid": "Enter an ISO 4217 code of three letters, e.g. EUR."},
    )
    location = serializers.CharField(
        max_length=200, allow_blank=True, required=False, default="", validators=[location_validator]
    )
    instructors = _user_ids("User ids of INSTRUCTOR users.")
    mentors = _user_ids("User ids of MENTOR users.")

    class Meta:
        model = Bootcamp
        fields = list(WRITABLE_FIELDS)
        extra_kwargs = {
            "start_date": {
                "error_messages": {
                    "has_completions": "Once a student has completed it, the start can't be after today."
                }
            },
            "end_date": {
                "error_messages": {
                    "end_before_start": "The end date cannot be before the start date.",
                    "too_long": f"A bootcamp runs for {Bootcamp.MAX_DAYS} days (two years) at most.",
                }
            },
        }

    def validate_currency(self, value):
        return value.upper()

    def validate(self, attrs):
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"end_date": ["The end date cannot be before the start date."]}, code="end_before_start"
            )
        return attrs
