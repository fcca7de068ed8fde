from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from bootcamps.models import Bootcamp


class BootcampFactory(factory.django.DjangoModelFactory):
    """A published bootcamp that starts in two weeks, with 10 seats."""

    class Meta:
        model = Bootcamp
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Bootcamp {n}")
    slug = factory.Sequence(lambda n: f"bootcamp-{n}")
    description = "Learn things by building things."
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))
    end_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(days=60))
    capacity = 10
    price = Decimal("4500.00")
    currency = "EUR"
    delivery_format = Bootcamp.DeliveryFormat.ONLINE
    location = ""
    status = Bootcamp.Status.PUBLISHED

    @factory.post_generation
    def instructors(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.instructors.set(extracted)

    @factory.post_generation
    def mentors(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.mentors.set(extracted)


class DraftBootcampFactory(BootcampFactory):
    status = Bootcamp.Status.DRAFT


class ArchivedBootcampFactory(BootcampFactory):
    status = Bootcamp.Status.ARCHIVED


class RunningBootcampFactory(BootcampFactory):
    """Started a week ago, ends in seven weeks: its students can complete it."""

    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
