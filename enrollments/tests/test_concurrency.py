"""Seat limits under real concurrency, in the manner of pretix's concurrency
tests: many requests race at a live server, each on its own HTTP connection and
its own database connection, and the seat count must still hold.

PostgreSQL only: SQLite serialises every writer, so it proves nothing here.
"""

import threading
import time
from collections import Counter

import pytest
import requests
from django.db import connection, transaction
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.services import user_update
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory
from cohortly.tests.live_servers import RaceServerThread, race
from enrollments import services
from enrollments.models import Enrollment

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Status = Enrollment.Status
TIMEOUT = 60


@pytest.fixture
def race_server(transactional_db):
    with RaceServerThread.running() as thread:
        yield thread


def bearer(user):
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def enroll_call(url, user, bootcamp):
    headers = bearer(user)
    return lambda s: s.post(
        f"{url}/api/v1/enrollments/", json={"bootcamp": bootcamp.pk}, headers=headers, timeout=TIMEOUT
    )


def cancel_call(url, enrollment):
    headers = bearer(enrollment.student)
    return lambda s: s.post(
        f"{url}/api/v1/enrollments/{enrollment.pk}/cancel/", headers=headers, timeout=TIMEOUT
    )


def assert_no_errors(responses, expected_status):
    codes = Counter(r.status_code if isinstance(r, requests.Response) else repr(r) for r in responses)
    assert codes == Counter({expected_status: len(responses)}), codes


def waitlist(bootcamp, admin, race_server):
    """The waitlist as the API shows it: [(student id, position)] in position order."""
    response = requests.get(
        f"{race_server.url}/api/v1/enrollments/",
        params={
            "bootcamp": bootcamp.pk,
            "status": "WAITLISTED",
            "ordering": "waitlist_position",
            "page_size": 100,
        },
        headers=bearer(admin),
        timeout=TIMEOUT,
    )
    return [(row["student"]["id"], row["waitlist_position"]) for row in response.json()["results"]]


def test_25_concurrent_enrollments_into_5_seats(race_server, make_user, mailoutbox):
    bootcamp = BootcampFactory(capacity=5, title="Race")
    students = [make_user(User.Role.STUDENT) for _ in range(25)]
    admin = make_user(User.Role.ADMIN)

    responses = race([enroll_call(race_server.url, student, bootcamp) for student in students])

    assert_no_errors(responses, 201)
    bodies = [r.json() for r in responses]
    assert Counter(b["status"] for b in bodies) == {"ACTIVE": 5, "WAITLISTED": 20}
    rows = Enrollment.objects.filter(bootcamp=bootcamp)
    assert rows.count() == 25
    assert rows.filter(status=Status.ACTIVE).count() == 5
    waiting = list(rows.filter(status=Status.WAITLISTED).order_by("waitlist_seq"))
    # Strict arrival order with no gaps: sequence 1..20, enrolled in that order.
    assert [e.waitlist_seq for e in waiting] == list(range(1, 21))
    assert [e.enrolled_at for e in waiting] == sorted(e.enrolled_at for e in waiting)
    assert max(e.enrolled_at for e in rows.filter(status=Status.ACTIVE)) <= waiting[0].enrolled_at
    # Each waitlisted student was told the position they still hold (nobody left the list).
    told = {b["student"]["id"]: b["waitlist_position"] for b in bodies if b["status"] == "WAITLISTED"}
    assert told == {str(e.student_id): e.waitlist_seq for e in waiting}
    assert waitlist(bootcamp, admin, race_server) == [
        (str(e.student_id), i) for i, e in enumerate(waiting, 1)
    ]
    # One email each, after commit, of the right kind.
    subjects = Counter(m.subject for m in mailoutbox)
    assert subjects == {"You're in: Race": 5, "You're on the waitlist for Race": 20}
    assert sorted(m.to[0] for m in mailoutbox) == sorted(s.email for s in students)


def test_concurrent_cancels_and_enrollments_never_overfill(race_server, make_user):
    bootcamp = BootcampFactory(capacity=5)
    admin = make_user(User.Role.ADMIN)
    enrolled = [
        services.enrollment_create(student=make_user(User.Role.STUDENT), bootcamp=bootcamp, notify=False)
        for _ in range(15)
    ]
    active, waiting = enrolled[:5], enrolled[5:]
    newcomers = [make_user(User.Role.STUDENT) for _ in range(5)]

    # Watch the seat count from a separate connection while the race runs.
    seen, done = [], threading.Event()

    def watch():
        try:
            while not done.is_set():
                seen.append(
                    Enrollment.objects.filter(bootcamp=bootcamp, status__in=Enrollment.SEAT_HOLDING).count()
                )
                time.sleep(0.002)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    calls = [cancel_call(race_server.url, e) for e in active]
    calls += [enroll_call(race_server.url, s, bootcamp) for s in newcomers]
    try:
        responses = race(calls)
    finally:
        done.set()
        watcher.join(TIMEOUT)

    assert_no_errors(responses[:5], 200)
    assert_no_errors(responses[5:], 201)
    assert seen and max(seen) <= 5
    assert all(r.json()["status"] == "WAITLISTED" for r in responses[5:])  # nobody jumps the queue
    # The first five of the waitlist were promoted, in order; the rest moved up without gaps.
    assert set(Enrollment.objects.filter(bootcamp=bootcamp, status=Status.ACTIVE)) == set(waiting[:5])
    order = waitlist(bootcamp, admin, race_server)
    assert [position for _, position in order] == list(range(1, 11))
    assert [student for student, _ in order[:5]] == [str(e.student_id) for e in waiting[5:]]
    assert {student for student, _ in order[5:]} == {str(s.pk) for s in newcomers}


def _slow_count(monkeypatch):
    """Widen the window between counting seats and writing, so that without a
    lock every racer would count before anyone writes."""
    count = services.bootcamp_seats_taken

    def slow(bootcamp):
        taken = count(bootcamp)
        time.sleep(0.1)
        return taken

    monkeypatch.setattr(services, "bootcamp_seats_taken", slow)


def test_the_lock_holds_even_with_a_wide_race_window(race_server, make_user, monkeypatch):
    bootcamp = BootcampFactory(capacity=1)
    students = [make_user(User.Role.STUDENT) for _ in range(10)]
    _slow_count(monkeypatch)
    responses = race([enroll_call(race_server.url, s, bootcamp) for s in students])
    assert_no_errors(responses, 201)
    assert Enrollment.objects.filter(bootcamp=bootcamp, status=Status.ACTIVE).count() == 1
    seqs = Enrollment.objects.filter(bootcamp=bootcamp, status=Status.WAITLISTED).values_list(
        "waitlist_seq", flat=True
    )
    assert sorted(seqs) == list(range(1, 10))


def test_control_without_the_lock_the_race_is_real(race_server, make_user, monkeypatch):
    """The control (as pretix has): with the row lock taken away, the same race
    overfills the bootcamp -- so the tests above can catch a missing lock."""
    bootcamp = BootcampFactory(capacity=1)
    students = [make_user(User.Role.STUDENT) for _ in range(10)]
    _slow_count(monkeypatch)
    monkeypatch.setattr(services, "_lock_bootcamp", lambda pk: Bootcamp.objects.get(pk=pk))
    race([enroll_call(race_server.url, s, bootcamp) for s in students])
    assert Enrollment.objects.filter(bootcamp=bootcamp, status=Status.ACTIVE).count() > 1


def test_two_students_swapping_seats_at_once_both_get_the_other_seat(race_server, make_user):
    """S holds B's only seat and waits first for C's; W holds C's and waits first
    for B's. Both cancel at once: each cancellation promotes the other. Locking
    the people's rows with their enrollments (select_related without of=) made
    the two cancellations wait for each other's student: a deadlock, one of
    them rolled back."""
    for _round in range(5):
        b, c = BootcampFactory(capacity=1), BootcampFactory(capacity=1)
        s, w = make_user(User.Role.STUDENT), make_user(User.Role.STUDENT)
        s_in_b = services.enrollment_create(student=s, bootcamp=b, notify=False)
        w_in_c = services.enrollment_create(student=w, bootcamp=c, notify=False)
        s_for_c = services.enrollment_create(student=s, bootcamp=c, notify=False)
        w_for_b = services.enrollment_create(student=w, bootcamp=b, notify=False)
        assert (s_for_c.status, w_for_b.status) == (Status.WAITLISTED, Status.WAITLISTED)

        responses = race([cancel_call(race_server.url, s_in_b), cancel_call(race_server.url, w_in_c)])

        assert_no_errors(responses, 200)
        s_for_c.refresh_from_db()
        w_for_b.refresh_from_db()
        assert (s_for_c.status, w_for_b.status) == (Status.ACTIVE, Status.ACTIVE)


def test_a_student_deactivated_while_a_seat_frees_is_passed_over(race_server, make_user):
    """An admin deactivates W, next in line, and before that commits, A's
    cancellation frees the seat. The promotion read W as active (the
    deactivation was not yet committed) and seated them: a deactivated account
    holding a seat nobody had been told about. Locking the waiting students'
    rows with their enrollments makes the promotion wait for the deactivation,
    then pass W over for X, the next one in line."""
    admin = make_user(User.Role.ADMIN)
    bootcamp = BootcampFactory(capacity=1)
    a, w, x = (make_user(User.Role.STUDENT) for _ in range(3))
    a_seat = services.enrollment_create(student=a, bootcamp=bootcamp, notify=False)
    w_place = services.enrollment_create(student=w, bootcamp=bootcamp, notify=False)
    x_place = services.enrollment_create(student=x, bootcamp=bootcamp, notify=False)
    assert (w_place.status, x_place.status) == (Status.WAITLISTED, Status.WAITLISTED)

    deactivated, commit, failures = threading.Event(), threading.Event(), []

    def deactivate():
        try:
            with transaction.atomic():
                user_update(actor=admin, user=User.objects.get(pk=w.pk), data={"is_active": False})
                deactivated.set()
                commit.wait(TIMEOUT)
        except Exception as exc:  # surfaced below
            failures.append(exc)
        finally:
            deactivated.set()
            connection.close()

    deactivation = threading.Thread(target=deactivate)
    deactivation.start()
    assert deactivated.wait(TIMEOUT)
    cancelled, cancel = [], cancel_call(race_server.url, a_seat)
    cancellation = threading.Thread(target=lambda: cancelled.append(cancel(requests.Session())))
    cancellation.start()
    cancellation.join(0.5)  # waits for the deactivation (a fixed bug: it went on and seated W)
    commit.set()
    deactivation.join(TIMEOUT)
    cancellation.join(TIMEOUT)

    assert failures == []
    assert [r.status_code for r in cancelled] == [200]
    w_place.refresh_from_db()
    x_place.refresh_from_db()
    assert (w_place.status, w_place.waitlist_seq) == (Status.WAITLISTED, 1)  # keeps their place
    assert x_place.status == Status.ACTIVE
    assert Enrollment.objects.filter(bootcamp=bootcamp, status=Status.ACTIVE).count() == 1


def test_two_promotions_sharing_waiting_students_in_opposite_order_both_finish(make_user):
    """B1's line is W1, W2; B2's is W2, W1. Two admins raise both capacities at
    once while W1's row is held a moment (an edit of W1). Promotion locked the
    waiting students in each line's order: each took its first and waited for
    the other's, a deadlock (a 500). They are held in id order now."""
    admin = make_user(User.Role.ADMIN)
    b1, b2 = BootcampFactory(capacity=1), BootcampFactory(capacity=1)
    for seated, bootcamp in ((make_user(User.Role.STUDENT), b1), (make_user(User.Role.STUDENT), b2)):
        services.enrollment_create(student=seated, bootcamp=bootcamp, notify=False)
    w1, w2 = make_user(User.Role.STUDENT), make_user(User.Role.STUDENT)
    for student, bootcamp in ((w1, b1), (w2, b1), (w2, b2), (w1, b2)):
        services.enrollment_create(student=student, bootcamp=bootcamp, notify=False)
    Bootcamp.objects.filter(pk__in=[b1.pk, b2.pk]).update(capacity=3)

    held, release, errors = threading.Event(), threading.Event(), []

    def edit_w1():
        try:
            with transaction.atomic():
                user_update(actor=admin, user=User.objects.get(pk=w1.pk), data={"full_name": "W One"})
                held.set()
                release.wait(TIMEOUT)
        finally:
            held.set()
            connection.close()

    def promote(bootcamp):
        try:
            services.waitlist_promote(bootcamp=bootcamp)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    editing = threading.Thread(target=edit_w1)
    editing.start()
    assert held.wait(TIMEOUT)
    first = threading.Thread(target=promote, args=(b1,))
    first.start()
    time.sleep(0.3)
    second = threading.Thread(target=promote, args=(b2,))
    second.start()
    time.sleep(0.3)
    release.set()
    for thread in (editing, first, second):
        thread.join(TIMEOUT)

    assert errors == []
    active = Enrollment.objects.filter(status=Status.ACTIVE)
    assert set(active.filter(bootcamp=b1).values_list("student", flat=True)) >= {w1.pk, w2.pk}
    assert set(active.filter(bootcamp=b2).values_list("student", flat=True)) >= {w1.pk, w2.pk}
