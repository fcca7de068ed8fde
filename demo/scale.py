"""Benchmark-sized data: `python manage.py seed_demo --scale N` (bench/run.py loads it).

At scale 1: 10,000 users (mostly students; admins, sales, instructors and
mentors), 1,000 bootcamps with 1-3 instructors and 0-2 mentors each, 20,000
enrollments, 5,000 assignments, 100,000 leads (each with its CREATED activity).
Every count is multiplied by the scale, which may be fractional (0.01 for tests).

Deterministic: one random.Random(seed) draws everything, ids included, so the
same seed gives the same rows (dates are relative to the day of seeding). No
draw may depend on the clock: randint's bound changes how many bits it uses.

It does not write through the services: 250,000 rows through user_create,
bootcamp_create, enrollment_create and lead_capture would take many minutes
(an Argon2 hash per user, a seat lock and emails per enrollment). It writes
with bulk_create, in one transaction, into a database without scale data
(seed() refuses otherwise), and that skips exactly this:

- The services' rules, which it keeps itself instead: only students are
  enrolled; seat holders (ACTIVE, COMPLETED) never exceed a bootcamp's
  capacity; WAITLISTED only in a full bootcamp, numbered 1..n in arrival order;
  no enrollment in a DRAFT bootcamp; instructors and mentors of a bootcamp have
  those roles; bootcamp slugs are unique (title plus a serial); one open lead
  per email (every lead has its own email); LOST leads have a reason; CONVERTED
  leads are linked to a real seat-holding enrollment of the student they became.
  A lead's pipeline history is not replayed: it gets its CREATED activity only,
  not the STATUS_CHANGE entries lead_update would have written on its way.
- full_clean(): no model or field validators run. The drawn names, phones and
  emails are ones that pass them (demo/tests/test_scale.py checks the names and
  phones against the validators), and the password validators never see
  SCALE_PASSWORD or the benchmark passwords, which are hashed directly.
- The database still holds every constraint, so a row that broke one would
  fail the whole load: unique emails (case-insensitive), one enrollment per
  student and bootcamp, waitlist_seq set iff WAITLISTED and unique per bootcamp,
  valid statuses, roles and formats, end_date >= start_date, capacity >= 1,
  price >= 0, one open lead per email, a reason on LOST leads, a student and an
  enrollment on CONVERTED ones, and every foreign key.
- Emails: none are sent (no welcome, enrollment or lead emails).
- Signals: bulk_create sends no post_save or m2m_changed; nothing here listens
  to them. The query cache sees bulk_create (and the migrations before it), so
  nothing cached from an earlier load is served.
- auto_now and auto_now_add are switched off for the load only, so that the
  drawn timestamps stay (see _timestamps_as_given).

Every user gets one password, hashed once (SCALE_PASSWORD); the benchmark logs
in as BENCH_ADMIN_EMAIL and BENCH_SALES_EMAIL. Emails use example.com/org/net
only (reserved domains: nothing seeded can reach a real inbox).
"""

import contextlib
import math
import random
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment
from leads.models import Lead, LeadActivity

BENCH_ADMIN_EMAIL = "bench-admin@cohortly.dev"
BENCH_SALES_EMAIL = "bench-sales@cohortly.dev"
BENCH_ADMIN_PASSWORD = "Bench-Admin-2026!"
BENCH_SALES_PASSWORD = "Bench-Sales-2026!"
SCALE_PASSWORD = "Scale-User-2026!"

#: Rows per unit of scale.
PER_SCALE = {
    "admins": 10,
    "sales": 50,
    "instructors": 300,
    "mentors": 200,
    "users": 10_000,  # in all, students being the rest
    "bootcamps": 1_000,
    "enrollments": 20_000,
    "assignments": 5_000,
    "leads": 100_000,
}
BATCH_SIZE = 2_000

_FIRST_NAMES = (
    "Liam Olivia Noah Emma Lucas Mia Ethan Ava Leo Zoe Owen Chloe Finn Nora Adam Lena Hugo Ivy "
    "Maria Martin Anna David Sofia Daniel Laura Thomas Julia Paul Sara Mateo Elena Jonas Clara "
    "Samuel Alice Oscar Marta Jakub Ines Pedro Hana Tariq Amara Kenji Priya Omar Fatima Lars "
    "Ingrid Diego Lucia Andrei Irina Kofi Ama Yusuf Leila Chen Mei Arjun Nadia Tomas Eva"
)
_LAST_NAMES = (
    "Carter Brooks Patel Rossi Meyer Novak Silva Kowalski Dubois Tanaka Murphy Haddad Larsen "
    "Schmidt Cohen Fischer Martin Nguyen Garcia Martinez Johnson Anderson Andersen Jensen Muller "
    "Bianchi Costa Santos Ferreira Lopez Hernandez Gonzalez Popescu Ivanova Nowak Horvat Kovac "
    "Okafor Mensah Adeyemi Khan Ahmed Hassan Yilmaz Kaya Sato Suzuki Kim Park Wang Li Singh "
    "Sharma Oliveira Moreau Laurent Berg Lindqvist Virtanen Walsh Byrne Petersen Svensson"
)
FIRST_NAMES, LAST_NAMES = _FIRST_NAMES.split(), _LAST_NAMES.split()
DOMAINS = ("example.com", "example.org", "example.net")
TRACKS = (
    "Full-Stack Web Development",
    "Data Science",
    "Machine Learning Engineering",
    "UX/UI Design",
    "Cloud & DevOps",
    "Cybersecurity",
    "Mobile Development",
    "Data Analytics",
    "Product Management",
    "Python Backend",
    "Frontend with React",
    "Data Engineering",
    "QA Automation",
    "Game Development",
    "Blockchain Development",
    "AI Product Design",
)
CITIES = (
    "Berlin",
    "Lisbon",
    "Amsterdam",
    "Paris",
    "Madrid",
    "Warsaw",
    "Dublin",
    "Vienna",
    "Prague",
    "Stockholm",
    "Milan",
    "Barcelona",
)
LOST_REASONS = (
    "Chose another school.",
    "Price too high.",
    "Dates don't fit.",
    "No answer after three follow-ups.",
    "Not eligible for funding.",
    "Decided to study on their own.",
)
LEAD_MESSAGES = (
    "",
    "",
    "Do you offer payment plans?",
    "Is there a part-time option?",
    "I'd like to know more about the next cohort.",
    "Can my employer pay the invoice?",
    "What level do I need to start?",
)
PHONE_FORMATS = (
    lambda r: f"+49 30 {r(1000000, 9999999)}",
    lambda r: f"+351 21 {r(100, 999)} {r(1000, 9999)}",
    lambda r: f"+44 7700 {r(900000, 900999)}",
    lambda r: f"+33 1 {r(10, 99)} {r(10, 99)} {r(10, 99)} {r(10, 99)}",
    lambda r: f"(555) {r(100, 999)}-{r(1000, 9999)}",
)
UTM = {
    "ADS": [("google", "cpc"), ("linkedin", "cpc"), ("facebook", "paid_social")],
    "SOCIAL": [("instagram", "social"), ("linkedin", "social"), ("tiktok", "social")],
}


def counts_for(scale: float) -> dict[str, int]:
    """How many rows of each kind a scale gives (at least one of each role)."""
    n = {key: max(1, round(value * scale)) for key, value in PER_SCALE.items()}
    staff = n["admins"] + n["sales"] + n["instructors"] + n["mentors"]
    n["students"] = max(1, n["users"] - staff)
    n["users"] = staff + n["students"]
    return n


def scale_data_exists() -> bool:
    return User.objects.filter(email=BENCH_ADMIN_EMAIL).exists()


def _model_if_migrated(app_label: str, name: str):
    """The model, or None while its app has no model or no table yet."""
    try:
        model = apps.get_model(app_label, name)
    except LookupError:
        return None
    return model if model._meta.db_table in connection.introspection.table_names() else None


@contextlib.contextmanager
def _timestamps_as_given(*models):
    """Let bulk_create keep the updated_at we drew.

    auto_now would stamp every row with the same instant, which
    makes "newest first" lists unrealistic. Switched off only for this bulk load.
    """
    saved = []
    for model in models:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                saved.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


class _Seeder:
    def __init__(self, *, scale: float, seed: int, stdout, style):
        self.rng = random.Random(seed)
        self.n = counts_for(scale)
        self.stdout = stdout
        self.style = style
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate()
        self.created = {}

    # -- helpers ------------------------------------------------------------
    def new_uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def past(self, max_days: int, min_days: int = 0) -> datetime:
        return self.now - timedelta(seconds=self.rng.randint(min_days * 86400, max_days * 86400))

    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def phone(self) -> str:
        r = self.rng.randint
        return self.rng.choice(PHONE_FORMATS)(r)

    def bulk(self, model, rows):
        started = time.perf_counter()
        objs = model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        label = model._meta.label
        self.stdout.write(f"  {len(objs):>7,} {label:<32} {time.perf_counter() - started:5.1f}s")
        self.created[model._meta.label] = len(objs)
        return objs

    # -- users --------------------------------------------------------------
    def users(self):
        n, rng = self.n, self.rng
        shared_hash = make_password(SCALE_PASSWORD)
        plan = [
            (User.Role.ADMIN, n["admins"]),
            (User.Role.SALES, n["sales"]),
            (User.Role.INSTRUCTOR, n["instructors"]),
            (User.Role.MENTOR, n["mentors"]),
            (User.Role.STUDENT, n["students"]),
        ]
        rows = []
        serial = 0
        for role, count in plan:
            for _ in range(count):
                serial += 1
                first, last = self.person()
                joined = self.past(900)
                rows.append(
                    User(
                        id=self.new_uuid(),
                        email=f"{first}.{last}.{serial}@{rng.choice(DOMAINS)}".lower(),
                        full_name=f"{first} {last}",
                        phone=self.phone() if rng.random() < 0.6 else "",
                        role=role,
                        # A few former students can no longer log in.
                        is_active=role != User.Role.STUDENT or rng.random() > 0.02,
                        password=shared_hash,
                        email_verified_at=joined,
                        created_at=joined,
                        updated_at=joined,
                    )
                )
        # The benchmark's two logins: the first admin and the first sales user.
        bench = {User.Role.ADMIN: None, User.Role.SALES: None}
        for user in rows:
            if user.role in bench and bench[user.role] is None:
                bench[user.role] = user
        bench[User.Role.ADMIN].email, bench[User.Role.ADMIN].full_name = BENCH_ADMIN_EMAIL, "Bench Admin"
        bench[User.Role.SALES].email, bench[User.Role.SALES].full_name = BENCH_SALES_EMAIL, "Bench Sales"
        bench[User.Role.ADMIN].password = make_password(BENCH_ADMIN_PASSWORD)
        bench[User.Role.SALES].password = make_password(BENCH_SALES_PASSWORD)
        self.bulk(User, rows)
        by_role = {role: [u for u in rows if u.role == role] for role, _ in plan}
        self.instructors = by_role[User.Role.INSTRUCTOR]
        self.mentors = by_role[User.Role.MENTOR]
        self.sales = by_role[User.Role.SALES]
        self.students = [u for u in by_role[User.Role.STUDENT] if u.is_active]

    # -- bootcamps ----------------------------------------------------------
    def bootcamps(self):
        rng = self.rng
        rows = []
        for i in range(self.n["bootcamps"]):
            track = rng.choice(TRACKS)
            fmt = rng.choices(Bootcamp.DeliveryFormat.values, weights=(6, 3, 2))[0]
            city = rng.choice(CITIES)
            start = self.today + timedelta(days=rng.randint(-540, 270))
            end = start + timedelta(weeks=rng.choice((8, 12, 12, 16, 24)))
            if end < self.today:
                status = rng.choices(("ARCHIVED", "PUBLISHED"), weights=(6, 4))[0]
            elif start > self.today + timedelta(days=120):
                status = rng.choices(("PUBLISHED", "DRAFT"), weights=(7, 3))[0]
            else:
                status = rng.choices(("PUBLISHED", "DRAFT"), weights=(19, 1))[0]
            where = "Online" if fmt == "ONLINE" else city
            title = f"{track} · {where} · {start:%B %Y}"
            created = datetime.combine(start, dt_time(9), tzinfo=self.now.tzinfo) - timedelta(
                days=rng.randint(30, 180)
            )
            created = min(created, self.now)
            rows.append(
                Bootcamp(
                    title=title,
                    slug=f"{slugify(title)}-{i + 1:05d}",
                    description=(
                        f"A {(end - start).days // 7}-week {track.lower()} bootcamp "
                        f"{'online' if fmt == 'ONLINE' else 'in ' + city}. Projects every week, "
                        "code reviews by working engineers, and a capstone presented to hiring partners."
                    ),
                    start_date=start,
                    end_date=end,
                    # Bootcamps with enrollments get a capacity sized to them (enrollments()).
                    capacity=rng.choice((15, 20, 25, 30, 40)),
                    price=Decimal(rng.randrange(2000, 15001, 50)),
                    currency="EUR",
                    delivery_format=fmt,
                    location="" if fmt == "ONLINE" else city,
                    status=status,
                    created_at=created,
                    updated_at=created,
                )
            )
        self.bootcamp_rows = rows  # saved after enrollments size their capacity

    def save_bootcamps(self):
        rng = self.rng
        self.bulk(Bootcamp, self.bootcamp_rows)
        instructors, mentors = [], []
        for bootcamp in self.bootcamp_rows:
            for user in rng.sample(self.instructors, min(len(self.instructors), rng.randint(1, 3))):
                instructors.append(Bootcamp.instructors.through(bootcamp_id=bootcamp.pk, user_id=user.pk))
            for user in rng.sample(self.mentors, min(len(self.mentors), rng.randint(0, 2))):
                mentors.append(Bootcamp.mentors.through(bootcamp_id=bootcamp.pk, user_id=user.pk))
        self.bulk(Bootcamp.instructors.through, instructors)
        self.bulk(Bootcamp.mentors.through, mentors)
        self.bootcamp_instructors = {}
        for row in instructors:
            self.bootcamp_instructors.setdefault(row.bootcamp_id, []).append(row.user_id)

    # -- enrollments --------------------------------------------------------
    def enrollments(self):
        """Draws enrollments per bootcamp, then sizes each bootcamp's capacity to fit them."""
        rng = self.rng
        open_camps = [b for b in self.bootcamp_rows if b.status != "DRAFT"]
        total = self.n["enrollments"] if open_camps else 0
        weights = [rng.uniform(0.3, 1.7) for _ in open_camps]
        share = [math.floor(total * w / sum(weights)) for w in weights] if open_camps else []
        for i in range(total - sum(share)):
            share[i % len(share)] += 1
        # No bootcamp can take more students than there are: carry the excess on.
        limit = len(self.students)
        carry = 0
        for i in range(len(share)):
            share[i] += carry
            carry = max(0, share[i] - limit)
            share[i] = min(share[i], limit)

        self.enrollment_plan = []
        for bootcamp, count in zip(open_camps, share, strict=True):
            if bootcamp.end_date < self.today:
                statuses = rng.choices(("COMPLETED", "DROPPED", "CANCELLED"), weights=(85, 10, 5), k=count)
            elif bootcamp.start_date <= self.today:
                statuses = rng.choices(("ACTIVE", "DROPPED", "CANCELLED"), weights=(90, 5, 5), k=count)
            else:
                statuses = rng.choices(("ACTIVE", "CANCELLED"), weights=(88, 12), k=count)
            # Sign-ups arrive between the bootcamp's publication and its start (or now).
            opened = bootcamp.created_at
            closes = min(self.now, datetime.combine(bootcamp.start_date, dt_time(9), tzinfo=self.now.tzinfo))
            span = max(0, int((closes - opened).total_seconds()))
            arrivals = sorted(opened + timedelta(seconds=int(rng.random() * span)) for _ in range(count))
            rows = [
                [student, status, None, at]
                for student, status, at in zip(
                    rng.sample(self.students, count), statuses, arrivals, strict=True
                )
            ]
            seats = sum(row[1] in Enrollment.SEAT_HOLDING for row in rows)
            if bootcamp.start_date > self.today and seats >= 5 and rng.random() < 0.25:
                # A full bootcamp: its latest ACTIVE arrivals wait for a seat, in arrival order.
                waiting = rng.randint(1, seats // 5)
                latest_active = [row for row in rows if row[1] == "ACTIVE"][-waiting:]
                for seq, row in enumerate(latest_active, start=1):
                    row[1], row[2] = "WAITLISTED", seq
                bootcamp.capacity = seats - waiting
            else:
                bootcamp.capacity = max(5, math.ceil((seats + rng.randint(0, 12)) / 5) * 5)
            self.enrollment_plan.extend((bootcamp, *row) for row in rows)

    def save_enrollments(self):
        rows = []
        for bootcamp, student, status, seq, enrolled in self.enrollment_plan:
            # Completed when their bootcamp ended (the gradebook expects nothing due after it).
            ended = datetime.combine(bootcamp.end_date, dt_time(18), tzinfo=self.now.tzinfo)
            rows.append(
                Enrollment(
                    student_id=student.pk,
                    bootcamp_id=bootcamp.pk,
                    status=status,
                    waitlist_seq=seq,
                    enrolled_at=enrolled,
                    completed_at=min(self.now, ended) if status == "COMPLETED" else None,
                    created_at=enrolled,
                    updated_at=enrolled,
                )
            )
        self.enrollment_rows = self.bulk(Enrollment, rows)

    # -- assignments --------------------------------------------------------
    def assignments(self):
        Assignment = _model_if_migrated("assignments", "Assignment")
        if Assignment is None:
            self.stdout.write("  (no assignments table yet: skipped)")
            return
        rng = self.rng
        camps = [b for b in self.bootcamp_rows if b.status != "DRAFT"] or self.bootcamp_rows
        rows = []
        for i in range(self.n["assignments"]):
            bootcamp = camps[i % len(camps)]
            days = max(1, (bootcamp.end_date - bootcamp.start_date).days)
            due = datetime.combine(
                bootcamp.start_date + timedelta(days=rng.randint(1, days)), dt_time(23, 59), self.now.tzinfo
            )
            created = min(self.now, due - timedelta(days=rng.randint(7, 21)))
            rows.append(
                Assignment(
                    bootcamp_id=bootcamp.pk,
                    title=f"Week {rng.randint(1, max(1, days // 7))}: "
                    + rng.choice(
                        ("Project", "Exercises", "Code review", "Quiz", "Pair programming", "Capstone")
                    ),
                    description="Hand in a link to your repository and a short write-up of what you built.",
                    due_at=due,
                    max_score=Decimal(rng.choice((10, 20, 50, 100, 100))),
                    # Past ones are published; a coin decides for the rest (always drawn).
                    is_published=(rng.random() < 0.5) or created < self.now - timedelta(days=1),
                    created_by_id=rng.choice(self.bootcamp_instructors[bootcamp.pk]),
                    created_at=created,
                    updated_at=created,
                )
            )
        self.bulk(Assignment, rows)

    # -- leads --------------------------------------------------------------
    def leads(self):
        rng = self.rng
        published = [b for b in self.bootcamp_rows if b.status == "PUBLISHED"]
        total = self.n["leads"]
        # A few percent converted: each is a real seat-holding enrollment's student.
        seat_holding = [e for e in self.enrollment_rows if e.status in ("ACTIVE", "COMPLETED")]
        converted = rng.sample(seat_holding, min(len(seat_holding), total * 3 // 100))
        students = {s.pk: s for s in self.students}
        sources = Lead.Source.values
        rows = []
        for i in range(total):
            created = self.past(540)
            lead = Lead(
                source=rng.choices(sources, weights=(40, 15, 15, 8, 18, 4))[0],
                bootcamp_id=rng.choice(published).pk if published and rng.random() < 0.7 else None,
                message=rng.choice(LEAD_MESSAGES),
                created_at=created,
            )
            if i < len(converted):
                enrollment = converted[i]
                student = students[enrollment.student_id]
                lead.full_name, lead.email, lead.phone = student.full_name, student.email, student.phone
                lead.status = "CONVERTED"
                lead.bootcamp_id = enrollment.bootcamp_id
                lead.converted_student_id = student.pk
                lead.converted_enrollment_id = enrollment.pk
                lead.converted_at = enrollment.enrolled_at
                lead.created_at = created = min(created, enrollment.enrolled_at - timedelta(days=1))
            else:
                first, last = self.person()
                lead.full_name = f"{first} {last}"
                # Every lead has its own email: one open lead per email holds trivially.
                lead.email = f"{first}.{last}.{i + 1}@{rng.choice(DOMAINS)}".lower()
                lead.phone = self.phone() if rng.random() < 0.8 else ""
                lead.status = rng.choices(
                    ("NEW", "CONTACTED", "QUALIFIED", "LOST"), weights=(35, 25, 15, 25)
                )[0]
                if lead.status == "LOST":
                    lead.lost_reason = rng.choice(LOST_REASONS)
                else:
                    lead.next_follow_up_at = self.now + timedelta(hours=rng.randint(-72, 24 * 21))
            if lead.source in UTM:
                lead.utm_source, lead.utm_medium = rng.choice(UTM[lead.source])
                lead.utm_campaign = f"{rng.choice(TRACKS).split()[0].lower()}-{created:%Y-%m}"
            if lead.status != "NEW" or rng.random() < 0.5:
                lead.owner_id = rng.choice(self.sales).pk
            lead.updated_at = max(created, min(self.now, created + timedelta(days=rng.randint(0, 30))))
            rows.append(lead)
        # Stored in the order they came in, as a live table grows: ids and the
        # table's physical order follow created_at (a list newest first reads
        # neighbouring pages, as it would in production).
        rows.sort(key=lambda lead: lead.created_at)
        leads = self.bulk(Lead, rows)
        self.bulk(
            LeadActivity,
            [
                LeadActivity(
                    lead_id=lead.pk,
                    kind=LeadActivity.Kind.CREATED,
                    body=lead.message,
                    data={"source": lead.source, "bootcamp": lead.bootcamp_id},
                    created_at=lead.created_at,
                )
                for lead in leads
            ],
        )

    def run(self):
        models = [User, Bootcamp, Enrollment, Lead, LeadActivity]
        models += filter(None, [_model_if_migrated("assignments", "Assignment")])
        with _timestamps_as_given(*models):
            self.users()
            self.bootcamps()
            self.enrollments()
            self.save_bootcamps()
            self.save_enrollments()
            self.assignments()
            self.leads()


def seed(*, scale: float, seed: int = 1, stdout, style) -> dict[str, int] | None:
    """Load scale data in one transaction; does nothing when it is already there."""
    if scale_data_exists():
        stdout.write(
            style.WARNING(
                f"Scale data is already loaded ({User.objects.count():,} users): nothing added. "
                "Seed a fresh database to load another scale."
            )
        )
        return None
    started = time.perf_counter()
    stdout.write(style.MIGRATE_HEADING(f"Scale data at scale {scale:g} (seed {seed}):"))
    seeder = _Seeder(scale=scale, seed=seed, stdout=stdout, style=style)
    with transaction.atomic():
        seeder.run()
    if connection.vendor == "postgresql":
        # Fresh statistics, so the planner sees the new volume at once.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    stdout.write(f"  done in {time.perf_counter() - started:.1f}s")
    stdout.write(style.MIGRATE_HEADING("Benchmark logins (every other scale user: password below):"))
    stdout.write(f"  ADMIN  {BENCH_ADMIN_EMAIL:<26}  {BENCH_ADMIN_PASSWORD}")
    stdout.write(f"  SALES  {BENCH_SALES_EMAIL:<26}  {BENCH_SALES_PASSWORD}")
    stdout.write(f"  others                              {SCALE_PASSWORD}")
    return seeder.created
