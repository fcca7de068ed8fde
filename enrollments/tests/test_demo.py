import io

import pytest
from django.core.management.color import no_style

from accounts import demo as accounts_demo
from bootcamps import demo as bootcamps_demo
from bootcamps.models import Bootcamp
from enrollments import demo as enrollments_demo
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db


def seed_all():
    context = {}
    for module in (accounts_demo, bootcamps_demo, enrollments_demo):
        module.seed(stdout=io.StringIO(), style=no_style(), context=context)
    return context


def test_demo_data_is_alive_and_idempotent(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        context = seed_all()
    bootcamps = context["bootcamps"]
    assert len(bootcamps) == 6 and all(isinstance(b, Bootcamp) for b in bootcamps)
    assert {b.status for b in bootcamps} == {"PUBLISHED", "DRAFT", "ARCHIVED"}
    assert all(b.instructors.exists() and b.mentors.exists() for b in bootcamps)
    full = Bootcamp.objects.get(slug=bootcamps_demo.FULL_BOOTCAMP_SLUG)
    assert full.enrollments.filter(status="ACTIVE").count() == full.capacity
    assert list(
        full.enrollments.filter(status="WAITLISTED")
        .order_by("waitlist_seq")
        .values_list("waitlist_seq", flat=True)
    ) == [1, 2, 3]
    assert set(Enrollment.objects.values_list("status", flat=True)) == {
        "ACTIVE",
        "WAITLISTED",
        "DROPPED",
        "CANCELLED",
        "COMPLETED",
    }
    demo_student = context["students"][0]
    assert demo_student.enrollments.filter(status="ACTIVE").count() == 2
    assert mailoutbox == []  # demo data sends no emails

    counts = (Bootcamp.objects.count(), Enrollment.objects.count())
    again = seed_all()
    assert (Bootcamp.objects.count(), Enrollment.objects.count()) == counts
    assert [b.pk for b in again["bootcamps"]] == [b.pk for b in bootcamps]


def test_every_demo_bootcamps_staff_has_students_to_see():
    # The archived cohort had no enrollments and showed "20 left"; it is the only
    # bootcamp instructor2@ and mentor2@ teach, so they saw nothing at all.
    from rest_framework.test import APIClient

    from enrollments.services import bootcamp_seats_left

    context = seed_all()
    for staff in [*context["instructors"], *context["mentors"]]:
        client = APIClient()
        client.force_authenticate(staff)
        response = client.get("/api/v1/enrollments/")
        assert response.status_code == 200 and response.json()["count"] > 0, staff.email
    archived = Bootcamp.objects.get(status=Bootcamp.Status.ARCHIVED)
    alumni = archived.enrollments.all()
    assert alumni.filter(status="COMPLETED").count() > 10 and alumni.filter(status="DROPPED").exists()
    assert bootcamp_seats_left(archived) == 0  # a finished cohort shows no free seats
    for enrollment in alumni:
        assert enrollment.enrolled_at.date() < archived.start_date
        assert (enrollment.completed_at is not None) == (enrollment.status == "COMPLETED")
        assert enrollment.completed_at is None or enrollment.completed_at.date() == archived.end_date
    counts = Enrollment.objects.count()
    seed_all()
    assert Enrollment.objects.count() == counts
