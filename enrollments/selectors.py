"""Enrollment reads: one scope per role, shared by the API and the admin."""

from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, When

from accounts.models import User
from accounts.permissions import SALES_TEAM, has_role
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment


def enrollment_annotate_waitlist_position(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """`waitlist_position`: 1 = next in line, counted from waitlist_seq among the
    bootcamp's waitlisted enrollments; NULL unless WAITLISTED."""
    ahead_or_same = (
        Enrollment.objects.filter(
            bootcamp=OuterRef("bootcamp"),
            status=Enrollment.Status.WAITLISTED,
            waitlist_seq__lte=OuterRef("waitlist_seq"),
        )
        .order_by()
        .values("bootcamp")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        waitlist_position=Case(
            When(
                status=Enrollment.Status.WAITLISTED,
                then=Subquery(ahead_or_same, output_field=IntegerField()),
            ),
            default=None,
            output_field=IntegerField(),
        )
    )


#: What a row of the API's enrollment list shows.
ENROLLMENT_ROW_COLUMNS = (
    "id",
    "status",
    "waitlist_position",
    "enrolled_at",
    "updated_at",
    "student__id",
    "student__full_name",
    "student__email",
    "bootcamp__id",
    "bootcamp__title",
    "bootcamp__slug",
    "bootcamp__start_date",
    "bootcamp__end_date",
    "bootcamp__status",
)


def enrollment_list_for(user) -> QuerySet[Enrollment]:
    """The enrollments `user` may see. ADMIN and SALES: all; INSTRUCTOR: those of
    the bootcamps they teach; MENTOR: of the bootcamps they mentor; STUDENT:
    their own; anyone else: none. Outside the scope a row is simply not found."""
    queryset = Enrollment.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if has_role(user, SALES_TEAM):
        pass
    elif user.role == User.Role.INSTRUCTOR:
        queryset = queryset.filter(bootcamp__in=Bootcamp.objects.filter(instructors=user).values("pk"))
    elif user.role == User.Role.MENTOR:
        queryset = queryset.filter(bootcamp__in=Bootcamp.objects.filter(mentors=user).values("pk"))
    elif user.role == User.Role.STUDENT:
        queryset = queryset.filter(student=user)
    else:
        return queryset.none()
    # Only the columns the API shows: no password hashes, no descriptions.
    shown = [column for column in ENROLLMENT_ROW_COLUMNS if column != "waitlist_position"]
    queryset = queryset.select_related("student", "bootcamp").only(
        *shown, "waitlist_seq", "student_id", "bootcamp_id"
    )
    return enrollment_annotate_waitlist_position(queryset)


def enrollment_get_for(user, pk) -> Enrollment:
    """One enrollment in `user`'s scope (Enrollment.DoesNotExist otherwise)."""
    return enrollment_list_for(user).get(pk=pk)


def enrollment_rows(queryset: QuerySet[Enrollment]) -> QuerySet:
    """A (filtered, ordered) enrollment_list_for queryset as plain rows for the
    API's list: no model instances to build for a page of 20."""
    return queryset.values(*ENROLLMENT_ROW_COLUMNS)
