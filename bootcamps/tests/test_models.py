"""The invariants the database itself holds, whatever code writes the rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"capacity": 0}, "bootcamp_capacity_positive"),
        ({"price": Decimal("-0.01")}, "bootcamp_price_not_negative"),
        ({"status": "LIVE"}, "bootcamp_status_valid"),
        ({"delivery_format": "MOON"}, "bootcamp_delivery_format_valid"),
    ],
)
def test_check_constraints_refuse_bad_rows(changes, constraint):
    bootcamp = BootcampFactory()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Bootcamp.objects.filter(pk=bootcamp.pk).update(**changes)
    bootcamp.refresh_from_db()
    assert bootcamp.capacity == 10 and bootcamp.status == Bootcamp.Status.PUBLISHED


def test_end_date_before_start_date_is_refused_by_the_database():
    bootcamp = BootcampFactory()
    with pytest.raises(IntegrityError, match="bootcamp_end_after_start"), transaction.atomic():
        Bootcamp.objects.filter(pk=bootcamp.pk).update(end_date=bootcamp.start_date - timedelta(days=1))


def test_a_one_day_bootcamp_is_allowed():
    bootcamp = BootcampFactory()
    Bootcamp.objects.filter(pk=bootcamp.pk).update(end_date=bootcamp.start_date)
    bootcamp.refresh_from_db()
    assert bootcamp.end_date == bootcamp.start_date


def test_slug_is_unique_in_the_database():
    BootcampFactory(slug="python")
    with pytest.raises(IntegrityError), transaction.atomic():
        BootcampFactory(slug="python")


def test_clean_puts_the_date_error_on_end_date():
    bootcamp = BootcampFactory.build(end_date=None)
    bootcamp.end_date = bootcamp.start_date - timedelta(days=1)
    with pytest.raises(Exception) as info:
        bootcamp.full_clean(exclude=["slug"])
    assert "end_date" in info.value.message_dict
    # The constraint is not reported a second time as a non-field error.
    assert "__all__" not in info.value.message_dict
