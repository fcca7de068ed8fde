"""Demo enrollments, made through the services so seats and the waitlist are
real: the full bootcamp ends up with a waitlist, the running one has a
dropped student, an upcoming one a cancelled enrollment. The demo student
(index 0) is active in two bootcamps and waitlisted in the full one.
Idempotent: a student already enrolled in a bootcamp is skipped. No emails."""

from bootcamps.demo import FULL_BOOTCAMP_SLUG
from bootcamps.models import Bootcamp
from enrollments import services
from enrollments.models import Enrollment

Status = Enrollment.Status

#: (bootcamp slug, indexes into context["students"] in arrival order, what happens to the last one)
PLAN = [
    ("full-stack-web-development", [0, 1, 2, 3, 4, 5, 6, 7], None),
    ("data-science-and-machine-learning", [0, 8, 9, 10, 11, 12, 13], Status.DROPPED),
    (FULL_BOOTCAMP_SLUG, [14, 15, 16, 17, 1, 2, 0], None),  # 4 seats, 3 on the waitlist
    ("cybersecurity-fundamentals", [3, 4, 5, 18], Status.CANCELLED),
]


def seed(*, stdout, style, context):
    students = context.get("students", [])
    by_slug = {bootcamp.slug: bootcamp for bootcamp in context.get("bootcamps", [])}
    created = 0
    for slug, indexes, last_becomes in PLAN:
        bootcamp = by_slug.get(slug) or Bootcamp.objects.filter(slug=slug).first()
        if bootcamp is None or bootcamp.status != Bootcamp.Status.PUBLISHED or not students:
            continue
        new = []
        for index in indexes:
            student = students[index % len(students)]
            if not Enrollment.objects.filter(student=student, bootcamp=bootcamp).exists():
                new.append(services.enrollment_create(student=student, bootcamp=bootcamp, notify=False))
        created += len(new)
        last = new[-1] if new else None
        if last is not None and last.status == Status.ACTIVE and last_becomes == Status.DROPPED:
            services.enrollment_set_status(enrollment=last, status=Status.DROPPED, notify=False)
        elif last is not None and last.status in Enrollment.CANCELLABLE and last_becomes == Status.CANCELLED:
            services.enrollment_cancel(enrollment=last, notify=False)

    stdout.write(style.MIGRATE_HEADING("Demo enrollments:"))
    stdout.write(f"  {created} new (lead conversions add more; totals at the end)")
