"""Who may do what with assignments, submissions and the gradebook.

The role sets are what the views declare (and the permission-matrix tests read);
the functions below are the per-bootcamp rules that the services enforce, so
the API and the admin share them. SALES has no business with coursework: it is
outside every set here (403).
"""

from accounts.models import User
from accounts.permissions import STUDENTS, TEACHING_STAFF, Role
from bootcamps.models import Bootcamp

#: Read assignments and submissions, each within their own scope (selectors).
COURSE_MEMBERS = TEACHING_STAFF | STUDENTS
#: Create, edit and delete assignments (an INSTRUCTOR only in a bootcamp they teach).
AUTHORS = frozenset({Role.ADMIN, Role.INSTRUCTOR})
#: Grade submissions and read the gradebook (INSTRUCTOR/MENTOR only of their bootcamps).
GRADERS = TEACHING_STAFF
#: Read a gradebook: the graders, and a STUDENT their own row of a bootcamp where
#: they hold a seat (ACTIVE or COMPLETED).
GRADEBOOK_READERS = GRADERS | STUDENTS
#: Hand in work (only while ACTIVE in the bootcamp).
SUBMITTERS = STUDENTS


def _is_admin(user: User) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


def is_bootcamp_staff(user: User, bootcamp: Bootcamp) -> bool:
    """An instructor or mentor of `bootcamp` (one query)."""
    if not (user and user.is_authenticated and user.role in (Role.INSTRUCTOR, Role.MENTOR)):
        return False
    field = "instructors" if user.role == Role.INSTRUCTOR else "mentors"
    return Bootcamp.objects.filter(pk=bootcamp.pk, **{field: user}).exists()


def can_author_assignments(user: User, bootcamp: Bootcamp) -> bool:
    """ADMIN, or an INSTRUCTOR who teaches `bootcamp` (mentors grade but do not author)."""
    if _is_admin(user):
        return True
    return user.role == Role.INSTRUCTOR and is_bootcamp_staff(user, bootcamp)


def can_grade(user: User, bootcamp: Bootcamp) -> bool:
    """ADMIN, or an INSTRUCTOR or MENTOR of `bootcamp`. Also who reads its gradebook."""
    return _is_admin(user) or is_bootcamp_staff(user, bootcamp)
