"""Enrollment writes: seats, the waitlist, and the emails that go with them.

Locking (the pattern of pretix's quotas): inside one transaction, lock the
bootcamp row (SELECT ... FOR UPDATE), then count the seats held, then write.
Every path that *uses* a seat (enrolling, promoting from the waitlist) runs
under that lock, so two requests can never both see the last free seat.
Availability is always counted from enrollments, never kept in a counter.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from bootcamps.models import Bootcamp
from cohortly.emails import send_templated_email
from cohortly.exceptions import Conflict
from enrollments.models import Enrollment

Status = Enrollment.Status


def _lock_bootcamp(bootcamp_id: int) -> Bootcamp:
    """Take the bootcamp's row lock for the rest of the transaction."""
    return Bootcamp.objects.select_for_update().get(pk=bootcamp_id)


def bootcamp_seats_taken(bootcamp: Bootcamp) -> int:
    return Enrollment.objects.filter(bootcamp=bootcamp, status__in=Enrollment.SEAT_HOLDING).count()


def bootcamp_seats_left(bootcamp: Bootcamp) -> int:
    return max(0, bootcamp.capacity - bootcamp_seats_taken(bootcamp))


def _next_waitlist_seq(bootcamp: Bootcamp) -> int:
    current = Enrollment.objects.filter(bootcamp=bootcamp, status=Status.WAITLISTED).aggregate(
        m=Max("waitlist_seq")
    )["m"]
    return (current or 0) + 1


def _notify(enrollment: Enrollment, template: str) -> None:
    send_templated_email(
        to=enrollment.student.email,
        template=template,
        context={"enrollment": enrollment, "student": enrollment.student, "bootcamp": enrollment.bootcamp},
    )


def _check_can_enroll(*, student: User, bootcamp: Bootcamp) -> None:
    if student.role != User.Role.STUDENT:
        raise ValidationError({"student": ["Only students can be enrolled."]})
    if not student.is_active:
        raise ValidationError({"student": ["This student account is deactivated."]})
    if bootcamp.status != Bootcamp.Status.PUBLISHED:
        raise ValidationError({"bootcamp": ["This bootcamp is not open for enrollment."]})
    if bootcamp.end_date < timezone.localdate():
        raise ValidationError({"bootcamp": ["This bootcamp has already ended."]})


@transaction.atomic
def enrollment_create(*, student: User, bootcamp: Bootcamp) -> Enrollment:
    """Enroll `student`: ACTIVE when a seat is free, else at the back of the
    waitlist. A cancelled enrollment of the same pair is reused (one row per
    student and bootcamp). Already ACTIVE or WAITLISTED -> 409."""
    bootcamp = _lock_bootcamp(bootcamp.pk)
    _check_can_enroll(student=student, bootcamp=bootcamp)

    enrollment = Enrollment.objects.select_for_update().filter(student=student, bootcamp=bootcamp).first()
    if enrollment is not None and enrollment.status != Status.CANCELLED:
        messages = {
            Status.ACTIVE: "This student is already enrolled in this bootcamp.",
            Status.WAITLISTED: "This student is already on this bootcamp's waitlist.",
            Status.COMPLETED: "This student has already completed this bootcamp.",
            Status.DROPPED: "This student was dropped from this bootcamp; ask an admin to re-enroll them.",
        }
        raise Conflict(messages[enrollment.status], code="already_enrolled")

    if enrollment is None:
        enrollment = Enrollment(student=student, bootcamp=bootcamp)
    if bootcamp_seats_taken(bootcamp) < bootcamp.capacity:
        enrollment.status = Status.ACTIVE
        enrollment.waitlist_seq = None
        template = "enrollment_confirmed"
    else:
        enrollment.status = Status.WAITLISTED
        enrollment.waitlist_seq = _next_waitlist_seq(bootcamp)
        template = "enrollment_waitlisted"
    enrollment.bootcamp = bootcamp
    if enrollment.pk:
        enrollment.enrolled_at = timezone.now()
    enrollment.full_clean(validate_unique=False, validate_constraints=False)
    enrollment.save()
    _notify(enrollment, template)
    return enrollment


def _promote_waitlist(bootcamp: Bootcamp) -> list[Enrollment]:
    """Fill free seats from the head of the waitlist. Caller holds the lock."""
    promoted = []
    free = bootcamp.capacity - bootcamp_seats_taken(bootcamp)
    if free <= 0:
        return promoted
    waiting = (
        Enrollment.objects.select_for_update()
        .select_related("student", "bootcamp")
        .filter(bootcamp=bootcamp, status=Status.WAITLISTED)
        .order_by("waitlist_seq")[:free]
    )
    for enrollment in waiting:
        enrollment.status = Status.ACTIVE
        enrollment.waitlist_seq = None
        enrollment.save(update_fields=["status", "waitlist_seq", "updated_at"])
        _notify(enrollment, "enrollment_promoted")
        promoted.append(enrollment)
    return promoted


@transaction.atomic
def waitlist_promote(*, bootcamp: Bootcamp) -> list[Enrollment]:
    """Promote waitlisted students into any free seats (e.g. after capacity grew)."""
    return _promote_waitlist(_lock_bootcamp(bootcamp.pk))


@transaction.atomic
def enrollment_cancel(*, enrollment: Enrollment) -> Enrollment:
    """Cancel an ACTIVE or WAITLISTED enrollment. A freed seat goes to the first
    waitlisted student in the same transaction."""
    bootcamp = _lock_bootcamp(enrollment.bootcamp_id)
    enrollment = Enrollment.objects.select_for_update().select_related("student").get(pk=enrollment.pk)
    if enrollment.status not in Enrollment.CANCELLABLE:
        raise Conflict(
            f"A {enrollment.get_status_display().lower()} enrollment cannot be cancelled.",
            code="invalid_transition",
        )
    enrollment.status = Status.CANCELLED
    enrollment.waitlist_seq = None
    enrollment.save(update_fields=["status", "waitlist_seq", "updated_at"])
    enrollment.bootcamp = bootcamp
    _notify(enrollment, "enrollment_cancelled")
    _promote_waitlist(bootcamp)
    return enrollment


STAFF_TRANSITIONS = {Status.ACTIVE: {Status.COMPLETED, Status.DROPPED}}


@transaction.atomic
def enrollment_set_status(*, enrollment: Enrollment, status: str) -> Enrollment:
    """Staff transitions: ACTIVE -> COMPLETED or DROPPED. Dropping frees the seat,
    which is offered to the waitlist."""
    bootcamp = _lock_bootcamp(enrollment.bootcamp_id)
    enrollment = Enrollment.objects.select_for_update().select_related("student").get(pk=enrollment.pk)
    if status not in STAFF_TRANSITIONS.get(enrollment.status, set()):
        raise ValidationError({"status": [f"Cannot change a {enrollment.status} enrollment to {status}."]})
    enrollment.status = status
    enrollment.save(update_fields=["status", "updated_at"])
    enrollment.bootcamp = bootcamp
    if status == Status.DROPPED:
        _promote_waitlist(bootcamp)
    return enrollment
