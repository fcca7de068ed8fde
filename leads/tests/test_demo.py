"""The demo seeder: real-looking, deterministic, idempotent and quick."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from bootcamps.demo import FULL_BOOTCAMP_SLUG
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment
from enrollments.services import bootcamp_seats_left
from leads.models import Lead, LeadActivity
from leads.selectors import lead_follow_ups_due

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_pipeline(django_capture_on_commit_callbacks, mailoutbox):
    out = io.StringIO()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--without-debug", stdout=out)
    elapsed = time.monotonic() - started
    assert "Demo leads:" in out.getvalue()
    assert elapsed < 30

    assert 300 <= Lead.objects.count() <= 400
    assert set(Lead.objects.values_list("status", flat=True)) == set(Lead.Status.values)
    assert set(Lead.objects.values_list("source", flat=True)) == set(Lead.Source.values)
    sales = User.objects.filter(role=User.Role.SALES)
    assert set(Lead.objects.exclude(owner=None).values_list("owner", flat=True)) == set(
        sales.values_list("pk", flat=True)
    )
    assert Lead.objects.filter(owner=None).exists()
    assert Lead.objects.exclude(bootcamp=None).values("bootcamp").distinct().count() >= 3

    converted = Lead.objects.filter(status=Lead.Status.CONVERTED)
    assert converted.count() >= 10
    for lead in converted:
        assert lead.converted_enrollment.student == lead.converted_student
        assert lead.converted_enrollment.status in (Enrollment.Status.ACTIVE, Enrollment.Status.WAITLISTED)
        assert lead.activities.filter(kind=LeadActivity.Kind.CONVERSION).exists()
    assert not any("set your Cohortly password" in m.subject for m in mailoutbox)
    # As the README says: one full bootcamp (with its waitlist); the others open
    # for sign-ups still have seats to convert into.
    open_bootcamps = Bootcamp.objects.filter(
        status=Bootcamp.Status.PUBLISHED, end_date__gte=timezone.localdate()
    )
    assert [b.slug for b in open_bootcamps if bootcamp_seats_left(b) == 0] == [FULL_BOOTCAMP_SLUG]

    # Every lead has a timeline that starts with its creation; worked leads have notes and status changes.
    assert LeadActivity.objects.filter(kind=LeadActivity.Kind.CREATED).count() == Lead.objects.count()
    for kind in (LeadActivity.Kind.NOTE, LeadActivity.Kind.STATUS_CHANGE, LeadActivity.Kind.OWNER_CHANGE):
        assert LeadActivity.objects.filter(kind=kind).exists()
    lost = Lead.objects.filter(status=Lead.Status.LOST).first()
    assert (
        lost.lost_reason
        and lost.activities.filter(kind=LeadActivity.Kind.STATUS_CHANGE, data__to="LOST").exists()
    )
    # History spreads over months, so the dashboard's periods differ.
    oldest = Lead.objects.order_by("created_at").first().created_at
    newest = Lead.objects.order_by("-created_at").first().created_at
    assert (newest - oldest).days > 60

    demo_sales = User.objects.get(email="sales@cohortly.dev")
    due = list(lead_follow_ups_due(user=demo_sales))
    assert len(due) >= 5

    # Idempotent.
    counts = (Lead.objects.count(), LeadActivity.objects.count(), Enrollment.objects.count())
    call_command("seed_demo", "--without-debug", stdout=io.StringIO())
    assert (Lead.objects.count(), LeadActivity.objects.count(), Enrollment.objects.count()) == counts


def test_seed_without_bootcamps(db, sales_user):
    from leads import demo

    out = io.StringIO()
    demo.seed(
        stdout=out,
        style=type("S", (), {"MIGRATE_HEADING": staticmethod(str)})(),
        context={"sales": [sales_user]},
    )
    assert Lead.objects.count() == demo.TOTAL
    assert not Lead.objects.exclude(bootcamp=None).exists()
    assert not Lead.objects.filter(status=Lead.Status.CONVERTED).exists()


def test_demo_conversions_follow_each_leads_own_history():
    # Converting clears the follow-up, an entry written at seeding time: taken as
    # the lead's last step, it dated 20 of the 24 conversions to the moment
    # `make run` ran, months after a summer lead's last call.
    call_command("seed_demo", "--without-debug", stdout=io.StringIO())

    converted = Lead.objects.filter(status=Lead.Status.CONVERTED)
    assert converted.count() >= 10
    for lead in converted:
        timeline = list(lead.activities.order_by("created_at", "pk"))
        conversion = next(a for a in timeline if a.kind == LeadActivity.Kind.CONVERSION)
        before = [a for a in timeline if a.pk < conversion.pk]
        assert conversion.created_at == lead.converted_at
        assert before[-1].created_at < lead.converted_at <= before[-1].created_at + timedelta(days=10)
        # What the conversion wrote beside it (the follow-up cleared) is dated with it.
        assert timeline[-1].created_at == lead.converted_at, [(a.kind, a.created_at) for a in timeline]


def test_demo_conversions_go_to_the_bootcamp_the_lead_asked_about():
    # Once no bootcamp kept two free seats, conversions fell back to the full
    # one: 13 of 24 converted leads sat in a bootcamp they never asked about, 7
    # on the UX waitlist while the sales list showed their own bootcamp.
    call_command("seed_demo", "--without-debug", stdout=io.StringIO())

    converted = Lead.objects.filter(status=Lead.Status.CONVERTED).select_related("converted_enrollment")
    assert converted.count() >= 10
    for lead in converted:
        if lead.bootcamp_id is not None:
            assert lead.converted_enrollment.bootcamp_id == lead.bootcamp_id, lead.pk
    # The full bootcamp's waitlist holds only people who asked for it.
    full = Bootcamp.objects.get(slug=FULL_BOOTCAMP_SLUG)
    for enrollment in full.enrollments.filter(status=Enrollment.Status.WAITLISTED):
        lead = Lead.objects.filter(converted_enrollment=enrollment).first()
        assert lead is None or lead.bootcamp_id == full.pk
