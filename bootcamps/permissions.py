"""Who may read and write bootcamps (the vocabulary lives in accounts.permissions)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import User
from accounts.permissions import ADMIN_ONLY, PUBLIC, STAFF, has_role

#: Anyone may list published bootcamps; staff roles also see drafts and archives.
BOOTCAMP_READERS = PUBLIC
BOOTCAMP_SEE_ALL = STAFF
#: Create and delete.
BOOTCAMP_WRITERS = ADMIN_ONLY
#: PATCH: an admin, or an instructor on a bootcamp they teach (some fields only).
BOOTCAMP_EDITORS = frozenset({User.Role.ADMIN, User.Role.INSTRUCTOR})
#: The fields an instructor may change on a bootcamp they teach.
INSTRUCTOR_EDITABLE_FIELDS = frozenset({"description", "start_date", "end_date", "location"})


def can_see_all_bootcamps(user) -> bool:
    return has_role(user, BOOTCAMP_SEE_ALL)


def bootcamp_is_taught_by(bootcamp, user) -> bool:
    """True when `user` is one of the bootcamp's instructors (from the list the
    selectors prefetch, when the bootcamp came from one)."""
    if not (user and user.is_authenticated):
        return False
    instructors = getattr(bootcamp, "instructors_by_name", None)
    if instructors is not None:
        return any(person.pk == user.pk for person in instructors)
    return bootcamp.instructors.filter(pk=user.pk).exists()


class IsBootcampEditor(BasePermission):
    """Object check for writes: ADMIN on any bootcamp, others only on one they
    teach. Instructors see every bootcamp (staff), so refusing with 403 leaks
    nothing; which fields they may change is checked by bootcamp_update."""

    message = "You can only edit bootcamps you teach."

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS or has_role(request.user, ADMIN_ONLY):
            return True
        return bootcamp_is_taught_by(obj, request.user)
