"""Writes for assignments and submissions: authoring, handing in, grading.

Handing in and grading both lock the submission row (SELECT ... FOR UPDATE) so
that a resubmission and a grade of the same submission cannot interleave: the
grade is always of the content it was given for, and work is never replaced
after it was graded.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, ProtectedError
from django.utils import timezone

from accounts.models import User
from assignments.models import Assignment, Submission
from assignments.permissions import can_author_assignments, can_grade
from bootcamps.models import Bootcamp
from bootcamps.services import bootcamp_hold
from cohortly.emails import email_user, send_templated_email
from cohortly.errors import Conflict, NotAllowed, NotFound
from cohortly.locking import lock_row
from cohortly.models import clean_edit, field_values, save_changes
from enrollments.models import Enrollment

# Error codes of the rules below (the API serializers declare them, so the
# OpenAPI schema documents every code a 400 can carry).
NOT_INSTRUCTOR = "not_instructor"
ARCHIVED = "archived"
ARCHIVED_TAKES_NONE = "This bootcamp is archived: it takes no new assignments."
ARCHIVED_TAKES_NO_WORK = "This bootcamp is archived: it takes no more work."
BELOW_GIVEN_SCORE = "below_given_score"
HAS_GRADES = "has_grades"
NOT_PUBLISHED = "not_published"

#: The fields of an assignment that can be changed after it is created (its
#: bootcamp cannot: its submissions and grades belong to that bootcamp).
ASSIGNMENT_EDITABLE_FIELDS = ("title", "description", "due_at", "max_score", "is_published")

ASSIGNMENT_BUSY = "This assignment is being changed by another request; try again in a moment."


def _check_author(*, user: User, bootcamp: Bootcamp) -> None:
    if not can_author_assignments(user, bootcamp):
        raise NotAllowed(
            "Only an admin or an instructor of this bootcamp can manage its assignments.",
        )


def assignment_check_max_score(*, assignment: Assignment, max_score: Decimal) -> None:
    """A grade is a score out of the maximum it was given under, and the students
    were told it so: once any work is graded, the maximum stays. A lower one
    could make a grade impossible; a higher one would quietly shrink every grade
    (9.5 of 10 becoming 9.5 of 100 in each gradebook average)."""
    if assignment.pk is None:
        return
    grades = Submission.objects.filter(assignment_id=assignment.pk, score__isnull=False).aggregate(
        count=Count("pk"), highest=Max("score")
    )
    if not grades["count"]:
        return
    stored = Assignment.objects.filter(pk=assignment.pk).values_list("max_score", flat=True).first()
    if max_score == stored:
        return
    if max_score < grades["highest"]:
        message = f"A submission is already graded {grades['highest']}; the maximum cannot be lower."
        code = BELOW_GIVEN_SCORE
    else:
        graded = "1 submission is" if grades["count"] == 1 else f"{grades['count']} submissions are"
        message = f"{graded} already graded: the maximum ({stored}) can't change under a grade."
        code = HAS_GRADES
    raise ValidationError({"max_score": ValidationError(message, code=code)})


@transaction.atomic
def assignment_create(
    *,
    created_by: User,
    bootcamp: Bootcamp,
    title: str,
    due_at: datetime,
    max_score: Decimal,
    description: str = "",
    is_published: bool = False,
    notify: bool = True,
) -> Assignment:
    """Create an assignment. Only ADMIN or an instructor who teaches `bootcamp`:
    anyone else gets a 400 on `bootcamp` (the bootcamp itself is no secret).
    A published one is announced to the bootcamp's students (`notify`)."""
    if not can_author_assignments(created_by, bootcamp):
        raise ValidationError(
            {
                "bootcamp": ValidationError(
                    "You can only create assignments for a bootcamp you teach.", code=NOT_INSTRUCTOR
                )
            }
        )
    # Kept from being deleted until this assignment is in (a delete then refuses).
    held = bootcamp_hold(bootcamp)
    if held is None:
        raise NotFound("This bootcamp no longer exists.")
    if held.status == Bootcamp.Status.ARCHIVED:
        raise ValidationError({"bootcamp": ValidationError(ARCHIVED_TAKES_NONE, code=ARCHIVED)})
    assignment = Assignment(
        bootcamp=bootcamp,
        title=title.strip(),
        description=description,
        due_at=due_at,
        max_score=max_score,
        is_published=is_published,
        created_by=created_by,
    )
    assignment.full_clean()
    assignment.save()
    _tell_students(assignment, was_published=False, was_due_at=None, notify=notify)
    return assignment


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _tell_students(assignment: Assignment, *, was_published: bool, was_due_at, notify: bool = True) -> None:
    """What its students hear after a change: a new assignment when it is first
    published; a moved deadline when it is published with a due time other than
    the one they were last told (to the minute an email shows), whether it moved
    while published or while unpublished. Nothing in an archived bootcamp, which
    takes no work. `notify=False` (demo data) records what they know, unsaid."""
    if not assignment.is_published or assignment.bootcamp.status == Bootcamp.Status.ARCHIVED:
        return
    told = assignment.announced_due_at
    if told is None and was_published:
        told = was_due_at  # published before announcements were recorded: they knew that one
    if told is not None and _minute(told) == _minute(assignment.due_at):
        if assignment.announced_due_at is None:
            assignment.announced_due_at = assignment.due_at
            assignment.save(update_fields=["announced_due_at"])
        return
    assignment.announced_due_at = assignment.due_at
    assignment.save(update_fields=["announced_due_at"])
    if not notify:
        return
    if told is None:
        _announce(assignment, template="assignment_published")
    else:
        _announce(assignment, template="assignment_due_moved", was_due_at=told)


def _announce(assignment: Assignment, *, template: str, **context) -> None:
    """Email every student with an ACTIVE seat in the assignment's bootcamp (those
    who can hand in work), each their own copy, after commit."""
    students = User.objects.filter(
        enrollments__bootcamp_id=assignment.bootcamp_id,
        enrollments__status=Enrollment.Status.ACTIVE,
        is_active=True,
    ).order_by("email")
    for student in students:
        send_templated_email(
            to=student.email,
            template=template,
            context={
                "student": student,
                "assignment": assignment,
                "bootcamp": assignment.bootcamp,
                **context,
            },
        )


def _recount_late(assignment: Assignment) -> None:
    """After the due date moves, `is_late` follows it (an extension clears the flag)."""
    submissions = Submission.objects.filter(assignment=assignment)
    submissions.filter(submitted_at__gt=assignment.due_at, is_late=False).update(
        is_late=True, updated_at=timezone.now()
    )
    submissions.filter(submitted_at__lte=assignment.due_at, is_late=True).update(
        is_late=False, updated_at=timezone.now()
    )


@transaction.atomic
def assignment_update(*, assignment: Assignment, updated_by: User, data: dict) -> Assignment:
    """Change any of ASSIGNMENT_EDITABLE_FIELDS. Moving the due date re-flags
    late submissions; the maximum stays once any work is graded
    (assignment_check_max_score)."""
    # The assignment's row alone (its bootcamp's is the seat lock, not this edit's).
    assignment = lock_row(Assignment.objects, pk=assignment.pk, busy_message=ASSIGNMENT_BUSY)
    _check_author(user=updated_by, bootcamp=assignment.bootcamp)
    for name in data:
        if name not in ASSIGNMENT_EDITABLE_FIELDS:
            raise ValidationError({name: ["This field cannot be changed."]})
    publishing = data.get("is_published") and not assignment.is_published
    if publishing and assignment.bootcamp.status == Bootcamp.Status.ARCHIVED:
        raise ValidationError({"is_published": ValidationError(ARCHIVED_TAKES_NONE, code=ARCHIVED)})
    before = field_values(assignment)
    for name, value in data.items():
        setattr(assignment, name, value.strip() if name == "title" else value)
    if "max_score" in data:
        assignment_check_max_score(assignment=assignment, max_score=assignment.max_score)
    # The fields changed, and the constraints they take part in: an assignment stored
    # before a rule (a due time in year 1) can still have its title fixed.
    clean_edit(assignment, data.keys())
    changed = save_changes(assignment, before)
    if "due_at" in changed:
        _recount_late(assignment)
    # Students hear of a new assignment, and of a deadline that moved under them.
    # Unpublishing says nothing: it is how staff fix one (see assignment_delete).
    if changed:
        _tell_students(assignment, was_published=before["is_published"], was_due_at=before["due_at"])
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment, deleted_by: User) -> None:
    """Delete an assignment nobody has handed in yet. With submissions -> 409:
    students' work and grades are never cascaded away (unpublish it instead).
    A published one's students are told it is gone."""
    _check_author(user=deleted_by, bootcamp=assignment.bootcamp)
    # Handing in locks the assignment's row too: a first submission is either in
    # (and refuses this delete) or waits for it and finds the assignment gone.
    assignment = _lock_assignment(assignment.pk)
    # Only a published one: an unpublished one may have been edited since its
    # students last saw it (unpublishing is silent, so its removal is too).
    told = assignment.is_published
    try:
        assignment.delete()
    except ProtectedError:
        raise Conflict(
            "This assignment has submissions and cannot be deleted; unpublish it instead.",
            code="has_submissions",
        ) from None
    # Its students would otherwise keep working to its deadline.
    if told and assignment.bootcamp.status != Bootcamp.Status.ARCHIVED:
        _announce(assignment, template="assignment_removed")


def _submit_refusal(*, assignment: Assignment, student: User) -> Exception | None:
    """Why this student can't hand in work to this assignment now (the error
    submitting would answer), or None when they can."""
    if student.role != User.Role.STUDENT:
        return NotAllowed("Only students hand in work.")
    if not student.is_active:
        # They can't log in to hand anything in (returning their work would leave it
        # ungraded for good).
        return NotAllowed("This student's account is deactivated.")
    if not assignment.is_published:
        return ValidationError(
            {NON_FIELD_ERRORS: ValidationError("This assignment is not published.", code=NOT_PUBLISHED)}
        )
    if assignment.bootcamp.status == Bootcamp.Status.ARCHIVED:
        # As it takes no new assignments; work already in can still be graded.
        return ValidationError({NON_FIELD_ERRORS: ValidationError(ARCHIVED_TAKES_NO_WORK, code=ARCHIVED)})
    # Held to the end of the hand-in (or return): a cancel, drop or completion
    # locks the enrollment too (after its bootcamp's row; neither locks coursework),
    # so it waits for this one, or this one waits and sees it. Read unlocked, work
    # was handed in to a seat given up at the same moment.
    is_active = (
        Enrollment.objects.select_for_update(no_key=True)
        .filter(student=student, bootcamp_id=assignment.bootcamp_id, status=Enrollment.Status.ACTIVE)
        .values_list("pk", flat=True)
        .first()
    ) is not None
    if not is_active:
        return NotAllowed("Only students with an active enrollment in this bootcamp can hand in work.")
    return None


def _check_can_submit(*, assignment: Assignment, student: User) -> None:
    refusal = _submit_refusal(assignment=assignment, student=student)
    if refusal is not None:
        raise refusal


def _lock_assignment(pk) -> Assignment:
    """The assignment's row, locked against a concurrent assignment_update (which
    moves the due date or the maximum) until the transaction ends. Grading and
    handing in queue behind an edit, and behind each other on the same assignment,
    for the few milliseconds each takes; never longer than cohortly.locking's
    LOCK_TIMEOUT (then Busy, a 503 to retry)."""
    return lock_row(Assignment.objects, pk=pk, busy_message=ASSIGNMENT_BUSY)


def _lock_submission(*, assignment: Assignment, student: User) -> Submission | None:
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("assignment", "student")
        .filter(assignment=assignment, student=student)
        .first()
    )


#: A replacement handed in this soon after the one before gets no receipt of its own.
RECEIPT_QUIET = timedelta(minutes=10)


@transaction.atomic
def submission_submit(
    *, assignment: Assignment, student: User, content: str = "", link: str = ""
) -> tuple[Submission, bool]:
    """Hand in work: content, a link, or both. Returns (submission, created).

    The first call creates the submission; later calls replace its content and
    link (the same row) until it is graded, then 409. After `due_at` the work is
    accepted and flagged late. The student gets a receipt by email, except for a
    replacement within RECEIPT_QUIET of the last receipt (unless it turns late).
    """
    # Read under its lock: a due date moved at the same moment is either
    # already in force here or re-flags this submission after it commits.
    assignment = _lock_assignment(assignment.pk)
    _check_can_submit(assignment=assignment, student=student)
    submission = _lock_submission(assignment=assignment, student=student)
    now = timezone.now()  # after any wait for the lock: the time it is actually handed in
    created = False
    if submission is None:
        submission = Submission(assignment=assignment, student=student)
        created = True
    elif submission.is_graded:
        raise Conflict(
            "This submission is already graded and can no longer be replaced.", code="already_graded"
        )
    was_late = None if created else submission.is_late
    # The revision a return asked for: its hand-in is always receipted, however soon
    # after the last receipt (the student was just told to hand it in again).
    returned_at = None if created else submission.returned_at
    revision = returned_at is not None and submission.submitted_at <= returned_at
    submission.content = (content or "").strip()
    submission.link = (link or "").strip()
    submission.submitted_at = now
    submission.is_late = now > assignment.due_at
    # Saved again moments after the last receipt (a typo fixed, an autosave): one
    # email, not one per save; a save RECEIPT_QUIET after the last receipt gets its
    # own, so the latest receipt is never more than that behind what is stored.
    # Turning late is always said, and so is handing in a revision.
    receipted = submission.receipt_sent_at
    quiet = (
        receipted is not None
        and now - receipted < RECEIPT_QUIET
        and submission.is_late == was_late
        and not revision
    )
    if not quiet:
        submission.receipt_sent_at = now
    # Uniqueness is the database's job (a racing first submission is handled below).
    submission.full_clean(validate_unique=False, validate_constraints=False)
    if created:
        try:
            with transaction.atomic():
                submission.save()
        except IntegrityError:
            if not Submission.objects.filter(assignment=assignment, student=student).exists():
                raise
            # Another request created it between our look and our insert: replace
            # that one instead, under its lock.
            return submission_submit(assignment=assignment, student=student, content=content, link=link)
    else:
        submission.save()
    if quiet:
        return submission, created
    send_templated_email(
        to=student.email,
        template="submission_received",
        context={
            "submission": submission,
            "assignment": assignment,
            "student": student,
            "replaced": not created,
        },
    )
    return submission, created


def _mail_student(submission: Submission, template: str, **extra) -> None:
    """Tell the student what became of their work (not a deactivated one: email_user)."""
    context = {"submission": submission, "assignment": submission.assignment, "student": submission.student}
    email_user(submission.student, template=template, context={**context, **extra})


def submission_lock_for_grading(submission: Submission) -> Submission:
    """The submission's row, locked, with its assignment's and bootcamp's, after
    its assignment's row (as assignment_update locks it). Grading and returning
    lock these first; the admin's grade form holds them before it checks what
    its page showed (ChangedSinceShownMixin), so two graders saving at once
    queue up and the second sees the first's grade. Must run in a transaction."""
    _lock_assignment(submission.assignment_id)
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("assignment__bootcamp", "student")
        .get(pk=submission.pk)
    )


def _check_grader(user: User, submission: Submission, verb: str) -> None:
    """ADMIN, or an instructor or mentor of the bootcamp; never the student whose
    work it is (a former student made a mentor of their own bootcamp)."""
    if not can_grade(user, submission.assignment.bootcamp):
        raise NotAllowed(f"Only an admin or an instructor or mentor of this bootcamp can {verb} work.")
    if user.pk == submission.student_id:
        raise NotAllowed(f"Nobody can {verb} their own work: another grader has to.")


def submission_check_score(*, assignment: Assignment, score) -> None:
    """0 <= score <= assignment.max_score, a finite number with two decimals at most."""
    if not isinstance(score, Decimal) or not score.is_finite():
        raise ValidationError({"score": ValidationError("Enter a number.", code="invalid")})
    if score < 0 or score > assignment.max_score:
        code = "min_value" if score < 0 else "max_value"
        raise ValidationError(
            {"score": ValidationError(f"The score must be between 0 and {assignment.max_score}.", code=code)}
        )


@transaction.atomic
def submission_grade(
    *,
    submission: Submission,
    grader: User,
    score: Decimal,
    feedback: str | None = None,
    submitted_at: datetime | None = None,
) -> Submission:
    """Grade (or regrade) a submission: ADMIN, or an instructor or mentor of its
    bootcamp. Records who graded and when; the student is emailed after commit.
    Regrading replaces the score, grader and time; `feedback=None` keeps the
    feedback already given. A regrade that changes neither score nor feedback
    changes nothing and emails nobody (a retried request, Save clicked twice).

    `submitted_at` is when the work the grader read was handed in: if the student
    has handed it in again since (ungraded work can be replaced while the grader
    reads it), 409 handed_in_again and nothing is graded, so that a grade is always
    of the content it was given for. None skips the check.

    The assignment's row is locked first, as assignment_update locks it: a
    maximum lowered at the same moment is checked against this score, or this
    score against the new maximum, never neither."""
    submission = submission_lock_for_grading(submission)
    assignment = submission.assignment
    _check_grader(grader, submission, "grade")
    if submitted_at is not None and not same_hand_in(submitted_at, submission.submitted_at):
        raise Conflict(
            "The student handed this work in again after you opened it: read what they handed in, "
            "then grade it.",
            code="handed_in_again",
        )
    submission_check_score(assignment=assignment, score=score)
    score = abs(score) if score.is_zero() else score  # "-0" is 0: stored, shown and emailed as 0.00
    feedback = feedback.strip() if feedback is not None else submission.feedback
    regraded = submission.is_graded
    if regraded and submission.score == score and submission.feedback == feedback:
        return submission
    submission.score = score
    submission.feedback = feedback
    submission.graded_by = grader
    submission.graded_at = timezone.now()
    submission.full_clean(validate_unique=False, validate_constraints=False)
    submission.save(update_fields=["score", "feedback", "graded_by", "graded_at", "updated_at"])
    _mail_student(submission, "grade_released", regraded=regraded)
    return submission


def same_hand_in(seen: datetime, stored: datetime) -> bool:
    """Whether `seen` (a submitted_at a grader sent back) is the stored one: to the
    millisecond, as a browser's Date keeps it (two hand-ins are never that close)."""
    return abs(seen - stored) < timedelta(milliseconds=1)


def _refusal_text(refusal: Exception) -> str:
    if isinstance(refusal, ValidationError):
        return " ".join(refusal.messages)
    return refusal.message


@transaction.atomic
def submission_return(
    *, submission: Submission, returned_by: User, feedback: str | None = None
) -> Submission:
    """Return graded work for revision: ADMIN, or an instructor or mentor of its
    bootcamp. The grade (score, grader, time) is withdrawn, `feedback` replaces
    the feedback given (None keeps it: it says what to revise), and the student
    is emailed after commit. They can then hand the work in again, as before it
    was graded (after the due time it is flagged late), and it is graded again.

    Only graded work (ungraded work the student can still replace: 409
    not_graded), and only while the student could hand it in again: an archived
    bootcamp, an unpublished assignment, a deactivated student or one whose
    enrollment is no longer ACTIVE is 409 cannot_resubmit. Returning work that already waits for
    its revision changes only the feedback, if it differs (then the student is
    emailed again); a retried request changes nothing and emails nobody."""
    submission = submission_lock_for_grading(submission)
    assignment = submission.assignment
    _check_grader(returned_by, submission, "return")
    feedback = feedback.strip() if feedback is not None else submission.feedback
    if submission.awaits_revision:
        if submission.feedback == feedback:
            return submission
    elif not submission.is_graded:
        raise Conflict(
            "This submission isn't graded: its student can still replace it, and nothing is withdrawn.",
            code="not_graded",
        )
    refusal = _submit_refusal(assignment=assignment, student=submission.student)
    if refusal is not None:
        raise Conflict(
            f"{_refusal_text(refusal)} Its student couldn't hand it in again: grade it instead.",
            code="cannot_resubmit",
        )
    submission.score = None
    submission.graded_by = None
    submission.graded_at = None
    submission.feedback = feedback
    submission.returned_at = timezone.now()
    submission.full_clean(validate_unique=False, validate_constraints=False)
    submission.save(
        update_fields=["score", "graded_by", "graded_at", "feedback", "returned_at", "updated_at"]
    )
    past_due = submission.returned_at > assignment.due_at
    _mail_student(submission, "submission_returned", returned_by=returned_by, past_due=past_due)
    return submission
