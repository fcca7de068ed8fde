"""The request lists behind `make bench`'s list-driven rows (bench/mix.lua runs them).

Two workloads, both drawn with one fixed seed from the benchmark database:

- **random_pages**: the bootcamp list as ADMIN, a page drawn at random from all
  of the catalogue's pages for every request.
- **mixed**: reads and about 5% writes, each through the API as a user makes it:

  | kind        | share  | request                                                    | token |
  | ----------- | -----: | ---------------------------------------------------------- | ----- |
  | list        | 30%    | `GET /api/v1/bootcamps/?page=N`, N over all pages          | ADMIN |
  | detail      | 30%    | `GET /api/v1/bootcamps/{id}/`, any bootcamp                | ADMIN |
  | enrollments | 15%    | `GET /api/v1/enrollments/?page=N`, N over all pages        | ADMIN |
  | leads       | 20%    | `GET /api/v1/leads/?search=T`, T a last name from the leads| SALES |
  | edit        | 2%     | `PATCH /api/v1/bootcamps/{id}/` a description              | ADMIN |
  | lead_status | 1.5%   | `PATCH /api/v1/leads/{id}/` CONTACTED <-> LOST             | SALES |
  | enroll      | 0.75%  | `POST /api/v1/enrollments/` {bootcamp, student}            | SALES |
  | cancel      | 0.75%  | `POST /api/v1/enrollments/{id}/cancel/`, after its enroll  | SALES |

Every write is valid whatever order the server sees them in, so every one of
them should answer 2xx under any concurrency:

- An enrollment re-enrolls a student whose enrollment in that bootcamp is
  CANCELLED (the service reuses that row, so its id is known in advance), in a
  PUBLISHED bootcamp that has not ended, has a free seat and nobody waiting: it
  becomes ACTIVE, and the cancel that follows makes it CANCELLED again without
  promoting anyone. One such pair per bootcamp, each owned by one wrk thread,
  which sends the cancel only after the enroll's 201 has come back (bench/mix.lua)
  and enrolls a pair again only after its cancel has answered.
- A lead status change toggles a CONTACTED lead whose email no other lead has
  between LOST (with a reason) and CONTACTED: each is allowed from the other and
  a no-op from itself.
- A description edit alternates one bootcamp's description between a variant
  and the original.

So the data is as it was after a run once `restore` has put back what the last
requests left (enrollments still ACTIVE are cancelled, leads set CONTACTED,
descriptions rewritten), all through the API too. What a run does leave: the
reused enrollments' enrolled_at and updated_at, the bootcamps' and leads'
updated_at, and the leads' timeline entries (one per status change).

Standard library only, like bench/run.py: the database is read through a
`query(sql) -> rows` callable (psql there, Django's cursor in the tests), the
API reached through `send(method, path, role, body) -> status`.
"""

# The SQL here is built from integers and an ISO date this module formats itself,
# for psql, which takes no parameters: the SQL-string check does not apply.
# ruff: noqa: S608

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta

#: The seed every list is drawn with (BENCH_MIX_SEED overrides it).
SEED = 17
#: Requests per wrk thread in a list; a thread goes round its list again when done.
PER_THREAD = 4000
#: Shares of the mixed list; each enroll is followed by its cancel, so the two
#: together are 1.5% and the writes 5% of what is sent.
MIX = {
    "list": 0.30,
    "detail": 0.30,
    "enrollments": 0.15,
    "leads": 0.20,
    "edit": 0.02,
    "lead_status": 0.015,
    "enroll": 0.0075,
}
WRITES = ("edit", "lead_status", "enroll", "cancel")
#: How many bootcamps, leads and enrollment pairs the writes go round.
EDITED_BOOTCAMPS = 40
TOGGLED_LEADS = 60
PAIRS_PER_THREAD = 20

LOST_REASON = "No answer after three follow-ups."
EDIT_SUFFIX = " Updated by the benchmark: evening sessions added."


@dataclass(frozen=True)
class Req:
    kind: str
    method: str
    path: str
    role: str
    body: str = ""
    then: str = ""  # enroll: the cancel's path, sent once the enroll has answered 201

    def line(self, thread: int) -> str:
        return "\t".join((str(thread), self.kind, self.method, self.role, self.path, self.body, self.then))


@dataclass
class Catalogue:
    """What the lists are drawn from, read once from the benchmark database."""

    bootcamp_pages: int
    enrollment_pages: int
    bootcamp_ids: list[int]
    search_terms: list[str]
    #: (bootcamp id, its description) that edits go round
    editable: list[tuple[int, str]]
    #: (enrollment id, bootcamp id, student id): CANCELLED, re-enrollable at once
    pairs: list[tuple[int, int, str]]
    #: CONTACTED leads whose email is theirs alone
    leads: list[int]


def _rows(query, sql: str) -> list[tuple]:
    return [tuple(row) for row in query(sql)]


def read_catalogue(
    query, *, bootcamp_pages: int, enrollment_pages: int, today: date | None = None
) -> Catalogue:
    """Reads what the lists need; plain SQL that PostgreSQL and SQLite both run.

    Page counts come from the API (what the ADMIN's lists say), the rest from
    the tables. Everything is ordered, so the same data gives the same catalogue.
    """
    # A day's margin: the server's idea of today may be ahead of this machine's.
    day = ((today or date.today()) + timedelta(days=1)).isoformat()
    bootcamp_ids = [int(row[0]) for row in _rows(query, "SELECT id FROM bootcamps_bootcamp ORDER BY id")]
    names = _rows(query, "SELECT full_name FROM leads_lead WHERE id % 20 = 0 ORDER BY id")
    terms = sorted({str(row[0]).split()[-1].lower() for row in names if str(row[0]).split()})
    editable = [
        (int(pk), str(description))
        for pk, description in _rows(
            query,
            "SELECT id, description FROM bootcamps_bootcamp "
            f"WHERE status <> 'ARCHIVED' AND end_date >= '{day}' ORDER BY id",
        )
    ]
    # CANCELLED rows the SALES user can enroll again at once: the student can be
    # enrolled, the bootcamp is open and not full, and nobody is waiting for a
    # seat (else enrolling would jump the queue, and cancelling promote someone).
    candidates = _rows(
        query,
        "SELECT e.id, e.bootcamp_id, e.student_id FROM enrollments_enrollment e "
        "JOIN bootcamps_bootcamp b ON b.id = e.bootcamp_id "
        "JOIN accounts_user u ON u.id = e.student_id "
        f"WHERE e.status = 'CANCELLED' AND b.status = 'PUBLISHED' AND b.end_date >= '{day}' "
        "AND u.is_active AND u.role = 'STUDENT' "
        "AND (SELECT count(*) FROM enrollments_enrollment s WHERE s.bootcamp_id = b.id "
        "     AND s.status IN ('ACTIVE', 'COMPLETED')) < b.capacity "
        "AND NOT EXISTS (SELECT 1 FROM enrollments_enrollment w WHERE w.bootcamp_id = b.id "
        "     AND w.status = 'WAITLISTED') "
        "ORDER BY e.bootcamp_id, e.id",
    )
    pairs, seen = [], set()
    for enrollment_id, bootcamp_id, student_id in candidates:
        # One pair per bootcamp: a free seat is then enough for it.
        if bootcamp_id not in seen:
            seen.add(bootcamp_id)
            pairs.append((int(enrollment_id), int(bootcamp_id), str(student_id)))
    leads = [
        int(row[0])
        for row in _rows(
            query,
            "SELECT id FROM leads_lead WHERE status = 'CONTACTED' AND email IN "
            "(SELECT email FROM leads_lead GROUP BY email HAVING count(*) = 1) ORDER BY id",
        )
    ]
    return Catalogue(bootcamp_pages, enrollment_pages, bootcamp_ids, terms, editable, pairs, leads)


def random_pages(catalogue: Catalogue, *, seed: int = SEED, threads: int = 2, per_thread: int = PER_THREAD):
    """One list per wrk thread: the bootcamp list at a random page each time."""
    rng = random.Random(f"random_pages-{seed}")
    return [
        [
            Req("list", "GET", f"/api/v1/bootcamps/?page={rng.randint(1, catalogue.bootcamp_pages)}", "ADMIN")
            for _ in range(per_thread)
        ]
        for _ in range(threads)
    ]


def _counts(per_thread: int) -> dict[str, int]:
    total = sum(MIX.values())
    counts = {kind: round(per_thread * share / total) for kind, share in MIX.items()}
    counts["list"] += per_thread - sum(counts.values())
    return counts


def mixed(catalogue: Catalogue, *, seed: int = SEED, threads: int = 2, per_thread: int = PER_THREAD):
    """One list per wrk thread (see the module's docstring). The cancels are not
    in the lists: mix.lua sends each enroll's cancel once the enroll has answered."""
    missing = [
        what
        for what, rows in (
            ("bootcamps", catalogue.bootcamp_ids),
            ("search terms", catalogue.search_terms),
            ("editable bootcamps", catalogue.editable),
            ("re-enrollable enrollments", catalogue.pairs),
            ("CONTACTED leads", catalogue.leads),
        )
        if not rows
    ]
    if missing:
        raise ValueError(f"The data has no {', '.join(missing)} for the mixed workload.")
    rng = random.Random(f"mixed-{seed}")
    edited = rng.sample(catalogue.editable, min(EDITED_BOOTCAMPS, len(catalogue.editable)))
    toggled = rng.sample(catalogue.leads, min(TOGGLED_LEADS, len(catalogue.leads)))
    pairs = rng.sample(catalogue.pairs, min(PAIRS_PER_THREAD * threads, len(catalogue.pairs)))
    edits_done, toggles_done = {}, {}

    def edit():
        pk, description = rng.choice(edited)
        n = edits_done[pk] = edits_done.get(pk, 0) + 1
        text = description + EDIT_SUFFIX if n % 2 else description
        return Req("edit", "PATCH", f"/api/v1/bootcamps/{pk}/", "ADMIN", json.dumps({"description": text}))

    def lead_status():
        pk = rng.choice(toggled)
        n = toggles_done[pk] = toggles_done.get(pk, 0) + 1
        body = {"status": "LOST", "lost_reason": LOST_REASON} if n % 2 else {"status": "CONTACTED"}
        return Req("lead_status", "PATCH", f"/api/v1/leads/{pk}/", "SALES", json.dumps(body))

    draw = {
        "list": lambda: Req(
            "list", "GET", f"/api/v1/bootcamps/?page={rng.randint(1, catalogue.bootcamp_pages)}", "ADMIN"
        ),
        "detail": lambda: Req(
            "detail", "GET", f"/api/v1/bootcamps/{rng.choice(catalogue.bootcamp_ids)}/", "ADMIN"
        ),
        "enrollments": lambda: Req(
            "enrollments",
            "GET",
            f"/api/v1/enrollments/?page={rng.randint(1, catalogue.enrollment_pages)}",
            "ADMIN",
        ),
        "leads": lambda: Req(
            "leads", "GET", f"/api/v1/leads/?search={rng.choice(catalogue.search_terms)}", "SALES"
        ),
        "edit": edit,
        "lead_status": lead_status,
    }
    lists = []
    for thread in range(threads):
        kinds = [kind for kind, n in _counts(per_thread).items() for _ in range(n)]
        rng.shuffle(kinds)
        own = pairs[thread::threads]  # a pair belongs to one thread: its enroll and cancel stay in order
        items, enrolled = [], 0
        for kind in kinds:
            if kind != "enroll":
                items.append(draw[kind]())
                continue
            if not own:
                items.append(draw["list"]())
                continue
            enrollment_id, bootcamp_id, student_id = own[enrolled % len(own)]
            enrolled += 1
            body = json.dumps({"bootcamp": bootcamp_id, "student": student_id})
            cancel = f"/api/v1/enrollments/{enrollment_id}/cancel/"
            items.append(Req("enroll", "POST", "/api/v1/enrollments/", "SALES", body, then=cancel))
        lists.append(items)
    return lists


def write_lists(path, lists) -> None:
    """The file bench/mix.lua reads: one request a line, tab-separated
    (thread, kind, method, role, path, body, then); no tokens in it."""
    path.write_text(
        "".join(req.line(thread + 1) + "\n" for thread, items in enumerate(lists) for req in items)
    )


def touched(lists) -> dict:
    """What the writes in `lists` may change, and the values to put back."""
    out = {"enrollments": set(), "leads": set(), "descriptions": {}}
    for items in lists:
        for req in items:
            if req.kind == "enroll":
                out["enrollments"].add(int(req.then.split("/")[4]))
            elif req.kind == "lead_status":
                out["leads"].add(int(req.path.split("/")[4]))
    return out


def restore(query, send, lists, catalogue: Catalogue) -> dict[str, int]:
    """Puts back, through the API, what the last writes of a run left changed;
    returns how many of each it had to put back (failures raise RuntimeError)."""
    changed = touched(lists)
    originals = dict(catalogue.editable)
    edited = {int(req.path.split("/")[4]) for items in lists for req in items if req.kind == "edit"}
    fixes = {"enrollments": [], "leads": [], "descriptions": []}
    if changed["enrollments"]:
        ids = ",".join(str(pk) for pk in sorted(changed["enrollments"]))
        for pk, status in _rows(query, f"SELECT id, status FROM enrollments_enrollment WHERE id IN ({ids})"):
            if status != "CANCELLED":
                fixes["enrollments"].append(("POST", f"/api/v1/enrollments/{int(pk)}/cancel/", "SALES", ""))
    if changed["leads"]:
        ids = ",".join(str(pk) for pk in sorted(changed["leads"]))
        for pk, status in _rows(query, f"SELECT id, status FROM leads_lead WHERE id IN ({ids})"):
            if status != "CONTACTED":
                body = json.dumps({"status": "CONTACTED"})
                fixes["leads"].append(("PATCH", f"/api/v1/leads/{int(pk)}/", "SALES", body))
    if edited:
        ids = ",".join(str(pk) for pk in sorted(edited))
        for pk, description in _rows(
            query, f"SELECT id, description FROM bootcamps_bootcamp WHERE id IN ({ids})"
        ):
            if str(description) != originals[int(pk)]:
                body = json.dumps({"description": originals[int(pk)]})
                fixes["descriptions"].append(("PATCH", f"/api/v1/bootcamps/{int(pk)}/", "ADMIN", body))
    for requests in fixes.values():
        for method, path, role, body in requests:
            status = send(method, path, role, body)
            if not 200 <= status < 300:
                raise RuntimeError(f"restoring the data: {method} {path} answered {status}")
    return {what: len(requests) for what, requests in fixes.items()}
