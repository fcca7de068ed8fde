from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Lower, Upper
from django.utils import timezone

from accounts.models import name_validator, phone_validator, without_phone_separators
from cohortly.models import ImportedFromLegacy, TimeStampedModel, email_validator


class Lead(TimeStampedModel, ImportedFromLegacy):
    class Source(models.TextChoices):
        WEBSITE = "WEBSITE", "Website"
        REFERRAL = "REFERRAL", "Referral"
        SOCIAL = "SOCIAL", "Social"
        EVENT = "EVENT", "Event"
        ADS = "ADS", "Ads"
        OTHER = "OTHER", "Other"

    class Status(models.TextChoices):
        NEW = "NEW", "New"
        CONTACTED = "CONTACTED", "Contacted"
        QUALIFIED = "QUALIFIED", "Qualified"
        CONVERTED = "CONVERTED", "Converted"
        LOST = "LOST", "Lost"

    #: Statuses a lead is still being worked in; one open lead per email.
    OPEN_STATUSES = (Status.NEW, Status.CONTACTED, Status.QUALIFIED)

    full_name = models.CharField(max_length=150, validators=[name_validator])
    email = models.EmailField(max_length=254, db_index=True, validators=[email_validator])
    phone = models.CharField(max_length=32, blank=True, validators=[phone_validator])
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEBSITE)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True, max_length=5000, validators=[MaxLengthValidator(5000)])
    bootcamp = models.ForeignKey(
        "bootcamps.Bootcamp",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        help_text="The bootcamp the prospect is interested in.",
        db_index=False,  # lead_bootcamp_idx (Meta.indexes) is its index
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    lost_reason = models.TextField(blank=True, max_length=1000, validators=[MaxLengthValidator(1000)])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        limit_choices_to={"role__in": ["SALES", "ADMIN"]},
        db_index=False,  # lead_owner_follow_up_idx (Meta.indexes) leads with it
    )
    next_follow_up_at = models.DateTimeField(null=True, blank=True)
    converted_student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="converted_leads",
    )
    converted_enrollment = models.ForeignKey(
        "enrollments.Enrollment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="converted_leads",
    )
    converted_at = models.DateTimeField(null=True, blank=True)
    # What the list's search box looks in: name, email and phone in one upper-
    # cased column, kept by the database, so a search is one LIKE on one column
    # (a trigram index serves it on PostgreSQL) instead of three on three.
    # The phone a second time without its separators, so a number pasted
    # without spaces ("+44759893188") finds "+44 759 893188" (LeadFilterSet).
    search_text = models.GeneratedField(
        expression=Upper(
            Concat(
                "full_name",
                Value(" "),
                "email",
                Value(" "),
                "phone",
                Value(" "),
                without_phone_separators(models.F("phone")),
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Held by the database, so two simultaneous submissions of one email
            # can't both create an open lead.
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(status__in=["NEW", "CONTACTED", "QUALIFIED"]),
                name="lead_one_open_per_email",
                violation_error_message="An open lead with this email already exists.",
            ),
            # Stored as normalize_email writes it, lower-cased: what makes the
            # constraint above ignore case, and what every lookup by email assumes.
            models.CheckConstraint(condition=Q(email=Lower("email")), name="lead_email_lower_case"),
            models.CheckConstraint(
                condition=Q(status__in=["NEW", "CONTACTED", "QUALIFIED", "CONVERTED", "LOST"]),
                name="lead_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="LOST") | ~Q(lost_reason=""), name="lead_lost_has_reason"
            ),
            # And only a lost one: reopening or converting a lead clears its reason.
            models.CheckConstraint(
                condition=Q(status="LOST") | Q(lost_reason=""), name="lead_lost_reason_only_when_lost"
            ),
            # And only a converted lead holds a conversion: it is final.
            models.CheckConstraint(
                condition=Q(status="CONVERTED")
                | Q(
                    converted_student__isnull=True,
                    converted_enrollment__isnull=True,
                    converted_at__isnull=True,
                ),
                name="lead_conversion_only_when_converted",
            ),
            # A lead converted in the Node backend stays CONVERTED without the
            # enrollment that backend never recorded.
            models.CheckConstraint(
                condition=~Q(status="CONVERTED")
                | (Q(converted_student__isnull=False) & Q(converted_enrollment__isnull=False))
                | Q(legacy_id__isnull=False),
                name="lead_converted_has_links",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="lead_status_created_idx"),
            models.Index(fields=["source"], name="lead_source_idx"),
            models.Index(fields=["owner", "next_follow_up_at"], name="lead_owner_follow_up_idx"),
            models.Index(fields=["next_follow_up_at"], name="lead_follow_up_idx"),
            models.Index(fields=["bootcamp"], name="lead_bootcamp_idx"),
            models.Index(fields=["phone"], name="lead_phone_idx"),
            # Sorting the list by name.
            models.Index(fields=["full_name"], name="lead_full_name_idx"),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class LeadActivity(models.Model):
    """One entry on a lead's timeline. Written by services only, never edited."""

    class Kind(models.TextChoices):
        CREATED = "CREATED", "Lead created"
        SUBMISSION = "SUBMISSION", "Form submission"
        NOTE = "NOTE", "Note"
        STATUS_CHANGE = "STATUS_CHANGE", "Status changed"
        OWNER_CHANGE = "OWNER_CHANGE", "Owner changed"
        FOLLOW_UP_CHANGE = "FOLLOW_UP_CHANGE", "Follow-up changed"
        CONTACT_CHANGE = "CONTACT_CHANGE", "Contact details changed"
        CONVERSION = "CONVERSION", "Converted"
        USER_LINKED = "USER_LINKED", "Registered as a user"

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_activities",
        help_text="Who did it; empty for the public form and the system.",
    )
    body = models.TextField(blank=True, max_length=10000, validators=[MaxLengthValidator(10000)])
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "lead activities"
        indexes = [models.Index(fields=["lead", "-created_at"], name="leadactivity_lead_created_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.lead}"


class SentForm(models.Model):
    """A sales form acted on (leads.submit_once): whose, its one-time token and a
    digest of what it said, and where it went once done ("" while it is being
    done). The unique key makes the first of two identical posts the one that acts.
    Rows older than a day are housekeeping's (cohortly.management.commands.housekeeping)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)
    outcome = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "token", "digest"], name="sentform_once")]

    def __str__(self):
        return f"Form {self.token} of {self.user_id}"
