"""A row deleted by another request after this one read it: the write that
then locks it answers 404 in the API's error shape (or a page's message), not
a 500 from Model.DoesNotExist."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from assignments import services as assignment_services
from assignments.tests.factories import AssignmentFactory
from bootcamps import services as bootcamp_services
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory
from cohortly.errors import NotFound
from enrollments import services as enrollment_services
from leads import services as lead_services
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _deleted_meanwhile(obj):
    """`obj` as the request read it; its row deleted by someone else since."""
    type(obj).objects.filter(pk=obj.pk).delete()
    return obj


def test_enrolling_into_a_bootcamp_deleted_meanwhile_is_not_found(make_user):
    bootcamp = _deleted_meanwhile(BootcampFactory())
    with pytest.raises(NotFound, match="This bootcamp no longer exists"):
        enrollment_services.enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=bootcamp)


def test_editing_a_bootcamp_deleted_meanwhile_is_not_found(make_user):
    bootcamp = _deleted_meanwhile(BootcampFactory())
    with pytest.raises(NotFound):
        bootcamp_services.bootcamp_update(
            bootcamp=bootcamp, actor=make_user(User.Role.ADMIN), data={"location": "X"}
        )
    assert not Bootcamp.objects.exists()


def test_converting_a_lead_into_a_bootcamp_deleted_meanwhile_is_not_found_and_keeps_the_lead_open(make_user):
    lead = LeadFactory()
    bootcamp = _deleted_meanwhile(BootcampFactory())
    with pytest.raises(NotFound):
        lead_services.lead_convert(lead=lead, actor=make_user(User.Role.SALES), bootcamp=bootcamp)
    lead.refresh_from_db()
    assert lead.status == "NEW" and not User.objects.filter(email=lead.email).exists()


def test_moving_a_lead_to_a_bootcamp_deleted_meanwhile_is_a_400_on_bootcamp(make_user):
    from django.core.exceptions import ValidationError

    lead = LeadFactory()
    bootcamp = _deleted_meanwhile(BootcampFactory())
    with pytest.raises(ValidationError) as exc:
        lead_services.lead_update(lead=lead, actor=make_user(User.Role.SALES), data={"bootcamp": bootcamp})
    assert exc.value.error_dict["bootcamp"][0].code == "does_not_exist"
    lead.refresh_from_db()
    assert lead.bootcamp_id is None


def test_handing_in_to_an_assignment_deleted_meanwhile_is_not_found(make_user):
    assignment = _deleted_meanwhile(AssignmentFactory())
    with pytest.raises(NotFound, match="This assignment no longer exists"):
        assignment_services.submission_submit(
            assignment=assignment, student=make_user(User.Role.STUDENT), content="My work"
        )


def test_the_api_answers_it_as_a_404_in_the_error_shape(admin_client, monkeypatch):
    """Through the API: the view read the bootcamp, then it went before the lock."""
    from conftest import assert_error

    bootcamp = BootcampFactory()
    lock = bootcamp_services.bootcamp_lock

    def deleted_first(pk):
        Bootcamp.objects.filter(pk=pk).delete()
        return lock(pk)

    monkeypatch.setattr(bootcamp_services, "bootcamp_lock", deleted_first)
    response = admin_client.patch(f"/api/v1/bootcamps/{bootcamp.pk}/", {"location": "Room 2"}, format="json")
    assert_error(response, 404, code="not_found")


# --- Racing the delete itself (PostgreSQL: its foreign keys are checked at COMMIT) ------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_form_submission_racing_its_bootcamps_delete_is_kept(make_user):
    """The delete commits first: the prospect is still recorded (without the
    bootcamp, which the timeline names), where the insert used to fail at COMMIT
    on the foreign key and the submission was lost in a 500."""
    from conftest import race_behind_held
    from leads.models import Lead

    bootcamp = BootcampFactory(title="Night School")
    results = race_behind_held(
        lambda: bootcamp_services.bootcamp_delete(bootcamp=bootcamp),
        lambda: lead_services.lead_capture(full_name="Ana", email="ana@example.org", bootcamp=bootcamp),
    )
    assert results["holding"] is None, results
    lead, created = results["then"]
    assert created and Lead.objects.get().bootcamp_id is None
    assert lead.activities.get().data["bootcamp"] == {"id": bootcamp.pk, "title": "Night School"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_bootcamps_delete_racing_a_form_submission_naming_it_is_refused():
    from conftest import race_behind_held
    from leads.models import Lead

    bootcamp = BootcampFactory()
    results = race_behind_held(
        lambda: lead_services.lead_capture(full_name="Ana", email="ana@example.org", bootcamp=bootcamp),
        lambda: bootcamp_services.bootcamp_delete(bootcamp=bootcamp),
    )
    assert results["holding"] is None, results
    from cohortly.errors import Conflict

    assert isinstance(results["then"], Conflict) and results["then"].code == "protected", results
    assert Lead.objects.get().bootcamp_id == bootcamp.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_assignment_created_as_its_bootcamp_is_deleted_is_not_found(make_user):
    from conftest import race_behind_held

    admin, bootcamp = make_user(User.Role.ADMIN), BootcampFactory()
    results = race_behind_held(
        lambda: bootcamp_services.bootcamp_delete(bootcamp=bootcamp),
        lambda: assignment_services.assignment_create(
            created_by=admin,
            bootcamp=bootcamp,
            title="Late",
            due_at=timezone.now() + timedelta(days=3),
            max_score=10,
        ),
    )
    assert results["holding"] is None, results
    assert isinstance(results["then"], NotFound), results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deleting_an_assignment_as_the_first_work_comes_in_is_refused(make_user):
    from cohortly.errors import Conflict
    from conftest import race_behind_held
    from enrollments.services import enrollment_create

    assignment, admin = AssignmentFactory(), make_user(User.Role.ADMIN)
    student = make_user(User.Role.STUDENT)
    enrollment_create(student=student, bootcamp=assignment.bootcamp, notify=False)
    results = race_behind_held(
        lambda: assignment_services.submission_submit(assignment=assignment, student=student, content="Done"),
        lambda: assignment_services.assignment_delete(assignment=assignment, deleted_by=admin),
    )
    assert not isinstance(results["holding"], Exception), results
    assert isinstance(results["then"], Conflict) and results["then"].code == "has_submissions", results


def test_holding_a_row_says_whether_it_exists_as_the_orm_does():
    from cohortly.locking import hold_row

    kept, gone = BootcampFactory(), _deleted_meanwhile(BootcampFactory())
    for bootcamp in (kept, gone):
        assert hold_row(Bootcamp, bootcamp.pk) == Bootcamp.objects.filter(pk=bootcamp.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_held_row_keeps_deleters_waiting_but_not_other_writers():
    """FOR KEY SHARE: a delete (and the seat lock, FOR UPDATE) must wait; an edit
    of the row's other columns (FOR NO KEY UPDATE) need not, nor another hold."""
    from django.db import OperationalError, transaction

    from cohortly.locking import hold_row
    from conftest import race_behind_held

    bootcamp = BootcampFactory()

    def try_lock(**kwargs):
        with transaction.atomic():
            return Bootcamp.objects.select_for_update(nowait=True, **kwargs).get(pk=bootcamp.pk)

    results = race_behind_held(lambda: hold_row(Bootcamp, bootcamp.pk), lambda: try_lock())
    assert results["held"] is True and isinstance(results["then"], OperationalError), results
    results = race_behind_held(lambda: hold_row(Bootcamp, bootcamp.pk), lambda: try_lock(no_key=True))
    assert isinstance(results["then"], Bootcamp), results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_resubmitted_form_racing_the_leads_conversion_into_its_bootcamp_never_deadlocks(
    monkeypatch, make_user
):
    """Every write of a lead locks the lead, then its bootcamp, then its owner: the
    form's capture used to hold the bootcamp while waiting for the lead the
    conversion held while waiting for the bootcamp."""
    import threading
    import time

    from conftest import in_thread

    bootcamp, sales = BootcampFactory(capacity=5), make_user(User.Role.SALES)
    lead = LeadFactory(email="ana@example.org")
    hold = bootcamp_services.bootcamp_hold

    def slow_hold(bootcamp):
        held = hold(bootcamp)
        time.sleep(0.5)  # the conversion starts meanwhile
        return held

    monkeypatch.setattr(lead_services, "bootcamp_hold", slow_hold)
    results, started = {}, threading.Event()

    def capture():
        started.set()
        return lead_services.lead_capture(full_name="Ana", email="ana@example.org", bootcamp=bootcamp)

    def convert():
        started.wait(5)
        time.sleep(0.1)
        return lead_services.lead_convert(lead=lead, actor=sales, bootcamp=bootcamp, notify=False)

    threads = [in_thread(capture, results, "capture"), in_thread(convert, results, "convert")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not isinstance(results["capture"], Exception), results
    assert not isinstance(results["convert"], Exception), results


def test_enrolling_a_student_deleted_meanwhile_is_not_found(make_user):
    student = _deleted_meanwhile(make_user(User.Role.STUDENT))
    with pytest.raises(NotFound, match="This student no longer exists"):
        enrollment_services.enrollment_create(student=student, bootcamp=BootcampFactory())


def test_a_set_password_link_of_an_account_deleted_or_deactivated_meanwhile_is_invalid(make_user):
    from django.contrib.auth.tokens import default_token_generator
    from django.core.exceptions import ValidationError

    from accounts.services import password_reset_confirm

    for gone in ("deleted", "deactivated"):
        user = make_user(User.Role.STUDENT)
        token = default_token_generator.make_token(user)
        if gone == "deleted":
            _deleted_meanwhile(user)
        else:
            User.objects.filter(pk=user.pk).update(is_active=False)
        with pytest.raises(ValidationError) as exc:
            password_reset_confirm(user=user, token=token, new_password="Fresh-Harbour-Lamp-77")
        assert "token" in exc.value.message_dict
