"""The scale seeder (`seed_demo --scale`, demo/scale.py): proportions, the
rules it keeps without the services, and the same rows for the same seed."""

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q

from accounts.models import User, name_validator, phone_validator
from demo import scale


def _seed(value=0.01, seed=1):
    out = StringIO()
    call_command("seed_demo", "--without-debug", "--scale", str(value), "--seed", str(seed), stdout=out)
    return out.getvalue()


def test_counts_scale_with_at_least_one_of_each_role():
    assert scale.counts_for(1) == {
        "admins": 10,
        "sales": 50,
        "instructors": 300,
        "mentors": 200,
        "users": 10_000,
        "bootcamps": 1_000,
        "enrollments": 20_000,
        "assignments": 5_000,
        "leads": 100_000,
        "students": 9_440,
    }
    tiny = scale.counts_for(0.001)
    assert min(tiny.values()) >= 1
    assert (
        tiny["users"]
        == tiny["admins"] + tiny["sales"] + tiny["instructors"] + tiny["mentors"] + tiny["students"]
    )


@pytest.mark.django_db
def test_scale_seeder_creates_the_proportions_and_keeps_the_rules():
    from assignments.models import Assignment
    from bootcamps.models import Bootcamp
    from enrollments.models import Enrollment
    from leads.models import Lead, LeadActivity

    output = _seed(0.01)
    n = scale.counts_for(0.01)

    roles = Counter(User.objects.values_list("role", flat=True))
    assert roles == {
        "ADMIN": n["admins"],
        "SALES": n["sales"],
        "INSTRUCTOR": n["instructors"],
        "MENTOR": n["mentors"],
        "STUDENT": n["students"],
    }
    assert Bootcamp.objects.count() == n["bootcamps"]
    assert Enrollment.objects.count() == n["enrollments"]
    assert Assignment.objects.count() == n["assignments"]
    assert Lead.objects.count() == n["leads"]
    assert LeadActivity.objects.filter(kind="CREATED").count() == n["leads"]

    # 1-3 instructors (and only instructors) on every bootcamp; mentors are mentors.
    for bootcamp in Bootcamp.objects.prefetch_related("instructors", "mentors"):
        assert 1 <= len(bootcamp.instructors.all()) <= 3
        assert {u.role for u in bootcamp.instructors.all()} == {"INSTRUCTOR"}
        assert {u.role for u in bootcamp.mentors.all()} <= {"MENTOR"}

    # Seats: holders never above capacity; a waitlist only in a full bootcamp, numbered 1..n.
    camps = Bootcamp.objects.annotate(
        seats=Count("enrollments", filter=Q(enrollments__status__in=["ACTIVE", "COMPLETED"])),
        waiting=Count("enrollments", filter=Q(enrollments__status="WAITLISTED")),
    )
    for bootcamp in camps:
        assert bootcamp.seats <= bootcamp.capacity
        if bootcamp.waiting:
            assert bootcamp.seats == bootcamp.capacity
            seqs = sorted(
                bootcamp.enrollments.filter(status="WAITLISTED").values_list("waitlist_seq", flat=True)
            )
            assert seqs == list(range(1, bootcamp.waiting + 1))
    assert not Enrollment.objects.exclude(student__role="STUDENT").exists()
    assert not Enrollment.objects.filter(bootcamp__status="DRAFT").exists()
    # Completed when their bootcamp ended, as staff would have marked them; only they.
    completed = Enrollment.objects.filter(status="COMPLETED").select_related("bootcamp")
    assert completed.exists()
    for enrollment in completed:
        assert enrollment.completed_at is not None
        assert enrollment.completed_at.date() >= enrollment.bootcamp.start_date
    assert not Enrollment.objects.exclude(status="COMPLETED").filter(completed_at__isnull=False).exists()

    # Leads: every source and status; the model's rules hold.
    assert set(Lead.objects.values_list("source", flat=True)) == set(Lead.Source.values)
    assert set(Lead.objects.values_list("status", flat=True)) == set(Lead.Status.values)
    assert not Lead.objects.filter(status="LOST", lost_reason="").exists()
    converted = Lead.objects.filter(status="CONVERTED")
    assert converted.exists()
    for lead in converted.select_related("converted_enrollment"):
        assert lead.converted_enrollment.student_id == lead.converted_student_id
        assert lead.converted_enrollment.status in ("ACTIVE", "COMPLETED")
        assert lead.email == lead.converted_student.email
    open_emails = Lead.objects.filter(status__in=Lead.OPEN_STATUSES).values_list("email", flat=True)
    assert len(open_emails) == len(set(open_emails))
    assert all(
        email.rsplit("@", 1)[1] in scale.DOMAINS for email in Lead.objects.values_list("email", flat=True)
    )
    # bulk_create skips full_clean: the names and phones must pass the models' validators anyway.
    for model in (User, Lead):
        for full_name, phone in model.objects.values_list("full_name", "phone"):
            name_validator(full_name)
            if phone:
                phone_validator(phone)

    # Timestamps are spread out, and auto_now is back on for everything else.
    assert Lead.objects.values("created_at").distinct().count() > n["leads"] // 2
    # Leads were stored as they came in: by id, oldest first.
    created = list(Lead.objects.order_by("id").values_list("created_at", flat=True))
    assert created == sorted(created)
    assert Lead._meta.get_field("updated_at").auto_now is True
    assert Enrollment._meta.get_field("updated_at").auto_now is True

    # The benchmark's logins work with the printed passwords; everyone else shares one.
    assert scale.BENCH_ADMIN_PASSWORD in output and scale.BENCH_SALES_PASSWORD in output
    admin = authenticate(email=scale.BENCH_ADMIN_EMAIL, password=scale.BENCH_ADMIN_PASSWORD)
    sales = authenticate(email=scale.BENCH_SALES_EMAIL, password=scale.BENCH_SALES_PASSWORD)
    assert admin.role == "ADMIN" and sales.role == "SALES"
    student = User.objects.filter(role="STUDENT", is_active=True).first()
    assert authenticate(email=student.email, password=scale.SCALE_PASSWORD) == student


@pytest.mark.django_db
def test_scale_seeder_adds_nothing_the_second_time():
    _seed(0.01)
    users = User.objects.count()
    output = _seed(0.01)
    assert "already loaded" in output
    assert User.objects.count() == users


class _Rollback(Exception):
    pass


@pytest.mark.django_db
def test_scale_seeder_is_deterministic():
    from leads.models import Lead

    def snapshot():
        return (
            sorted(User.objects.values_list("id", "email", "role")),
            sorted(Lead.objects.values_list("email", "status", "source", "phone")),
        )

    snapshots = []
    for _ in range(2):
        with pytest.raises(_Rollback), transaction.atomic():
            _seed(0.005, seed=7)
            snapshots.append(snapshot())
            raise _Rollback
    assert snapshots[0] == snapshots[1]
    assert snapshots[0][0]


def test_scale_must_be_positive():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo", "--without-debug", "--scale", "0")
