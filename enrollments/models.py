from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cohortly.models import ImportedFromLegacy, TimeStampedModel


class Enrollment(TimeStampedModel, ImportedFromLegacy):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        WAITLISTED = "WAITLISTED", "Waitlisted"
        CANCELLED = "CANCELLED", "Cancelled"
        COMPLETED = "COMPLETED", "Completed"
        DROPPED = "DROPPED", "Dropped"

    #: Enrollments that hold one of the bootcamp's seats.
    SEAT_HOLDING = (Status.ACTIVE, Status.COMPLETED)
    #: Enrollments a student may cancel.
    CANCELLABLE = (Status.ACTIVE, Status.WAITLISTED)

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="enrollments",
        limit_choices_to={"role": "STUDENT"},
    )
    bootcamp = models.ForeignKey("bootcamps.Bootcamp", on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=10, choices=Status.choices)
    # Arrival order on the waitlist, assigned under the bootcamp's lock; the
    # position (1 = next in line) is counted from it, never stored.
    waitlist_seq = models.PositiveIntegerField(null=True, blank=True, editable=False)
    enrolled_at = models.DateTimeField(default=timezone.now, editable=False)
    # When staff marked it COMPLETED: work due after that isn't expected of the
    # student (who can't hand it in). None for any other status, and for an
    # enrollment completed before it was recorded without a time to go by.
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["student", "bootcamp"], name="enrollment_one_per_student"),
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "WAITLISTED", "CANCELLED", "COMPLETED", "DROPPED"]),
                name="enrollment_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status="WAITLISTED") & Q(waitlist_seq__isnull=False))
                | (~Q(status="WAITLISTED") & Q(waitlist_seq__isnull=True)),
                name="enrollment_waitlist_seq_iff_waitlisted",
            ),
            models.UniqueConstraint(
                fields=["bootcamp", "waitlist_seq"],
                condition=Q(status="WAITLISTED"),
                name="enrollment_waitlist_seq_unique",
            ),
            # When it was marked COMPLETED: another status has none (leaving
            # COMPLETED clears it). The grading rules read it as a completion.
            models.CheckConstraint(
                condition=Q(status="COMPLETED") | Q(completed_at__isnull=True),
                name="enrollment_completed_at_only_when_completed",
            ),
        ]
        indexes = [
            models.Index(fields=["bootcamp", "status"], name="enrollment_bootcamp_status_idx"),
            models.Index(fields=["student", "status"], name="enrollment_student_status_idx"),
            # The list's default order: a page is read off this index, not sorted.
            models.Index(fields=["-enrolled_at", "-id"], name="enrollment_recent_first_idx"),
        ]

    def __str__(self):
        # No status: the History and the admin's recent actions keep this text,
        # and the status changes after it is written.
        return f"{self.student} in {self.bootcamp}"
