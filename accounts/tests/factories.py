import factory
from django.utils import timezone

from accounts.models import User

DEFAULT_PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = User.Role.STUDENT
    is_active = True
    # Proven, as every account that logs in is; pass None for one nobody has proven.
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminFactory(UserFactory):
    role = User.Role.ADMIN


class SalesFactory(UserFactory):
    role = User.Role.SALES


class InstructorFactory(UserFactory):
    role = User.Role.INSTRUCTOR


class MentorFactory(UserFactory):
    role = User.Role.MENTOR


class StudentFactory(UserFactory):
    role = User.Role.STUDENT


# Names and phones every path must refuse: control characters (Unicode Cc:
# line breaks, tabs, terminal escapes, C1 controls, DEL) and phones without
# at least six digits.
JUNK_NAMES = ["a\nb\u001b[31m", "Ann\tLee", "Zoe\u0085Smith", "Max\x7fPower"]
JUNK_PHONES = ["------", "((((((", "+ (.) - .", "12345 --"]
