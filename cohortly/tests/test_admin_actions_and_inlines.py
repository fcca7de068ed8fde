"""The back office's pages and actions across apps: a page's queries don't grow
with the rows its inlines show, and an action posted with a selection that
can't be a row's id is refused, not a 500."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assignments.tests.factories import AssignmentFactory, SubmissionFactory
from bootcamps.tests.factories import BootcampFactory
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory
from leads.tests.factories import LeadActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("make_parent", "make_rows", "page"),
    [
        (
            lambda: BootcampFactory(capacity=100),
            lambda parent, n: EnrollmentFactory.create_batch(n, bootcamp=parent),
            "bootcamps/bootcamp",
        ),
        (
            AssignmentFactory,
            lambda parent, n: SubmissionFactory.create_batch(n, assignment=parent),
            "assignments/assignment",
        ),
        (
            LeadFactory,
            lambda parent, n: LeadActivityFactory.create_batch(n, lead=parent),
            "leads/lead",
        ),
    ],
    ids=["bootcamp's enrollments", "assignment's submissions", "lead's timeline"],
)
def test_a_page_runs_as_many_queries_for_twenty_inline_rows_as_for_one(
    admin_web, make_parent, make_rows, page
):
    """Each inline row's title names its parent ("Ada in Python 101"): the parent
    was read again for every row, 200 queries on a 200-seat bootcamp's page."""
    parent = make_parent()
    make_rows(parent, 1)
    url = f"/admin/{page}/{parent.pk}/change/"
    queries(admin_web, url)  # the first page of a session reads what later ones have cached
    one = queries(admin_web, url)
    make_rows(parent, 19)
    assert queries(admin_web, url) == one


@pytest.mark.parametrize(
    ("url", "action", "model"),
    [
        ("/admin/enrollments/enrollment/", "cancel_enrollments", "enrollment"),
        ("/admin/leads/lead/", "export_csv", "lead"),
        ("/admin/assignments/submission/", "return_for_revision", "submission"),
        ("/admin/mail/outboundemail/", "retry_now", "outbox email"),
        ("/admin/accounts/user/", "end_sessions", "user"),
    ],
)
@pytest.mark.parametrize("junk", ["abc", "99999999999999999999999", "-1"])
def test_an_action_on_a_selection_that_cant_be_an_id_does_nothing_and_says_so(
    admin_web, url, action, model, junk
):
    """A tampered or hand-made post: the rows were looked up as posted, a 500."""
    enrollment = EnrollmentFactory()
    for confirmed in ({}, {"post": "yes"}):
        selected = {"action": action, "index": "0", "_selected_action": [junk, junk], **confirmed}
        response = admin_web.post(url, selected)
        assert (response.status_code, response["Location"]) == (302, url)
        said = [str(m) for m in admin_web.get(url).context["messages"]]
        assert said == [f"No action was taken: “{junk}” isn't the id of any {model}."]
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


@pytest.mark.parametrize(
    ("url", "action", "missing"),
    [
        ("/admin/leads/lead/", "mark_contacted", "999999"),
        ("/admin/bootcamps/bootcamp/", "archive_bootcamps", "999999"),
        ("/admin/bootcamps/bootcamp/", "publish_bootcamps", "999999"),
        ("/admin/mail/outboundemail/", "retry_now", "999999"),
        ("/admin/mail/suppressedaddress/", "remove_from_suppression", "999999"),
        ("/admin/mail/outboundemail/", "remove_from_suppression", "999999"),
        ("/admin/accounts/user/", "end_sessions", "8d7c0a51-6f0b-4a8e-9a53-2f1f3f3c9a10"),
    ],
)
def test_an_action_on_rows_deleted_since_the_list_was_shown_says_nothing_was_done(
    admin_web, url, action, missing
):
    """Rows another admin deleted meanwhile: the action ran on none and said nothing."""
    selected = {"action": action, "index": "0", "_selected_action": [missing], "post": "yes"}
    response = admin_web.post(url, selected, follow=True)
    assert response.status_code == 200
    said = [str(m) for m in response.context["messages"]]
    assert said == ["None of the selected rows is here any more: nothing was done."]
