"""Bootcamp reads: querysets scoped to a user, with seats counted (never stored)."""

import uuid

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from accounts.models import User
from bootcamps.models import Bootcamp
from bootcamps.permissions import can_see_all_bootcamps
from cohortly.counting import CompiledLookup


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


# --- The read path of the API's list and detail -----------------------------
# The two most requested endpoints read plain rows (values()) and their people
# in one more query, instead of model instances, prefetches and a
# ModelSerializer: the same data for a fraction of the cost.
# bootcamps.api.presenters turns them into exactly what BootcampSerializer
# renders (a test holds the two to each other).

BOOTCAMP_COLUMNS = (
    "id",
    "title",
    "slug",
    "description",
    "start_date",
    "end_date",
    "capacity",
    "price",
    "currency",
    "delivery_format",
    "location",
    "status",
    "created_at",
    "updated_at",
)


def bootcamp_values(queryset: QuerySet[Bootcamp]) -> QuerySet:
    """A (filtered, ordered) bootcamp queryset as plain dicts: no seats, no people
    (bootcamp_page_details adds both for the rows of one page)."""
    return queryset.values(*BOOTCAMP_COLUMNS)


#: This worker's compiled lookup of one bootcamp, per database and scope.
_row_lookups: dict[tuple[str, bool], CompiledLookup] = {}


def bootcamp_row_for(user, pk: int) -> dict | None:
    """The bootcamp `pk` in `user`'s scope as bootcamp_values() gives it, or None
    (not there, or not for them). Its SQL is compiled once per scope."""
    everything = can_see_all_bootcamps(user)
    key = (Bootcamp.objects.db, everything)
    lookup = _row_lookups.get(key)
    if lookup is None:
        lookup = CompiledLookup(lambda pk: bootcamp_values(bootcamp_scope_for(user).filter(pk=pk)))
        _row_lookups[key] = lookup
    return lookup.get(pk)


def bootcamp_page_details(bootcamp_ids) -> dict[int, dict]:
    """For the bootcamps of one page, in one query: the seats held (ACTIVE and
    COMPLETED enrollments, counted) and the instructors and mentors by name:
    {bootcamp id: {"seats_taken": n, "instructors": [(user id, name)], "mentors": [...]}}.

    Raw SQL on purpose: this runs on every list and detail request, its shape
    never changes, and building it with the ORM (a union of three querysets)
    took longer than the database took to answer it.
    """
    from enrollments.models import Enrollment

    details = {pk: {"seats_taken": 0, "instructors": [], "mentors": []} for pk in bootcamp_ids}
    if not details:
        return details
    ids = list(details)
    if connection.vendor == "postgresql":
        # One array parameter per branch: the SQL is the same for every page, so
        # psycopg converts it once (it re-parses any query of more than 50
        # parameters, which a page of 20 in three IN lists was) and PostgreSQL
        # keeps one prepared statement for it.
        match, match_params = "= ANY(%s::bigint[])", [ids]
    else:
        match, match_params = "IN ({})".format(", ".join(["%s"] * len(ids))), ids
    user_table = User._meta.db_table
    branches, params = [], []
    for relation in ("instructors", "mentors"):
        through = getattr(Bootcamp, relation).through._meta.db_table
        branches.append(
            # Table names come from _meta and the values are parameters.
            f"SELECT t.bootcamp_id, '{relation}', t.user_id, u.full_name, 0 "  # noqa: S608
            f"FROM {through} t JOIN {user_table} u ON u.id = t.user_id WHERE t.bootcamp_id {match}"
        )
        params += match_params
    seat_marks = ", ".join(["%s"] * len(Enrollment.SEAT_HOLDING))
    branches.append(
        f"SELECT bootcamp_id, 'seats', NULL, NULL, COUNT(*) FROM {Enrollment._meta.db_table} "  # noqa: S608
        f"WHERE bootcamp_id {match} AND status IN ({seat_marks}) GROUP BY bootcamp_id"
    )
    params += [*match_params, *Enrollment.SEAT_HOLDING]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        rows = cursor.fetchall()
    people = []
    for bootcamp_id, kind, user_id, full_name, count in rows:
        if kind == "seats":
            details[bootcamp_id]["seats_taken"] = count
        else:
            # PostgreSQL returns a UUID, SQLite its 32 hex digits.
            user_id = str(user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(user_id))
            people.append((full_name, user_id, bootcamp_id, kind))
    # Each list ordered by name, then id, like the serializer's prefetch.
    for full_name, user_id, bootcamp_id, kind in sorted(people):
        details[bootcamp_id][kind].append((user_id, full_name))
    return details
