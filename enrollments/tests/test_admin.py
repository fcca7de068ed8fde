"""Enrolling, cancelling and status changes from the back office go through the
services: seats, waitlist promotion and emails behave as in the API."""

import re

import pytest
from django.test import Client

from accounts.models import User
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory, RunningBootcampFactory
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
Role = User.Role
Status = Enrollment.Status
CHANGELIST = "/admin/enrollments/enrollment/"


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def act(client, action, enrollments):
    """The action, confirmed on the page that asks first."""
    selected = [e.pk for e in enrollments]
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": selected, "post": "yes"}, follow=True
    )


@pytest.mark.parametrize(
    ("action", "title", "frees"),
    [
        ("cancel_enrollments", "Cancel enrollments", True),
        ("mark_dropped", "Mark dropped", True),
        ("mark_completed", "Mark completed", False),
    ],
)
def test_an_action_that_cant_be_undone_asks_first(admin_web, mailoutbox, action, title, frees):
    """One mis-click cancelled every selected enrollment, emailed the students and
    handed the seats on; each of these actions now lists what it will change first."""
    enrollment = EnrollmentFactory(bootcamp=RunningBootcampFactory())
    response = admin_web.post(CHANGELIST, {"action": action, "_selected_action": [enrollment.pk]})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"<title>{title} | Cohortly</title>" in page
    assert "This can't be undone." in page
    student = enrollment.student
    assert f"{student.full_name} &lt;{student.email}&gt; in {enrollment.bootcamp}: Active" in page
    assert ("goes at once to the first student on that bootcamp&#x27;s waitlist" in page) is frees
    # Completing frees no seat: nobody is promoted, and the page doesn't say so.
    assert ("anyone promoted from a waitlist" in page) is frees
    assert f'<input type="hidden" name="_selected_action" value="{enrollment.pk}">' in page
    enrollment.refresh_from_db()
    assert enrollment.status == Status.ACTIVE
    assert mailoutbox == []


def test_only_admins_get_in(make_user):
    for role in (Role.SALES, Role.INSTRUCTOR, Role.MENTOR, Role.STUDENT):
        client = Client()
        client.force_login(make_user(role))
        assert client.get(CHANGELIST).status_code == 302  # to the admin login


def test_changelist_filters_search_and_positions(admin_web, enroll, make_user):
    bootcamp = BootcampFactory(capacity=1)
    enroll(bootcamp, 3)
    named = make_user(Role.STUDENT, full_name="Zed Findme")
    EnrollmentFactory(student=named)
    response = admin_web.get(CHANGELIST, {"status__exact": "WAITLISTED"})
    assert sorted(e.waitlist_position for e in response.context["cl"].result_list) == [1, 2]
    titles = [str(spec.title) for spec in response.context["cl"].filter_specs]
    assert titles[:2] == ["status", "bootcamp status"]
    drafts = admin_web.get(CHANGELIST, {"bootcamp__status__exact": "DRAFT"})
    assert drafts.status_code == 200 and list(drafts.context["cl"].result_list) == []
    response = admin_web.get(CHANGELIST, {"q": "findme"})
    assert [e.student for e in response.context["cl"].result_list] == [named]
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert {"cancel_enrollments", "mark_completed", "mark_dropped"} <= set(actions)
    assert "delete_selected" not in actions


def test_changelist_rows_are_short_status_beside_the_student(admin_web, enroll):
    bootcamp = BootcampFactory(capacity=1, title="Design")
    active, waiting = enroll(bootcamp, 2)
    page = admin_web.get(CHANGELIST).content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page)
    assert headers == ["student_name", "status_badge", "bootcamp", "enrolled"]
    assert (
        f'<a href="/admin/enrollments/enrollment/{active.pk}/change/">{active.student.full_name}</a>' in page
    )
    assert '<span class="status-badge status-badge--waitlisted">Waitlisted <small>#1</small></span>' in page
    assert '<span class="status-badge status-badge--active">Active</span>' in page
    assert '<td class="field-bootcamp nowrap">Design</td><td class="field-enrolled">' in page
    assert "/static/css/admin.css" in page


def test_the_read_only_page_shows_a_waitlist_position_only_when_waitlisted(admin_web, enroll):
    active, waiting = enroll(BootcampFactory(capacity=1), 2)
    page = admin_web.get(f"{CHANGELIST}{active.pk}/change/").content.decode()
    assert re.search(r"Waitlist position:</label>\s*<div class=\"readonly\">-</div>", page)
    page = admin_web.get(f"{CHANGELIST}{waiting.pk}/change/").content.decode()
    assert re.search(r"Waitlist position:</label>\s*<div class=\"readonly\">1</div>", page)


def test_changelist_has_no_n_plus_one(admin_web, enroll, django_assert_max_num_queries):
    bootcamp = BootcampFactory(capacity=2)
    enroll(bootcamp, 4)
    with django_assert_max_num_queries(20) as captured:
        admin_web.get(CHANGELIST)
    enroll(BootcampFactory(capacity=2), 20)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert len(admin_web.get(CHANGELIST).context["cl"].result_list) == 24


def test_cancel_action_promotes_the_waitlist(
    admin_web, enroll, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(capacity=1)
    active, first, second = enroll(bootcamp, 3)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_web, "cancel_enrollments", [active])
    name = first.student.full_name
    assert messages_of(response) == [
        f"1 enrollment cancelled. Promoted from the waitlist: {name} ({bootcamp.title})."
    ]
    statuses = [Enrollment.objects.get(pk=e.pk).status for e in (active, first, second)]
    assert statuses == [Status.CANCELLED, Status.ACTIVE, Status.WAITLISTED]
    assert [m.to for m in mailoutbox] == [[active.student.email], [first.student.email]]
    # Both changes are in the enrollments' History, by whom and what.
    from django.contrib.admin.models import LogEntry

    history = {
        int(entry.object_id): (entry.user.email, entry.object_repr, entry.get_change_message())
        for entry in LogEntry.objects.select_related("user")
    }
    admin_email = response.wsgi_request.user.email
    # Each names the enrollment without a status that was true only before the change.
    assert history == {
        active.pk: (admin_email, f"{active.student} in {bootcamp.title}", "Cancelled (action)."),
        first.pk: (
            admin_email,
            f"{first.student} in {bootcamp.title}",
            f"Promoted from the waitlist (a seat freed by {active.student.full_name}).",
        ),
    }
    page = admin_web.get(f"/admin/enrollments/enrollment/{active.pk}/history/").content.decode()
    assert "Cancelled (action)." in page


def test_actions_report_refusals_with_messages(admin_web, enroll):
    bootcamp = RunningBootcampFactory(capacity=1)
    active, waiting = enroll(bootcamp, 2)
    response = act(admin_web, "mark_completed", [active, waiting])
    msgs = messages_of(response)
    assert "1 enrollment marked completed." in msgs
    assert any("waitlisted enrollment cannot become completed" in m for m in msgs)
    assert Enrollment.objects.get(pk=active.pk).status == Status.COMPLETED
    assert Enrollment.objects.get(pk=waiting.pk).status == Status.WAITLISTED

    response = act(admin_web, "cancel_enrollments", [active])
    assert any("completed enrollment cannot be cancelled" in m for m in messages_of(response))


def test_mark_completed_refuses_a_bootcamp_that_has_not_started(admin_web, enroll):
    upcoming, running = BootcampFactory(title="Upcoming"), RunningBootcampFactory(title="Running")
    (waiting,), (current,) = enroll(upcoming, 1), enroll(running, 1)
    msgs = messages_of(act(admin_web, "mark_completed", [waiting, current]))
    assert "1 enrollment marked completed." in msgs
    assert any(
        f"Upcoming starts on {upcoming.start_date:%Y-%m-%d}; nobody can complete it" in m for m in msgs
    )
    assert Enrollment.objects.get(pk=waiting.pk).status == Status.ACTIVE
    assert Enrollment.objects.get(pk=current.pk).status == Status.COMPLETED


def test_mark_dropped_promotes(admin_web, enroll):
    bootcamp = BootcampFactory(capacity=1)
    active, waiting = enroll(bootcamp, 2)
    response = act(admin_web, "mark_dropped", [active])
    assert messages_of(response) == [
        f"1 enrollment marked dropped. Promoted from the waitlist: {waiting.student.full_name} ({bootcamp.title})."
    ]
    assert Enrollment.objects.get(pk=waiting.pk).status == Status.ACTIVE


def test_a_selected_waitlisted_row_is_judged_as_selected_not_after_a_promotion(
    admin_web, enroll, django_capture_on_commit_callbacks, mailoutbox
):
    # The dropped row frees a seat that goes to the next in line; that student was
    # selected too, but as waitlisted, which can't be dropped.
    bootcamp = RunningBootcampFactory(capacity=1)
    active, first, second = enroll(bootcamp, 3)
    with django_capture_on_commit_callbacks(execute=True):
        msgs = messages_of(act(admin_web, "mark_dropped", [active, first]))
    assert msgs == [
        f"Not changed: {first}: A waitlisted enrollment cannot become dropped; only active enrollments can.",
        f"1 enrollment marked dropped. Promoted from the waitlist: {first.student.full_name} ({bootcamp.title}).",
    ]
    statuses = [Enrollment.objects.get(pk=e.pk).status for e in (active, first, second)]
    assert statuses == [Status.DROPPED, Status.ACTIVE, Status.WAITLISTED]
    # The promoted student hears once, that they're in, and nothing after it.
    assert [m.subject for m in mailoutbox if m.to == [first.student.email]] == [
        f"A seat opened up: you're in {bootcamp.title}"
    ]


def test_cancelling_an_active_and_a_waitlisted_row_promotes_neither_of_them(
    admin_web, enroll, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(capacity=1)
    active, first, second = enroll(bootcamp, 3)
    with django_capture_on_commit_callbacks(execute=True):
        msgs = messages_of(act(admin_web, "cancel_enrollments", [active, first]))
    assert msgs == [
        f"2 enrollments cancelled. Promoted from the waitlist: {second.student.full_name} ({bootcamp.title})."
    ]
    statuses = [Enrollment.objects.get(pk=e.pk).status for e in (active, first, second)]
    assert statuses == [Status.CANCELLED, Status.CANCELLED, Status.ACTIVE]
    # The cancelled waitlisted student is told it's cancelled, never that they're in.
    subjects = [m.subject for m in mailoutbox if m.to == [first.student.email]]
    assert len(subjects) == 1 and "you're in" not in subjects[0], subjects


def test_add_form_enrolls_through_the_service(
    admin_web, make_user, enroll, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(capacity=1, title="Design")
    enroll(bootcamp, 1)
    student = make_user(Role.STUDENT)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(
            f"{CHANGELIST}add/", {"student": str(student.pk), "bootcamp": bootcamp.pk}, follow=True
        )
    enrollment = Enrollment.objects.get(student=student)
    assert (enrollment.status, enrollment.waitlist_seq) == (Status.WAITLISTED, 1)
    assert any("is on the waitlist in Design" in m for m in messages_of(response))
    assert [m.subject for m in mailoutbox] == ["You're on the waitlist for Design"]


def test_add_form_reuses_a_cancelled_row(admin_web, enroll):
    bootcamp = BootcampFactory()
    (enrollment,) = enroll(bootcamp, 1)
    act(admin_web, "cancel_enrollments", [enrollment])
    admin_web.post(f"{CHANGELIST}add/", {"student": str(enrollment.student_id), "bootcamp": bootcamp.pk})
    assert list(Enrollment.objects.values_list("pk", "status")) == [(enrollment.pk, Status.ACTIVE)]


def test_add_form_shows_the_rules_as_form_errors(admin_web, make_user, enroll):
    bootcamp = BootcampFactory()
    (enrollment,) = enroll(bootcamp, 1)
    response = admin_web.post(
        f"{CHANGELIST}add/", {"student": str(enrollment.student_id), "bootcamp": bootcamp.pk}
    )
    assert response.status_code == 200
    assert "already enrolled" in str(response.context["adminform"].form.non_field_errors())

    response = admin_web.post(
        f"{CHANGELIST}add/",
        {"student": str(make_user(Role.STUDENT).pk), "bootcamp": DraftBootcampFactory().pk},
    )
    assert "not open for enrollment" in str(response.context["adminform"].form.errors["bootcamp"])

    # The student field only offers students.
    response = admin_web.post(
        f"{CHANGELIST}add/", {"student": str(make_user(Role.MENTOR).pk), "bootcamp": bootcamp.pk}
    )
    assert "student" in response.context["adminform"].form.errors
    assert Enrollment.objects.count() == 1


def test_change_page_is_read_only(admin_web):
    enrollment = EnrollmentFactory()
    response = admin_web.get(f"{CHANGELIST}{enrollment.pk}/change/")
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = admin_web.post(f"{CHANGELIST}{enrollment.pk}/change/", {"status": "DROPPED"})
    assert response.status_code == 403
    assert Enrollment.objects.get(pk=enrollment.pk).status == Status.ACTIVE


def test_student_autocomplete_offers_students_only(admin_web, make_user):
    make_user(Role.STUDENT, full_name="Kim Student")
    make_user(Role.MENTOR, full_name="Kim Mentor")
    response = admin_web.get(
        "/admin/autocomplete/",
        {"app_label": "enrollments", "model_name": "enrollment", "field_name": "student", "term": "Kim"},
    )
    assert [r["text"].split(" <")[0] for r in response.json()["results"]] == ["Kim Student"]


def test_a_nul_in_an_autocomplete_search_finds_nothing_rather_than_failing(admin_web, make_user):
    """PostgreSQL's text can't hold NUL: the search was a 500 there."""
    make_user(Role.STUDENT, full_name="Kim Student")
    for field in ("student", "bootcamp"):
        response = admin_web.get(
            "/admin/autocomplete/",
            {"app_label": "enrollments", "model_name": "enrollment", "field_name": field, "term": "Kim\x00"},
        )
        assert response.status_code == 200 and response.json()["results"] == []
    # The view's own checks still come first.
    refused = admin_web.get("/admin/autocomplete/", {"app_label": "enrollments", "term": "\x00"})
    assert refused.status_code == 403


@pytest.mark.parametrize("junk", ["0", "abc", "99999999999999999999999", "-1", "1.5"])
def test_a_posted_value_that_cant_be_a_key_is_the_fields_error(admin_web, make_user, junk):
    """Django's autocomplete widget looked the posted value up again to show it,
    and a value that can't be a key ("0" for a UUID) was a 500."""
    student = make_user(Role.STUDENT)
    camp = BootcampFactory()
    for form in ({"student": junk, "bootcamp": camp.pk}, {"student": student.pk, "bootcamp": junk}):
        response = admin_web.post(f"{CHANGELIST}add/", form)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert set(errors) == {next(k for k, v in form.items() if v == junk)}, errors
    assert not Enrollment.objects.exists()


def test_deactivating_a_student_says_which_seats_they_still_hold(admin_web, enroll, make_user):
    liam = make_user(Role.STUDENT, full_name="Liam Carter")
    full_stack = BootcampFactory(capacity=1, title="Full-Stack")
    ux = BootcampFactory(capacity=1, title="UX")
    EnrollmentFactory(student=liam, bootcamp=full_stack)
    (held,) = enroll(ux, 1)
    waiting = EnrollmentFactory(student=liam, bootcamp=ux, status=Status.WAITLISTED, waitlist_seq=1)
    response = admin_web.post(
        f"/admin/accounts/user/{liam.pk}/change/",
        {"email": liam.email, "full_name": liam.full_name, "phone": liam.phone, "role": "STUDENT"},
        follow=True,
    )
    assert [(m.level_tag, str(m)) for m in response.context["messages"]][:-1] == [
        (
            "warning",
            "Liam Carter still holds a seat in Full-Stack: cancel or drop the enrollment to give it to the "
            "waitlist (Enrollments, search for them). Their place in line for UX is passed over while the "
            "account is deactivated.",
        )
    ]
    # The lists show the place kept, and that it is passed over.
    page = admin_web.get(CHANGELIST, {"bootcamp__id__exact": ux.pk}).content.decode()
    assert "Waitlisted <small>#1, passed over: deactivated</small>" in page
    inline = admin_web.get(f"/admin/bootcamps/bootcamp/{ux.pk}/change/").content.decode()
    assert "1 (passed over: deactivated)" in inline
    assert waiting.pk and held.status == Status.ACTIVE


def test_a_student_with_nothing_running_is_deactivated_without_a_warning(admin_web, make_user):
    ended = BootcampFactory(start_date="2025-01-06", end_date="2025-03-01")
    student = make_user(Role.STUDENT, full_name="Past Student")
    EnrollmentFactory(student=student, bootcamp=ended, status=Status.COMPLETED)
    response = admin_web.post(
        f"/admin/accounts/user/{student.pk}/change/",
        {"email": student.email, "full_name": student.full_name, "phone": student.phone, "role": "STUDENT"},
        follow=True,
    )
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_the_add_form_offers_no_way_to_edit_or_delete_the_student_or_bootcamp(admin_web):
    page = admin_web.get(f"{CHANGELIST}add/").content.decode()
    assert 'id="delete_id_student"' not in page and 'id="change_id_student"' not in page
    assert 'id="delete_id_bootcamp"' not in page and 'id="change_id_bootcamp"' not in page
    assert 'id="add_id_student"' in page  # a new student can still be added from here


def test_select_all_is_confirmed_as_select_all_not_as_every_id(admin_web, settings):
    """The confirmation page posted back one field per selected row: past
    DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) Django refused it (400), and "select
    all" over a large list could no longer be confirmed."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 30
    bootcamp = RunningBootcampFactory(capacity=50)
    enrollments = EnrollmentFactory.create_batch(40, bootcamp=bootcamp)
    other = EnrollmentFactory()  # filtered out of the list: not selected
    url = f"{CHANGELIST}?bootcamp__id__exact={bootcamp.pk}"
    selected = {"action": "cancel_enrollments", "select_across": "1", "index": "0"}
    asking = admin_web.post(url, {**selected, "_selected_action": [enrollments[0].pk]})
    page = asking.content.decode()
    assert asking.status_code == 200 and "40 enrollments selected" in page
    posted = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    posted.pop("csrfmiddlewaretoken", None)
    assert posted.pop("_selected_action") in {str(e.pk) for e in enrollments}  # one, not forty
    assert len(posted.pop("selection")) == 32  # which rows "all" stood for
    assert posted == {"select_across": "1", "action": "cancel_enrollments", "post": "yes"}
    page = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)
    response = admin_web.post(url, dict(page), follow=True)
    assert response.status_code == 200
    assert Enrollment.objects.filter(bootcamp=bootcamp, status=Status.CANCELLED).count() == 40
    other.refresh_from_db()
    assert other.status == Status.ACTIVE


def test_an_action_whose_rows_are_gone_says_so_and_does_nothing(admin_web):
    """A row deleted or filtered out between the click and the confirmation."""
    response = admin_web.post(
        CHANGELIST, {"action": "cancel_enrollments", "_selected_action": [999999]}, follow=True
    )
    assert messages_of(response) == ["None of the selected rows is here any more: nothing was done."]


def test_select_all_confirmed_after_the_list_changed_shows_the_rows_again(admin_web, mailoutbox):
    """ "Select all" confirmed acted on whatever the list held at the second click:
    an enrollment that joined it meanwhile was cancelled (and emailed) unseen."""
    bootcamp = RunningBootcampFactory(capacity=50)
    shown = EnrollmentFactory.create_batch(3, bootcamp=bootcamp)
    url = f"{CHANGELIST}?bootcamp__id__exact={bootcamp.pk}"
    selected = {
        "action": "cancel_enrollments",
        "select_across": "1",
        "index": "0",
        "_selected_action": shown[0].pk,
    }
    page = admin_web.post(url, selected).content.decode()
    assert "3 enrollments selected" in page
    confirmed = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    late = EnrollmentFactory(bootcamp=bootcamp)  # joins the list between the two clicks
    again = admin_web.post(url, confirmed)
    assert again.status_code == 200 and "4 enrollments selected" in again.content.decode()
    assert [str(m) for m in again.context["messages"]] == [
        "The rows selected changed since this page was shown: here they are again. Nothing was done yet."
    ]
    assert not Enrollment.objects.filter(bootcamp=bootcamp, status=Status.CANCELLED).exists()
    assert mailoutbox == []
    confirmed = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', again.content.decode())
    )
    admin_web.post(url, confirmed)
    late.refresh_from_db()
    assert late.status == Status.CANCELLED
    assert Enrollment.objects.filter(bootcamp=bootcamp, status=Status.CANCELLED).count() == 4
