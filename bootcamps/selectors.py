"""Bootcamp reads: querysets scoped to a user, with seats counted (never stored)."""

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from accounts.models import User
from bootcamps.models import Bootcamp
from bootcamps.permissions import can_see_all_bootcamps


def bootcamp_annotate_seats(queryset: QuerySet[Bootcamp]) -> QuerySet[Bootcamp]:
    """Add `seats_taken` and `seats_left`, counted from the enrollments that hold
    a seat (ACTIVE, COMPLETED).

    A correlated subquery rather than Count() over a join, so filters that join
    other tables (instructors, mentors) can never multiply the count.
    """
    from enrollments.models import Enrollment

    taken = (
        Enrollment.objects.filter(bootcamp=OuterRef("pk"), status__in=Enrollment.SEAT_HOLDING)
        .order_by()
        .values("bootcamp")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        seats_taken=Coalesce(Subquery(taken, output_field=IntegerField()), Value(0))
    ).annotate(seats_left=Greatest(F("capacity") - F("seats_taken"), Value(0)))


def _people(relation: str) -> Prefetch:
    # Only the columns the API shows: no password hashes or emails loaded.
    return Prefetch(relation, queryset=User.objects.only("id", "full_name").order_by("full_name", "id"))


def bootcamp_scope_for(user) -> QuerySet[Bootcamp]:
    """The bootcamps `user` may see: staff roles all of them, everyone else
    (students and anonymous visitors) the PUBLISHED ones."""
    queryset = Bootcamp.objects.all()
    if not can_see_all_bootcamps(user):
        queryset = queryset.filter(status=Bootcamp.Status.PUBLISHED)
    return queryset


def bootcamp_list_for(user) -> QuerySet[Bootcamp]:
    """bootcamp_scope_for(user) ready to show: a fixed number of queries however
    many rows, because seats are annotated and people prefetched."""
    return bootcamp_annotate_seats(bootcamp_scope_for(user)).prefetch_related(
        _people("instructors"), _people("mentors")
    )


def bootcamp_get_for(user, pk) -> Bootcamp:
    """One bootcamp in `user`'s scope (Bootcamp.DoesNotExist otherwise)."""
    return bootcamp_list_for(user).get(pk=pk)
