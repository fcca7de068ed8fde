"""Enrollment writes: seats, the waitlist, and the emails that go with them.

Locking (the pattern of pretix's quotas): inside one transaction, lock the
bootcamp row (SELECT ... FOR UPDATE), then count the seats held, then write.
Every path that *uses* a seat (enrolling, promoting from the waitlist) runs
under that lock, so two requests can never both see the last free seat.
Availability is always counted from enrollments, never kept in a counter.
Lock order is always bootcamp, then enrollment rows (of=("self",): not the people
joined to them), then people's rows, in id order (accounts.selectors.users_held):
the student enrollment_create seats, and the students a promotion seats, so that a
deactivation in progress is seen. Two promotions that share waiting students lock
them in the same order.
Waiting for the bootcamp's lock is bounded (cohortly.locking): when another
transaction keeps it too long, the request fails with Busy (the API's 503)
instead of holding a worker until it is released.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from accounts.permissions import SALES_TEAM, has_role
from accounts.selectors import users_held
from accounts.services import password_reset_link
from bootcamps.models import Bootcamp
from bootcamps.services import bootcamp_lock
from cohortly.emails import email_user, send_templated_email
from cohortly.errors import Conflict, NotAllowed, NotFound
from cohortly.metrics import ENROLLMENTS, count_after_commit
from enrollments.models import Enrollment

Status = Enrollment.Status

#: Why a second enrollment of the same pair is refused, by the existing row's status.
ALREADY_ENROLLED = {
    Status.ACTIVE: "This student is already enrolled in this bootcamp.",
    Status.WAITLISTED: "This student is already on this bootcamp's waitlist.",
    Status.COMPLETED: "This student has already completed this bootcamp.",
    Status.DROPPED: "This student was dropped from this bootcamp; only an admin or sales can re-enroll them.",
}


def _lock_bootcamp(bootcamp_id: int) -> Bootcamp:
    """Take the seat lock (bootcamps.services.bootcamp_lock): Busy when another
    transaction keeps it longer than cohortly.locking.LOCK_TIMEOUT."""
    return bootcamp_lock(bootcamp_id)


def bootcamp_seats_taken(bootcamp: Bootcamp) -> int:
    return Enrollment.objects.filter(bootcamp=bootcamp, status__in=Enrollment.SEAT_HOLDING).count()


def bootcamp_seats_left(bootcamp: Bootcamp) -> int:
    return max(0, bootcamp.capacity - bootcamp_seats_taken(bootcamp))


def _next_waitlist_seq(bootcamp: Bootcamp) -> int:
    current = Enrollment.objects.filter(bootcamp=bootcamp, status=Status.WAITLISTED).aggregate(
        m=Max("waitlist_seq")
    )["m"]
    return (current or 0) + 1


def waitlist_position(enrollment: Enrollment) -> int | None:
    """1 = next in line; None unless WAITLISTED. (Lists annotate it instead:
    enrollments.selectors.enrollment_annotate_waitlist_position.)"""
    if enrollment.status != Status.WAITLISTED:
        return None
    return Enrollment.objects.filter(
        bootcamp_id=enrollment.bootcamp_id,
        status=Status.WAITLISTED,
        waitlist_seq__lte=enrollment.waitlist_seq,
    ).count()


def _notify(enrollment: Enrollment, template: str, **extra) -> None:
    """Email the student about their enrollment (not a deactivated one: email_user)."""
    context = {"enrollment": enrollment, "student": enrollment.student, "bootcamp": enrollment.bootcamp}
    email_user(enrollment.student, template=template, context={**context, **extra})


def enrollment_invite(*, enrollment: Enrollment, existing_account: bool = True) -> None:
    """Tell a student whose address nobody has proven about their enrollment
    (student_invitation), with a link that sets their password and proves the
    address. Not by name, since anyone can register someone else's address under
    a name of their choosing, and not "see your enrollments", which they can't
    sign in to see. `existing_account`: registered before, not made just now."""
    student = enrollment.student
    if not student.is_active:
        return
    send_templated_email(
        to=student.email,
        template="student_invitation",
        context={
            "student": student,
            "existing_account": existing_account,
            "enrollment": enrollment,
            "bootcamp": enrollment.bootcamp,
            "position": waitlist_position(enrollment),
            "link": password_reset_link(student),
        },
    )


def _may_reuse(existing: Enrollment | None, actor: User | None) -> bool:
    if existing is None or existing.status == Status.CANCELLED:
        return True
    # Dropping is a staff decision, so only staff who enroll people may undo it.
    return existing.status == Status.DROPPED and has_role(actor, SALES_TEAM)


def enrollment_check_can_enroll(*, student: User, bootcamp: Bootcamp, actor: User | None = None) -> None:
    """The rules for enrolling, without the lock: ValidationError (400) for a
    student or bootcamp that does not qualify, Conflict (409) for a pair that is
    already enrolled. enrollment_create checks again under the lock; forms call
    this to show the error on the form. Only ADMIN and SALES enroll someone
    else; any other actor may enroll only themself (NotAllowed, 403)."""
    if actor is not None and actor.pk != student.pk and not has_role(actor, SALES_TEAM):
        raise NotAllowed("Only admins and sales can enroll someone else.")
    if student.role != User.Role.STUDENT:
        raise ValidationError(
            {"student": ValidationError("Only students can be enrolled.", code="not_a_student")}
        )
    if not student.is_active:
        raise ValidationError(
            {"student": ValidationError("This student account is deactivated.", code="inactive")}
        )
    closed = bootcamp.closed_to_enrollment
    if closed == Bootcamp.NOT_OPEN:
        raise ValidationError(
            {"bootcamp": ValidationError("This bootcamp is not open for enrollment.", code="not_open")}
        )
    if closed == Bootcamp.ENDED:
        raise ValidationError({"bootcamp": ValidationError("This bootcamp has already ended.", code="ended")})
    existing = Enrollment.objects.filter(student=student, bootcamp=bootcamp).first()
    if not _may_reuse(existing, actor):
        raise Conflict(ALREADY_ENROLLED[existing.status], code="already_enrolled")


@transaction.atomic
def enrollment_create(
    *,
    student: User,
    bootcamp: Bootcamp,
    actor: User | None = None,
    notify: bool = True,
    notify_student: bool | None = None,
) -> Enrollment:
    """Enroll `student`: ACTIVE when a seat is free, else at the back of the
    waitlist. A cancelled enrollment of the same pair is reused (one row per
    student and bootcamp), and so is a dropped one when `actor` is ADMIN or
    SALES. Already ACTIVE, WAITLISTED or COMPLETED -> Conflict (409).
    `notify=False` skips every email (demo data); `notify_student=False` only
    this student's (a caller that tells them itself), not those promoted from
    the waitlist on the way."""
    if notify_student is None:
        notify_student = notify
    bootcamp = _lock_bootcamp(bootcamp.pk)
    student = _lock_student(student.pk)
    enrollment_check_can_enroll(student=student, bootcamp=bootcamp, actor=actor)
    enrollment = Enrollment.objects.select_for_update().filter(student=student, bootcamp=bootcamp).first()

    # Nobody jumps the queue: a seat that is free while people wait goes to them first.
    _promote_waitlist(bootcamp, notify=notify)

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
    enrollment.student = student
    if enrollment.pk:
        enrollment.enrolled_at = timezone.now()
    enrollment.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError as exc:
        # Only reachable if a writer bypassed the lock; still a conflict, never a 500.
        raise Conflict("This student is already enrolled in this bootcamp.", code="already_enrolled") from exc
    count_after_commit(ENROLLMENTS, enrollment.status.lower())
    if notify and notify_student:
        if student.email_verified:
            _notify(enrollment, template, position=waitlist_position(enrollment))
        else:
            enrollment_invite(enrollment=enrollment)
    return enrollment


def _lock_student(pk) -> User:
    """The student's row, held (accounts.selectors.users_held) after the seat
    lock, whose lock_timeout bounds this wait too: a role change arriving now is
    refused (holds_enrollments)."""
    held = users_held([pk])
    if not held:
        raise NotFound("This student no longer exists.")
    return held[0]


def _promote_waitlist(bootcamp: Bootcamp, *, notify: bool = True) -> list[Enrollment]:
    """Fill free seats from the head of the waitlist. Caller holds the lock.

    Only while the bootcamp takes enrollments (published, not ended: the rule
    enrollment_check_can_enroll applies), and only students whose account is
    active: a deactivated one keeps their place in the queue, and is passed
    over until the account is active again."""
    promoted = []
    free = bootcamp.capacity - bootcamp_seats_taken(bootcamp)
    if free <= 0:
        return promoted
    if bootcamp.closed_to_enrollment:
        return promoted
    passed_over = set()
    while free > 0:
        waiting = list(
            Enrollment.objects.select_for_update(of=("self",))
            .filter(bootcamp=bootcamp, status=Status.WAITLISTED, student__is_active=True)
            .exclude(pk__in=passed_over)
            .order_by("waitlist_seq")[:free]
        )
        if not waiting:
            break
        # Their students' rows, held in id order as every write that depends on an
        # account's active flag holds them (users_held): a deactivation in progress
        # is waited for, then seen, and that student is passed over for the next.
        students = {student.pk: student for student in users_held(e.student_id for e in waiting)}
        for enrollment in waiting:
            student = students.get(enrollment.student_id)
            if student is None or not student.is_active:
                passed_over.add(enrollment.pk)
                continue
            enrollment.student, enrollment.bootcamp = student, bootcamp
            enrollment.status = Status.ACTIVE
            enrollment.waitlist_seq = None
            enrollment.save(update_fields=["status", "waitlist_seq", "updated_at"])
            count_after_commit(ENROLLMENTS, "promoted")
            if notify and student.email_verified:
                _notify(enrollment, "enrollment_promoted")
            elif notify:
                # Nobody can sign in to an unproven account, and the waitlist's
                # invitation link has likely expired by now: the news comes with a new one.
                enrollment_invite(enrollment=enrollment)
            promoted.append(enrollment)
            free -= 1
    return promoted


@transaction.atomic
def waitlist_promote(*, bootcamp: Bootcamp) -> list[Enrollment]:
    """Promote waitlisted students into any free seats (e.g. after capacity grew)."""
    return _promote_waitlist(_lock_bootcamp(bootcamp.pk))


def on_capacity_changed(sender, *, bootcamp: Bootcamp, old_capacity: int, **kwargs) -> None:
    """bootcamps.signals.capacity_changed (connected in enrollments.apps): seats
    a larger capacity adds go to the waitlist at once, in the same transaction."""
    if bootcamp.capacity > old_capacity:
        waitlist_promote(bootcamp=bootcamp)


def on_opening_changed(sender, *, bootcamp: Bootcamp, **kwargs) -> None:
    """bootcamps.signals.opening_changed: a bootcamp published again, or whose
    end moved later, gives the seats freed while it was closed to its waitlist
    (no promotion happens while it is closed). A no-op while it stays closed."""
    waitlist_promote(bootcamp=bootcamp)


def on_user_reactivated(sender, *, user: User, **kwargs) -> None:
    """accounts.signals.user_reactivated (after commit): a student passed over
    while deactivated takes a seat that is free in each bootcamp they wait for,
    if they are next in line, each bootcamp in its own transaction under its lock."""
    waiting = Enrollment.objects.filter(student=user, status=Status.WAITLISTED).order_by("bootcamp_id")
    for bootcamp_id in waiting.values_list("bootcamp_id", flat=True):
        waitlist_promote(bootcamp=Bootcamp(pk=bootcamp_id))


@transaction.atomic
def enrollment_cancel(*, enrollment: Enrollment, notify: bool = True) -> Enrollment:
    """Cancel an ACTIVE or WAITLISTED enrollment (else Conflict; an ACTIVE one
    of a bootcamp that has ended too, `bootcamp_ended`). A freed seat
    goes to the first waitlisted student in the same transaction; the returned
    enrollment's `promoted` lists the enrollments that got a seat."""
    bootcamp = _lock_bootcamp(enrollment.bootcamp_id)
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",)).select_related("student").get(pk=enrollment.pk)
    )
    if enrollment.status not in Enrollment.CANCELLABLE:
        raise Conflict(
            f"A {enrollment.get_status_display().lower()} enrollment cannot be cancelled.",
            code="invalid_transition",
        )
    if enrollment.status == Status.ACTIVE and bootcamp.end_date < timezone.localdate():
        # The seat was held to the end: the gradebook counts it. Staff close it.
        raise Conflict(
            f"{bootcamp.title} ended on {bootcamp.end_date:%Y-%m-%d}: its enrollments are a record now "
            "and can't be cancelled. Staff mark them completed or dropped.",
            code="bootcamp_ended",
        )
    enrollment.status = Status.CANCELLED
    enrollment.waitlist_seq = None
    enrollment.save(update_fields=["status", "waitlist_seq", "updated_at"])
    enrollment.bootcamp = bootcamp
    count_after_commit(ENROLLMENTS, "cancelled")
    if notify:
        _notify(enrollment, "enrollment_cancelled")
    enrollment.promoted = _promote_waitlist(bootcamp, notify=notify)
    return enrollment


#: Staff transitions: the target statuses, and which current status allows them.
STAFF_TARGETS = (Status.COMPLETED, Status.DROPPED)
STAFF_TRANSITIONS = {Status.ACTIVE: {Status.COMPLETED, Status.DROPPED}}


@transaction.atomic
def enrollment_set_status(*, enrollment: Enrollment, status: str, notify: bool = True) -> Enrollment:
    """Staff transitions: ACTIVE -> COMPLETED or DROPPED. Any other target is a
    ValidationError (400); an enrollment that is not ACTIVE a Conflict (409), as
    is completing a bootcamp that has not started yet (`not_started`).
    The student is emailed either way (unless `notify` is False).
    Dropping frees the seat, which goes to the waitlist in the same transaction;
    the returned enrollment's `promoted` lists the enrollments that got a seat."""
    if status not in STAFF_TARGETS:
        raise ValidationError(
            {
                "status": ValidationError(
                    f"Staff can set the status to {' or '.join(STAFF_TARGETS)} only.", code="invalid_choice"
                )
            }
        )
    bootcamp = _lock_bootcamp(enrollment.bootcamp_id)
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",)).select_related("student").get(pk=enrollment.pk)
    )
    if status not in STAFF_TRANSITIONS.get(enrollment.status, set()):
        raise Conflict(
            f"A {enrollment.get_status_display().lower()} enrollment cannot become {status.lower()}; "
            "only active enrollments can.",
            code="invalid_transition",
        )
    if status == Status.COMPLETED and bootcamp.start_date > timezone.localdate():
        raise Conflict(
            f"{bootcamp.title} starts on {bootcamp.start_date:%Y-%m-%d}; "
            "nobody can complete it before it has started.",
            code="not_started",
        )
    enrollment.status = status
    enrollment.completed_at = timezone.now() if status == Status.COMPLETED else None
    enrollment.save(update_fields=["status", "completed_at", "updated_at"])
    enrollment.bootcamp = bootcamp
    if notify:
        _notify(enrollment, "enrollment_completed" if status == Status.COMPLETED else "enrollment_dropped")
    enrollment.promoted = _promote_waitlist(bootcamp, notify=notify) if status == Status.DROPPED else []
    return enrollment


#: The error code of a role change refused by on_user_role_changing.
HOLDS_ENROLLMENTS = "holds_enrollments"


def on_user_role_changing(sender, *, user: User, role: str, **kwargs) -> None:
    """accounts.signals.user_role_changing: a student keeps that role while
    holding a seat or a waitlist place (ACTIVE or WAITLISTED). Only a student
    takes one, is listed in gradebooks and hands in work, so another role would
    keep the seat and lose the coursework. Completed enrollments are history and
    don't hold anyone back."""
    if user.role != User.Role.STUDENT:
        return
    held = Enrollment.objects.filter(
        student=user, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.WAITLISTED]
    ).count()
    if held:
        them = "them" if held > 1 else "it"
        message = (
            f"This student holds {held} active or waitlisted enrollment{'s' if held > 1 else ''}: "
            f"complete, drop or cancel {them} first."
        )
        raise ValidationError({"role": ValidationError(message, code=HOLDS_ENROLLMENTS)})
