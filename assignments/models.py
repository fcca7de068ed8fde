from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import F, Q

from cohortly.models import ImportedFromLegacy, TimeStampedModel, plausible_moment, title_validator

# Scores and maximums: up to 9999.99 points, two decimals.
SCORE_MAX_DIGITS = 6
SCORE_DECIMAL_PLACES = 2
DESCRIPTION_MAX_LENGTH = 10_000
CONTENT_MAX_LENGTH = 20_000
FEEDBACK_MAX_LENGTH = 10_000
LINK_MAX_LENGTH = 2_000

CONTENT_OR_LINK_REQUIRED = "content_or_link_required"
CONTENT_OR_LINK_MESSAGE = "Send the work as text content, a link, or both."

link_validator = URLValidator(schemes=["http", "https"])


class Assignment(TimeStampedModel, ImportedFromLegacy):
    bootcamp = models.ForeignKey("bootcamps.Bootcamp", on_delete=models.PROTECT, related_name="assignments")
    title = models.CharField(max_length=200, validators=[title_validator])
    description = models.TextField(blank=True, max_length=DESCRIPTION_MAX_LENGTH)
    due_at = models.DateTimeField(validators=plausible_moment)
    max_score = models.DecimalField(
        max_digits=SCORE_MAX_DIGITS,
        decimal_places=SCORE_DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="The highest score a submission can get (> 0).",
    )
    is_published = models.BooleanField(default=False, help_text="Students see published assignments only.")
    announced_due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The due time its students were last told (empty until first published).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments_created"
    )

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(max_score__gt=0), name="assignment_max_score_positive"),
        ]
        indexes = [
            models.Index(fields=["bootcamp", "due_at"], name="assignment_bootcamp_due_idx"),
        ]

    def __str__(self):
        return self.title


def awaiting_revision() -> Q:
    """The submissions whose status is "returned" (Submission.status_of), in a query."""
    return Q(score__isnull=True, returned_at__gte=F("submitted_at"))


class Submission(TimeStampedModel):
    """One per student and assignment: resubmitting replaces it until it is graded.
    A grader can return graded work for revision: the grade is withdrawn and the
    student may hand it in again (status "returned" until they do)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        RETURNED = "returned", "Returned for revision"
        GRADED = "graded", "Graded"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    content = models.TextField(blank=True, max_length=CONTENT_MAX_LENGTH)
    link = models.URLField(max_length=LINK_MAX_LENGTH, blank=True, validators=[link_validator])
    submitted_at = models.DateTimeField()
    is_late = models.BooleanField(default=False, help_text="Submitted after the assignment's due date.")
    receipt_sent_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the student was last emailed a receipt."
    )
    score = models.DecimalField(
        max_digits=SCORE_MAX_DIGITS,
        decimal_places=SCORE_DECIMAL_PLACES,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    feedback = models.TextField(blank=True, max_length=FEEDBACK_MAX_LENGTH)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions_graded",
    )
    graded_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a grader last returned it for revision (its grade withdrawn).",
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student"], name="submission_one_per_student"),
            models.CheckConstraint(condition=~Q(content="") | ~Q(link=""), name="submission_content_or_link"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0), name="submission_score_not_negative"
            ),
            # A grade is a score, a grader and a time, all three or none.
            models.CheckConstraint(
                condition=(Q(score__isnull=True) & Q(graded_at__isnull=True) & Q(graded_by__isnull=True))
                | (Q(score__isnull=False) & Q(graded_at__isnull=False) & Q(graded_by__isnull=False)),
                name="submission_graded_fields_together",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "submitted_at"], name="submission_student_idx"),
        ]

    def __str__(self):
        return f"{self.student} — {self.assignment}"

    @classmethod
    def status_of(cls, *, score, submitted_at, returned_at) -> str:
        """graded (a score), returned (for revision, and not handed in again
        since) or submitted: from the row's values, as the gradebook reads them."""
        if score is not None:
            return cls.Status.GRADED
        if returned_at is not None and returned_at >= submitted_at:
            return cls.Status.RETURNED
        return cls.Status.SUBMITTED

    @property
    def status(self) -> str:
        return self.status_of(score=self.score, submitted_at=self.submitted_at, returned_at=self.returned_at)

    @property
    def awaits_revision(self) -> bool:
        """Returned for revision and not handed in again since."""
        return self.status == self.Status.RETURNED

    @property
    def is_graded(self) -> bool:
        return self.score is not None

    def clean(self):
        super().clean()
        if not (self.content or "").strip() and not (self.link or "").strip():
            raise ValidationError(
                {NON_FIELD_ERRORS: ValidationError(CONTENT_OR_LINK_MESSAGE, code=CONTENT_OR_LINK_REQUIRED)}
            )
