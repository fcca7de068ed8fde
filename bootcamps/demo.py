"""Demo bootcamps: published (upcoming and running), a draft, an archived one,
and one small bootcamp that enrollments.demo fills up and gives a waitlist.
Idempotent: a bootcamp whose slug exists is left as it is."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from bootcamps import services
from bootcamps.models import Bootcamp

Status = Bootcamp.Status
Format = Bootcamp.DeliveryFormat

# (title, starts in days, lasts days, capacity, price, format, location, status, staff index, description)
# Staff index 0 is the README's instructor@ and mentor@: they teach every bootcamp
# a README flow reaches (the running one, with work to grade, and those with seats).
DEMO_BOOTCAMPS = [
    (
        "Full-Stack Web Development",
        21,
        84,
        12,
        "6900.00",
        Format.HYBRID,
        "Amsterdam & online",
        Status.PUBLISHED,
        0,
        "Twelve weeks from HTML to deployed Django and React apps, pair-programming every day.",
    ),
    (
        "Data Science and Machine Learning",
        -20,
        90,
        10,
        "7400.00",
        Format.ONLINE,
        "",
        Status.PUBLISHED,
        0,
        "Python, pandas, statistics and scikit-learn, ending with a capstone on real data.",
    ),
    (
        "UX and Product Design Sprint",
        35,
        28,
        4,
        "2900.00",
        Format.ONSITE,
        "Berlin",
        Status.PUBLISHED,
        0,
        "Four intense weeks of research, prototyping and testing in a small studio group.",
    ),
    (
        "Cybersecurity Fundamentals",
        60,
        56,
        15,
        "4900.00",
        Format.ONLINE,
        "",
        Status.PUBLISHED,
        0,
        "Networks, threat modelling and secure coding, with weekly capture-the-flag labs.",
    ),
    (
        "DevOps and Cloud Engineering",
        120,
        70,
        14,
        "5900.00",
        Format.HYBRID,
        "Lisbon & online",
        Status.DRAFT,
        0,
        "Containers, CI/CD, infrastructure as code and observability. Syllabus in progress.",
    ),
    (
        "Intro to Python (spring cohort)",
        -200,
        42,
        16,
        "1200.00",
        Format.ONLINE,
        "",
        Status.ARCHIVED,
        1,
        "A six-week first step into programming. This cohort has finished.",
    ),
]

#: The slug of the small bootcamp that enrollments.demo fills beyond capacity.
FULL_BOOTCAMP_SLUG = slugify("UX and Product Design Sprint")


def seed(*, stdout, style, context):
    instructors = context.get("instructors", [])
    mentors = context.get("mentors", [])
    today = timezone.localdate()
    bootcamps, created = [], 0
    for title, starts_in, days, capacity, price, fmt, location, status, staff, description in DEMO_BOOTCAMPS:
        bootcamp = Bootcamp.objects.filter(slug=slugify(title)).first()
        if bootcamp is None:
            start = today + timedelta(days=starts_in)
            bootcamp = services.bootcamp_create(
                title=title,
                description=description,
                start_date=start,
                end_date=start + timedelta(days=days),
                capacity=capacity,
                price=Decimal(price),
                currency="EUR",
                delivery_format=fmt,
                location=location,
                status=status,
                instructors=instructors[staff : staff + 1],
                mentors=mentors[staff : staff + 1],
            )
            created += 1
        bootcamps.append(bootcamp)
    context["bootcamps"] = bootcamps
    stdout.write(style.MIGRATE_HEADING("Demo bootcamps:"))
    stdout.write(
        f"  {len(bootcamps)} bootcamps ({created} new): published, running, draft, archived, one full"
    )
