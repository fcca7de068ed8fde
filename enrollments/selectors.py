"""Enrollment reads: one scope per role, used by the API."""

from django.db.models import Expression, IntegerField, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.permissions import SALES_TEAM, has_role
from bootcamps.models import Bootcamp
from cohortly.caching import Scoped
from enrollments.models import Enrollment

#: The columns enrollment_scope loads: an enrollment's, and its student's and
#: bootcamp's as an enrollment shows them.
ENROLLMENT_COLUMNS = (
    "id",
    "student",
    "bootcamp",
    "status",
    "waitlist_seq",
    "enrolled_at",
    "completed_at",
    "updated_at",
)
STUDENT_COLUMNS = ("id", "full_name", "email")
BOOTCAMP_COLUMNS = ("id", "title", "slug", "start_date", "end_date", "status")


class WaitlistPosition(Expression):
    """1 = next in line: how many of the bootcamp's WAITLISTED enrollments have a
    waitlist_seq up to this one's; NULL unless the row is WAITLISTED.

    Written as SQL rather than Case(When(Subquery(...))): the same query, but
    the ORM took longer to resolve and compile that expression on every list
    request than the database took to run it. The outer table's alias is read
    at compile time, so the expression holds wherever the query is used."""

    output_field = IntegerField()

    # Only quoted identifiers from the model and the WAITLISTED constant go into
    # the text. The constant is written as a literal, not a parameter: a query
    # without parameters is planned once per connection when prepared
    # (DB_PREPARED_STATEMENTS), where PostgreSQL re-planned the parameterised
    # one on every run.
    template = (
        "CASE WHEN {outer}.{status} = {waitlisted} THEN (SELECT COUNT(*) FROM {table} waitlist_ahead"
        " WHERE waitlist_ahead.{bootcamp} = {outer}.{bootcamp} AND waitlist_ahead.{status} = {waitlisted}"
        " AND waitlist_ahead.{seq} <= {outer}.{seq}) END"
    )

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        meta = Enrollment._meta
        waitlisted = Enrollment.Status.WAITLISTED.value
        if not waitlisted.isalpha():  # a model constant; never anything that needs escaping
            raise ValueError(f"Unexpected status value {waitlisted!r}")
        sql = self.template.format(
            outer=compiler.quote_name_unless_alias(compiler.query.base_table),
            table=quote(meta.db_table),
            status=quote(meta.get_field("status").column),
            bootcamp=quote(meta.get_field("bootcamp").column),
            seq=quote(meta.get_field("waitlist_seq").column),
            waitlisted=f"'{waitlisted}'",
        )
        return sql, ()


def enrollment_annotate_waitlist_position(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """Adds `waitlist_position` (WaitlistPosition) to each enrollment."""
    return queryset.annotate(waitlist_position=WaitlistPosition())


def enrollment_scope(user) -> Scoped:
    """The enrollments `user` may see, and the key of that scope. ADMIN and SALES:
    all; INSTRUCTOR: those of the bootcamps they teach; MENTOR: of the bootcamps
    they mentor; STUDENT: their own; anyone else: none. Outside the scope a row
    is simply not found. Ready to show: student and bootcamp joined, the waitlist
    position annotated."""
    if not (user and user.is_authenticated and user.is_active):
        key, narrow, depends = "none", lambda queryset: queryset.none(), []
    elif has_role(user, SALES_TEAM):
        key, narrow, depends = "all", lambda queryset: queryset, []
    elif user.role == User.Role.INSTRUCTOR:
        key = f"instructor:{user.pk}"
        depends = [(Enrollment, "bootcamp"), (Bootcamp, "instructors")]

        def narrow(queryset):
            return queryset.filter(bootcamp__in=Bootcamp.objects.filter(instructors=user).values("pk"))
    elif user.role == User.Role.MENTOR:
        key = f"mentor:{user.pk}"
        depends = [(Enrollment, "bootcamp"), (Bootcamp, "mentors")]

        def narrow(queryset):
            return queryset.filter(bootcamp__in=Bootcamp.objects.filter(mentors=user).values("pk"))
    elif user.role == User.Role.STUDENT:
        key = f"student:{user.pk}"
        depends = [(Enrollment, "student")]

        def narrow(queryset):
            return queryset.filter(student=user)
    else:
        key, narrow, depends = "none", lambda queryset: queryset.none(), []

    def build():
        queryset = (
            narrow(Enrollment.objects.all())
            .select_related("student", "bootcamp")
            # What an enrollment shows (EnrollmentSerializer); the services re-read
            # the row under its lock. The student's and bootcamp's other columns
            # (a password hash, a description, the sessions' JSON) are never loaded.
            .only(
                *ENROLLMENT_COLUMNS,
                *(f"student__{name}" for name in STUDENT_COLUMNS),
                *(f"bootcamp__{name}" for name in BOOTCAMP_COLUMNS),
            )
        )
        return enrollment_annotate_waitlist_position(queryset)

    tables = (Enrollment, User, Bootcamp, Bootcamp.instructors.through, Bootcamp.mentors.through)
    return Scoped(key, tables, build, depends=depends)


def on_user_still_holds(sender, *, user: User, **kwargs) -> str | None:
    """accounts.signals.user_still_holds: the seats a deactivated student still
    holds in bootcamps not yet over (nobody else can have them until the
    enrollment is cancelled or dropped), and the waitlists they are passed
    over in meanwhile."""
    mine = (
        Enrollment.objects.filter(student=user, bootcamp__end_date__gte=timezone.localdate())
        .exclude(bootcamp__status=Bootcamp.Status.ARCHIVED)
        .order_by("bootcamp__start_date", "bootcamp__title")
    )
    seats = list(mine.filter(status=Enrollment.Status.ACTIVE).values_list("bootcamp__title", flat=True))
    lines = list(mine.filter(status=Enrollment.Status.WAITLISTED).values_list("bootcamp__title", flat=True))
    if not seats and not lines:
        return None
    name = user.full_name or user.email
    said = []
    if seats:
        several = len(seats) > 1
        said.append(
            f"{name} still holds a seat in {', '.join(seats)}: cancel or drop "
            f"{'those enrollments' if several else 'the enrollment'} to give {'them' if several else 'it'} "
            "to the waitlist (Enrollments, search for them)."
        )
    if lines:
        whose = "Their" if seats else f"{name}'s"
        said.append(
            f"{whose} place in line for {', '.join(lines)} is passed over while the account is deactivated."
        )
    return " ".join(said)


def enrollment_list_for(user) -> QuerySet[Enrollment]:
    """enrollment_scope(user)'s rows."""
    return enrollment_scope(user).queryset


def enrollment_get_for(user, pk) -> Enrollment:
    """One enrollment in `user`'s scope (Enrollment.DoesNotExist otherwise)."""
    return enrollment_list_for(user).get(pk=pk)
