"""leads 0017: a lead holds a conversion only while CONVERTED; the leads an
import reopened with their conversion kept are converted again first."""

import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from enrollments.tests.factories import EnrollmentFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory

BEFORE = ("leads", "0016_lost_reason_only_when_lost")
AFTER = ("leads", "0017_conversion_only_when_converted")


def _migrate_to(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["NEW", "QUALIFIED", "LOST"])
def test_a_converted_lead_cant_leave_converted_with_its_conversion(status):
    enrollment = EnrollmentFactory()
    lead = LeadFactory(
        status="CONVERTED",
        converted_student=enrollment.student,
        converted_enrollment=enrollment,
        converted_at=enrollment.enrolled_at,
    )
    reason = "Gone" if status == "LOST" else ""
    with pytest.raises(IntegrityError, match="lead_conversion_only_when_converted"), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status=status, lost_reason=reason)
    assert Lead.objects.get(pk=lead.pk).status == "CONVERTED"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_leads_reopened_by_an_import_are_converted_again():
    enrollment = EnrollmentFactory()
    follow_up = datetime.datetime(2027, 2, 1, 9, 0, tzinfo=datetime.UTC)
    converted_at = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=datetime.UTC)
    apps = _migrate_to(BEFORE)
    try:
        Lead = apps.get_model("leads", "Lead")
        LeadActivity = apps.get_model("leads", "LeadActivity")
        reopened = Lead.objects.create(
            full_name="Ada Lovelace",
            email="ada@example.org",
            status="NEW",
            next_follow_up_at=follow_up,
            converted_student_id=enrollment.student_id,
            converted_enrollment_id=enrollment.pk,
            converted_at=converted_at,
            legacy_id="6b1f0f7e-3c2a-4b8e-9a51-0d7f3e2c1a90",
        )
        untouched = Lead.objects.create(
            full_name="Grace Hopper", email="grace@example.org", status="NEW", next_follow_up_at=follow_up
        )

        apps = _migrate_to(AFTER)
        Lead = apps.get_model("leads", "Lead")
        LeadActivity = apps.get_model("leads", "LeadActivity")
        lead = Lead.objects.get(pk=reopened.pk)
        assert (lead.status, lead.lost_reason, lead.next_follow_up_at) == ("CONVERTED", "", None)
        assert (lead.converted_enrollment_id, lead.converted_at) == (enrollment.pk, converted_at)
        entry = LeadActivity.objects.get(lead_id=reopened.pk)
        assert (entry.kind, entry.actor_id, entry.data) == (
            "STATUS_CHANGE",
            None,
            {"from": "NEW", "to": "CONVERTED", "lost_reason": ""},
        )
        assert entry.body == "NEW → CONVERTED (restored: the lead was converted in Cohortly)"
        other = Lead.objects.get(pk=untouched.pk)
        assert (other.status, other.next_follow_up_at) == ("NEW", follow_up)
        assert not LeadActivity.objects.filter(lead_id=untouched.pk).exists()
    finally:
        call_command("migrate", verbosity=0)
