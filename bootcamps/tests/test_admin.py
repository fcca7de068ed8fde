"""The back office goes through the same services as the API."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from bootcamps.admin import BootcampAdmin
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory, RunningBootcampFactory
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
Role = User.Role
CHANGELIST = "/admin/bootcamps/bootcamp/"


def form_data(bootcamp=None, **overrides):
    start = timezone.localdate() + timedelta(days=20)
    data = {
        "title": "Admin Bootcamp",
        "description": "",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=30)).isoformat(),
        "capacity": "5",
        "price": "100.00",
        "currency": "EUR",
        "delivery_format": "ONLINE",
        "location": "",
        "status": "PUBLISHED",
        "instructors": [],
        "mentors": [],
        # The read-only enrollments inline still posts its management form.
        "enrollments-TOTAL_FORMS": "0",
        "enrollments-INITIAL_FORMS": "0",
        "enrollments-MIN_NUM_FORMS": "0",
        "enrollments-MAX_NUM_FORMS": "1000",
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
        "assignments-MIN_NUM_FORMS": "0",
        "assignments-MAX_NUM_FORMS": "1000",
    }
    if bootcamp is not None:
        count = bootcamp.enrollments.count()
        data.update(
            {
                "title": bootcamp.title,
                "start_date": bootcamp.start_date.isoformat(),
                "end_date": bootcamp.end_date.isoformat(),
                "capacity": str(bootcamp.capacity),
                "price": str(bootcamp.price),
                "status": bootcamp.status,
                "enrollments-TOTAL_FORMS": str(count),
                "enrollments-INITIAL_FORMS": str(count),
            }
        )
        for i, enrollment in enumerate(
            bootcamp.enrollments.order_by("status", "waitlist_seq", "enrolled_at")
        ):
            data[f"enrollments-{i}-id"] = str(enrollment.pk)
            data[f"enrollments-{i}-bootcamp"] = str(bootcamp.pk)
    data.update(overrides)
    return data


def test_changelist_shows_seats_without_n_plus_one(admin_web, django_assert_max_num_queries):
    for capacity in (3, 5):
        bootcamp = BootcampFactory(capacity=capacity)
        EnrollmentFactory.create_batch(2, bootcamp=bootcamp)
    with django_assert_max_num_queries(12) as captured:
        response = admin_web.get(CHANGELIST)
    small = len(captured.captured_queries)
    assert response.status_code == 200
    rows = {row.title: (row.seats_taken, row.seats_left) for row in response.context["cl"].result_list}
    assert sorted(rows.values()) == [(2, 1), (2, 3)]
    for _ in range(10):
        EnrollmentFactory.create_batch(2, bootcamp=BootcampFactory())
    with django_assert_max_num_queries(small):
        admin_web.get(CHANGELIST)


def test_changelist_filters_search_and_date_hierarchy(admin_web):
    BootcampFactory(title="Python")
    DraftBootcampFactory(title="Rust")
    assert [
        b.title for b in admin_web.get(CHANGELIST, {"status__exact": "DRAFT"}).context["cl"].result_list
    ] == ["Rust"]
    assert [b.title for b in admin_web.get(CHANGELIST, {"q": "pyth"}).context["cl"].result_list] == ["Python"]
    assert BootcampAdmin.date_hierarchy == "start_date"


def test_add_goes_through_the_service(admin_web, make_user):
    BootcampFactory(slug="admin-bootcamp")
    instructor = make_user(Role.INSTRUCTOR)
    response = admin_web.post(f"{CHANGELIST}add/", form_data(instructors=[str(instructor.pk)]))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    bootcamp = Bootcamp.objects.get(title="Admin Bootcamp")
    assert bootcamp.slug == "admin-bootcamp-2"
    assert list(bootcamp.instructors.all()) == [instructor]


def test_add_refuses_wrong_roles_and_bad_dates(admin_web, make_user):
    mentor = make_user(Role.MENTOR)
    start = timezone.localdate()
    response = admin_web.post(
        f"{CHANGELIST}add/",
        form_data(
            instructors=[str(mentor.pk)],
            end_date=(start - timedelta(days=1)).isoformat(),
            start_date=start.isoformat(),
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "instructors" in errors and "end_date" in errors
    assert not Bootcamp.objects.exists()


def test_change_form_refuses_implausible_values_and_keeps_them_on_the_page(admin_web):
    bootcamp = BootcampFactory(capacity=10)
    response = admin_web.post(
        f"{CHANGELIST}{bootcamp.pk}/change/",
        form_data(bootcamp, capacity="2147483647", end_date="2207-01-01"),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["capacity"] == ["Ensure this value is less than or equal to 100000."]
    assert errors["end_date"] == ["Enter a date up to 2099-12-31."]
    assert 'value="2147483647"' in response.text
    stored = Bootcamp.objects.get(pk=bootcamp.pk)
    assert (stored.capacity, stored.end_date) == (10, bootcamp.end_date)


def test_growing_capacity_in_the_admin_promotes_the_waitlist(admin_web, make_user):
    bootcamp = BootcampFactory(capacity=1)
    students = [make_user(Role.STUDENT) for _ in range(3)]
    for student in students:
        enrollment_create(student=student, bootcamp=bootcamp, notify=False)
    response = admin_web.post(f"{CHANGELIST}{bootcamp.pk}/change/", form_data(bootcamp, capacity="2"))
    assert response.status_code == 302
    assert [Enrollment.objects.get(student=s).status for s in students] == ["ACTIVE", "ACTIVE", "WAITLISTED"]


def test_capacity_below_seats_taken_is_a_form_error(admin_web):
    bootcamp = BootcampFactory(capacity=3)
    EnrollmentFactory.create_batch(3, bootcamp=bootcamp)
    response = admin_web.post(f"{CHANGELIST}{bootcamp.pk}/change/", form_data(bootcamp, capacity="2"))
    assert response.status_code == 200
    assert "3 seats are already taken" in str(response.context["adminform"].form.errors["capacity"])
    bootcamp.refresh_from_db()
    assert bootcamp.capacity == 3


def test_a_start_after_today_once_someone_completed_is_a_form_error(admin_web):
    bootcamp = RunningBootcampFactory()
    EnrollmentFactory(bootcamp=bootcamp, status=Enrollment.Status.COMPLETED)
    started = bootcamp.start_date
    later = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = admin_web.post(f"{CHANGELIST}{bootcamp.pk}/change/", form_data(bootcamp, start_date=later))
    assert response.status_code == 200
    assert "1 student has completed this bootcamp" in str(
        response.context["adminform"].form.errors["start_date"]
    )
    bootcamp.refresh_from_db()
    assert bootcamp.start_date == started


def test_change_page_shows_enrollments_read_only(admin_web, make_user):
    bootcamp = BootcampFactory(capacity=1)
    first, second = (
        make_user(Role.STUDENT, full_name="First Student"),
        make_user(Role.STUDENT, full_name="Second Student"),
    )
    enrollment_create(student=first, bootcamp=bootcamp, notify=False)
    enrollment_create(student=second, bootcamp=bootcamp, notify=False)
    response = admin_web.get(f"{CHANGELIST}{bootcamp.pk}/change/")
    content = response.content.decode()
    assert "First Student" in content and "Second Student" in content
    formset = response.context["inline_admin_formsets"][0]
    assert (
        not formset.has_add_permission
        and not formset.has_change_permission
        and not formset.has_delete_permission
    )
    assert [e.waitlist_position for e in formset.formset.queryset] == [None, 1]
    positions = re.findall(r'<td class="field-waitlist_position">\s*<p>([^<]*)</p>', content)
    assert positions == ["-", "1"]  # not "None" on the row with a seat


def test_add_form_counts_no_seats_before_the_bootcamp_exists(admin_web):
    page = admin_web.get(f"{CHANGELIST}add/").content.decode()
    assert 'name="capacity"' in page
    for absent in ("Seats left", "Seats taken", "Slug", "Created at"):
        assert absent not in page, absent
    bootcamp = BootcampFactory(capacity=4)
    page = admin_web.get(f"{CHANGELIST}{bootcamp.pk}/change/").content.decode()
    assert re.search(r"Seats left:</label>\s*<div class=\"readonly\">4</div>", page)


def test_instructor_autocomplete_offers_instructors_only(admin_web, make_user):
    make_user(Role.INSTRUCTOR, full_name="Ann Teacher")
    make_user(Role.MENTOR, full_name="Ann Mentor")
    make_user(Role.STUDENT, full_name="Ann Student")
    response = admin_web.get(
        "/admin/autocomplete/",
        {"app_label": "bootcamps", "model_name": "bootcamp", "field_name": "instructors", "term": "Ann"},
    )
    assert [r["text"] for r in response.json()["results"]] == [
        "Ann Teacher <" + User.objects.get(full_name="Ann Teacher").email + ">"
    ]
    response = admin_web.get(
        "/admin/autocomplete/",
        {"app_label": "bootcamps", "model_name": "bootcamp", "field_name": "mentors", "term": "Ann"},
    )
    assert [r["text"].split(" <")[0] for r in response.json()["results"]] == ["Ann Mentor"]


def test_delete_with_enrollments_is_refused(admin_web):
    bootcamp = BootcampFactory()
    EnrollmentFactory(bootcamp=bootcamp)
    response = admin_web.post(f"{CHANGELIST}{bootcamp.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200  # Django's "cannot delete, protected" page
    assert Bootcamp.objects.filter(pk=bootcamp.pk).exists()


def test_delete_without_enrollments(admin_web):
    bootcamp = BootcampFactory()
    response = admin_web.post(f"{CHANGELIST}{bootcamp.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Bootcamp.objects.filter(pk=bootcamp.pk).exists()


def test_publishing_asks_first_and_names_the_waitlist_it_promotes(admin_web, mailoutbox):
    """Publishing again hands freed seats to the waitlist and emails them: on
    the first click, before, like the other actions that can't be undone."""
    draft = DraftBootcampFactory(title="Rust Basics")
    response = admin_web.post(CHANGELIST, {"action": "publish_bootcamps", "_selected_action": [draft.pk]})
    page = response.content.decode()
    assert response.status_code == 200 and "This can't be undone." in page
    assert "go at once to the first students on its waitlist" in page
    assert f"Rust Basics (Draft, {draft.start_date:%-d %b %Y} to {draft.end_date:%-d %b %Y})" in page
    assert Bootcamp.objects.get(pk=draft.pk).status == "DRAFT"


def test_publish_and_archive_actions(admin_web):
    draft, other = DraftBootcampFactory(), DraftBootcampFactory()
    response = admin_web.post(
        CHANGELIST,
        {"action": "publish_bootcamps", "_selected_action": [draft.pk, other.pk], "post": "yes"},
        follow=True,
    )
    assert "2 bootcamps set to published." in [str(m) for m in response.context["messages"]]
    assert set(Bootcamp.objects.values_list("status", flat=True)) == {"PUBLISHED"}
    # Archiving asks first: a running bootcamp's students could hand nothing in.
    archive = {"action": "archive_bootcamps", "_selected_action": [draft.pk]}
    asked = admin_web.post(CHANGELIST, archive)
    assert asked.status_code == 200 and "can no longer hand work in" in asked.content.decode()
    assert "Publishing a bootcamp again undoes it" in asked.content.decode()
    assert "This can't be undone." not in asked.content.decode()
    assert Bootcamp.objects.get(pk=draft.pk).status == "PUBLISHED"
    admin_web.post(CHANGELIST, {**archive, "post": "yes"}, follow=True)
    assert Bootcamp.objects.get(pk=draft.pk).status == "ARCHIVED"
    # Again: nothing to change, nothing recorded, and said.
    response = admin_web.post(CHANGELIST, {**archive, "post": "yes"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [f"Already archived: {draft.title}."]
    # The History of each says what the actions did.
    history = admin_web.get(f"{CHANGELIST}{draft.pk}/history/").content.decode()
    assert "Status set to Published (action)." in history and "Status set to Archived (action)." in history


def test_publishing_again_with_the_action_says_who_the_waitlist_seated(
    admin_web, django_capture_on_commit_callbacks, mailoutbox
):
    """As a form's save does: the message names them, their History says why."""
    from django.contrib.admin.models import LogEntry

    from accounts.tests.factories import StudentFactory
    from enrollments.models import Enrollment
    from enrollments.services import enrollment_cancel, enrollment_create

    bootcamp = BootcampFactory(capacity=1, title="Design")
    seated = enrollment_create(student=StudentFactory(), bootcamp=bootcamp, notify=False)
    waiting = enrollment_create(
        student=StudentFactory(full_name="Wendy Waits"), bootcamp=bootcamp, notify=False
    )
    Bootcamp.objects.filter(pk=bootcamp.pk).update(status="ARCHIVED")
    enrollment_cancel(enrollment=seated, notify=False)  # the seat is held while the bootcamp is closed
    assert Enrollment.objects.get(pk=waiting.pk).status == "WAITLISTED"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(
            CHANGELIST,
            {"action": "publish_bootcamps", "_selected_action": [bootcamp.pk], "post": "yes"},
            follow=True,
        )

    assert [str(m) for m in response.context["messages"]] == [
        "1 bootcamp set to published.",
        "Promoted from the waitlist: Wendy Waits.",
    ]
    assert Enrollment.objects.get(pk=waiting.pk).status == "ACTIVE"
    entry = LogEntry.objects.get(object_id=str(waiting.pk))
    assert entry.get_change_message() == "Promoted from the waitlist (a change to its bootcamp freed a seat)."
    assert [m.to for m in mailoutbox] == [[waiting.student.email]]


def test_inlines_list_is_extendable():
    assert isinstance(site._registry[Bootcamp].inlines, list)


def test_bootcamp_page_shows_its_assignments_inline(client, make_user):
    from assignments.tests.factories import AssignmentFactory

    admin_user = make_user("ADMIN")
    client.force_login(admin_user)
    assignment = AssignmentFactory(title="Build a CLI")
    response = client.get(f"/admin/bootcamps/bootcamp/{assignment.bootcamp_id}/change/")
    assert response.status_code == 200
    assert "Build a CLI" in response.text


def test_a_delete_the_service_refuses_says_why_and_keeps_the_bootcamp(admin_web, monkeypatch):
    """An enrollment arriving after the confirmation page: the service's
    Conflict becomes the admin's error message, and nothing is deleted or logged."""
    from django.contrib.admin.models import LogEntry

    from bootcamps import services
    from cohortly.errors import Conflict

    def refuse(**kwargs):
        raise Conflict("This bootcamp has 1 enrollment and cannot be deleted.", code="has_enrollments")

    bootcamp = BootcampFactory()
    monkeypatch.setattr(services, "bootcamp_delete", refuse)
    response = admin_web.post(f"{CHANGELIST}{bootcamp.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.redirect_chain == [(f"{CHANGELIST}{bootcamp.pk}/change/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "This bootcamp has 1 enrollment and cannot be deleted."
    ]
    assert Bootcamp.objects.filter(pk=bootcamp.pk).exists()
    assert not LogEntry.objects.exists()


def test_an_action_reports_each_refusal_and_applies_the_rest(admin_web, monkeypatch):
    from bootcamps import services
    from cohortly.errors import NotAllowed

    update = services.bootcamp_update
    refused, other = DraftBootcampFactory(title="Refused"), DraftBootcampFactory(title="Other")

    def update_unless_refused(*, bootcamp, **kwargs):
        if bootcamp.pk == refused.pk:
            raise NotAllowed("Not this one.")
        return update(bootcamp=bootcamp, **kwargs)

    monkeypatch.setattr(services, "bootcamp_update", update_unless_refused)
    response = admin_web.post(
        CHANGELIST,
        {"action": "publish_bootcamps", "_selected_action": [refused.pk, other.pk], "post": "yes"},
        follow=True,
    )
    assert sorted(str(m) for m in response.context["messages"]) == [
        "1 bootcamp set to published.",
        "Not changed: Refused: Not this one.",
    ]
    assert Bootcamp.objects.get(pk=refused.pk).status == "DRAFT"
    assert Bootcamp.objects.get(pk=other.pk).status == "PUBLISHED"


def test_deleting_a_bootcamp_with_enrollments_says_to_archive_it_not_that_permission_is_missing(admin_web):
    from enrollments.tests.factories import EnrollmentFactory

    enrollment = EnrollmentFactory()
    bootcamp = enrollment.bootcamp
    for response in (
        admin_web.get(f"/admin/bootcamps/bootcamp/{bootcamp.pk}/delete/"),
        admin_web.post(
            "/admin/bootcamps/bootcamp/", {"action": "delete_selected", "_selected_action": [bootcamp.pk]}
        ),
    ):
        page = response.content.decode()
        assert response.status_code == 200
        assert "permission" not in page
        assert re.search(rf"<li>Enrollment: <a [^>]+>{re.escape(escape(str(enrollment)))}</a></li>", page)
        assert "Archive the bootcamp instead (set its status to Archived)" in page
        assert "Yes, I’m sure" not in page  # no way to confirm
    assert Bootcamp.objects.filter(pk=bootcamp.pk).exists()


def test_publishing_what_is_published_changes_and_records_nothing(admin_web):
    from django.contrib.admin.models import LogEntry

    published, draft = BootcampFactory(title="Live"), DraftBootcampFactory(title="Soon")
    response = admin_web.post(
        CHANGELIST,
        {"action": "publish_bootcamps", "_selected_action": [published.pk, draft.pk], "post": "yes"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Already published: Live.",
        "1 bootcamp set to published.",
    ]
    assert [entry.object_id for entry in LogEntry.objects.all()] == [str(draft.pk)]


def test_archiving_says_who_is_still_enrolled_and_that_nobody_was_told(admin_web, mailoutbox):
    from accounts.tests.factories import StudentFactory
    from enrollments.services import enrollment_create

    design = BootcampFactory(capacity=1, title="Design")
    for _ in range(3):
        enrollment_create(student=StudentFactory(), bootcamp=design, notify=False)
    empty = BootcampFactory(title="Empty")
    response = admin_web.post(
        CHANGELIST,
        {"action": "archive_bootcamps", "_selected_action": [design.pk, empty.pk], "post": "yes"},
        follow=True,
    )
    said = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert said == [
        ("success", "2 bootcamps set to archived."),
        (
            "warning",
            "Design still has 1 active and 2 waitlisted enrollments: archiving changed none of them and told "
            "no one (complete or drop the active ones, cancel the waitlisted, from the enrollment list).",
        ),
    ]
    assert mailoutbox == []
    assert set(Enrollment.objects.filter(bootcamp=design).values_list("status", flat=True)) == {
        "ACTIVE",
        "WAITLISTED",
    }


def test_archiving_from_the_form_says_so_too(admin_web):
    from accounts.tests.factories import StudentFactory
    from enrollments.services import enrollment_create

    bootcamp = BootcampFactory(capacity=5, title="Design")
    enrollment_create(student=StudentFactory(), bootcamp=bootcamp, notify=False)
    response = admin_web.post(
        f"{CHANGELIST}{bootcamp.pk}/change/", form_data(bootcamp, status="ARCHIVED"), follow=True
    )
    assert Bootcamp.objects.get(pk=bootcamp.pk).status == "ARCHIVED"
    assert any(
        str(m).startswith("Design still has 1 active enrollment: archiving changed none of them")
        for m in response.context["messages"]
    )


def test_the_bootcamp_page_links_to_its_enrollments_where_they_are_changed(admin_web):
    bootcamp = BootcampFactory()
    page = admin_web.get(f"{CHANGELIST}{bootcamp.pk}/change/").content.decode()
    url = f"/admin/enrollments/enrollment/?bootcamp__id__exact={bootcamp.pk}"
    assert f'<a href="{url}">Open this bootcamp\'s enrollments</a>' in page
    assert admin_web.get(url).status_code == 200


@pytest.mark.parametrize("junk", ["not-a-uuid", "1", "\u0661"])
def test_a_posted_staff_id_that_cant_be_a_uuid_is_the_fields_error(admin_web, junk):
    response = admin_web.post("/admin/bootcamps/bootcamp/add/", {"title": "Junk staff", "mentors": [junk]})
    assert response.status_code == 200
    assert "mentors" in response.context["adminform"].form.errors
    assert not Bootcamp.objects.filter(title="Junk staff").exists()


def test_an_archived_bootcamp_keeps_and_shows_staff_whose_role_changed_since(
    admin_web, admin_user, make_user
):
    """limit_choices_to offered only current instructors and mentors: the page
    showed a role-changed mentor nowhere, and saving a location took them off."""
    from accounts import services as account_services
    from cohortly.tests.test_admin_stale_forms import page_form

    instructor, mentor = make_user(User.Role.INSTRUCTOR), make_user(User.Role.MENTOR, full_name="Maya Guide")
    bootcamp = BootcampFactory(status="ARCHIVED", location="Room 1")
    bootcamp.instructors.set([instructor])
    bootcamp.mentors.set([mentor])
    account_services.user_update(actor=admin_user, user=mentor, data={"role": User.Role.SALES})

    url = f"{CHANGELIST}{bootcamp.pk}/change/"
    page = admin_web.get(url).content.decode()
    assert escape(f"Maya Guide <{mentor.email}> (now Sales)") in page
    shown = page_form(admin_web, url)
    assert shown["mentors"] == [str(mentor.pk)]

    response = admin_web.post(url, {**shown, "location": ["Room 42"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    bootcamp.refresh_from_db()
    assert bootcamp.location == "Room 42"
    assert list(bootcamp.mentors.all()) == [mentor] and list(bootcamp.instructors.all()) == [instructor]

    # Published again with them listed: refused, naming the person the page shows.
    shown = page_form(admin_web, url)
    response = admin_web.post(url, {**shown, "status": ["PUBLISHED"], "_save": ["Save"]})
    assert response.status_code == 200
    assert "Maya Guide" in str(response.context["adminform"].form.errors)
    assert Bootcamp.objects.get(pk=bootcamp.pk).status == "ARCHIVED"
    # Taken off on the page, it publishes.
    response = admin_web.post(url, {**shown, "status": ["PUBLISHED"], "mentors": [], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    bootcamp.refresh_from_db()
    assert bootcamp.status == "PUBLISHED" and not bootcamp.mentors.exists()


def test_a_currency_in_small_letters_is_taken_as_the_api_takes_it(admin_web):
    bootcamp = BootcampFactory(currency="EUR")
    from cohortly.tests.test_admin_stale_forms import page_form

    url = f"{CHANGELIST}{bootcamp.pk}/change/"
    response = admin_web.post(url, {**page_form(admin_web, url), "currency": ["usd"], "_save": ["Save"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    bootcamp.refresh_from_db()
    assert bootcamp.currency == "USD"
    response = admin_web.post(url, {**page_form(admin_web, url), "currency": ["u5d"], "_save": ["Save"]})
    assert response.status_code == 200 and "three capital letters" in response.content.decode()


def test_a_bootcamp_with_hundreds_of_enrollments_saves_from_its_page(admin_web, make_user):
    """Each enrollment listed on the page posts its id with the form: 600 of them
    went past the 1,000 fields Django reads, and saving the page was a 400."""
    from cohortly.tests.test_admin_stale_forms import page_form

    bootcamp = BootcampFactory(capacity=1, location="")
    seated = make_user(Role.STUDENT, full_name="Seated Student")
    waiting = make_user(Role.STUDENT, full_name="Waiting Student")
    enrollment_create(student=seated, bootcamp=bootcamp, notify=False)
    students = User.objects.bulk_create(
        User(email=f"gone{n}@example.com", full_name=f"Gone {n}", role=Role.STUDENT) for n in range(600)
    )
    Enrollment.objects.bulk_create(
        Enrollment(student=student, bootcamp=bootcamp, status=Enrollment.Status.CANCELLED)
        for student in students
    )
    enrollment_create(student=waiting, bootcamp=bootcamp, notify=False)
    url = f"{CHANGELIST}{bootcamp.pk}/change/"

    shown = page_form(admin_web, url)
    shown["location"] = ["Lisbon"]
    response = admin_web.post(url, shown)

    assert response.status_code == 302
    bootcamp.refresh_from_db()
    assert bootcamp.location == "Lisbon"
    page = admin_web.get(url).content.decode()
    assert "(changed in the enrollment list: see Seats and price; the first 100 of 602: the seats and" in page
    assert "Seated Student" in page and "Waiting Student" in page
