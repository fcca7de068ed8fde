from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.api.serializers import ContactSerializer
from accounts.models import User, name_validator, phone_validator
from accounts.permissions import SALES_TEAM, has_role
from bootcamps.models import Bootcamp
from cohortly.models import email_validator
from cohortly.serializers import IdRelatedField, MomentField, StrictInput
from leads.models import Lead, LeadActivity
from leads.services import CONVERTED_KEEPS_ITS_BOOTCAMP

#: The error codes the services add, declared on the fields so the OpenAPI
#: schema documents every code a response can carry.
OWNER_ERRORS = {
    # A user id is a UUID (pk_field): anything else is "invalid", like the other user-id fields.
    "invalid": "Must be a valid UUID.",
    "does_not_exist": "There is no user with the id {pk_value}.",
    "invalid_owner": "A lead's owner must be an active sales or admin user.",
}
NOT_NEW_ERRORS = {"invalid": "A lead starts as NEW; change its status afterwards."}
HONEYPOT_FOR_STAFF = (
    "Leave this out: it is the public form's trap for bots, and a lead has no website. "
    "Put the prospect's site in the message instead."
)


class LeadBootcampSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bootcamp
        fields = ["id", "title", "slug", "start_date"]
        read_only_fields = fields


class LeadEnrollmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    bootcamp = serializers.IntegerField(
        source="bootcamp_id",
        read_only=True,
        help_text="The bootcamp converted into: not always the one the lead asked about.",
    )


class LeadSerializer(serializers.ModelSerializer):
    owner = ContactSerializer(read_only=True, allow_null=True)
    bootcamp = LeadBootcampSerializer(read_only=True, allow_null=True)
    converted_student = ContactSerializer(read_only=True, allow_null=True)
    converted_enrollment = LeadEnrollmentSerializer(read_only=True, allow_null=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "full_name",
            "email",
            "phone",
            "source",
            "status",
            "is_open",
            "lost_reason",
            "message",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "bootcamp",
            "owner",
            "next_follow_up_at",
            "converted_student",
            "converted_enrollment",
            "converted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# Named "Lead" so the request bodies are LeadRequest (POST) and
# PatchedLeadRequest (PATCH), and the status enum is one LeadStatusEnum.
@extend_schema_serializer(component_name="Lead")
class LeadCaptureSerializer(StrictInput):
    """The public form. SALES and ADMIN callers may also set `owner`, and
    `status` (NEW only: a lead starts its pipeline at the beginning)."""

    full_name = serializers.CharField(max_length=150, validators=[name_validator])
    email = serializers.EmailField(max_length=254, validators=[email_validator])
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )
    source = serializers.ChoiceField(choices=Lead.Source.choices, required=False, default=Lead.Source.WEBSITE)
    utm_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_medium = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_campaign = serializers.CharField(max_length=100, required=False, allow_blank=True)
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    bootcamp = IdRelatedField(
        queryset=Bootcamp.objects.filter(status=Bootcamp.Status.PUBLISHED),
        required=False,
        allow_null=True,
        help_text="The bootcamp of interest (a published one for public callers).",
    )
    website = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=(
            "Leave empty. A honeypot for bots: any value and a public submission is dropped (201); "
            "from SALES or ADMIN it is a 400."
        ),
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        pk_field=serializers.UUIDField(),
        required=False,
        allow_null=True,
        help_text="SALES and ADMIN only.",
        error_messages=OWNER_ERRORS,
    )
    status = serializers.ChoiceField(
        choices=Lead.Status.choices,
        required=False,
        help_text="SALES and ADMIN only; a new lead is always NEW.",
        error_messages=NOT_NEW_ERRORS,
    )

    def validate_status(self, value):
        if value != Lead.Status.NEW:
            self.fields["status"].fail("invalid")
        return value

    def validate_website(self, value):
        # The view drops a public caller's filled-in trap before this runs; staff
        # aren't bots, and a salesperson who typed the prospect's site there
        # lost the lead behind the public receipt.
        if value:
            raise serializers.ValidationError(HONEYPOT_FOR_STAFF, code="invalid")
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and has_role(request.user, SALES_TEAM):
            # Staff may file a lead for any bootcamp, drafts included.
            self.fields["bootcamp"].queryset = Bootcamp.objects.all()
        elif request is not None:
            # Refused (400 "not accepted") rather than silently ignored.
            del self.fields["owner"]
            del self.fields["status"]


@extend_schema_serializer(component_name="Lead")
class LeadUpdateSerializer(StrictInput):
    status = serializers.ChoiceField(
        choices=Lead.Status.choices,
        required=False,
        help_text="NEW → CONTACTED → QUALIFIED (skipping ahead is fine); any open status → LOST "
        "(with lost_reason); LOST → NEW or CONTACTED. CONVERTED only by converting.",
        error_messages={"invalid_transition": "This status change is not allowed."},
    )
    lost_reason = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        help_text="Required when marking the lead LOST.",
        error_messages={
            "reason_required": "Say why the lead was lost.",
            "reason_without_lost": "A reason is only given when marking a lead as lost.",
        },
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        pk_field=serializers.UUIDField(),
        required=False,
        allow_null=True,
        help_text="An active SALES or ADMIN user; null to unassign.",
        error_messages=OWNER_ERRORS,
    )
    next_follow_up_at = MomentField(
        required=False,
        allow_null=True,
        help_text="When to follow the lead up next; null clears it. From earlier today (up to 36 hours "
        "back) to two years ahead.",
        error_messages={
            "follow_up_past": "A follow-up can't be set in the past.",
            "follow_up_too_far": "A follow-up can be planned at most two years ahead.",
            "lead_converted": "This lead is converted: it is a student now, and needs no follow-up.",
        },
    )
    full_name = serializers.CharField(max_length=150, required=False, validators=[name_validator])
    email = serializers.EmailField(
        max_length=254,
        required=False,
        validators=[email_validator],
        error_messages={"open_lead_exists": "Another open lead already has this email."},
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )
    bootcamp = IdRelatedField(
        queryset=Bootcamp.objects.all(),
        required=False,
        allow_null=True,
        help_text="The bootcamp of interest; a converted lead's is part of its record and stays.",
        error_messages={"lead_converted": CONVERTED_KEEPS_ITS_BOOTCAMP},
    )
    source = serializers.ChoiceField(choices=Lead.Source.choices, required=False)


class LeadNoteSerializer(StrictInput):
    body = serializers.CharField(max_length=10000)


class LeadConvertSerializer(StrictInput):
    default_error_messages = {
        "not_a_student": "The lead's email belongs to a staff account.",
        "inactive_student": "The lead's student account is deactivated.",
    }

    bootcamp = IdRelatedField(
        queryset=Bootcamp.objects.all(),
        help_text="A published bootcamp that has not ended.",
        error_messages={
            "not_open": "This bootcamp is not open for enrollment.",
            "ended": "This bootcamp has already ended.",
        },
    )


class LeadActivitySerializer(serializers.ModelSerializer):
    actor = ContactSerializer(read_only=True, allow_null=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    data = serializers.SerializerMethodField()

    class Meta:
        model = LeadActivity
        fields = ["id", "kind", "kind_display", "body", "data", "actor", "created_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_data(self, obj) -> dict:
        return obj.data


class LeadReceiptSerializer(serializers.Serializer):
    """What a public caller gets back: the same thanks whether the submission made
    a lead, joined an open one or hit the honeypot. No id: it would tell whether
    an open lead already had this email (and which one)."""

    closed_schema = True  # cohortly.openapi: else a Lead (the other 201) would match it too

    detail = serializers.CharField()
