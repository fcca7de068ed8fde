"""The role gate as a matrix: every API write × anonymous and the five roles.

The routes come from the URL resolver, so a new endpoint can't escape this
test. Each answer is held against the roles the view declares (the policy
table of cohortly.policy, also printed in SECURITY.md): anonymous callers of
a non-public route get 401, a role outside the declaration gets 403, a role
inside it is never refused (it may still get 400 or 404: the ids used here
don't exist and the bodies are empty, since only the gate is tested).

The reads (GET) are test_scope_matrix's: there each role asks for real rows,
in and out of its scope, so the gate and the scope are proved together.
"""

import re
from pathlib import Path

import pytest

from accounts.models import User
from cohortly import throttling
from cohortly.policy import api_operations, policy_markdown
from conftest import assert_error, auth_client

BASE_DIR = Path(__file__).resolve().parents[2]
IDENTITIES = [None, *User.Role.values]


def _url(operation) -> str:
    path = operation.path.lstrip("^").rstrip("$").replace("/?", "/").replace("\\.", ".")
    return "/" + re.sub(r"\(\?P<\w+>[^)]*\)", "999999", path)


OPERATIONS = sorted({(op.method, _url(op)): op for op in api_operations() if op.method != "GET"}.items())


def test_every_api_route_declares_who_may_call_it():
    operations = api_operations()
    undeclared = [
        f"{op.method} {op.display_path} ({op.view.__name__})" for op in operations if op.roles is None
    ]
    assert not undeclared, f"routes without read_roles/write_roles and RolePermission: {undeclared}"
    assert len(operations) > 30


def test_security_md_prints_the_current_policy():
    assert policy_markdown() in (BASE_DIR / "SECURITY.md").read_text(), (
        "SECURITY.md's access table is out of date: paste `DEBUG=true .venv/bin/python manage.py access_policy` into it"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("key", [key for key, _ in OPERATIONS], ids=[f"{m} {u}" for (m, u), _ in OPERATIONS])
def test_each_role_gets_what_the_policy_says(key, make_user, monkeypatch):
    monkeypatch.setattr(
        throttling.FixedWindowThrottleMixin, "allow_request", lambda self, request, view: True
    )
    method, url = key
    operation = dict(OPERATIONS)[key]
    for role in IDENTITIES:
        client = auth_client(make_user(role) if role else None)
        response = client.generic(method, url, data="{}", content_type="application/json")
        if operation.public:
            assert response.status_code not in (401, 403), (role, response.status_code)
        elif role is None:
            assert_error(response, 401)
        elif role in operation.roles:
            assert response.status_code not in (401, 403), (
                role,
                response.status_code,
                response.content[:300],
            )
        else:
            assert_error(response, 403)
        if response.status_code >= 400 and response.status_code != 405:
            assert_error(response, response.status_code)


ROUTES = sorted({_url(op) for op in api_operations()})


@pytest.mark.parametrize("url", ROUTES)
@pytest.mark.parametrize("identity", [None, User.Role.ADMIN])
def test_unserved_methods_are_405_before_authentication(url, identity, make_user):
    """TRACE, a made-up verb and PUT (no route serves it) are a 405 in the error
    shape on every API route, to anonymous callers too (not a 401)."""
    client = auth_client(make_user(identity) if identity else None)
    served = {op.method for op in api_operations() if _url(op) == url}
    for method in ("TRACE", "PROPFIND", "PUT"):
        assert method not in served
        response = client.generic(method, url)
        assert_error(response, 405, code="method_not_allowed")
        allowed = {m.strip() for m in response["Allow"].split(",")}
        assert served <= allowed and method not in allowed, (url, response["Allow"])
