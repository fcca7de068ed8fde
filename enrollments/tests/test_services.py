from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory, RunningBootcampFactory
from cohortly.errors import Conflict
from enrollments import services
from enrollments.models import Enrollment
from enrollments.selectors import enrollment_list_for

pytestmark = pytest.mark.django_db
Role = User.Role
Status = Enrollment.Status


def positions(bootcamp, admin):
    """{student email: waitlist position} as the API computes it."""
    return {
        e.student.email: e.waitlist_position
        for e in enrollment_list_for(admin).filter(bootcamp=bootcamp, status=Status.WAITLISTED)
    }


def test_seats_then_waitlist_in_arrival_order(enroll, admin_user):
    bootcamp = BootcampFactory(capacity=2)
    enrollments = enroll(bootcamp, 5)
    assert [e.status for e in enrollments] == ["ACTIVE", "ACTIVE", "WAITLISTED", "WAITLISTED", "WAITLISTED"]
    assert [e.waitlist_seq for e in enrollments] == [None, None, 1, 2, 3]
    assert positions(bootcamp, admin_user) == {e.student.email: i for i, e in enumerate(enrollments[2:], 1)}
    assert services.bootcamp_seats_taken(bootcamp) == 2
    assert services.bootcamp_seats_left(bootcamp) == 0


def test_completed_holds_a_seat_and_cancelled_or_dropped_do_not(enroll):
    bootcamp = RunningBootcampFactory(capacity=4)
    a, b, c, _d = enroll(bootcamp, 4)
    services.enrollment_set_status(enrollment=a, status=Status.COMPLETED)
    services.enrollment_set_status(enrollment=b, status=Status.DROPPED)
    services.enrollment_cancel(enrollment=c)
    assert services.bootcamp_seats_taken(bootcamp) == 2
    assert services.bootcamp_seats_left(bootcamp) == 2


def test_cancel_active_promotes_the_head_of_the_waitlist(enroll, admin_user):
    bootcamp = BootcampFactory(capacity=1)
    active, first, second, third = enroll(bootcamp, 4)
    cancelled = services.enrollment_cancel(enrollment=active)
    assert cancelled.status == Status.CANCELLED and cancelled.waitlist_seq is None
    assert cancelled.promoted == [first]
    first.refresh_from_db()
    assert (first.status, first.waitlist_seq) == (Status.ACTIVE, None)
    assert positions(bootcamp, admin_user) == {second.student.email: 1, third.student.email: 2}


def test_a_deactivated_student_on_the_waitlist_is_passed_over(
    enroll, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    bootcamp = BootcampFactory(capacity=1)
    active, first, second = enroll(bootcamp, 3)
    User.objects.filter(pk=first.student_id).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.enrollment_cancel(enrollment=active).promoted == [second]
    first.refresh_from_db()
    assert (first.status, first.waitlist_seq) == (Status.WAITLISTED, 1)  # keeps their place
    assert [m.to for m in mailoutbox if "seat" in m.subject.lower()] == [[second.student.email]]
    # Active again: first in line for the next seat.
    User.objects.filter(pk=first.student_id).update(is_active=True)
    assert services.enrollment_cancel(enrollment=second).promoted == [first]


def free_a_seat(active: Enrollment) -> Enrollment:
    """Cancelled, or dropped by staff once its bootcamp has ended (an ended
    bootcamp's active enrollments are a record, and can't be cancelled)."""
    active.bootcamp.refresh_from_db()
    if active.bootcamp.end_date < timezone.localdate():
        return services.enrollment_set_status(enrollment=active, status=Status.DROPPED)
    return services.enrollment_cancel(enrollment=active)


@pytest.mark.parametrize(
    "change",
    [
        {"status": "ARCHIVED"},
        {"status": "DRAFT"},
        {
            "start_date": timezone.localdate() - timedelta(days=30),
            "end_date": timezone.localdate() - timedelta(days=1),
        },
    ],
)
def test_a_bootcamp_not_taking_enrollments_promotes_nobody(enroll, change):
    from bootcamps.models import Bootcamp

    bootcamp = BootcampFactory(capacity=1)
    active, first = enroll(bootcamp, 2)
    Bootcamp.objects.filter(pk=bootcamp.pk).update(**change)
    assert free_a_seat(active).promoted == []
    Bootcamp.objects.filter(pk=bootcamp.pk).update(capacity=5)
    assert services.waitlist_promote(bootcamp=bootcamp) == []
    assert Enrollment.objects.get(pk=first.pk).status == Status.WAITLISTED


def test_a_student_reactivated_next_to_a_free_seat_takes_it(
    enroll, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    from accounts.services import user_update

    bootcamp = BootcampFactory(capacity=1)
    active, first = enroll(bootcamp, 2)
    user_update(actor=admin_user, user=first.student, data={"is_active": False})
    assert services.enrollment_cancel(enrollment=active).promoted == []  # passed over: the seat stays free
    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=admin_user, user=first.student, data={"is_active": True})
    first.refresh_from_db()
    assert (first.status, first.waitlist_seq) == (Status.ACTIVE, None)
    assert [m.to for m in mailoutbox if "seat" in m.subject.lower()] == [[first.student.email]]


@pytest.mark.parametrize(
    "closed, reopened",
    [
        ({"status": "DRAFT"}, {"status": "PUBLISHED"}),
        (
            {
                "start_date": timezone.localdate() - timedelta(days=30),
                "end_date": timezone.localdate() - timedelta(days=1),
            },
            {"end_date": timezone.localdate() + timedelta(days=30)},
        ),
    ],
)
def test_seats_freed_while_a_bootcamp_was_closed_go_to_its_waitlist_when_it_opens(
    enroll, admin_user, closed, reopened
):
    from bootcamps.models import Bootcamp
    from bootcamps.services import bootcamp_update

    bootcamp = BootcampFactory(capacity=1)
    active, first = enroll(bootcamp, 2)
    Bootcamp.objects.filter(pk=bootcamp.pk).update(**closed)
    assert free_a_seat(active).promoted == []
    bootcamp_update(bootcamp=Bootcamp.objects.get(pk=bootcamp.pk), actor=admin_user, data=reopened)
    assert Enrollment.objects.get(pk=first.pk).status == Status.ACTIVE


def test_cancel_waitlisted_closes_the_gap_and_promotes_nobody(enroll, admin_user):
    bootcamp = BootcampFactory(capacity=1)
    active, first, second, third = enroll(bootcamp, 4)
    assert services.enrollment_cancel(enrollment=second).promoted == []
    assert Enrollment.objects.get(pk=active.pk).status == Status.ACTIVE
    assert positions(bootcamp, admin_user) == {first.student.email: 1, third.student.email: 2}


def test_drop_promotes_and_complete_does_not(enroll):
    bootcamp = RunningBootcampFactory(capacity=2)
    a, b, first, second = enroll(bootcamp, 4)
    assert services.enrollment_set_status(enrollment=a, status=Status.COMPLETED).promoted == []
    assert Enrollment.objects.get(pk=first.pk).status == Status.WAITLISTED
    assert services.enrollment_set_status(enrollment=b, status=Status.DROPPED).promoted == [first]
    assert Enrollment.objects.get(pk=first.pk).status == Status.ACTIVE
    assert Enrollment.objects.get(pk=second.pk).status == Status.WAITLISTED


@pytest.mark.parametrize("start", [Status.WAITLISTED, Status.CANCELLED, Status.COMPLETED, Status.DROPPED])
def test_staff_transitions_only_from_active(enroll, start):
    bootcamp = RunningBootcampFactory(capacity=1)
    active, waiting = enroll(bootcamp, 2)
    enrollment = waiting if start == Status.WAITLISTED else active
    if start == Status.CANCELLED:
        services.enrollment_cancel(enrollment=active)
    elif start in (Status.COMPLETED, Status.DROPPED):
        services.enrollment_set_status(enrollment=active, status=start)
    with pytest.raises(Conflict) as info:
        services.enrollment_set_status(enrollment=enrollment, status=Status.COMPLETED)
    assert info.value.code == "invalid_transition"


def test_staff_transition_to_other_statuses_is_a_validation_error(enroll):
    (enrollment,) = enroll(BootcampFactory(), 1)
    for status in (Status.ACTIVE, Status.WAITLISTED, Status.CANCELLED, "NONSENSE"):
        with pytest.raises(ValidationError) as info:
            services.enrollment_set_status(enrollment=enrollment, status=status)
        assert "status" in info.value.message_dict
    assert Enrollment.objects.get(pk=enrollment.pk).status == Status.ACTIVE


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.DROPPED, Status.CANCELLED])
def test_only_active_or_waitlisted_can_be_cancelled(enroll, status):
    (enrollment,) = enroll(RunningBootcampFactory(), 1)
    if status == Status.CANCELLED:
        services.enrollment_cancel(enrollment=enrollment)
    else:
        services.enrollment_set_status(enrollment=enrollment, status=status)
    with pytest.raises(Conflict, match="cannot be cancelled"):
        services.enrollment_cancel(enrollment=enrollment)


def test_reenrolling_after_cancel_reuses_the_row_with_a_free_seat(enroll):
    bootcamp = BootcampFactory(capacity=2)
    (enrollment,) = enroll(bootcamp, 1)
    services.enrollment_cancel(enrollment=enrollment)
    again = services.enrollment_create(student=enrollment.student, bootcamp=bootcamp)
    assert again.pk == enrollment.pk
    assert again.status == Status.ACTIVE
    assert again.enrolled_at > enrollment.enrolled_at
    assert Enrollment.objects.filter(student=enrollment.student).count() == 1


def test_reenrolling_after_cancel_goes_to_the_back_of_the_waitlist(enroll, admin_user):
    bootcamp = BootcampFactory(capacity=1)
    _active, first, second = enroll(bootcamp, 3)
    services.enrollment_cancel(enrollment=first)
    again = services.enrollment_create(student=first.student, bootcamp=bootcamp)
    assert (again.pk, again.status) == (first.pk, Status.WAITLISTED)
    assert positions(bootcamp, admin_user) == {second.student.email: 1, first.student.email: 2}


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.WAITLISTED, Status.COMPLETED, Status.DROPPED])
def test_a_second_enrollment_is_a_conflict(enroll, status):
    bootcamp = RunningBootcampFactory(capacity=1)
    active, waiting = enroll(bootcamp, 2)
    enrollment = waiting if status == Status.WAITLISTED else active
    if status in (Status.COMPLETED, Status.DROPPED):
        services.enrollment_set_status(enrollment=active, status=status)
    with pytest.raises(Conflict) as info:
        services.enrollment_create(student=enrollment.student, bootcamp=bootcamp)
    assert info.value.code == "already_enrolled"
    assert Enrollment.objects.filter(bootcamp=bootcamp).count() == 2


def test_only_admin_or_sales_reenroll_a_dropped_student(enroll, make_user):
    bootcamp = BootcampFactory(capacity=2)
    (enrollment,) = enroll(bootcamp, 1)
    services.enrollment_set_status(enrollment=enrollment, status=Status.DROPPED)
    with pytest.raises(Conflict):
        services.enrollment_create(student=enrollment.student, bootcamp=bootcamp, actor=enrollment.student)
    again = services.enrollment_create(
        student=enrollment.student, bootcamp=bootcamp, actor=make_user(Role.SALES)
    )
    assert (again.pk, again.status) == (enrollment.pk, Status.ACTIVE)


@pytest.mark.parametrize(
    ("bootcamp_kwargs", "message"),
    [
        ({"status": "DRAFT"}, "not open for enrollment"),
        ({"status": "ARCHIVED"}, "not open for enrollment"),
        (
            {
                "start_date": timezone.localdate() - timedelta(days=30),
                "end_date": timezone.localdate() - timedelta(days=1),
            },
            "already ended",
        ),
    ],
)
def test_only_published_bootcamps_that_have_not_ended(make_user, bootcamp_kwargs, message):
    bootcamp = BootcampFactory(**bootcamp_kwargs)
    with pytest.raises(ValidationError, match=message) as info:
        services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=bootcamp)
    assert list(info.value.message_dict) == ["bootcamp"]
    assert not Enrollment.objects.exists()


def test_a_running_bootcamp_still_takes_enrollments(make_user):
    bootcamp = BootcampFactory(
        start_date=timezone.localdate() - timedelta(days=3), end_date=timezone.localdate()
    )
    assert (
        services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=bootcamp).status == Status.ACTIVE
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SALES, Role.INSTRUCTOR, Role.MENTOR])
def test_only_students_can_be_enrolled(make_user, role):
    with pytest.raises(ValidationError) as info:
        services.enrollment_create(student=make_user(role), bootcamp=BootcampFactory())
    assert list(info.value.message_dict) == ["student"]


def test_a_deactivated_student_cannot_be_enrolled(make_user):
    with pytest.raises(ValidationError, match="deactivated"):
        services.enrollment_create(
            student=make_user(Role.STUDENT, is_active=False), bootcamp=BootcampFactory()
        )


def test_free_seats_go_to_the_waitlist_before_newcomers(enroll, make_user, admin_user):
    bootcamp = BootcampFactory(capacity=1)
    _active, waiting = enroll(bootcamp, 2)
    # A seat freed without the services (a raw edit): the next enrollment must not jump the queue.
    Enrollment.objects.filter(bootcamp=bootcamp, status=Status.ACTIVE).update(status=Status.CANCELLED)
    newcomer = services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=bootcamp)
    assert Enrollment.objects.get(pk=waiting.pk).status == Status.ACTIVE
    assert newcomer.status == Status.WAITLISTED
    assert positions(bootcamp, admin_user) == {newcomer.student.email: 1}


def test_waitlist_promote_fills_free_seats(enroll):
    bootcamp = BootcampFactory(capacity=1)
    enroll(bootcamp, 4)
    type(bootcamp).objects.filter(pk=bootcamp.pk).update(capacity=3)
    promoted = services.waitlist_promote(bootcamp=bootcamp)
    assert len(promoted) == 2
    assert services.bootcamp_seats_taken(bootcamp) == 3


def test_waitlist_position_helper(enroll):
    bootcamp = BootcampFactory(capacity=1)
    active, first, second = enroll(bootcamp, 3)
    assert [services.waitlist_position(e) for e in (active, first, second)] == [None, 1, 2]


# --- emails -----------------------------------------------------------------------


def test_emails_confirmed_waitlisted_promoted_cancelled(
    make_user, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(capacity=1, title="Data Science")
    first, second = (
        make_user(Role.STUDENT, full_name="Ann First"),
        make_user(Role.STUDENT, full_name="Bo Second"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        seat = services.enrollment_create(student=first, bootcamp=bootcamp)
        services.enrollment_create(student=second, bootcamp=bootcamp)
    assert [(m.to, m.subject) for m in mailoutbox] == [
        ([first.email], "You're in: Data Science"),
        ([second.email], "You're on the waitlist for Data Science"),
    ]
    assert "Hello Ann First" in mailoutbox[0].body
    assert "number 1 in line" in mailoutbox[1].body

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=seat)
    assert [(m.to, m.subject) for m in mailoutbox] == [
        ([first.email], "Your enrollment in Data Science is cancelled"),
        ([second.email], "A seat opened up: you're in Data Science"),
    ]


def test_a_cancellation_offers_enrolling_again_only_while_the_bootcamp_takes_enrollments(
    make_user, django_capture_on_commit_callbacks, mailoutbox
):
    """Archived, the bootcamp takes no enrollments: the email said "you can enroll
    again while seats or the waitlist are open" all the same."""
    bootcamp = BootcampFactory(capacity=1, title="Data Science")
    held = services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=bootcamp)
    waiting = services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=bootcamp)
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=waiting, notify=True)
    assert "you can enroll again while seats or the waitlist are open" in mailoutbox[-1].body

    bootcamp.status = bootcamp.Status.ARCHIVED
    bootcamp.save(update_fields=["status"])
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=held)
    [email] = mailoutbox
    assert email.subject == "Your enrollment in Data Science is cancelled"
    assert "enroll again" not in email.body
    assert "Data Science no longer takes enrollments" in email.body


def test_no_email_before_commit_nor_after_rollback(make_user, django_capture_on_commit_callbacks, mailoutbox):
    bootcamp, student = DraftBootcampFactory(), make_user(Role.STUDENT)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError):
        services.enrollment_create(student=student, bootcamp=bootcamp)
    assert callbacks == [] and mailoutbox == []


def test_notify_false_sends_nothing(make_user, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=BootcampFactory(), notify=False)
    assert mailoutbox == []


@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR, Role.MENTOR])
def test_only_admin_and_sales_enroll_someone_else(make_user, role):
    from cohortly.errors import NotAllowed

    bootcamp, student = BootcampFactory(), make_user(Role.STUDENT)
    with pytest.raises(NotAllowed):
        services.enrollment_create(student=student, bootcamp=bootcamp, actor=make_user(role))
    assert not Enrollment.objects.filter(student=student).exists()
    for allowed in (make_user(Role.SALES), make_user(Role.ADMIN), student):
        enrollment = services.enrollment_create(student=student, bootcamp=BootcampFactory(), actor=allowed)
        assert enrollment.student == student


def _starting_today(**kwargs):
    today = timezone.localdate()
    return BootcampFactory(start_date=today, end_date=today + timedelta(days=60), **kwargs)


@pytest.mark.parametrize(
    ("factory", "said"),
    # On its first day it "starts", as the sales pages say (started from the day after).
    [(BootcampFactory, "starts"), (_starting_today, "starts"), (RunningBootcampFactory, "started")],
)
def test_the_promotion_email_says_whether_the_bootcamp_has_started(
    enroll, mailoutbox, django_capture_on_commit_callbacks, factory, said
):
    """A seat freed in a running bootcamp told the next in line it "starts on" a past day."""
    bootcamp = factory(capacity=1)
    active, waiting = enroll(bootcamp, 2)
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=active)
    (promoted,) = [m for m in mailoutbox if m.to == [waiting.student.email]]
    assert f"The bootcamp {said} on {bootcamp.start_date:%-d %B %Y}." in promoted.body


def test_a_deactivated_student_is_not_emailed_about_their_enrollment(
    enroll, mailoutbox, django_capture_on_commit_callbacks
):
    bootcamp = RunningBootcampFactory(capacity=3)
    (enrollment,) = enroll(bootcamp)
    User.objects.filter(pk=enrollment.student_id).update(is_active=False)
    enrollment = Enrollment.objects.select_related("student").get(pk=enrollment.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_set_status(enrollment=enrollment, status=Status.DROPPED)
    assert Enrollment.objects.get(pk=enrollment.pk).status == Status.DROPPED
    assert mailoutbox == []


def test_a_student_nobody_has_proven_is_invited_not_greeted_by_a_strangers_name(
    make_user, admin_user, django_capture_on_commit_callbacks, mailoutbox
):
    """Anyone can register someone else's address under a name of their choosing.
    Staff enrolling that account greeted its owner by that name and said "see your
    enrollments", which nobody can sign in to see until the address is proven."""
    bait = make_user(Role.STUDENT, full_name="Your account is locked visit evil", email_verified_at=None)
    bootcamp = BootcampFactory(capacity=1, title="Data Science")
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = services.enrollment_create(student=bait, bootcamp=bootcamp, actor=admin_user)
    (invitation,) = mailoutbox
    assert invitation.to == [bait.email] and "evil" not in invitation.subject + invitation.body
    assert "You are enrolled in Data Science" in invitation.body
    assert "set its password and sign in: it confirms the address" in invitation.body

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=enrollment)
    (cancelled,) = mailoutbox
    assert cancelled.body.startswith("Hello,") and "evil" not in cancelled.body


def test_an_invitation_onto_the_waitlist_says_so_in_its_subject(
    make_user, admin_user, django_capture_on_commit_callbacks, mailoutbox
):
    """It read "Welcome to <bootcamp>" for a seat nobody had given."""
    bootcamp = BootcampFactory(capacity=1, title="Data Science")
    services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=bootcamp, notify=False)
    waiting = make_user(Role.STUDENT, email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_create(student=waiting, bootcamp=bootcamp, actor=admin_user)
    assert [m.subject for m in mailoutbox] == ["On the waitlist for Data Science: set your Cohortly password"]
    assert "You are on the waitlist of Data Science, number 1 in line" in mailoutbox[0].body


def test_a_student_nobody_has_proven_promoted_from_the_waitlist_gets_a_link_to_sign_in(
    make_user, admin_user, django_capture_on_commit_callbacks, mailoutbox
):
    """The waitlist's invitation link lasts a few days; a seat often frees weeks
    later. "A seat opened up: you're in" came without one, to an account nobody
    can sign in to until its address is proven."""
    bootcamp = BootcampFactory(capacity=1, title="Data Science")
    seated = services.enrollment_create(student=make_user(Role.STUDENT), bootcamp=bootcamp, notify=False)
    waiting = make_user(Role.STUDENT, full_name="Your account is locked visit evil", email_verified_at=None)
    services.enrollment_create(student=waiting, bootcamp=bootcamp, actor=admin_user, notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=seated, notify=True)
    promoted = [m for m in mailoutbox if m.to == [waiting.email]]
    assert [m.subject for m in promoted] == ["Welcome to Data Science: set your Cohortly password"]
    assert "You are enrolled in Data Science" in promoted[0].body
    assert "set its password and sign in: it confirms the address" in promoted[0].body
    assert "evil" not in promoted[0].body
