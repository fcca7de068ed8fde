import pytest

from bootcamps.tests.conftest import no_throttle  # noqa: F401  (shared fixture)


@pytest.fixture
def enroll(make_user):
    """enroll(bootcamp, n) -> n new students enrolled through the service, in order."""
    from enrollments.services import enrollment_create

    def _enroll(bootcamp, n=1, notify=False):
        return [
            enrollment_create(student=make_user("STUDENT"), bootcamp=bootcamp, notify=notify)
            for _ in range(n)
        ]

    return _enroll
