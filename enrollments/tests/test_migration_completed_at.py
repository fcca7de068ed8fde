"""enrollments 0005: completed enrollments get their completion time from their last change."""

import datetime
import importlib

import pytest
from django.apps import apps

from accounts.tests.factories import StudentFactory
from assignments.tests.factories import enroll
from bootcamps.tests.factories import BootcampFactory
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db

migration = importlib.import_module("enrollments.migrations.0005_enrollment_completed_at")


def test_completed_enrollments_are_stamped_with_their_last_change():
    bootcamp = BootcampFactory()
    native = enroll(StudentFactory(), bootcamp, status=Enrollment.Status.COMPLETED)
    imported = enroll(StudentFactory(), bootcamp, status=Enrollment.Status.COMPLETED)
    active = enroll(StudentFactory(), bootcamp)
    changed = datetime.datetime(2026, 6, 1, 9, 30, tzinfo=datetime.UTC)
    in_node = datetime.datetime(2026, 5, 20, 17, 0, tzinfo=datetime.UTC)
    Enrollment.objects.update(completed_at=None, updated_at=changed)
    Enrollment.objects.filter(pk=imported.pk).update(legacy_updated_at=in_node)

    migration.completed_when_last_changed(apps, None)

    stamps = dict(Enrollment.objects.values_list("pk", "completed_at"))
    assert stamps == {native.pk: changed, imported.pk: in_node, active.pk: None}
