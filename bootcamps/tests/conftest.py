import pytest

from bootcamps.api.views import BootcampViewSet


@pytest.fixture
def no_throttle(monkeypatch):
    """Throttle counters live in the database cache and would add queries that
    have nothing to do with the view being counted."""
    from enrollments.api.views import EnrollmentViewSet

    monkeypatch.setattr(BootcampViewSet, "throttle_classes", [])
    monkeypatch.setattr(EnrollmentViewSet, "throttle_classes", [])
