"""A row deleted by another request after this one read it: the write that
then locks it answers 404 in the API's error shape (or a page's message), not
a 500 from Model.DoesNotExist."""

import pytest

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
