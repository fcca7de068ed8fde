"""The seat lock gives up: while another transaction holds a bootcamp's row
lock, an enrollment waits at most cohortly.locking.LOCK_TIMEOUT and then gets
a clear "busy" answer in the API's error shape, with nothing stored.

PostgreSQL only: SQLite has no row locks (it serialises whole writes).
"""

import time

import pytest

from accounts.models import User
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory
from conftest import assert_error, auth_client
from enrollments.models import Enrollment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def client_of(user):
    client = auth_client(user)
    # A 503 is reported like any server error (got_request_exception); answer it
    # as a real server does instead of re-raising it in the test.
    client.raise_request_exception = False
    return client


def test_an_enrollment_behind_a_held_seat_lock_is_busy_not_hung(hold_lock, make_user, mailoutbox):
    bootcamp = BootcampFactory(capacity=5)
    student = make_user(User.Role.STUDENT)
    client = client_of(student)
    hold_lock(bootcamp)

    started = time.monotonic()
    response = client.post("/api/v1/enrollments/", {"bootcamp": bootcamp.pk}, format="json")
    waited = time.monotonic() - started

    body = assert_error(response, 503, "busy")
    assert body["type"] == "server_error"
    assert body["errors"][0]["detail"] == (
        "This bootcamp's seats are being changed by another request; try again in a moment."
    )
    assert response["Retry-After"] == "1"
    assert 2.5 < waited < 8, waited  # the 3 s lock_timeout, not the other transaction's length
    assert not Enrollment.objects.exists()
    assert mailoutbox == []


def test_capacity_changes_give_up_the_same_way_and_all_works_once_it_is_free(hold_lock, make_user):
    bootcamp = BootcampFactory(capacity=5)
    admin_client = client_of(make_user(User.Role.ADMIN))
    student_client = client_of(make_user(User.Role.STUDENT))
    release = hold_lock(bootcamp)

    response = admin_client.patch(f"/api/v1/bootcamps/{bootcamp.pk}/", {"capacity": 6}, format="json")
    assert_error(response, 503, "busy")
    assert Bootcamp.objects.get(pk=bootcamp.pk).capacity == 5

    release()
    response = student_client.post("/api/v1/enrollments/", {"bootcamp": bootcamp.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "ACTIVE"


def test_a_lock_timeout_after_the_first_lock_is_busy_too():
    """lock_timeout holds for the whole transaction: a later lock wait (the
    waitlist's rows, say) that runs out is the same 503 busy, not a 503 that
    says the database is down."""
    from django.db import OperationalError

    from cohortly.exceptions import ExceptionHandler

    class LockNotAvailable(Exception):
        sqlstate = "55P03"

    exc = OperationalError("canceling statement due to lock timeout")
    exc.__cause__ = LockNotAvailable()
    converted = ExceptionHandler(exc, {}).convert_known_exceptions(exc)
    assert (converted.status_code, converted.get_codes(), converted.wait) == (503, "busy", 1)
