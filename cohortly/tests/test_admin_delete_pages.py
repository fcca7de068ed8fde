"""A delete the rules refuse says what stands in the way and what to do instead,
never that the admin lacks a permission (an ADMIN has them all)."""

import html
import re

import pytest

from accounts.models import User
from assignments.tests.factories import SubmissionFactory
from bootcamps.tests.factories import BootcampFactory
from enrollments.tests.factories import EnrollmentFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def delete_pages(client, changelist: str, obj) -> list[str]:
    """The object's delete page, and the list's "Delete selected" confirmation."""
    responses = [
        client.get(f"{changelist}{obj.pk}/delete/"),
        client.post(changelist, {"action": "delete_selected", "_selected_action": [obj.pk]}),
    ]
    assert [response.status_code for response in responses] == [200, 200]
    return [text(response) for response in responses]


def text(response) -> str:
    """The page without its tags (a protected record is a link to its page)."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.content.decode()))


def assert_refused(page: str, *lines: str):
    assert "permission" not in page
    assert "Are you sure" not in page  # nothing to confirm
    for line in lines:
        assert line in page, line


def test_a_student_with_an_enrollment(admin_web):
    enrollment = EnrollmentFactory()
    for page in delete_pages(admin_web, "/admin/accounts/user/", enrollment.student):
        assert_refused(page, f"Enrollment: {enrollment}", "Deactivate the account instead (untick Active)")
    assert User.objects.filter(pk=enrollment.student_id).exists()


def test_a_salesperson_who_owns_leads(admin_web, make_user):
    owner = make_user(User.Role.SALES)
    lead = LeadFactory(owner=owner)
    for page in delete_pages(admin_web, "/admin/accounts/user/", owner):
        assert_refused(page, f"Lead: {lead}", "Deactivate the account instead")


def test_your_own_account(admin_web, admin_user):
    response = admin_web.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [admin_user.pk]}
    )
    assert_refused(text(response), "You can't delete your own account.")
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_an_assignment_with_submissions(admin_web):
    submission = SubmissionFactory()
    for page in delete_pages(admin_web, "/admin/assignments/assignment/", submission.assignment):
        assert_refused(page, f"Submission: {submission}", "Unpublish the assignment instead")


def test_a_bootcamp_with_leads_and_no_enrollments(admin_web):
    bootcamp = BootcampFactory()
    lead = LeadFactory(bootcamp=bootcamp)
    for page in delete_pages(admin_web, "/admin/bootcamps/bootcamp/", bootcamp):
        assert_refused(page, f"Lead: {lead}", "Archive the bootcamp instead")


def test_a_user_nothing_refers_to_is_deleted_after_the_confirmation(admin_web, make_user):
    user = make_user(User.Role.STUDENT)
    page = delete_pages(admin_web, "/admin/accounts/user/", user)[0]
    assert "Are you sure you want to delete the user" in page and "Deactivate the account instead" not in page
    admin_web.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})
    assert not User.objects.filter(pk=user.pk).exists()


def test_your_own_account_is_not_advised_to_be_deactivated(admin_web, admin_user):
    # Deactivating yourself is refused too (own_account).
    LeadFactory(owner=admin_user)
    response = admin_web.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [admin_user.pk]}
    )
    page = text(response)
    assert_refused(page, "You can't delete your own account.")
    assert "Deactivate the account instead" not in page
