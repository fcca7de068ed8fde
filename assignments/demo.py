"""Demo coursework: published and draft assignments in the running and upcoming
bootcamps, and graded and ungraded submissions from their ACTIVE students.

Runs after the bootcamps and enrollments seeders (it reads context["bootcamps"]
and does nothing without it). Idempotent: an assignment is found by bootcamp
and title, a submission by assignment and student.

Assignments are created through the service. Submissions are written directly
(after full_clean) because demo work is back-dated to look lived-in, which the
services rightly do not allow, and demo students should not be emailed.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from assignments import services
from assignments.models import Assignment, Submission
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment

# (title, description, days after the start it is due, max score, published)
ASSIGNMENTS = [
    (
        "Week 1: Hello, tooling",
        "Set up your environment, push a repository with a README and a passing test.",
        6,
        Decimal("10"),
        True,
    ),
    (
        "Week 2: Data structures kata",
        "Solve the five katas in the starter repository; explain your complexity choices.",
        13,
        Decimal("20"),
        True,
    ),
    (
        "Week 3: Build a REST API",
        "A small API with tests and a short design note. Link the repository.",
        20,
        Decimal("100"),
        True,
    ),
    (
        "Capstone proposal (draft)",
        "What you will build, for whom, and how you will know it works. Not published yet.",
        34,
        Decimal("50"),
        False,
    ),
]

#: Each track's own (title, description) for the four ASSIGNMENTS slots (due days,
#: max scores and publishing as there); a bootcamp not listed gets ASSIGNMENTS'.
TRACKS = {
    "data-science-and-machine-learning": [
        (
            "Week 1: Python and notebooks",
            "Set up Jupyter, load the course CSV and push a notebook that plots it.",
        ),
        (
            "Week 2: Cleaning data",
            "Tidy the survey data with pandas; explain each choice you made.",
        ),
        (
            "Week 3: Your first model",
            "Train a scikit-learn model against a baseline and evaluate it honestly.",
        ),
        (
            "Capstone proposal (draft)",
            "The question, the data and how you will measure success. Not published yet.",
        ),
    ],
    "ux-and-product-design-sprint": [
        ("Week 1: User interviews", "Interview three people about the brief and write up what you learned."),
        ("Week 2: Journey map", "Turn your interviews into two personas and one journey map."),
        (
            "Week 3: Clickable prototype",
            "Link a prototype of the key flow and notes from testing it with three users.",
        ),
        (
            "Final critique plan (draft)",
            "What you will show at the final critique, and why. Not published yet.",
        ),
    ],
    "cybersecurity-fundamentals": [
        ("Week 1: Lab network setup", "Build the virtual lab network and document its addressing plan."),
        (
            "Week 2: Threat modelling",
            "A STRIDE threat model of the sample shop, with the top five risks.",
        ),
        ("Week 3: CTF write-up", "How you found each flag, and how the flaw should be fixed."),
        (
            "Capstone proposal (draft)",
            "The system you will assess, its scope and its rules. Not published yet.",
        ),
    ],
    "devops-and-cloud-engineering": [
        (
            "Week 1: Containers",
            "A Dockerfile and compose file that run the sample app and its database.",
        ),
        (
            "Week 2: A CI pipeline",
            "Tests, lint and an image build on every push, in a pipeline you can link.",
        ),
        (
            "Week 3: Terraform",
            "Provision the app's environment with Terraform; no clicking in consoles.",
        ),
        (
            "Capstone proposal (draft)",
            "What you will ship to the cloud and how you will watch it. Not published yet.",
        ),
    ],
}

FEEDBACK = [
    "Solid work: clear structure and good tests. Look at edge cases next time.",
    "Nice progress. The README could explain how to run it.",
    "Good effort; the complexity analysis needs another pass.",
]
#: The demo's one piece of work returned for revision.
RETURNED_FEEDBACK = (
    "Returned for revision: the results are right, but add tests for the empty input and hand it in again."
)


def _due_at(anchor, days: int, last_day) -> datetime:
    # Never after the bootcamp's last day: a four-week sprint's capstone proposal
    # is due as it ends, not a week after its students have left.
    return timezone.make_aware(datetime.combine(min(anchor + timedelta(days=days), last_day), time(17, 0)))


def _author(bootcamp, context):
    instructor = bootcamp.instructors.order_by("email").first()
    if instructor is not None:
        return instructor
    admin = (context.get("users") or {}).get(User.Role.ADMIN)
    return admin or User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("email").first()


def _grader(bootcamp, author):
    return bootcamp.mentors.order_by("email").first() or author


def _ensure_assignments(bootcamp, author, anchor) -> tuple[list[Assignment], int]:
    """The demo's assignments of `bootcamp` (made where missing), and how many were made."""
    assignments, made = [], 0
    texts = TRACKS.get(bootcamp.slug) or [(title, description) for title, description, *_ in ASSIGNMENTS]
    for (title, description), (_title, _description, days, max_score, published) in zip(
        texts, ASSIGNMENTS, strict=True
    ):
        # A draft bootcamp's syllabus is in progress: none of its work is out yet.
        published = published and bootcamp.status == Bootcamp.Status.PUBLISHED
        assignment = Assignment.objects.filter(bootcamp=bootcamp, title=title).first()
        if assignment is None:
            assignment = services.assignment_create(
                created_by=author,
                bootcamp=bootcamp,
                title=title,
                description=description,
                due_at=_due_at(anchor, days, bootcamp.end_date),
                max_score=max_score,
                is_published=published,
                notify=False,  # demo data, not news for the demo's students
            )
            made += 1
        assignments.append(assignment)
    return assignments, made


def _ensure_submissions(assignments, students, grader, now) -> tuple[int, int]:
    """Past-due published work (`students`: (student, enrolled_at) pairs): most
    students handed in (a few late, a few missing); all but the most recent
    past-due assignment are graded, but for one piece of the first, returned to its student for revision. An
    assignment that has any work already is left as it is: the students
    listed change as people use the demo (an enrollment completed, a new one),
    and their gaps with them."""
    created = graded = 0
    due = [a for a in assignments if a.is_published and a.due_at < now]
    for a_index, assignment in enumerate(due):
        if Submission.objects.filter(assignment=assignment).exists():
            continue
        # Only those enrolled well before it was due did it (a lead converted
        # since has nothing handed in before their enrollment).
        there = [s for s, enrolled in students if enrolled < assignment.due_at - timedelta(days=2)]
        for s_index, student in enumerate(there):
            if (s_index + a_index) % 7 == 6:
                continue  # missing work, so the gradebook shows a gap
            late = (s_index + a_index) % 5 == 4
            submitted_at = assignment.due_at + (
                timedelta(hours=20) if late else -timedelta(hours=6 + s_index)
            )
            submitted_at = min(submitted_at, now)
            submission = Submission(
                assignment=assignment,
                student=student,
                content="" if s_index % 2 else f"My notes on {assignment.title.lower()}.",
                link=f"https://github.com/demo-{student.pk.hex[:8]}/{assignment.pk}" if s_index % 2 else "",
                submitted_at=submitted_at,
                is_late=submitted_at > assignment.due_at,
            )
            if a_index == 0 and s_index == 2 and len(due) > 1:
                submission.feedback = RETURNED_FEEDBACK
                submission.returned_at = min(submission.submitted_at + timedelta(days=2), now)
            elif a_index < len(due) - 1 or (len(due) == 1 and s_index % 2 == 0):
                percent = Decimal(60 + (s_index * 7 + a_index * 11) % 41) / 100
                submission.score = (assignment.max_score * percent).quantize(Decimal("0.01"))
                submission.feedback = FEEDBACK[(s_index + a_index) % len(FEEDBACK)]
                submission.graded_by = grader
                submission.graded_at = min(submission.submitted_at + timedelta(days=2), now)
                graded += 1
            submission.full_clean()
            submission.save()
            created += 1
    return created, graded


def seed(*, stdout, style, context):
    bootcamps = context.get("bootcamps")
    if not bootcamps:
        return
    today = timezone.localdate()
    now = timezone.now()
    current = [b for b in bootcamps if b.end_date >= today]
    running = [b for b in current if b.start_date <= today]
    n_assignments = n_submissions = n_graded = 0
    for bootcamp in current:
        author = _author(bootcamp, context)
        if author is None:
            continue
        # A running bootcamp gets work due in the past (graded, awaiting a grade)
        # and in the future, whenever it started; an upcoming one from its start.
        anchor = today - timedelta(days=14) if bootcamp in running else bootcamp.start_date
        # Counted as made: assignments added through the API since don't count.
        assignments, made = _ensure_assignments(bootcamp, author, anchor)
        n_assignments += made
        if bootcamp not in running:
            continue
        students = [
            (enrollment.student, enrollment.enrolled_at)
            for enrollment in Enrollment.objects.filter(bootcamp=bootcamp, status=Enrollment.Status.ACTIVE)
            .select_related("student")
            .order_by("student__email")
        ]
        created, graded = _ensure_submissions(assignments, students, _grader(bootcamp, author), now)
        n_submissions += created
        n_graded += graded
    stdout.write(
        style.MIGRATE_HEADING("Coursework:")
        + f" {n_assignments} assignments, {n_submissions} submissions ({n_graded} graded) added"
        + f" in {len(current)} running or upcoming bootcamps."
    )
