"""Demo enrollments, made through the services so seats and the waitlist are
real: the full bootcamp ends up with a waitlist, the running one has a
dropped student, an upcoming one a cancelled enrollment. The demo student
(index 0) is active in two bootcamps and waitlisted in the full one. The
archived cohort has its alumni: all but one COMPLETED, one DROPPED (written
directly, as the services rightly enroll nobody in an archived bootcamp).
Idempotent: a student already enrolled in a bootcamp is skipped. No emails.

Each is dated as an early sign-up, in arrival order, before the bootcamp starts
and before the leads' history (leads.demo) begins, so a converted lead joins a
waitlist after them and nobody is enrolled after handing work in."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from bootcamps.demo import FULL_BOOTCAMP_SLUG
from bootcamps.models import Bootcamp
from enrollments import services
from enrollments.models import Enrollment

Status = Enrollment.Status

#: The first sign-up of a bootcamp, at most this many days ago (leads.demo's go back 120).
SIGN_UPS_FROM = 150
#: Days between two sign-ups of the same bootcamp.
SIGN_UP_EVERY = 2


def enrolled_at(bootcamp, arrival: int) -> datetime:
    """When the bootcamp's `arrival`-th demo sign-up (from 0) enrolled."""
    first = min(
        timezone.localdate() - timedelta(days=SIGN_UPS_FROM), bootcamp.start_date - timedelta(days=45)
    )
    moment = datetime.combine(first + timedelta(days=arrival * SIGN_UP_EVERY), time(10, 0))
    return timezone.make_aware(moment) + timedelta(minutes=37 * arrival)


#: (bootcamp slug, indexes into context["students"] in arrival order, what happens to the last one)
PLAN = [
    ("full-stack-web-development", [0, 1, 2, 3, 4, 5, 6, 7], None),
    ("data-science-and-machine-learning", [0, 8, 9, 10, 11, 12, 13], Status.DROPPED),
    (FULL_BOOTCAMP_SLUG, [14, 15, 16, 17, 1, 2, 0], None),  # 4 seats, 3 on the waitlist
    ("cybersecurity-fundamentals", [3, 4, 5, 18], Status.CANCELLED),
]
#: The archived cohort's alumni (some went on to the bootcamps above); the last one dropped out.
ALUMNI = ("intro-to-python-spring-cohort", [*range(1, 18)])


def seed(*, stdout, style, context):
    students = context.get("students", [])
    by_slug = {bootcamp.slug: bootcamp for bootcamp in context.get("bootcamps", [])}
    created = 0
    for slug, indexes, last_becomes in PLAN:
        bootcamp = by_slug.get(slug) or Bootcamp.objects.filter(slug=slug).first()
        if bootcamp is None or bootcamp.status != Bootcamp.Status.PUBLISHED or not students:
            continue
        new = []
        for arrival, index in enumerate(indexes):
            student = students[index % len(students)]
            if not Enrollment.objects.filter(student=student, bootcamp=bootcamp).exists():
                enrollment = services.enrollment_create(student=student, bootcamp=bootcamp, notify=False)
                enrollment.enrolled_at = enrolled_at(bootcamp, arrival)
                Enrollment.objects.filter(pk=enrollment.pk).update(
                    enrolled_at=enrollment.enrolled_at, created_at=enrollment.enrolled_at
                )
                new.append(enrollment)
        created += len(new)
        last = new[-1] if new else None
        if last is not None and last.status == Status.ACTIVE and last_becomes == Status.DROPPED:
            services.enrollment_set_status(enrollment=last, status=Status.DROPPED, notify=False)
        elif last is not None and last.status in Enrollment.CANCELLABLE and last_becomes == Status.CANCELLED:
            services.enrollment_cancel(enrollment=last, notify=False)

    created += _alumni(by_slug, students)

    stdout.write(style.MIGRATE_HEADING("Demo enrollments:"))
    stdout.write(f"  {created} new (lead conversions add more; totals at the end)")


def _alumni(by_slug, students) -> int:
    slug, indexes = ALUMNI
    bootcamp = by_slug.get(slug) or Bootcamp.objects.filter(slug=slug).first()
    if bootcamp is None or bootcamp.status != Bootcamp.Status.ARCHIVED or not students:
        return 0
    finished = timezone.make_aware(datetime.combine(bootcamp.end_date, time(17, 0)))
    created = 0
    for arrival, index in enumerate(indexes):
        student = students[index % len(students)]
        if Enrollment.objects.filter(student=student, bootcamp=bootcamp).exists():
            continue
        dropped = arrival == len(indexes) - 1
        when = enrolled_at(bootcamp, arrival)
        enrollment = Enrollment(
            student=student,
            bootcamp=bootcamp,
            status=Status.DROPPED if dropped else Status.COMPLETED,
            enrolled_at=when,
            completed_at=None if dropped else finished,
        )
        enrollment.full_clean()
        enrollment.save()
        Enrollment.objects.filter(pk=enrollment.pk).update(created_at=when, updated_at=finished)
        created += 1
    return created
