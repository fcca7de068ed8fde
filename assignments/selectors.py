"""Reads for assignments: what each user may see, and the gradebook.

Scope is decided here and nowhere else, so a row outside it is simply not
found (404) in the API and the pages alike.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Role
from assignments.models import Assignment, Submission
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment


def bootcamps_staffed_by(user: User) -> QuerySet[Bootcamp]:
    """The bootcamps `user` teaches (INSTRUCTOR) or mentors (MENTOR)."""
    if user.role == Role.INSTRUCTOR:
        return Bootcamp.objects.filter(instructors=user)
    if user.role == Role.MENTOR:
        return Bootcamp.objects.filter(mentors=user)
    return Bootcamp.objects.none()


def bootcamp_gradebook_list_for(user: User) -> QuerySet[Bootcamp]:
    """The bootcamps whose gradebook `user` may read: ADMIN, all; INSTRUCTOR and
    MENTOR, their own; STUDENT, those where they hold a seat (their own row of
    it: gradebook_for). Another bootcamp's gradebook is then simply not found."""
    if user.role == Role.ADMIN:
        return Bootcamp.objects.all()
    if user.role == Role.STUDENT:
        return bootcamps_attended_by(user)
    return bootcamps_staffed_by(user)


def bootcamps_attended_by(user: User) -> QuerySet[Bootcamp]:
    """The bootcamps where `user` holds a seat (ACTIVE or COMPLETED)."""
    seats = Enrollment.objects.filter(student=user, status__in=Enrollment.SEAT_HOLDING)
    return Bootcamp.objects.filter(pk__in=seats.values("bootcamp_id"))


def assignment_list_for(user: User) -> QuerySet[Assignment]:
    """ADMIN: all. INSTRUCTOR/MENTOR: every assignment (drafts too) of their
    bootcamps. STUDENT: published assignments of bootcamps where they are ACTIVE
    or COMPLETED. Anyone else: none."""
    queryset = Assignment.objects.select_related("bootcamp", "created_by")
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if user.role == Role.ADMIN:
        return queryset
    if user.role in (Role.INSTRUCTOR, Role.MENTOR):
        return queryset.filter(bootcamp__in=bootcamps_staffed_by(user).values("pk"))
    if user.role == Role.STUDENT:
        return queryset.filter(is_published=True, bootcamp__in=bootcamps_attended_by(user).values("pk"))
    return queryset.none()


def submission_list_for(user: User) -> QuerySet[Submission]:
    """ADMIN: all. INSTRUCTOR/MENTOR: every submission to their bootcamps'
    assignments. STUDENT: their own (whatever became of the assignment since).
    Anyone else: none."""
    queryset = Submission.objects.select_related("assignment", "student", "graded_by")
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if user.role == Role.ADMIN:
        return queryset
    if user.role in (Role.INSTRUCTOR, Role.MENTOR):
        return queryset.filter(assignment__bootcamp__in=bootcamps_staffed_by(user).values("pk"))
    if user.role == Role.STUDENT:
        return queryset.filter(student=user)
    return queryset.none()


# --- Gradebook --------------------------------------------------------------


@dataclass(frozen=True)
class GradebookCell:
    assignment_id: int
    #: "graded", "submitted" (not graded yet), "returned" (for revision, not handed in again yet),
    #: "missing" (none, past due), "not_due" or "not_expected" (due after the
    #: student's enrollment was completed)
    status: str
    submission_id: int | None = None
    score: Decimal | None = None
    is_late: bool = False


@dataclass
class GradebookRow:
    student: User
    enrollment_status: str
    cells: list[GradebookCell] = field(default_factory=list)
    average: Decimal | None = None
    points_earned: Decimal = Decimal(0)
    points_possible: Decimal = Decimal(0)
    points_percentage: Decimal | None = None
    graded_count: int = 0
    submitted_count: int = 0
    returned_count: int = 0
    missing_count: int = 0


@dataclass
class Gradebook:
    bootcamp: Bootcamp
    assignments: list[Assignment]
    rows: list[GradebookRow]
    generated_at: datetime | None = None


MISSING = "missing"
#: No submission yet, and the due time hasn't passed: not missing (yet).
NOT_DUE = "not_due"
#: No submission, and none expected: due after the student's enrollment was
#: completed, when they could no longer hand anything in. Not counted.
NOT_EXPECTED = "not_expected"
PERCENT = Decimal("100")
CENT = Decimal("0.01")


def _average_percentage(cells: list[GradebookCell], max_scores: dict[int, Decimal]) -> Decimal | None:
    """Mean of score/max_score over *graded* cells, as a percentage (2 decimals).
    Missing and not-yet-graded work is left out, not counted as zero; None when
    nothing is graded."""
    percentages = [
        cell.score / max_scores[cell.assignment_id] * PERCENT for cell in cells if cell.score is not None
    ]
    if not percentages:
        return None
    return (sum(percentages) / len(percentages)).quantize(CENT, rounding=ROUND_HALF_UP)


def _points(
    cells: list[GradebookCell], max_scores: dict[int, Decimal]
) -> tuple[Decimal, Decimal, Decimal | None]:
    """The standing so far, weighted by each assignment's max_score: the points
    of graded work over the points of graded and missing work (missing counts
    zero). Work awaiting a grade or a revision, and work not due, isn't counted
    yet. The percentage (2 decimals) is None while nothing counts."""
    counted = [cell for cell in cells if cell.score is not None or cell.status == MISSING]
    earned = sum((cell.score for cell in counted if cell.score is not None), Decimal(0))
    possible = sum((max_scores[cell.assignment_id] for cell in counted), Decimal(0))
    if not possible:
        return earned, possible, None
    return earned, possible, (earned / possible * PERCENT).quantize(CENT, rounding=ROUND_HALF_UP)


def bootcamp_gradebook(*, bootcamp: Bootcamp, student: User | None = None) -> Gradebook:
    """Every ACTIVE or COMPLETED student of `bootcamp` (or only `student`) against
    every *published* assignment (drafts are left out: students cannot see or
    submit them).

    Three queries whatever the size: assignments, enrollments with their
    students, submissions; the table is assembled in Python.
    """
    assignments = list(
        Assignment.objects.filter(bootcamp=bootcamp, is_published=True).order_by("due_at", "id")
    )
    enrollments = Enrollment.objects.filter(bootcamp=bootcamp, status__in=Enrollment.SEAT_HOLDING)
    submitted = Submission.objects.filter(assignment__bootcamp=bootcamp, assignment__is_published=True)
    if student is not None:
        enrollments, submitted = enrollments.filter(student=student), submitted.filter(student=student)
    enrollments = list(
        enrollments.select_related("student").order_by("student__full_name", "student__email", "student__id")
    )
    submissions = {
        (row["student_id"], row["assignment_id"]): row
        for row in submitted.values(
            "id", "student_id", "assignment_id", "score", "is_late", "submitted_at", "returned_at"
        )
    }
    max_scores = {assignment.pk: assignment.max_score for assignment in assignments}
    now = timezone.now()

    rows = []
    for enrollment in enrollments:
        cells = []
        for assignment in assignments:
            found = submissions.get((enrollment.student_id, assignment.pk))
            if found is None:
                if enrollment.completed_at is not None and assignment.due_at > enrollment.completed_at:
                    status = NOT_EXPECTED
                else:
                    status = NOT_DUE if assignment.due_at > now else MISSING
                cells.append(GradebookCell(assignment_id=assignment.pk, status=status))
                continue
            status = Submission.status_of(
                score=found["score"], submitted_at=found["submitted_at"], returned_at=found["returned_at"]
            )
            cells.append(
                GradebookCell(
                    assignment_id=assignment.pk,
                    status=status,
                    submission_id=found["id"],
                    score=found["score"],
                    is_late=found["is_late"],
                )
            )
        earned, possible, percentage = _points(cells, max_scores)
        rows.append(
            GradebookRow(
                student=enrollment.student,
                enrollment_status=enrollment.status,
                cells=cells,
                average=_average_percentage(cells, max_scores),
                points_earned=earned,
                points_possible=possible,
                points_percentage=percentage,
                graded_count=sum(cell.status == Submission.Status.GRADED for cell in cells),
                submitted_count=sum(cell.status == Submission.Status.SUBMITTED for cell in cells),
                returned_count=sum(cell.status == Submission.Status.RETURNED for cell in cells),
                missing_count=sum(cell.status == MISSING for cell in cells),
            )
        )
    return Gradebook(bootcamp=bootcamp, assignments=assignments, rows=rows, generated_at=now)


def gradebook_for(user: User, bootcamp: Bootcamp) -> Gradebook:
    """`bootcamp`'s gradebook as `user` may read it: a STUDENT's holds their own
    row only; the graders' every student's."""
    return bootcamp_gradebook(bootcamp=bootcamp, student=user if user.role == Role.STUDENT else None)
