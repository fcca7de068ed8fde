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
    native, imported, completed_here, active = (
        enroll(StudentFactory(), bootcamp, status=status)
        for status in ("COMPLETED", "COMPLETED", "COMPLETED", "ACTIVE")
    )
    changed = datetime.datetime(2026, 6, 1, 9, 30, tzinfo=datetime.UTC)
    in_node = datetime.datetime(2026, 5, 20, 17, 0, tzinfo=datetime.UTC)
    Enrollment.objects.update(completed_at=None, updated_at=changed)
    # Completed in Node, then imported: its last change here is the import, later.
    imported_at = datetime.datetime(2026, 7, 1, 8, 0, tzinfo=datetime.UTC)
    Enrollment.objects.filter(pk=imported.pk).update(legacy_updated_at=in_node, updated_at=imported_at)
    # Imported while ACTIVE (its Node row's stamp is old), completed here later.
    Enrollment.objects.filter(pk=completed_here.pk).update(legacy_updated_at=in_node)

    migration.completed_when_last_changed(apps, None)

    stamps = dict(Enrollment.objects.values_list("pk", "completed_at"))
    # The later stamp: never a completion earlier than it was, which would hide missing work.
    assert stamps == {
        native.pk: changed,
        imported.pk: imported_at,
        completed_here.pk: changed,
        active.pk: None,
    }
