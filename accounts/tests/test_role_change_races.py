"""A role change racing what the role holds (PostgreSQL: SQLite has no row
locks). An enrollment, or a place on a bootcamp's staff, read the person's row
under a lock: a role change committed while they wait is seen and refused by
them; without the lock (the controls) the race leaves a MENTOR in a seat or a
SALES user on a bootcamp's staff."""

import pytest
from django.core.exceptions import ValidationError

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import AdminFactory, MentorFactory, SalesFactory, StudentFactory
from bootcamps import services as bootcamp_services
from bootcamps.tests.factories import BootcampFactory
from conftest import race_behind_held
from enrollments import services as enrollment_services
from enrollments.models import Enrollment
from leads import services as lead_services
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("locked", [True, False])
def test_an_enrollment_racing_a_role_change_never_seats_a_non_student(monkeypatch, locked):
    if not locked:
        monkeypatch.setattr(enrollment_services, "_lock_student", lambda pk: User.objects.get(pk=pk))
    admin, student, bootcamp = AdminFactory(), StudentFactory(), BootcampFactory(capacity=5)
    as_the_request_read_it = User.objects.get(pk=student.pk)  # a STUDENT when the request began
    results = race_behind_held(
        lambda: account_services.user_update(actor=admin, user=student, data={"role": "MENTOR"}),
        lambda: enrollment_services.enrollment_create(
            student=as_the_request_read_it, bootcamp=bootcamp, notify=False
        ),
    )
    assert User.objects.get(pk=student.pk).role == "MENTOR"
    if locked:
        assert isinstance(results["then"], ValidationError), results
        assert "not_a_student" in str(results["then"].error_dict["student"][0].code)
        assert not Enrollment.objects.exists()
    else:
        assert Enrollment.objects.get().student_id == student.pk  # a MENTOR holding a seat


@pytest.mark.parametrize("locked", [True, False])
def test_staffing_a_bootcamp_racing_a_role_change_never_lists_the_wrong_role(monkeypatch, locked):
    if not locked:
        monkeypatch.setattr(bootcamp_services, "_lock_people", lambda people: list(people))
    admin, mentor, bootcamp = AdminFactory(), MentorFactory(), BootcampFactory()
    as_the_form_read_it = User.objects.get(pk=mentor.pk)  # a MENTOR when the request validated it
    results = race_behind_held(
        lambda: account_services.user_update(actor=admin, user=mentor, data={"role": "SALES"}),
        lambda: bootcamp_services.bootcamp_update(
            bootcamp=bootcamp, actor=admin, data={"mentors": [as_the_form_read_it]}
        ),
    )
    assert User.objects.get(pk=mentor.pk).role == "SALES"
    if locked:
        assert isinstance(results["then"], ValidationError), results
        assert not bootcamp.mentors.exists()
    else:
        assert list(bootcamp.mentors.values_list("pk", flat=True)) == [mentor.pk], (
            results
        )  # SALES on the staff


@pytest.mark.parametrize("locked", [True, False])
def test_assigning_a_lead_racing_a_role_change_never_gives_it_to_someone_outside_sales(monkeypatch, locked):
    if not locked:
        monkeypatch.setattr(lead_services, "_lock_owner", lambda pk: User.objects.get(pk=pk))
    admin, seller, lead = AdminFactory(), SalesFactory(), LeadFactory()
    as_the_request_read_it = User.objects.get(pk=seller.pk)  # SALES when the request began
    results = race_behind_held(
        lambda: account_services.user_update(actor=admin, user=seller, data={"role": "MENTOR"}),
        lambda: lead_services.lead_assign(lead=lead, actor=admin, owner=as_the_request_read_it),
    )
    assert User.objects.get(pk=seller.pk).role == "MENTOR"
    lead.refresh_from_db()
    if locked:
        assert isinstance(results["then"], ValidationError), results
        assert results["then"].error_dict["owner"][0].code == "invalid_owner"
        assert lead.owner_id is None
    else:
        assert Lead.objects.get(pk=lead.pk).owner_id == seller.pk  # a MENTOR owning an open lead
