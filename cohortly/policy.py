"""The API's access policy, read from the views' own declarations.

Every API view declares who may call it (`read_roles`, `write_roles`,
`action_roles`, enforced by accounts.permissions.RolePermission). This module
walks the URL resolver and turns those declarations into one table: the
access-matrix test holds every route's real answers against it, and
`manage.py access_policy` prints it for SECURITY.md.
"""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.permissions import PUBLIC, RolePermission, roles_for_view

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
ROLE_ORDER = ("ADMIN", "SALES", "INSTRUCTOR", "MENTOR", "STUDENT")


@dataclass(frozen=True)
class Operation:
    path: str  # regex of the full path, e.g. ^api/v1/enrollments/(?P<pk>[^/.]+)/cancel/?$
    method: str  # upper case
    view: type
    action: str | None
    roles: frozenset | None  # None: the view does not declare roles

    @property
    def public(self) -> bool:
        return self.roles is not None and "PUBLIC" in self.roles

    @property
    def display_path(self) -> str:
        path = "/" + self.path.lstrip("^").rstrip("$")
        path = path.replace("/?", "/").replace("\\.", ".")
        return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)


def _walk(patterns, prefix=""):
    for entry in patterns:
        regex = entry.pattern.regex.pattern
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + regex.lstrip("^"))
        elif isinstance(entry, URLPattern):
            yield prefix + regex.lstrip("^"), entry.callback


def api_operations() -> list[Operation]:
    """Every (path, method) the API serves, with the roles its view declares."""
    operations = []
    for path, callback in _walk(get_resolver().url_patterns):
        if not path.startswith("api/v1/"):
            continue
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            # A plain Django view (the health check): it declares its roles on
            # the function; one that doesn't is reported as undeclared.
            roles = getattr(callback, "read_roles", None)
            methods = getattr(callback, "http_methods", ("GET",))
            for method in methods:
                operations.append(
                    Operation("^" + path, method, callback, None, frozenset(roles) if roles else None)
                )
            continue
        actions = getattr(callback, "actions", None)
        if actions:
            method_actions = dict(actions.items())
        else:
            method_actions = {m: None for m in HTTP_METHODS if hasattr(view_class, m)}
        for method, action in method_actions.items():
            if method not in HTTP_METHODS:
                continue
            if method not in getattr(view_class, "http_method_names", HTTP_METHODS):
                continue
            view = view_class(**getattr(callback, "initkwargs", {}))
            view.action = action
            declares = any(
                isinstance(p, type) and issubclass(p, RolePermission) for p in view_class.permission_classes
            )
            roles = frozenset(roles_for_view(view, method.upper())) if declares else None
            operations.append(Operation("^" + path, method.upper(), view_class, action, roles))
    return operations


def who(roles) -> str:
    if roles is None:
        return "(undeclared)"
    if roles is PUBLIC or "PUBLIC" in roles:
        return "anyone"
    if not roles:
        return "nobody"
    return ", ".join(role for role in ROLE_ORDER if role in roles)


def policy_markdown() -> str:
    lines = ["| Method | Path | Who may call it |", "| --- | --- | --- |"]
    seen = set()
    for op in sorted(api_operations(), key=lambda o: (o.display_path, o.method)):
        key = (op.method, op.display_path)
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"| {op.method} | `{op.display_path}` | {who(op.roles)} |")
    return "\n".join(lines)
