"""Limits that must hold across processes: seats, and throttles shared through Redis."""

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from cohortly.tests.live_servers import gunicorn, request

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
def test_login_throttle_holds_across_workers_and_servers():
    """Two servers with two workers each share one Redis: the client address's
    login limit is counted once, not per process (each guess at another account,
    so only the address's limit can refuse)."""
    env = {
        "REDIS_URL": os.environ["REDIS_URL"],
        "CACHE_KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
        "THROTTLE_LOGIN_ADDRESS_RATE": "6/hour",  # an hour window: the test never straddles two,
    }
    with gunicorn(workers=2, env=env) as first, gunicorn(workers=2, env=env) as second:

        def guess(i):
            body = {"email": f"nobody{i}@example.com", "password": "wrong-password"}
            return request("POST", f"{(first, second)[i % 2]}/api/v1/auth/login", json_body=body)[0]

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(guess, range(20)))
    assert statuses.count(401) == 6, statuses
    assert statuses.count(429) == 14, statuses


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
def test_login_throttle_per_account_holds_across_workers_and_servers():
    """Guesses at one account, each from another address (behind one proxy),
    through two servers with two workers each: the account's limit is counted
    once in Redis, whichever process and address each guess comes through."""
    env = {
        "REDIS_URL": os.environ["REDIS_URL"],
        "CACHE_KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
        "THROTTLE_LOGIN_RATE": "6/hour",
        "NUM_PROXIES": "1",
    }
    body = {"email": "Someone@Example.com", "password": "wrong-password"}
    with gunicorn(workers=2, env=env) as first, gunicorn(workers=2, env=env) as second:

        def guess(i):
            url = f"{(first, second)[i % 2]}/api/v1/auth/login"
            return request("POST", url, json_body=body, headers={"X-Forwarded-For": f"203.0.113.{i}"})[0]

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(guess, range(20)))
    assert statuses.count(401) == 6, statuses
    assert statuses.count(429) == 14, statuses


def test_seat_limits_hold_across_worker_processes(make_user):
    """Enrollments and cancels racing through two gunicorn worker processes:
    never more ACTIVE than seats, the waitlist contiguous and in order, no 5xx."""
    import json

    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from enrollments.models import Enrollment
    from enrollments.selectors import enrollment_annotate_waitlist_position
    from enrollments.tests.factories import BootcampFactory

    bootcamp = BootcampFactory(capacity=5)
    students = [make_user(User.Role.STUDENT) for _ in range(24)]
    tokens = {s.pk: str(AccessToken.for_user(s)) for s in students}
    env = {"THROTTLE_USER_RATE": "100000/min", "THROTTLE_ANON_RATE": "100000/min"}
    with gunicorn(workers=2, env=env) as base:
        url = f"{base}/api/v1/enrollments/"

        def enroll(student):
            return request("POST", url, json_body={"bootcamp": bootcamp.pk}, token=tokens[student.pk])

        with ThreadPoolExecutor(max_workers=12) as pool:
            first = list(pool.map(enroll, students[:16]))
        assert all(status == 201 for status, _ in first), first
        active = [json.loads(body)["id"] for status, body in first if json.loads(body)["status"] == "ACTIVE"]
        assert len(active) == 5

        # Cancel three seat holders while eight more students enroll.
        by_id = {e.pk: e.student_id for e in Enrollment.objects.filter(pk__in=active)}

        def cancel(enrollment_id):
            return request("POST", f"{url}{enrollment_id}/cancel", token=tokens[by_id[enrollment_id]])

        with ThreadPoolExecutor(max_workers=12) as pool:
            results = [pool.submit(cancel, pk) for pk in active[:3]]
            results += [pool.submit(enroll, s) for s in students[16:]]
            statuses = [future.result()[0] for future in results]
    assert all(status < 500 for status in statuses), statuses
    assert all(status in (200, 201) for status in statuses), statuses

    rows = enrollment_annotate_waitlist_position(Enrollment.objects.filter(bootcamp=bootcamp))
    assert rows.filter(status="ACTIVE").count() == 5
    assert rows.filter(status="CANCELLED").count() == 3
    waiting = list(rows.filter(status="WAITLISTED").order_by("waitlist_seq"))
    assert [e.waitlist_position for e in waiting] == list(range(1, len(waiting) + 1))
    assert len(waiting) == 24 - 5 - 3


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
def test_a_logout_on_one_server_stops_the_access_token_on_every_process(make_user):
    """Two servers with two workers each, every worker holding the user in its
    cache: a device's logout through one server ends that device's access token
    on all of them at once, and a logout-all through the other ends the rest."""
    import json

    from accounts.tests.factories import DEFAULT_PASSWORD

    user = make_user(email="ann@example.com")
    env = {
        "REDIS_URL": os.environ["REDIS_URL"],
        "CACHE_KEY_PREFIX": f"sessions-test-{uuid.uuid4().hex}",
        "USER_CACHE_SECONDS": "60",
        "THROTTLE_USER_RATE": "100000/min",
        "THROTTLE_ANON_RATE": "100000/min",
    }
    with gunicorn(workers=2, env=env) as first, gunicorn(workers=2, env=env) as second:

        def login():
            body = {"email": user.email, "password": DEFAULT_PASSWORD}
            status, raw = request("POST", f"{first}/api/v1/auth/login", json_body=body)
            assert status == 200, raw
            return json.loads(raw)

        def me_statuses(tokens, times=8):
            """/auth/me on both servers, enough times to reach every worker."""
            urls = [f"{(first, second)[i % 2]}/api/v1/auth/me" for i in range(times)]
            with ThreadPoolExecutor(max_workers=4) as pool:
                return set(pool.map(lambda url: request("GET", url, token=tokens["access"])[0], urls))

        laptop, phone = login(), login()
        assert me_statuses(laptop) == {200} and me_statuses(phone) == {200}  # cached everywhere

        status, _ = request(
            "POST",
            f"{first}/api/v1/auth/logout",
            json_body={"refresh": laptop["refresh"]},
            token=laptop["access"],
        )
        assert status == 204
        assert me_statuses(laptop) == {401}
        assert me_statuses(phone) == {200}

        status, _ = request("POST", f"{second}/api/v1/auth/logout-all", token=phone["access"])
        assert status == 204
        assert me_statuses(phone) == {401}
