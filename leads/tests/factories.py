import datetime

import factory
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from bootcamps.models import Bootcamp
from leads.models import Lead, LeadActivity


class BootcampFactory(factory.django.DjangoModelFactory):
    """A published bootcamp that runs from next month (open for enrollment)."""

    class Meta:
        model = Bootcamp

    title = factory.Sequence(lambda n: f"Bootcamp {n}")
    slug = factory.Sequence(lambda n: f"bootcamp-{n}")
    start_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    end_date = factory.LazyAttribute(lambda o: o.start_date + datetime.timedelta(days=90))
    capacity = 10
    price = "4900.00"
    status = Bootcamp.Status.PUBLISHED


class SalesUserFactory(UserFactory):
    role = User.Role.SALES


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    phone = factory.Sequence(lambda n: f"+33 6 {n:08d}")
    source = Lead.Source.WEBSITE
    status = Lead.Status.NEW


class LeadActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadActivity

    lead = factory.SubFactory(LeadFactory)
    kind = LeadActivity.Kind.NOTE
    body = factory.Faker("sentence")
