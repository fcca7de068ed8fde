"""Scope as a matrix: every API read route and the sales pages, anonymous and
the five roles, over real rows.

test_access_matrix proves the role gate of the writes: who is refused before
any row is looked up. This file proves what each caller may *see*: one world
of real objects (two bootcamps with their own instructors, mentors, students
and coursework, a draft and an archived one, leads of different owners), and
for every read route each caller's list holds exactly the rows in their scope,
each row in scope opens (200, that id) and each row outside it is a 404, as if
it didn't exist. Writes on one object are checked the same way: outside the
caller's scope they are a 404 and change nothing.

SCOPE below is written by hand from the rules in README.md ("Roles: who may do
what") and the selectors' docstrings; it is not computed from the selectors,
so it can catch them. The routes come from the URL resolver: a new read route,
or a new write on one object, fails test_every_read_route_is_checked (or its
write twin) until it is declared here.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import URLPattern
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from assignments.models import Assignment, Submission
from assignments.tests.factories import AssignmentFactory, GradedSubmissionFactory, SubmissionFactory
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory
from cohortly import throttling
from cohortly.policy import api_operations
from conftest import assert_error, auth_client
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory
from leads.models import Lead
from leads.tests.factories import LeadActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

Role = User.Role
ADMIN, SALES, INSTRUCTOR, MENTOR, STUDENT = Role.ADMIN, Role.SALES, Role.INSTRUCTOR, Role.MENTOR, Role.STUDENT
ANON = None
# Staff first: the bootcamp responses are cached per scope, so a student or an
# anonymous caller asking after them would be served a leaked draft if the
# cache key ever forgot the scope.
IDENTITIES = [ADMIN, SALES, INSTRUCTOR, MENTOR, STUDENT, ANON]


def _name(identity) -> str:
    return identity or "anonymous"


# --- The world ----------------------------------------------------------------------
#
#   bootcamp    status     instructor    mentor     enrollments
#   a           PUBLISHED  instructor_a  mentor_a   student_a ACTIVE, student_a2 ACTIVE, student_b CANCELLED
#   b           PUBLISHED  instructor_b  mentor_b   student_b ACTIVE, student_a WAITLISTED, student_a2 DROPPED
#   draft       DRAFT      instructor_b  mentor_b   -
#   archived    ARCHIVED   instructor_a  mentor_a   student_a COMPLETED
#
# Assignments: a_published, a_draft, b_published, archived_published.
# Submissions: student_a and student_a2 on a_published, student_b on b_published,
# student_a on archived_published. Leads: one owned by each of sales, sales_b
# and admin (follow-ups all due), one unowned; each with a note of its own.
#
# The callers: one user per role, all on the "a" side; anonymous has no user.
VIEWERS = {
    ADMIN: "admin",
    SALES: "sales",
    INSTRUCTOR: "instructor_a",
    MENTOR: "mentor_a",
    STUDENT: "student_a",
}


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    bootcamps: dict[str, Bootcamp] = field(default_factory=dict)
    enrollments: dict[str, Enrollment] = field(default_factory=dict)
    assignments: dict[str, Assignment] = field(default_factory=dict)
    submissions: dict[str, Submission] = field(default_factory=dict)
    leads: dict[str, Lead] = field(default_factory=dict)
    activities: dict = field(default_factory=dict)

    def rows(self, kind: str) -> dict:
        return getattr(self, kind)

    def viewer(self, identity) -> User | None:
        return self.users[VIEWERS[identity]] if identity else None


def build_world() -> World:
    world = World()
    users = world.users
    for name, role in [
        ("admin", ADMIN),
        ("sales", SALES),
        ("sales_b", SALES),
        ("instructor_a", INSTRUCTOR),
        ("instructor_b", INSTRUCTOR),
        ("mentor_a", MENTOR),
        ("mentor_b", MENTOR),
        ("student_a", STUDENT),
        ("student_a2", STUDENT),
        ("student_b", STUDENT),
    ]:
        users[name] = UserFactory(role=role, email=f"{name}@example.com", full_name=f"User {name}")

    def camp(name, status, side):
        world.bootcamps[name] = BootcampFactory(
            title=f"Camp {name}",
            slug=f"camp-{name}",
            status=status,
            instructors=[users[f"instructor_{side}"]],
            mentors=[users[f"mentor_{side}"]],
        )

    camp("a", Bootcamp.Status.PUBLISHED, "a")
    camp("b", Bootcamp.Status.PUBLISHED, "b")
    camp("draft", Bootcamp.Status.DRAFT, "b")
    camp("archived", Bootcamp.Status.ARCHIVED, "a")

    Status = Enrollment.Status
    for bootcamp, student, status in [
        ("a", "student_a", Status.ACTIVE),
        ("a", "student_a2", Status.ACTIVE),
        ("a", "student_b", Status.CANCELLED),
        ("b", "student_b", Status.ACTIVE),
        ("b", "student_a", Status.WAITLISTED),
        ("b", "student_a2", Status.DROPPED),
        ("archived", "student_a", Status.COMPLETED),
    ]:
        world.enrollments[f"{bootcamp}_{student}"] = EnrollmentFactory(
            bootcamp=world.bootcamps[bootcamp],
            student=users[student],
            status=status,
            waitlist_seq=1 if status == Status.WAITLISTED else None,
        )

    for name, bootcamp, published, author in [
        ("a_published", "a", True, "instructor_a"),
        ("a_draft", "a", False, "instructor_a"),
        ("b_published", "b", True, "instructor_b"),
        ("archived_published", "archived", True, "instructor_a"),
    ]:
        world.assignments[name] = AssignmentFactory(
            bootcamp=world.bootcamps[bootcamp],
            title=f"Assignment {name}",
            is_published=published,
            created_by=users[author],
        )

    world.submissions["a_student_a"] = GradedSubmissionFactory(
        assignment=world.assignments["a_published"], student=users["student_a"], graded_by=users["mentor_a"]
    )
    for name, assignment, student in [
        ("a_student_a2", "a_published", "student_a2"),
        ("b_student_b", "b_published", "student_b"),
        ("archived_student_a", "archived_published", "student_a"),
    ]:
        world.submissions[name] = SubmissionFactory(
            assignment=world.assignments[assignment], student=users[student]
        )

    due = timezone.now() - timedelta(hours=1)
    for name, owner in [("sales", "sales"), ("sales_b", "sales_b"), ("admin", "admin"), ("unowned", None)]:
        lead = LeadFactory(
            full_name=f"Lead {name}",
            email=f"lead-{name}@example.org",
            owner=users[owner] if owner else None,
            next_follow_up_at=due if owner else None,
            bootcamp=world.bootcamps["a"],
        )
        world.leads[name] = lead
        world.activities[name] = LeadActivityFactory(lead=lead, body=f"Note on the {name} lead.")
    return world


@pytest.fixture
def world(monkeypatch) -> World:
    # Hundreds of requests per test as one user; the throttles have their own tests.
    monkeypatch.setattr(
        throttling.FixedWindowThrottleMixin, "allow_request", lambda self, request, view: True
    )
    return build_world()


# --- What each caller sees ------------------------------------------------------------
#
# Per kind of row and per identity: the names of the world's rows in scope;
# every other row of that kind is out of scope. ALL: every row. An identity
# missing from a kind is one the policy refuses (401/403) on its routes, and
# test_scope_table_agrees_with_the_policy holds the two together.

ALL = "ALL"
STAFF_ROLES = (ADMIN, SALES, INSTRUCTOR, MENTOR)

SCOPE = {
    # Staff roles see every bootcamp; students and anonymous callers the published ones.
    "bootcamps": {
        **dict.fromkeys(STAFF_ROLES, ALL),
        STUDENT: {"a", "b"},
        ANON: {"a", "b"},
    },
    # ADMIN and SALES: all. INSTRUCTOR/MENTOR: of the bootcamps they teach or
    # mentor, whatever the status. STUDENT: their own, whatever the status.
    "enrollments": {
        ADMIN: ALL,
        SALES: ALL,
        INSTRUCTOR: {"a_student_a", "a_student_a2", "a_student_b", "archived_student_a"},
        MENTOR: {"a_student_a", "a_student_a2", "a_student_b", "archived_student_a"},
        STUDENT: {"a_student_a", "b_student_a", "archived_student_a"},
    },
    # INSTRUCTOR/MENTOR: their bootcamps' assignments, drafts too. STUDENT:
    # published ones of bootcamps where they hold a seat (ACTIVE or COMPLETED;
    # not WAITLISTED, so nothing of b). SALES has no business with coursework.
    "assignments": {
        ADMIN: ALL,
        INSTRUCTOR: {"a_published", "a_draft", "archived_published"},
        MENTOR: {"a_published", "a_draft", "archived_published"},
        STUDENT: {"a_published", "archived_published"},
    },
    # INSTRUCTOR/MENTOR: to their bootcamps' assignments. STUDENT: their own.
    "submissions": {
        ADMIN: ALL,
        INSTRUCTOR: {"a_student_a", "a_student_a2", "archived_student_a"},
        MENTOR: {"a_student_a", "a_student_a2", "archived_student_a"},
        STUDENT: {"a_student_a", "archived_student_a"},
    },
    # The whole pipeline is the sales team's, whoever owns a lead.
    "leads": {ADMIN: ALL, SALES: ALL},
    "activities": {ADMIN: ALL, SALES: ALL},
    "users": {ADMIN: ALL},
}

#: Whose follow-ups page lists which leads: only their own (and due).
FOLLOW_UPS = {ADMIN: {"admin"}, SALES: {"sales"}}

#: Whose gradebook opens for whom. Another bootcamp's gradebook is out of an
#: instructor's, mentor's or student's scope: a 404, like any row out of scope.
GRADEBOOKS = {
    ADMIN: ALL,
    INSTRUCTOR: {"a", "archived"},
    MENTOR: {"a", "archived"},
    # Where they hold a seat (not b, where they wait), and only their own row.
    STUDENT: {"a", "archived"},
}
#: What a gradebook holds: ACTIVE and COMPLETED students (not the waitlisted,
#: cancelled or dropped), published assignments of that bootcamp only.
GRADEBOOK_ROWS = {
    "a": ({"student_a", "student_a2"}, {"a_published"}),
    "b": ({"student_b"}, {"b_published"}),
    "draft": (set(), set()),
    "archived": ({"student_a"}, {"archived_published"}),
}


def in_scope(world: World, kind: str, identity) -> set[str]:
    names = SCOPE[kind][identity]
    return set(world.rows(kind)) if names == ALL else set(names)


def labelled(world: World, kind: str, names) -> dict[str, str]:
    """{id as the API shows it: "kind name"} for the named rows of `kind`."""
    return {str(world.rows(kind)[name].pk): f"{kind} {name}" for name in names}


# --- How a route is probed ------------------------------------------------------------


@dataclass
class Probe:
    """One request, and what it must answer for a caller the gate lets through."""

    url: str
    expect: str  # "rows": exactly `rows` listed; "found": 200 showing the one of `rows`; "404"; "403"
    rows: dict = field(default_factory=dict)  # {id: label}
    # How the rows are read: json, csv, gradebook, gradebook_csv, sales_list,
    # sales_detail, sales_redirect (a 302 to the lead's page).
    read: str = "json"
    what: str = ""  # the row asked for, for messages
    known: dict = field(default_factory=dict)  # {id: label} of every row that could show, for messages


@dataclass(frozen=True)
class Route:
    """How a read route is probed: `probes(world, identity, path)` gives the
    requests and answers for a caller the gate lets through; `scope` is the
    table of who may read it (None: it shows no rows)."""

    probes: object
    scope: dict | None

    def __add__(self, other: "Route") -> "Route":
        """The same route read two ways (JSON and CSV): both sets of probes."""
        return Route(lambda *args: [*self.probes(*args), *other.probes(*args)], self.scope)


#: A filter per list that names the far side of the world: it narrows the
#: caller's scope and never widens it. (query string, which rows match)
NARROWING = {
    "bootcamps": lambda w: ("status=DRAFT&status=ARCHIVED", lambda row: row.status != "PUBLISHED"),
    "enrollments": lambda w: (
        f"bootcamp={w.bootcamps['b'].pk}",
        lambda row: row.bootcamp_id == w.bootcamps["b"].pk,
    ),
    "assignments": lambda w: ("is_published=false", lambda row: not row.is_published),
    "submissions": lambda w: (
        f"student={w.users['student_b'].pk}",
        lambda row: row.student_id == w.users["student_b"].pk,
    ),
}


def listed(kind, read="json", suffix="") -> Route:
    """A list: exactly the rows of `kind` in the caller's scope; and, filtered
    by NARROWING, exactly those of them that match."""

    def probes(world, identity, path):
        visible = in_scope(world, kind, identity)
        known = labelled(world, kind, world.rows(kind))
        result = [Probe(path + suffix, "rows", labelled(world, kind, visible), read, known=known)]
        if kind in NARROWING and read == "json":
            query, matches = NARROWING[kind](world)
            narrowed = {name for name in visible if matches(world.rows(kind)[name])}
            result.append(Probe(f"{path}?{query}", "rows", labelled(world, kind, narrowed), known=known))
        return result

    return Route(probes, SCOPE[kind])


def by_id(kind, read="json") -> Route:
    """One row by id: every row of `kind` is tried; those in scope open (200,
    that id), the others are a 404."""

    def probes(world, identity, path):
        visible = in_scope(world, kind, identity)
        result = []
        for name, row in world.rows(kind).items():
            url = path.format(pk=row.pk)
            if name in visible:
                result.append(Probe(url, "found", labelled(world, kind, [name]), read))
            else:
                result.append(Probe(url, "404", what=f"{kind} {name}"))
        return result

    return Route(probes, SCOPE[kind])


def nested(parent, child, link) -> Route:
    """Rows of `child` under a row of `parent`: every parent is tried; outside
    the scope a 404, inside its own `child` rows that are in the caller's scope."""

    def probes(world, identity, path):
        parents = in_scope(world, parent, identity)
        children = in_scope(world, child, identity)
        result = []
        for name, row in world.rows(parent).items():
            url = path.format(pk=row.pk)
            if name not in parents:
                result.append(Probe(url, "404", what=f"{parent} {name}"))
                continue
            mine = [c for c in children if getattr(world.rows(child)[c], f"{link}_id") == row.pk]
            known = labelled(world, child, world.rows(child))
            result.append(Probe(url, "rows", labelled(world, child, mine), known=known))
        return result

    return Route(probes, SCOPE[parent])


def gradebooks(read="gradebook") -> Route:
    """Every bootcamp's gradebook: for whom it opens (GRADEBOOKS), and the
    students and assignments it holds (GRADEBOOK_ROWS)."""

    def probes(world, identity, path):
        allowed = GRADEBOOKS[identity]
        result = []
        for name, bootcamp in world.bootcamps.items():
            url = path.format(bootcamp_pk=bootcamp.pk) + ("?format=csv" if read == "gradebook_csv" else "")
            if allowed != ALL and name not in allowed:
                result.append(Probe(url, "404", what=f"gradebook of {name}"))
                continue
            students, assignments = GRADEBOOK_ROWS[name]
            if identity == STUDENT:
                students = students & {"student_a"}
            rows = {f"student:{world.users[s].email}": f"student {s}" for s in students}
            if read == "gradebook":  # the CSV has the assignments as columns
                rows |= {f"assignment:{world.assignments[a].pk}": f"assignment {a}" for a in assignments}
            result.append(Probe(url, "rows", rows, read))
        return result

    return Route(probes, GRADEBOOKS)


#: /auth/me: every role, and only themself.
ME = Route(
    lambda world, identity, path: [Probe(path, "found", {str(world.viewer(identity).pk): "themself"})],
    dict.fromkeys(Role.values),
)
NO_ROWS = Route(lambda world, identity, path: [Probe(path, "200")], None)

#: Every GET route of the API, by the path the policy prints.
READ_ROUTES = {
    "/api/v1/": NO_ROWS,  # the index: links only
    "/api/v1/assignments/": listed("assignments"),
    "/api/v1/assignments/{pk}/": by_id("assignments"),
    "/api/v1/assignments/{pk}/submissions/": nested("assignments", "submissions", "assignment"),
    "/api/v1/auth/me/": ME,
    "/api/v1/bootcamps/": listed("bootcamps"),
    "/api/v1/bootcamps/{pk}/": by_id("bootcamps"),
    "/api/v1/bootcamps/{bootcamp_pk}/gradebook/": gradebooks() + gradebooks("gradebook_csv"),
    "/api/v1/bootcamps/{bootcamp_pk}/gradebook.csv/": gradebooks("gradebook_csv"),
    "/api/v1/enrollments/": listed("enrollments"),
    "/api/v1/enrollments/{pk}/": by_id("enrollments"),
    "/api/v1/health/": NO_ROWS,
    "/api/v1/leads/": listed("leads") + listed("leads", read="csv", suffix="?format=csv"),
    "/api/v1/leads/export.csv/": listed("leads", read="csv"),
    "/api/v1/leads/{pk}/": by_id("leads"),
    "/api/v1/leads/{pk}/activities/": nested("leads", "activities", "lead"),
    "/api/v1/submissions/": listed("submissions"),
    "/api/v1/submissions/{pk}/": by_id("submissions"),
    "/api/v1/users/": listed("users"),
    "/api/v1/users/{pk}/": by_id("users"),
}


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8-sig")


def _read_rows(response, read: str) -> set[str]:
    if read == "json":
        body = response.json()
        # The count is cached per caller: it must be this caller's too.
        assert body["count"] == len(body["results"]), body
        assert body["next"] is None, "the world fits on one page"
        return {str(row["id"]) for row in body["results"]}
    if read == "csv":
        return {row["id"] for row in csv.DictReader(io.StringIO(_body(response)))}
    if read == "gradebook":
        body = response.json()
        students = {f"student:{row['student']['email']}" for row in body["students"]}
        return students | {f"assignment:{a['id']}" for a in body["assignments"]}
    if read == "gradebook_csv":
        return {f"student:{row['Email']}" for row in csv.DictReader(io.StringIO(_body(response)))}
    if read == "sales_list":
        return set(re.findall(r'class="lead-link" href="/sales/leads/(\d+)/"', _body(response)))
    raise ValueError(read)


def _shown_id(response, read: str) -> str:
    if read == "sales_detail":
        match = re.search(r'action="/sales/leads/(\d+)/notes/"', _body(response))
        return match.group(1) if match else "(none)"
    return str(response.json()["id"])


def check_probe(client, probe: Probe, who: str) -> list[str]:
    """What is wrong with the answer to `probe` (nothing: [])."""
    response = client.get(probe.url)
    where = f"{who} GET {probe.url}"
    if probe.expect in ("404", "403"):
        if response.status_code != int(probe.expect):
            return [f"{where}: {response.status_code}, not {probe.expect}: {probe.what} is out of scope"]
        if probe.read == "json":
            assert_error(response, int(probe.expect))
        return []
    if probe.read == "sales_redirect":
        match = re.fullmatch(r"/sales/leads/(\d+)/(#\w+)?", response.get("Location", ""))
        if response.status_code != 302 or not match:
            return [f"{where}: {response.status_code} {response.get('Location')}, not a redirect to a lead"]
        shown = match.group(1)
        return [] if shown in probe.rows else [f"{where}: leads to {shown}, not {list(probe.rows.values())}"]
    if response.status_code != 200:
        return [f"{where}: {response.status_code}, not 200: {response.content[:200]!r}"]
    if probe.expect == "found":
        shown = _shown_id(response, probe.read)
        return [] if shown in probe.rows else [f"{where}: shows {shown}, not {list(probe.rows.values())}"]
    if probe.expect == "rows":
        shown = _read_rows(response, probe.read)
        problems = []
        if extra := shown - set(probe.rows):
            problems.append(
                f"{where}: shows {sorted(probe.known.get(e, e) for e in extra)}, which it must not"
            )
        if missing := set(probe.rows) - shown:
            problems.append(f"{where}: misses {sorted(probe.rows[m] for m in missing)}")
        return problems
    return []


def _refusal(operation, identity) -> int | None:
    """401 or 403 when the policy refuses `identity` on `operation`, else None."""
    if operation.public or identity in operation.roles:
        return None
    return 401 if identity is None else 403


def _operations(method_is_get: bool) -> dict:
    return {
        (op.method, op.display_path): op for op in api_operations() if (op.method == "GET") == method_is_get
    }


GET_OPERATIONS = {path: op for (_method, path), op in _operations(True).items()}


# --- The API's reads ------------------------------------------------------------------


def test_every_read_route_is_checked():
    routes = set(GET_OPERATIONS)
    assert routes - set(READ_ROUTES) == set(), "declare in READ_ROUTES what these routes show to whom"
    assert set(READ_ROUTES) - routes == set(), "READ_ROUTES names routes that no longer exist"


@pytest.mark.parametrize("path", sorted(READ_ROUTES))
def test_scope_table_agrees_with_the_policy(path):
    """A role the policy lets read a route has a declared scope there, and a
    refused one has none: a role given access later must say what it sees."""
    operation = GET_OPERATIONS[path]
    table = READ_ROUTES[path].scope
    allowed = {identity for identity in IDENTITIES if _refusal(operation, identity) is None}
    if table is None:
        assert operation.public, f"{path} shows no rows: only a public route may go without a scope"
        return
    assert set(table) == allowed, f"{path}: the scope table covers {set(table)}, the policy allows {allowed}"


@pytest.mark.parametrize("path", sorted(READ_ROUTES))
def test_each_caller_sees_exactly_the_rows_in_scope(path, world):
    """In scope: listed, and opens with its own id. Out of scope: not listed,
    and a 404 by id. A role the policy refuses gets 401/403 on every probe."""
    operation = GET_OPERATIONS[path]
    problems = []
    for identity in IDENTITIES:
        client = auth_client(world.viewer(identity))
        refusal = _refusal(operation, identity)
        if refusal:
            # The admin's probes: every real row, each refused alike.
            for probe in READ_ROUTES[path].probes(world, ADMIN, path):
                response = client.get(probe.url)
                if response.status_code != refusal:
                    problems.append(
                        f"{_name(identity)} GET {probe.url}: {response.status_code}, not {refusal}"
                    )
                else:
                    assert_error(response, refusal)
            continue
        for probe in READ_ROUTES[path].probes(world, identity, path):
            problems += check_probe(client, probe, _name(identity))
    assert not problems, "\n".join(problems)


# --- The API's writes on one row ----------------------------------------------------------
#
# Which rows a write may reach is the read scope of its kind (a row you can't
# see is a 404 to write too), except where a table here says otherwise. Only
# the rows *outside* it are tried: each must be refused and leave the database
# as it was. (Who passes the gate at all is test_access_matrix's; what a write
# in scope does is each app's own tests'.)


@dataclass(frozen=True)
class Write:
    kind: str
    body: dict | None = None
    scope: dict | None = None  # who may write which rows, when narrower than who reads them
    refused_with: int = 404


#: Instructors see every bootcamp but edit only those they teach: a 403 there
#: leaks nothing (declared by IsBootcampEditor).
EDITABLE_BOOTCAMPS = {ADMIN: ALL, INSTRUCTOR: {"a", "archived"}}

WRITE_ROUTES = {
    ("DELETE", "/api/v1/assignments/{pk}/"): Write("assignments"),
    ("PATCH", "/api/v1/assignments/{pk}/"): Write("assignments", {"title": "Taken over"}),
    ("POST", "/api/v1/assignments/{pk}/submissions/"): Write(
        "assignments", {"content": "Not mine to hand in"}
    ),
    ("DELETE", "/api/v1/bootcamps/{pk}/"): Write("bootcamps"),
    ("PATCH", "/api/v1/bootcamps/{pk}/"): Write(
        "bootcamps", {"location": "Elsewhere"}, EDITABLE_BOOTCAMPS, refused_with=403
    ),
    ("POST", "/api/v1/enrollments/{pk}/cancel/"): Write("enrollments"),
    ("POST", "/api/v1/enrollments/{pk}/status/"): Write("enrollments", {"status": "COMPLETED"}),
    ("PATCH", "/api/v1/leads/{pk}/"): Write("leads", {"status": "CONTACTED"}),
    ("POST", "/api/v1/leads/{pk}/convert/"): Write("leads"),
    ("POST", "/api/v1/leads/{pk}/notes/"): Write("leads", {"body": "Not my lead"}),
    ("POST", "/api/v1/submissions/{pk}/grade/"): Write("submissions", {"score": "1.00"}),
    ("POST", "/api/v1/submissions/{pk}/return/"): Write("submissions", {"feedback": "Not mine to return"}),
    ("PATCH", "/api/v1/users/{pk}/"): Write("users", {"full_name": "Renamed"}),
}

ONE_ROW_WRITES = {key: op for key, op in _operations(False).items() if "{" in key[1]}


def _database(world: World) -> dict:
    """Every row of every model of the world, to see that nothing changed."""
    models = [User, Bootcamp, Enrollment, Assignment, Submission, Lead, type(world.activities["sales"])]
    return {model.__name__: [model_to_dict(row) for row in model.objects.order_by("pk")] for model in models}


def test_every_write_on_one_row_is_checked():
    routes = set(ONE_ROW_WRITES)
    assert routes - set(WRITE_ROUTES) == set(), "declare in WRITE_ROUTES which rows these writes may reach"
    assert set(WRITE_ROUTES) - routes == set(), "WRITE_ROUTES names routes that no longer exist"


@pytest.mark.parametrize("key", sorted(WRITE_ROUTES), ids=[f"{m} {p}" for m, p in sorted(WRITE_ROUTES)])
def test_a_write_cannot_reach_a_row_out_of_scope(key, world):
    method, path = key
    operation = ONE_ROW_WRITES[key]
    write = WRITE_ROUTES[key]
    table = write.scope or SCOPE[write.kind]
    before = _database(world)
    tried = 0
    for identity in IDENTITIES:
        if _refusal(operation, identity):
            continue  # refused at the gate, whatever the row
        assert identity in table, f"{method} {path}: declare which rows {_name(identity)} may write"
        reachable = set(world.rows(write.kind)) if table[identity] == ALL else table[identity]
        client = auth_client(world.viewer(identity))
        for name, row in world.rows(write.kind).items():
            if name in reachable:
                continue
            tried += 1
            url = path.format(pk=row.pk)
            response = client.generic(
                method, url, data=json.dumps(write.body or {}), content_type="application/json"
            )
            assert response.status_code == write.refused_with, (
                f"{_name(identity)} {method} {url} ({write.kind} {name}): {response.status_code}"
                f" {response.content[:200]!r}"
            )
            assert_error(response, write.refused_with)
    assert _database(world) == before, "a refused write changed the database"
    # The writes of the sales team (every lead), of ADMIN only (every user, any
    # bootcamp deleted) have no row out of reach; the others must have tried some.
    if all(table.get(i) == ALL for i in IDENTITIES if not _refusal(operation, i)):
        assert tried == 0
    else:
        assert tried > 0


# --- Creates that name another row -------------------------------------------------------


def _create_cases(world: World):
    """(who, url, body, field): a create naming a row the caller can't use is a
    400 on that field, like an id that doesn't exist where the row is out of
    the caller's sight."""
    b, draft, archived = world.bootcamps["b"], world.bootcamps["draft"], world.bootcamps["archived"]
    due = (timezone.now() + timedelta(days=3)).isoformat()
    lead = {"full_name": "Nosy Parker", "email": "nosy@example.org", "phone": "+33 6 12 34 56 78"}
    return [
        (STUDENT, "/api/v1/enrollments/", {"bootcamp": draft.pk}, "bootcamp", True),
        (STUDENT, "/api/v1/enrollments/", {"bootcamp": archived.pk}, "bootcamp", True),
        (ANON, "/api/v1/leads/", {**lead, "bootcamp": draft.pk}, "bootcamp", True),
        (STUDENT, "/api/v1/leads/", {**lead, "bootcamp": draft.pk}, "bootcamp", True),
        # Instructors see every bootcamp, so saying why reveals nothing.
        (
            INSTRUCTOR,
            "/api/v1/assignments/",
            {"bootcamp": b.pk, "title": "Not my camp", "due_at": due, "max_score": "10"},
            "bootcamp",
            False,
        ),
    ]


def test_a_create_cannot_name_a_row_out_of_scope(world):
    before = _database(world)
    for identity, url, body, attr, hidden in _create_cases(world):
        client = auth_client(world.viewer(identity))
        response = client.post(url, body, format="json")
        errors = assert_error(response, 400, attr=attr)["errors"]
        if hidden:
            unknown = client.post(url, {**body, attr: 999999}, format="json").json()["errors"]
            assert [{**e, "detail": e["detail"].replace(str(body[attr]), "N")} for e in errors] == [
                {**e, "detail": e["detail"].replace("999999", "N")} for e in unknown
            ], (_name(identity), url, "a row out of sight must look like no row at all")
    assert _database(world) == before


# --- The sales pages ---------------------------------------------------------------------


def sales_list(kind, table) -> Route:
    def probes(world, identity, path):
        names = set(world.rows(kind)) if table[identity] == ALL else table[identity]
        known = labelled(world, kind, world.rows(kind))
        return [Probe(path, "rows", labelled(world, kind, names), "sales_list", known=known)]

    return Route(probes, table)


#: Every page of /sales/ that answers GET, by URL name.
SALES_PAGES = {
    "lead_list": sales_list("leads", SCOPE["leads"]),
    "follow_ups": sales_list("leads", FOLLOW_UPS),
    "lead_export": listed("leads", read="csv"),
    "lead_detail": by_id("leads", read="sales_detail"),
    "dashboard": NO_ROWS,  # counts over lead_list_for: no row of its own
    "lead_create": NO_ROWS,  # an empty form
    "login": NO_ROWS,
    "logout": NO_ROWS,  # opened by hand: back to the pages, signing nobody out
    # A form's address reopened: a redirect to its lead's page, 404 outside the scope.
    **{
        name: by_id("leads", read="sales_redirect")
        for name in ("lead_note", "lead_status", "lead_owner", "lead_follow_up", "lead_convert")
    },
}


def _sales_get_pages() -> dict:
    from leads import urls

    return {
        pattern.name: "/sales/" + str(pattern.pattern)
        for pattern in urls.urlpatterns
        if isinstance(pattern, URLPattern) and "get" in pattern.callback.view_class.http_method_names
    }


def test_every_sales_page_is_checked():
    assert set(_sales_get_pages()) == set(SALES_PAGES)


@pytest.mark.parametrize("name", sorted(SALES_PAGES))
def test_sales_pages_show_exactly_the_leads_in_scope(name, world):
    from django.test import Client

    path = re.sub(r"<int:pk>", "{pk}", _sales_get_pages()[name])
    route = SALES_PAGES[name]
    problems = []
    for identity in IDENTITIES:
        client = Client()
        if identity:
            client.force_login(world.viewer(identity))
        if name in ("login", "logout"):
            assert client.get(path).status_code in (200, 302)
            continue
        if identity not in (route.scope or SCOPE["leads"]):
            # Anonymous callers are sent to log in; other roles get the 403 page.
            for probe in route.probes(world, ADMIN, path):
                response = client.get(probe.url)
                expected = 302 if identity is None else 403
                if response.status_code != expected:
                    problems.append(
                        f"{_name(identity)} GET {probe.url}: {response.status_code}, not {expected}"
                    )
                elif expected == 302:
                    assert response["Location"].startswith("/sales/login/?next="), response["Location"]
            continue
        for probe in route.probes(world, identity, path):
            problems += check_probe(client, probe, _name(identity))
            if probe.read == "sales_detail":
                # The timeline is the lead's own: no other lead's notes.
                page = _body(client.get(probe.url))
                lead = next(lead for lead in world.leads.values() if str(lead.pk) in probe.rows)
                for other, note in world.activities.items():
                    assert (note.body in page) == (note.lead_id == lead.pk), (probe.url, other)
    assert not problems, "\n".join(problems)


# --- A scope that changes -------------------------------------------------------------------


def _listed(client, url) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return {str(row["id"]) for row in response.json()["results"]}


def test_a_changed_scope_is_seen_on_the_next_read(world):
    """Scopes hang on rows that change (who teaches a bootcamp, an enrollment's
    status, a user's role), and lists, counts and the user behind a token are
    cached: the read after the change already sees the new scope."""
    users, camps, enrollments = world.users, world.bootcamps, world.enrollments
    admin = auth_client(users["admin"])
    instructor, student, sales = (auth_client(users[n]) for n in ("instructor_a", "student_a", "sales"))

    def ids_of(kind, *names):
        return set(labelled(world, kind, names))

    # Read once first, so that whatever is cached is warm.
    assert _listed(instructor, "/api/v1/enrollments/") == ids_of(
        "enrollments", "a_student_a", "a_student_a2", "a_student_b", "archived_student_a"
    )
    assert _listed(student, "/api/v1/assignments/") == ids_of(
        "assignments", "a_published", "archived_published"
    )
    assert sales.get("/api/v1/leads/").status_code == 200
    assert _listed(sales, "/api/v1/bootcamps/") == ids_of("bootcamps", *camps)

    # instructor_a no longer teaches a: its rows leave their scope.
    response = admin.patch(
        f"/api/v1/bootcamps/{camps['a'].pk}/", {"instructors": [str(users["instructor_b"].pk)]}
    )
    assert response.status_code == 200, response.content
    assert _listed(instructor, "/api/v1/enrollments/") == ids_of("enrollments", "archived_student_a")
    assert _listed(instructor, "/api/v1/assignments/") == ids_of("assignments", "archived_published")
    assert instructor.get(f"/api/v1/enrollments/{enrollments['a_student_a'].pk}/").status_code == 404
    assert instructor.get(f"/api/v1/bootcamps/{camps['a'].pk}/gradebook/").status_code == 404

    # student_b leaves b: student_a, first on its waitlist, takes the seat and
    # b's published assignment comes into their scope.
    response = auth_client(users["student_b"]).post(
        f"/api/v1/enrollments/{enrollments['b_student_b'].pk}/cancel/"
    )
    assert response.status_code == 200, response.content
    assert _listed(student, "/api/v1/assignments/") == ids_of(
        "assignments", "a_published", "b_published", "archived_published"
    )

    # sales is made a STUDENT (once their open leads are nobody's: owns_leads):
    # the pipeline is gone, drafts are hidden, and their enrollments are their own (none).
    from leads.models import Lead

    for lead in Lead.objects.filter(owner=users["sales"], status__in=Lead.OPEN_STATUSES):
        assert admin.patch(f"/api/v1/leads/{lead.pk}/", {"owner": None}).status_code == 200
    response = admin.patch(f"/api/v1/users/{users['sales'].pk}/", {"role": STUDENT})
    assert response.status_code == 200, response.content
    assert_error(sales.get("/api/v1/leads/"), 401)  # tokens issued under the old role end
    sales = auth_client(type(users["sales"]).objects.get(pk=users["sales"].pk))  # signed in again
    assert_error(sales.get("/api/v1/leads/"), 403)
    assert _listed(sales, "/api/v1/bootcamps/") == ids_of("bootcamps", "a", "b")
    assert _listed(sales, "/api/v1/enrollments/") == set()
