from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cohortly.dates import site_today
from cohortly.models import (
    FIRST_DATE,
    LAST_DATE,
    ImportedFromLegacy,
    TimeStampedModel,
    location_validator,
    plausible_date,
    title_validator,
)


def open_for_enrollment() -> Q:
    """Bootcamp.closed_to_enrollment as a filter: the bootcamps students can be enrolled in."""
    return Q(status=Bootcamp.Status.PUBLISHED, end_date__gte=site_today())


class Bootcamp(TimeStampedModel, ImportedFromLegacy):
    class DeliveryFormat(models.TextChoices):
        ONLINE = "ONLINE", "Online"
        ONSITE = "ONSITE", "On site"
        HYBRID = "HYBRID", "Hybrid"

    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        PUBLISHED = "PUBLISHED", "Published"
        ARCHIVED = "ARCHIVED", "Archived"

    #: Longest description accepted (the database column is unbounded).
    DESCRIPTION_MAX_LENGTH = 10_000
    #: Most seats a bootcamp can have; more is a typo.
    MAX_CAPACITY = 100_000
    #: Longest a bootcamp can run, in days (two years): longer is a typo in a year.
    MAX_DAYS = 731

    title = models.CharField(max_length=200, validators=[title_validator])
    # Generated from the title on creation and kept afterwards, so links stay valid.
    slug = models.SlugField(max_length=220, unique=True, editable=False)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)])
    start_date = models.DateField(validators=plausible_date)
    end_date = models.DateField(validators=plausible_date)
    capacity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)], help_text="Seats."
    )
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}\Z", "Enter an ISO 4217 code of three capital letters.")],
        help_text="ISO 4217 code, e.g. EUR.",
    )
    delivery_format = models.CharField(
        max_length=8, choices=DeliveryFormat.choices, default=DeliveryFormat.ONLINE
    )
    location = models.CharField(max_length=200, blank=True, validators=[location_validator])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="bootcamps_taught",
        blank=True,
        limit_choices_to={"role": "INSTRUCTOR"},
    )
    mentors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="bootcamps_mentored",
        blank=True,
        limit_choices_to={"role": "MENTOR"},
    )

    class Meta:
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="bootcamp_end_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="bootcamp_capacity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="bootcamp_price_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=["DRAFT", "PUBLISHED", "ARCHIVED"]), name="bootcamp_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(delivery_format__in=["ONLINE", "ONSITE", "HYBRID"]),
                name="bootcamp_delivery_format_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "start_date"], name="bootcamp_status_start_idx"),
            models.Index(fields=["start_date"], name="bootcamp_start_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def has_started(self) -> bool:
        """Whether its first day is past: the sales pages and the emails say it
        "started" from the day after, and "starts" on the day itself."""
        return self.start_date < timezone.localdate()

    #: Why no student can be enrolled (closed_to_enrollment): not PUBLISHED, or over.
    NOT_OPEN, ENDED = "not_open", "ended"

    @property
    def closed_to_enrollment(self) -> str | None:
        """None while students can be enrolled (PUBLISHED and not ended, as of
        today where the site is, whatever zone a page renders in), else why
        not: NOT_OPEN (a draft or archived) or ENDED. The one rule
        enrollments.services, the sales pages and their forms hold a bootcamp
        to (open_for_enrollment() is the same as a filter)."""
        if self.status != self.Status.PUBLISHED:
            return self.NOT_OPEN
        if self.end_date < site_today():
            return self.ENDED
        return None

    @classmethod
    def from_db(cls, db, field_names, values):
        # The dates as stored (Django's documented hook for tracking loaded values): clean()
        # holds only changed dates to the length rule.
        instance = super().from_db(db, field_names, values)
        instance._stored_dates = (instance.__dict__.get("start_date"), instance.__dict__.get("end_date"))
        return instance

    def clean(self):
        super().clean()
        # The database constraint holds it too; this puts the error on the field.
        if not (self.start_date and self.end_date):
            return
        if self.end_date < self.start_date:
            raise ValidationError(
                {
                    "end_date": ValidationError(
                        "The end date cannot be before the start date.", code="end_before_start"
                    )
                }
            )
        # A date out of range has its own error; the length is checked between plausible
        # dates, and only when they change: a bootcamp stored before this rule can still
        # be edited (archived, renamed) without moving its dates.
        plausible = self.start_date >= FIRST_DATE and self.end_date <= LAST_DATE
        dates_changed = getattr(self, "_stored_dates", None) != (self.start_date, self.end_date)
        if plausible and dates_changed and (self.end_date - self.start_date).days > self.MAX_DAYS:
            raise ValidationError(
                {
                    "end_date": ValidationError(
                        f"A bootcamp runs for {self.MAX_DAYS} days (two years) at most.", code="too_long"
                    )
                }
            )
