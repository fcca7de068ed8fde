import pytest

from accounts.models import User
from assignments.tests.factories import BootcampFactory, enroll, staffed_bootcamp

Role = User.Role

#: Anonymous plus the five roles: the rows of every permission-matrix test.
CALLERS = [None, Role.ADMIN, Role.SALES, Role.INSTRUCTOR, Role.MENTOR, Role.STUDENT]


def matrix(expected: dict):
    """pytest parameters (role, expected status) over CALLERS, ids by role name."""
    assert set(expected) == set(CALLERS), "a matrix must cover anonymous and every role"
    return pytest.mark.parametrize(
        ("role", "expected"),
        [(role, expected[role]) for role in CALLERS],
        ids=[role or "anonymous" for role in CALLERS],
    )


@pytest.fixture
def bootcamp(db):
    """A running bootcamp with its own instructor and mentor."""
    return staffed_bootcamp()[0]


@pytest.fixture
def other_bootcamp(db):
    return staffed_bootcamp(title="Another bootcamp")[0]


@pytest.fixture
def member_client(client_for):
    """member_client(role, bootcamp) -> (client, user): a caller of `role` who
    belongs to `bootcamp` — an INSTRUCTOR teaches it, a MENTOR mentors it, a
    STUDENT is ACTIVE in it; ADMIN and SALES just have their role; None is
    anonymous."""

    def _member(role, bootcamp, **kwargs):
        client, user = client_for(role, **kwargs)
        if role == Role.INSTRUCTOR:
            bootcamp.instructors.add(user)
        elif role == Role.MENTOR:
            bootcamp.mentors.add(user)
        elif role == Role.STUDENT:
            enroll(user, bootcamp)
        return client, user

    return _member


@pytest.fixture
def outsider_client(client_for):
    """outsider_client(role) -> (client, user): an INSTRUCTOR/MENTOR/STUDENT of a
    *different* bootcamp."""

    def _outsider(role):
        elsewhere = BootcampFactory()
        client, user = client_for(role)
        if role == Role.INSTRUCTOR:
            elsewhere.instructors.add(user)
        elif role == Role.MENTOR:
            elsewhere.mentors.add(user)
        elif role == Role.STUDENT:
            enroll(user, elsewhere)
        return client, user

    return _outsider


def warm_up(client, url, **params):
    """One request before counting: the first request of a throttle window writes
    its counter row (database cache), later ones update it."""
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
