import factory

from mail.models import OutboundEmail, SuppressedAddress


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    to = factory.Sequence(lambda n: f"person{n}@example.com")
    template = "welcome"
    subject = "Welcome to Cohortly"
    body = "Hello!"
    status = OutboundEmail.Status.SENT
    attempts = 1
    provider_message_id = factory.Faker("uuid4")


class SuppressedAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuppressedAddress

    address = factory.Sequence(lambda n: f"bounced{n}@example.com")
    reason = SuppressedAddress.Reason.BOUNCED
    detail = "550 5.1.1 The email account that you tried to reach does not exist."
