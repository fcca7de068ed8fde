"""Who may read and write enrollments (the vocabulary lives in accounts.permissions).
Which rows each role sees is enrollments.selectors.enrollment_list_for."""

from accounts.models import User
from accounts.permissions import ALL_ROLES, SALES_TEAM, STUDENTS

ENROLLMENT_READERS = ALL_ROLES
#: POST: a student enrolls themself; ADMIN and SALES enroll any student.
ENROLLERS = STUDENTS | SALES_TEAM
#: Cancel: the student themself (scope: their own rows), ADMIN, SALES.
CANCELLERS = STUDENTS | SALES_TEAM
#: ACTIVE -> COMPLETED / DROPPED: ADMIN, or an INSTRUCTOR (scope: the bootcamps they teach).
STATUS_SETTERS = frozenset({User.Role.ADMIN, User.Role.INSTRUCTOR})
