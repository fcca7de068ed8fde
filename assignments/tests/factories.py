"""Factories for coursework tests. Bootcamps and enrollments are built here too
(directly on the models), so these tests do not depend on other apps' factories."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import InstructorFactory, MentorFactory, StudentFactory
from assignments.models import Assignment, Submission
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment


class BootcampFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bootcamp
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Coursework Bootcamp {n}")
    slug = factory.Sequence(lambda n: f"coursework-bootcamp-{n}")
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=7))
    end_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(days=60))
    capacity = 30
    price = Decimal("1000.00")
    status = Bootcamp.Status.PUBLISHED

    @factory.post_generation
    def instructors(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.instructors.add(*extracted)

    @factory.post_generation
    def mentors(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.mentors.add(*extracted)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    student = factory.SubFactory(StudentFactory)
    bootcamp = factory.SubFactory(BootcampFactory)
    status = Enrollment.Status.ACTIVE


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    bootcamp = factory.SubFactory(BootcampFactory)
    title = factory.Sequence(lambda n: f"Assignment {n}")
    description = "Build the thing and link the repository."
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    max_score = Decimal("10.00")
    is_published = True
    created_by = factory.SubFactory(InstructorFactory)


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    assignment = factory.SubFactory(AssignmentFactory)
    student = factory.SubFactory(StudentFactory)
    content = "My answer."
    link = ""
    submitted_at = factory.LazyFunction(timezone.now)
    is_late = False


class GradedSubmissionFactory(SubmissionFactory):
    score = Decimal("8.00")
    feedback = "Good work."
    graded_by = factory.SubFactory(MentorFactory)
    graded_at = factory.LazyFunction(timezone.now)


def staffed_bootcamp(**kwargs) -> tuple[Bootcamp, User, User]:
    """A bootcamp with one instructor and one mentor: (bootcamp, instructor, mentor)."""
    instructor, mentor = InstructorFactory(), MentorFactory()
    bootcamp = BootcampFactory(instructors=[instructor], mentors=[mentor], **kwargs)
    return bootcamp, instructor, mentor


def enroll(student: User, bootcamp: Bootcamp, status=Enrollment.Status.ACTIVE) -> Enrollment:
    return EnrollmentFactory(
        student=student,
        bootcamp=bootcamp,
        status=status,
        waitlist_seq=1 if status == Enrollment.Status.WAITLISTED else None,
    )
