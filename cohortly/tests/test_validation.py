"""clean_edit: an edit validates its fields and the constraints they take part in."""

import pytest
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from bootcamps.models import Bootcamp
from cohortly.models import clean_edit, constraint_fields
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_each_constraint_names_the_fields_it_reads():
    """Every constraint of the project's models reads fields of its model; a
    check comparing two fields reads both (Q.referenced_base_fields, which
    clean_edit relies on, counts the F() side)."""
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            names = {field.name for field in model._meta.fields}
            fields = constraint_fields(constraint, model)
            assert fields and fields <= names, (model, constraint.name, fields)
    [end_after_start] = [c for c in Bootcamp._meta.constraints if c.name == "bootcamp_end_after_start"]
    assert constraint_fields(end_after_start, Bootcamp) == {"start_date", "end_date"}


def test_a_constraint_is_checked_with_the_unchanged_fields_it_reads():
    """Only the status changes; the check that reads it with waitlist_seq runs,
    with waitlist_seq as the row holds it. Unchanged fields are not validated
    again (a value the database holds stands)."""
    enrollment = EnrollmentFactory()
    enrollment.status = Enrollment.Status.WAITLISTED
    with pytest.raises(ValidationError) as info:
        clean_edit(enrollment, {"status"})
    assert info.value.message_dict == {
        NON_FIELD_ERRORS: ["Constraint “enrollment_waitlist_seq_iff_waitlisted” is violated."]
    }

    enrollment.refresh_from_db()
    enrollment.status = Enrollment.Status.CANCELLED
    enrollment.student_id = None  # a field the edit (and its constraints) does not read: left alone
    clean_edit(enrollment, {"status"})
    with pytest.raises(ValidationError) as info:
        clean_edit(enrollment, {"status", "student"})
    assert info.value.message_dict == {"student": ["This field cannot be null."]}
