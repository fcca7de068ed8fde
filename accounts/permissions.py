"""The permission vocabulary every app reuses.

Views *declare* who may read and write; `RolePermission` enforces the
declaration. Object scope (which rows a user may see) comes from selectors, so
an object outside it is a 404 rather than a 403 that leaks its existence.

    class BootcampViewSet(...):
        permission_classes = [RolePermission]
        read_roles = PUBLIC
        write_roles = {Role.ADMIN, Role.INSTRUCTOR}
        action_roles = {"gradebook": TEACHING_STAFF}
"""

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import User

Role = User.Role

#: Anyone, including anonymous callers.
PUBLIC = frozenset({"PUBLIC"})
ALL_ROLES = frozenset(Role.values)
NOBODY = frozenset()
ADMIN_ONLY = frozenset({Role.ADMIN})
SALES_TEAM = frozenset({Role.ADMIN, Role.SALES})
TEACHING_STAFF = frozenset({Role.ADMIN, Role.INSTRUCTOR, Role.MENTOR})
STAFF = frozenset({Role.ADMIN, Role.SALES, Role.INSTRUCTOR, Role.MENTOR})
STUDENTS = frozenset({Role.STUDENT})


def has_role(user, roles) -> bool:
    """True when `user` is allowed by `roles` (a set of Role values, or PUBLIC)."""
    if roles is PUBLIC or "PUBLIC" in roles:
        return True
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def is_staff_role(user) -> bool:
    return has_role(user, STAFF)


def _declared(view, action, method: str):
    action_roles = getattr(view, "action_roles", None) or {}
    if action in action_roles:
        return action_roles[action]
    if method in SAFE_METHODS:
        return getattr(view, "read_roles", NOBODY)
    return getattr(view, "write_roles", NOBODY)


def roles_for_view(view, method: str):
    """The roles a view declares for the current action and method. OPTIONS
    describes a route to its readers and whoever may use any of its methods: a
    POST-only view declares no readers (everyone got a 403), and the public lead
    form's route was described to SALES only."""
    action = getattr(view, "action", None)
    if action == "metadata":
        action_map = getattr(view, "action_map", None) or {}
        if method == "OPTIONS":
            # The resource's readers too: a staff action's route tells the rest it offers them nothing.
            served = [(verb.upper(), name) for verb, name in action_map.items() if name != "metadata"]
            readers = frozenset(getattr(view, "read_roles", NOBODY))
            return readers.union(*(_declared(view, name, verb) for verb, name in served))
        # What `method` may do here (DRF's metadata clones the request per method):
        # the roles of the action that method runs.
        action = action_map.get(method.lower(), action)
    if method == "OPTIONS" and action is None:
        readers = frozenset(getattr(view, "read_roles", NOBODY))
        return readers | frozenset(getattr(view, "write_roles", NOBODY))
    return _declared(view, action, method)


class RolePermission(BasePermission):
    """Allows a request when the user's role is in the view's declared roles.

    Anonymous callers get 401 (NotAuthenticated) unless the roles are PUBLIC;
    an authenticated user outside the roles gets 403.
    """

    message = "Your role does not allow this action."

    def has_permission(self, request, view):
        roles = roles_for_view(view, request.method)
        if roles is PUBLIC or "PUBLIC" in roles:
            return True
        if not (request.user and request.user.is_authenticated):
            return False  # DRF turns this into 401 for unauthenticated requests
        return has_role(request.user, roles)


class RoleRequiredMixin(AccessMixin):
    """The same declaration for server-rendered pages: anonymous users are sent
    to the login page, a signed-in user of another role gets the 403 page."""

    allowed_roles = NOBODY

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.allowed_roles):
            raise PermissionDenied("Your role does not allow access to this page.")
        return super().dispatch(request, *args, **kwargs)
