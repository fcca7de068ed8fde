"""Bootcamp reads: querysets scoped to a user, with seats counted (never stored)."""

from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from bootcamps.models import Bootcamp
from bootcamps.permissions import can_see_all_bootcamps
from cohortly.caching import Scoped


def bootcamp_completions(bootcamp: Bootcamp) -> int:
    """How many of the bootcamp's enrollments are COMPLETED."""
    from enrollments.models import Enrollment

    return Enrollment.objects.filter(bootcamp=bootcamp, status=Enrollment.Status.COMPLETED).count()


def bootcamp_annotate_seats(queryset: QuerySet[Bootcamp]) -> QuerySet[Bootcamp]:
    """Add `seats_taken`, the bootcamp's enrollments that hold a seat (ACTIVE,
    COMPLETED), and `seats_left` (capacity - seats_taken, never below 0).

    A correlated subquery rather than Count() over a join, so filters that join
    other tables (instructors, mentors) can never multiply the count. COUNT()
    as a plain function, not an aggregate: without a GROUP BY the subquery
    always answers one row (0 for none), and the ORM has less to build on every
    request than Coalesce(Subquery(... .annotate(Count()))). test_selectors
    holds it to the ORM's Count().
    """
    from enrollments.models import Enrollment

    taken = (
        Enrollment.objects.filter(bootcamp=OuterRef("pk"), status__in=Enrollment.SEAT_HOLDING)
        .order_by()
        .values(n=Func("pk", function="COUNT"))
    )
    return queryset.annotate(seats_taken=Subquery(taken, output_field=IntegerField())).annotate(
        seats_left=Greatest(F("capacity") - F("seats_taken"), Value(0))
    )


def _people(relation: str) -> Prefetch:
    """The bootcamp's `relation` as a plain list in `<relation>_by_name`, ordered by
    name: reading a list costs nothing per row, where a prefetched manager builds
    a manager and a queryset on every access. Only the columns shown are loaded."""
    return Prefetch(
        relation,
        queryset=User.objects.only("id", "full_name").order_by("full_name", "id"),
        to_attr=f"{relation}_by_name",
    )


def bootcamp_scope_for(user) -> Scoped:
    """The bootcamps `user` may see, and the key of that scope: staff roles see
    all of them, everyone else (students and anonymous visitors) the PUBLISHED
    ones. The key names the scope, not the user: everyone in it sees the same rows."""
    if can_see_all_bootcamps(user):
        return Scoped("all", (Bootcamp,), lambda: Bootcamp.objects.all())
    return Scoped(
        "published",
        (Bootcamp,),
        lambda: Bootcamp.objects.filter(status=Bootcamp.Status.PUBLISHED),
        depends=[(Bootcamp, "status")],
    )


def bootcamp_list_for(user) -> Scoped:
    """bootcamp_scope_for(user) ready to show: a fixed number of queries however
    many rows, because seats are annotated (`seats_taken`, `seats_left`) and people
    prefetched (`instructors_by_name`, `mentors_by_name`)."""
    from enrollments.models import Enrollment

    scope = bootcamp_scope_for(user)
    return Scoped(
        scope.key,
        (Bootcamp, Bootcamp.instructors.through, Bootcamp.mentors.through, User, Enrollment),
        lambda: bootcamp_annotate_seats(scope.queryset).prefetch_related(
            _people("instructors"), _people("mentors")
        ),
        depends=scope.depends,
        shows=lambda bootcamp: [*bootcamp.instructors_by_name, *bootcamp.mentors_by_name],
    )


def on_user_still_holds(sender, *, user: User, **kwargs) -> str | None:
    """accounts.signals.user_still_holds: the bootcamps not yet over (and not
    archived) that a deactivated instructor or mentor is still on the staff of,
    since their students now have nobody in that place."""
    titles = list(
        Bootcamp.objects.filter(end_date__gte=timezone.localdate())
        .exclude(status=Bootcamp.Status.ARCHIVED)
        .filter(Q(instructors=user) | Q(mentors=user))
        .distinct()
        .order_by("start_date", "pk")
        .values_list("title", flat=True)
    )
    if not titles:
        return None
    shown = ", ".join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
    return (
        f"{user.full_name or user.email} is still on the staff of {shown}: give "
        f"{'them' if len(titles) > 1 else 'it'} someone else (the bootcamp's page, People)."
    )
