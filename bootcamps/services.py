"""Bootcamp writes. Each runs in one transaction and validates the model: a new
bootcamp with full_clean, an edit with cohortly.models.clean_edit (the fields it
changes and every constraint they take part in).

Capacity is counted, not stored, so any write that can change how many seats
there are takes the bootcamp's row lock (the same lock enrollments use), then
counts, then writes. What a capacity change means for enrollments (the
waitlist moving up) is enrollments' business: bootcamp_update sends
bootcamps.signals.capacity_changed under that lock and enrollments reacts.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils.text import get_text_list, slugify

from accounts.models import User
from accounts.permissions import ADMIN_ONLY, has_role
from accounts.selectors import users_held
from bootcamps.models import Bootcamp
from bootcamps.permissions import INSTRUCTOR_EDITABLE_FIELDS, bootcamp_is_taught_by
from bootcamps.selectors import bootcamp_annotate_seats, bootcamp_completions
from bootcamps.signals import capacity_changed, opening_changed
from cohortly.dates import site_today
from cohortly.errors import Conflict, NotAllowed
from cohortly.locking import hold_row, lock_row
from cohortly.models import clean_edit

#: The fields bootcamp_create and bootcamp_update take (the API and the admin
#: forms offer exactly these).
WRITABLE_FIELDS = (
    "title",
    "description",
    "start_date",
    "end_date",
    "capacity",
    "price",
    "currency",
    "delivery_format",
    "location",
    "status",
    "instructors",
    "mentors",
)
UPDATABLE_FIELDS = frozenset(WRITABLE_FIELDS)
PEOPLE_FIELDS = {"instructors": User.Role.INSTRUCTOR, "mentors": User.Role.MENTOR}
SLUG_ATTEMPTS = 5


def bootcamp_hold(bootcamp: Bootcamp | None) -> Bootcamp | None:
    """`bootcamp`, kept from being deleted until this transaction ends
    (cohortly.locking.hold_row), for a write that will refer to it (a lead, an
    assignment). A delete then waits for that write and sees it (409
    protected), where it used to commit first and the write failed at its own
    COMMIT: PostgreSQL checks Django's foreign keys only then, a 500 that lost
    the write. None when the bootcamp is gone (or None was given)."""
    if bootcamp is None or not hold_row(Bootcamp, bootcamp.pk):
        return None
    return bootcamp


def bootcamp_lock(bootcamp_id: int) -> Bootcamp:
    """The seat lock: the bootcamp's row, locked for the rest of the transaction.

    Every write that uses seats up or changes how many there are takes it
    first (enrollments.services too), so a seat count read under it holds
    until commit. A wait longer than cohortly.locking.LOCK_TIMEOUT raises Busy.
    """
    return lock_row(
        Bootcamp.objects,
        pk=bootcamp_id,
        busy_message="This bootcamp's seats are being changed by another request; try again in a moment.",
    )


def slug_base(title: str) -> str:
    return slugify(title)[:200].strip("-") or "bootcamp"


def unique_slug(title: str, *, also_taken: set[str] = frozenset()) -> str:
    """slugify(title), then -2, -3 ... until it is free (in the database and in `also_taken`)."""
    base = slug_base(title)
    taken = set(Bootcamp.objects.filter(slug__startswith=base).values_list("slug", flat=True)) | also_taken
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _lock_people(people: Iterable[User]) -> list[User]:
    """The rows of `people`, held (accounts.selectors.users_held): a role change
    arriving now is refused (on_bootcamp_staff)."""
    return users_held(person.pk for person in people)


def _names(people: Iterable[User]) -> str:
    return ", ".join(sorted(person.full_name or person.email for person in people))


def _check_people(field: str, people: Iterable[User], *, keeping: Iterable = ()) -> list[User]:
    """Only users of the field's role may be listed (instructors, mentors), and
    only active ones added: a deactivated person already listed (`keeping`, their
    ids) may stay, as a lead keeps its deactivated owner, until someone else takes
    their place (accounts.signals.user_still_holds says so)."""
    role = PEOPLE_FIELDS[field]
    unique = _lock_people(people)
    wrong = [person for person in unique if person.role != role]
    if wrong:
        raise ValidationError(
            {
                field: ValidationError(
                    f"Only users with the {role.label.lower()} role can be listed here: {_names(wrong)}.",
                    code="invalid_role",
                )
            }
        )
    kept = set(keeping)
    inactive = [person for person in unique if not person.is_active and person.pk not in kept]
    if inactive:
        raise ValidationError(
            {
                field: ValidationError(
                    f"These accounts are deactivated and can't be added: {_names(inactive)}.",
                    code="inactive",
                )
            }
        )
    return unique


def _check_staff_still_staff(bootcamp: Bootcamp, *, keep: Iterable[str]) -> None:
    """A bootcamp leaving ARCHIVED lists only people of their field's role: an
    instructor or mentor may change role while on an archived bootcamp's staff
    only (on_user_role_changing), and would otherwise be back on a live one they
    can't open. `keep`: the people fields this change leaves as they are."""
    for field in sorted(keep):
        role = PEOPLE_FIELDS[field]
        wrong = [person for person in _lock_people(getattr(bootcamp, field).all()) if person.role != role]
        if wrong:
            raise ValidationError(
                {
                    field: ValidationError(
                        f"No longer {role.label.lower()}s: {_names(wrong)}. Take them off (or give them the "
                        "role back) before the bootcamp leaves ARCHIVED.",
                        code="invalid_role",
                    )
                }
            )


@transaction.atomic
def bootcamp_create(
    *,
    title: str,
    start_date: date,
    end_date: date,
    capacity: int,
    price: Decimal,
    currency: str = "EUR",
    description: str = "",
    delivery_format: str = Bootcamp.DeliveryFormat.ONLINE,
    location: str = "",
    status: str = Bootcamp.Status.DRAFT,
    instructors: Iterable[User] = (),
    mentors: Iterable[User] = (),
) -> Bootcamp:
    """Create a bootcamp with a unique slug generated from its title."""
    instructors = _check_people("instructors", instructors)
    mentors = _check_people("mentors", mentors)
    bootcamp = Bootcamp(
        title=title.strip(),
        description=description.strip(),
        start_date=start_date,
        end_date=end_date,
        capacity=capacity,
        price=price,
        currency=currency,
        delivery_format=delivery_format,
        location=location.strip(),
        status=status,
    )
    # The slug is generated, so a clash is ours to resolve, not the caller's.
    bootcamp.full_clean(exclude=["slug"])
    if connection.vendor == "postgresql":
        # Creations of one title take turns (until each commits) to pick its next
        # free slug: eight at once each found the same one, and the retries below
        # ran out. SQLite lets one writer in at a time anyway.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"bootcamp-slug:{slug_base(bootcamp.title)}"]
            )
    for attempt in range(SLUG_ATTEMPTS):
        bootcamp.slug = unique_slug(bootcamp.title)
        try:
            with transaction.atomic():
                bootcamp.save()
            break
        except IntegrityError:
            # Another request took the same slug between our look-up and insert.
            if attempt == SLUG_ATTEMPTS - 1:
                raise
            bootcamp.pk = None
            bootcamp._state.adding = True
    bootcamp.instructors.set(instructors)
    bootcamp.mentors.set(mentors)
    return bootcamp


def _changed_fields(bootcamp: Bootcamp, data: dict) -> set[str]:
    changed = set()
    for field, value in data.items():
        if field in PEOPLE_FIELDS:
            current = set(getattr(bootcamp, field).values_list("pk", flat=True))
            if {person.pk for person in value} != current:
                changed.add(field)
        elif getattr(bootcamp, field) != value:
            changed.add(field)
    return changed


def bootcamp_check_capacity(*, bootcamp: Bootcamp, capacity: int) -> None:
    """Capacity cannot drop below the seats already held (nobody is unseated).
    The count is a read (bootcamps.selectors), so this rule stays with the
    bootcamp and holds wherever a capacity is changed."""
    if bootcamp.pk is None:
        return
    taken = bootcamp_annotate_seats(Bootcamp.objects.filter(pk=bootcamp.pk)).values_list(
        "seats_taken", flat=True
    )[0]
    if capacity < taken:
        raise ValidationError(
            {
                "capacity": ValidationError(
                    f"{taken} seats are already taken; the capacity cannot be lower than that.",
                    code="below_seats_taken",
                )
            }
        )


def bootcamp_check_start(*, bootcamp: Bootcamp, start_date: date) -> None:
    """A bootcamp some students have completed has started (enrollments.services
    completes nobody before the start): its start can't move past today."""
    if bootcamp.pk is None or start_date <= site_today():
        return
    completed = bootcamp_completions(bootcamp)
    if completed:
        who = "1 student has" if completed == 1 else f"{completed} students have"
        raise ValidationError(
            {
                "start_date": ValidationError(
                    f"{who} completed this bootcamp, so it has started: "
                    "its start date can't be later than today.",
                    code="has_completions",
                )
            }
        )


@transaction.atomic
def bootcamp_update(*, bootcamp: Bootcamp, actor: User, data: dict) -> Bootcamp:
    """Change a bootcamp.

    Who may change what (the rule lives here so every caller obeys it): ADMIN
    any field; an INSTRUCTOR of this bootcamp only description, start_date,
    end_date and location -- a request of theirs that *changes* any other field
    is refused whole (fields sent unchanged are fine); anyone else nothing.
    A decrease below the seats taken is refused; any capacity change is sent
    as capacity_changed in this transaction, under the lock (enrollments
    offers new seats to the waitlist).
    """
    unknown = sorted(set(data) - UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in unknown})
    # Capacity is checked against a count nobody can change meanwhile.
    bootcamp = bootcamp_lock(bootcamp.pk)
    changed = _changed_fields(bootcamp, data)

    if not has_role(actor, ADMIN_ONLY):
        if not (actor.role == User.Role.INSTRUCTOR and bootcamp_is_taught_by(bootcamp, actor)):
            raise NotAllowed("You can only edit bootcamps you teach.")
        forbidden = sorted(changed - INSTRUCTOR_EDITABLE_FIELDS)
        if forbidden:
            raise NotAllowed(
                "Instructors may only change the description, dates and location; "
                f"not {', '.join(forbidden)}."
            )

    if not changed:  # nothing to write: updated_at and the caches stay as they were
        return bootcamp
    old_capacity = bootcamp.capacity
    if bootcamp.status == Bootcamp.Status.ARCHIVED and data.get("status", bootcamp.status) != bootcamp.status:
        _check_staff_still_staff(bootcamp, keep=PEOPLE_FIELDS.keys() - changed)
    people = {}
    for field in changed:
        value = data[field]
        if field in PEOPLE_FIELDS:
            listed = getattr(bootcamp, field).values_list("pk", flat=True)
            people[field] = _check_people(field, value, keeping=listed)
        else:
            setattr(bootcamp, field, value.strip() if isinstance(value, str) else value)
    if "capacity" in changed and bootcamp.capacity < old_capacity:
        bootcamp_check_capacity(bootcamp=bootcamp, capacity=bootcamp.capacity)
    if "start_date" in changed:
        bootcamp_check_start(bootcamp=bootcamp, start_date=bootcamp.start_date)
    clean_edit(bootcamp, changed - PEOPLE_FIELDS.keys())
    # Only the fields changed: the response cache (cohortly.caching) then keeps
    # the lists whose order and filters don't read them.
    bootcamp.save(update_fields=[*sorted(changed - PEOPLE_FIELDS.keys()), "updated_at"])
    for field, persons in people.items():
        getattr(bootcamp, field).set(persons)
    if bootcamp.capacity != old_capacity:
        capacity_changed.send(sender=Bootcamp, bootcamp=bootcamp, old_capacity=old_capacity)
    if {"status", "end_date"} & changed:
        opening_changed.send(sender=Bootcamp, bootcamp=bootcamp)
    return bootcamp


@transaction.atomic
def bootcamp_delete(*, bootcamp: Bootcamp) -> None:
    """Delete a bootcamp that nothing refers to. One with enrollments (or leads,
    assignments...) is refused with a Conflict: archive it instead. Nothing is
    ever cascaded away."""
    # No enrollment can arrive between the check and the delete.
    bootcamp = bootcamp_lock(bootcamp.pk)
    enrollments = bootcamp.enrollments.count()
    if enrollments:
        noun = "enrollment" if enrollments == 1 else "enrollments"
        raise Conflict(
            f"This bootcamp has {enrollments} {noun} and cannot be deleted. "
            "Archive it instead (set its status to ARCHIVED).",
            code="has_enrollments",
        )
    try:
        with transaction.atomic():
            bootcamp.delete()
    except (ProtectedError, IntegrityError) as exc:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in getattr(exc, "protected_objects", [])})
        what = get_text_list(kinds, "and") if kinds else "other records"
        raise Conflict(
            f"This bootcamp cannot be deleted: {what} refer to it. "
            "Archive it instead (set its status to ARCHIVED).",
            code="protected",
        ) from exc


#: The error code of a role change refused by on_user_role_changing.
ON_BOOTCAMP_STAFF = "on_bootcamp_staff"


def on_user_role_changing(sender, *, user: User, role: str, **kwargs) -> None:
    """accounts.signals.user_role_changing: an instructor or mentor keeps that
    role while on the staff of a bootcamp that isn't archived. Their access to
    it follows their role, so a new role would leave the bootcamp listing
    someone who can no longer open it. Take them off first (or archive it)."""
    field = next((name for name, staff_role in PEOPLE_FIELDS.items() if staff_role == user.role), None)
    if field is None:
        return
    titles = list(
        Bootcamp.objects.filter(**{field: user})
        .exclude(status=Bootcamp.Status.ARCHIVED)
        .order_by("start_date", "pk")
        .values_list("title", flat=True)
    )
    if titles:
        shown = ", ".join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
        raise ValidationError(
            {
                "role": ValidationError(
                    f"This {user.get_role_display().lower()} is among the {field} of {shown}: "
                    "take them off there first, or archive the bootcamp.",
                    code=ON_BOOTCAMP_STAFF,
                )
            }
        )
