"""import_legacy, run as an operator runs it, checked against the rows in both databases."""

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from assignments.models import Assignment
from bootcamps.models import Bootcamp
from bootcamps.tests.factories import BootcampFactory
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from leads.models import Lead, LeadActivity
from leads.tests.factories import LeadFactory
from legacy.importer import LOST_WITHOUT_REASON, Importer, connect
from legacy.mapping import DEFAULT_PATH, Mapping
from legacy.models import LegacyRefreshToken
from legacy.tests.conftest import naive_utc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BASE_DIR = Path(__file__).resolve().parents[2]


def run_import(node, *args, expect=0):
    """call_command as the operator would; (exit code, stdout, the JSON report)."""
    out, err = _Buffer(), _Buffer()
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"import-report-{os.getpid()}.json"
    code = 0
    try:
        call_command(
            "import_legacy", "--source", node.url, "--report", str(report), *args, stdout=out, stderr=err
        )
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    assert code == expect, (code, out.text, err.text)
    return out.text, json.loads(report.read_text()) if report.exists() and code != 2 else None


class _Buffer:
    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def text(self):
        return "".join(self.parts)


def refusals(report, table=None):
    return {r["legacy_id"]: r["reason"] for r in report["refused"] if table in (None, r["table"])}


def counts(report, table):
    return report["tables"][table]


def fill(node):
    """A small company: staff, students, two bootcamps, enrollments, assignments, leads, tokens."""
    admin = node.user(email="Boss@Node.Example", role="ADMIN")
    sales = node.user(email="seller@node.example", role="SALES")
    teacher = node.user(email="teacher@node.example", role="INSTRUCTOR", phone="+49 30 1234567")
    mentor = node.user(email="mentor@node.example", role="MENTOR")
    students = [node.user(email=f"student{n}@node.example") for n in range(4)]
    web = node.bootcamp(title="Web Development", instructor_id=teacher["id"], mentors=[mentor], capacity=2)
    data = node.bootcamp(title="Data Science", status="COMPLETED", instructor_id=teacher["id"])
    active = [node.enrollment(students[n], web, status="ACTIVE") for n in range(2)]
    # Two asked for a seat, in this order, and were never confirmed.
    pending_late = node.enrollment(students[2], web, status="PENDING", enrolled_at=naive_utc(-5))
    pending_early = node.enrollment(students[3], web, status="PENDING", enrolled_at=naive_utc(-9))
    dropped = node.enrollment(students[0], data, status="DROPPED")
    homework = node.assignment(web, author_id=teacher["id"], max_score=50)
    orphan_homework = node.assignment(web, author_id=None)
    leads = {
        "web": node.lead(source="Website ", owner_id=sales["id"], bootcamp_id=web["id"]),
        "fb": node.lead(source="FB ads", notes="Called twice.\nWants the evening class.", status="CONTACTED"),
        "odd": node.lead(source="Radio spot", status="LOST"),
        "won": node.lead(source="referral", status="CONVERTED", email=students[0]["email"]),
        "none": node.lead(source=None, email="Mixed.Case@Mail.Example"),
    }
    token = node.refresh_token(students[0])
    return locals()


def test_a_full_import_brings_every_table_over_with_the_decisions_the_old_data_forces(node):
    company = fill(node)
    out, report = run_import(node)

    assert report["refused"] == []
    assert {table: c["created"] for table, c in report["tables"].items()} == {
        "users": 8,
        "bootcamps": 2,
        "assignments": 2,
        "enrollments": 5,
        "leads": 5,
        "refresh_tokens": 1,
    }
    assert "Import finished." in out

    # Users keep their id; emails are lower-cased; the bcrypt hash is kept as it is.
    boss = User.objects.get(pk=company["admin"]["id"])
    assert boss.email == "boss@node.example" and boss.role == "ADMIN" and boss.legacy_id == boss.pk
    assert boss.password == f"legacy_bcrypt${company['admin']['password_hash']}"
    assert boss.created_at == company["admin"]["created_at"].replace(tzinfo=UTC)  # the same instant
    assert User.objects.get(pk=company["teacher"]["id"]).phone == "+49 30 1234567"
    # The company's real users: their addresses count as proven, since they joined (MIGRATING.md).
    assert all(user.email_verified_at == user.created_at for user in User.objects.all())

    # Bootcamps: statuses mapped, instructor and mentors kept, a slug made.
    web = Bootcamp.objects.get(legacy_id=company["web"]["id"])
    assert web.status == "PUBLISHED" and web.slug == "web-development" and web.capacity == 2
    assert list(web.instructors.values_list("pk", flat=True)) == [company["teacher"]["id"]]
    assert list(web.mentors.values_list("pk", flat=True)) == [company["mentor"]["id"]]
    assert Bootcamp.objects.get(legacy_id=company["data"]["id"]).status == "ARCHIVED"
    assert web.price == Decimal("4900.00") and web.created_at == company["web"]["created_at"].replace(
        tzinfo=UTC
    )

    # Enrollments: PENDING joins the waitlist in enrolled_at order.
    waitlist = Enrollment.objects.filter(bootcamp=web, status="WAITLISTED").order_by("waitlist_seq")
    assert [e.legacy_id for e in waitlist] == [company["pending_early"]["id"], company["pending_late"]["id"]]
    assert Enrollment.objects.get(legacy_id=company["dropped"]["id"]).status == "DROPPED"
    first = Enrollment.objects.get(legacy_id=company["active"][0]["id"])
    assert first.enrolled_at == company["active"][0]["enrolled_at"].replace(tzinfo=UTC)

    # Assignments: the author, or the bootcamp's instructor when there was none.
    assert Assignment.objects.get(legacy_id=company["homework"]["id"]).max_score == Decimal("50")
    orphan = Assignment.objects.get(legacy_id=company["orphan_homework"]["id"])
    assert orphan.created_by_id == company["teacher"]["id"]

    # Leads: sources normalised, the unknown kept on the timeline, notes as one note.
    by_id = {lead.legacy_id: lead for lead in Lead.objects.all()}
    leads = company["leads"]
    assert by_id[leads["web"]["id"]].source == "WEBSITE"
    assert by_id[leads["web"]["id"]].owner_id == company["sales"]["id"]
    assert by_id[leads["fb"]["id"]].source == "ADS"
    assert by_id[leads["none"]["id"]].email == "mixed.case@mail.example"
    odd = by_id[leads["odd"]["id"]]
    assert odd.source == "OTHER" and odd.status == "LOST" and odd.lost_reason == LOST_WITHOUT_REASON
    assert "Radio spot" in odd.activities.get(kind="CREATED").body
    assert not by_id[leads["web"]["id"]].activities.exists()  # nothing to keep: an empty timeline
    note = by_id[leads["fb"]["id"]].activities.get(kind="NOTE")
    assert note.body == "Called twice.\nWants the evening class."
    assert note.created_at == leads["fb"]["updated_at"].replace(tzinfo=UTC)
    won = by_id[leads["won"]["id"]]
    assert won.status == "CONVERTED" and won.converted_enrollment is None and won.source == "REFERRAL"
    assert by_id[leads["web"]["id"]].created_at == leads["web"]["created_at"].replace(tzinfo=UTC)

    token = LegacyRefreshToken.objects.get()
    assert (
        token.token_hash == company["token"]["token_hash"] and token.user_id == company["students"][0]["id"]
    )

    # Web Development had 2 seats and 2 ACTIVE: full, not over-full.
    assert report["over_full_bootcamps"] == []


def test_a_second_run_with_nothing_changed_writes_nothing_and_says_so(node):
    fill(node)
    run_import(node)
    before = {model: list(model.objects.values_list("pk", "updated_at")) for model in (User, Bootcamp, Lead)}
    activities = LeadActivity.objects.count()

    out, report = run_import(node)

    assert all(c["created"] == 0 and c["updated"] == 0 for c in report["tables"].values()), report["tables"]
    assert counts(report, "leads")["unchanged"] == 5 and counts(report, "users")["unchanged"] == 8
    assert "nothing was created or updated" in out
    assert {model: list(model.objects.values_list("pk", "updated_at")) for model in before} == before
    assert LeadActivity.objects.count() == activities


def test_changes_in_the_source_are_brought_over_and_rows_gone_from_it_are_listed_not_deleted(node):
    company = fill(node)
    run_import(node)
    native = LeadFactory(email="walked-in@cohortly.example")  # made in Cohortly: never touched
    native_version = native.updated_at

    node.execute(
        "UPDATE users SET full_name = 'Renamed Teacher', updated_at = %s WHERE id = %s",
        [naive_utc(), company["teacher"]["id"]],
    )
    node.execute(
        "UPDATE leads SET notes = notes || E'\\nSigned up for the open day.', updated_at = %s WHERE id = %s",
        [naive_utc(), company["leads"]["fb"]["id"]],
    )
    node.execute(
        "UPDATE enrollments SET status = 'ACTIVE', updated_at = %s WHERE id = %s",
        [naive_utc(), company["pending_early"]["id"]],
    )
    node.execute(
        "UPDATE refresh_tokens SET revoked_at = %s WHERE id = %s", [naive_utc(), company["token"]["id"]]
    )
    node.execute("DELETE FROM leads WHERE id = %s", [company["leads"]["none"]["id"]])
    newcomer = node.lead(email="newcomer@mail.example")

    _, report = run_import(node)

    assert counts(report, "users") | {"read": 0} == {
        "read": 0,
        "created": 0,
        "updated": 1,
        "unchanged": 7,
        "refused": 0,
    }
    assert counts(report, "leads")["created"] == 1 and counts(report, "leads")["updated"] == 1
    assert counts(report, "enrollments")["updated"] == 1 and counts(report, "refresh_tokens")["updated"] == 1
    assert User.objects.get(pk=company["teacher"]["id"]).full_name == "Renamed Teacher"
    fb = Lead.objects.get(legacy_id=company["leads"]["fb"]["id"])
    assert list(fb.activities.filter(kind="NOTE").order_by("created_at").values_list("body", flat=True)) == [
        "Called twice.\nWants the evening class.",
        "Signed up for the open day.",
    ]
    promoted = Enrollment.objects.get(legacy_id=company["pending_early"]["id"])
    assert promoted.status == "ACTIVE" and promoted.waitlist_seq is None
    assert LegacyRefreshToken.objects.get().revoked_at is not None
    assert Lead.objects.filter(legacy_id=newcomer["id"]).exists()

    gone = company["leads"]["none"]["id"]
    assert report["missing_in_source"] == [
        {"table": "leads", "legacy_id": str(gone), "id": str(Lead.objects.get(legacy_id=gone).pk)}
    ]
    native.refresh_from_db()
    assert native.updated_at == native_version and native.legacy_id is None
    # Web Development now holds 3 ACTIVE on 2 seats: the report says so.
    web = company["web"]
    assert report["over_full_bootcamps"] == [
        {
            "id": Bootcamp.objects.get(legacy_id=web["id"]).pk,
            "legacy_id": str(web["id"]),
            "title": "Web Development",
            "capacity": 2,
            "seats_taken": 3,
        }
    ]


def test_over_full_bootcamps_keep_their_class_and_the_seat_rule_holds_afterwards(node):
    teacher = node.user(role="INSTRUCTOR")
    camp = node.bootcamp(
        capacity=1,
        instructor_id=teacher["id"],
        start_date=naive_utc(30).date(),
        end_date=naive_utc(90).date(),
    )
    students = [node.user() for _ in range(3)]
    for student in students:
        node.enrollment(student, camp, status="ACTIVE")
    _, report = run_import(node)

    bootcamp = Bootcamp.objects.get(legacy_id=camp["id"])
    assert [b["seats_taken"] for b in report["over_full_bootcamps"]] == [3]
    assert Enrollment.objects.filter(bootcamp=bootcamp, status="ACTIVE").count() == 3

    latecomer = UserFactory(role="STUDENT")
    enrollment = enrollment_create(student=latecomer, bootcamp=bootcamp)
    assert enrollment.status == "WAITLISTED"


def test_a_lead_converted_in_cohortly_stays_converted_when_the_node_backend_changes_it(node):
    """A note appended in the Node backend reopened it as NEW with its links kept,
    and converting it again made the student a second enrollment."""
    from leads.services import lead_convert

    camp = node.bootcamp(start_date=naive_utc(30).date(), end_date=naive_utc(90).date())
    other_camp = node.bootcamp(start_date=naive_utc(30).date(), end_date=naive_utc(90).date())
    source = node.lead(email="maya@node.example", status="CONTACTED", notes="Called once.")
    run_import(node)
    lead = Lead.objects.get(legacy_id=source["id"])
    bootcamp = Bootcamp.objects.get(legacy_id=camp["id"])
    lead = lead_convert(lead=lead, actor=None, bootcamp=bootcamp, notify=False)
    enrollment = lead.converted_enrollment

    node.execute(
        "UPDATE leads SET notes = notes || E'\\nAsked about payment plans.', full_name = 'Maya N.', "
        "bootcamp_id = %s, updated_at = %s WHERE id = %s",
        [other_camp["id"], naive_utc(), source["id"]],
    )
    _, report = run_import(node, expect=1)

    lead.refresh_from_db()
    assert (lead.status, lead.bootcamp_id, lead.converted_enrollment_id) == (
        "CONVERTED",
        bootcamp.pk,
        enrollment.pk,
    )
    assert lead.full_name == "Maya N."  # its other changes came over
    assert LeadActivity.objects.filter(lead=lead, body__contains="payment plans").exists()
    assert refusals(report, "leads") == {
        str(
            source["id"]
        ): "status CONTACTED: the lead was converted in Cohortly, and stays CONVERTED with its "
        "bootcamp. Its other changes came over."
    }
    assert Enrollment.objects.filter(student=lead.converted_student).count() == 1


def test_a_lead_converted_in_cohortly_into_another_bootcamp_keeps_its_own_when_node_changes_it(node):
    """Converting keeps the bootcamp the lead asked about (leads.services.lead_convert);
    the next import of a Node change swapped in the bootcamp it was converted into."""
    from leads.services import lead_convert

    asked = node.bootcamp(start_date=naive_utc(30).date(), end_date=naive_utc(90).date())
    joined = node.bootcamp(start_date=naive_utc(30).date(), end_date=naive_utc(90).date())
    source = node.lead(email="omar@node.example", status="QUALIFIED", bootcamp_id=asked["id"])
    run_import(node)
    lead = Lead.objects.get(legacy_id=source["id"])
    lead = lead_convert(
        lead=lead, actor=None, bootcamp=Bootcamp.objects.get(legacy_id=joined["id"]), notify=False
    )
    asked_here = Bootcamp.objects.get(legacy_id=asked["id"])
    assert lead.bootcamp_id == asked_here.pk

    node.execute(
        "UPDATE leads SET notes = 'Paid the deposit.', updated_at = %s WHERE id = %s",
        [naive_utc(), source["id"]],
    )
    run_import(node, expect=1)

    lead.refresh_from_db()
    assert (lead.status, lead.bootcamp_id) == ("CONVERTED", asked_here.pk)
    assert lead.converted_enrollment.bootcamp.legacy_id == joined["id"]


def test_a_waiting_enrollment_moved_to_another_bootcamp_joins_the_end_of_its_waitlist(node):
    """Both bootcamps have someone first in line: the moved one used to keep its
    place number, which the other's first already held (every later import
    stopped on the unique constraint), or jump the queue there."""
    first_camp, second_camp = node.bootcamp(capacity=1), node.bootcamp(capacity=1)
    for camp in (first_camp, second_camp):
        node.enrollment(node.user(), camp, status="ACTIVE")
    mover = node.enrollment(node.user(), first_camp, status="PENDING", enrolled_at=naive_utc(-9))
    waiting = node.enrollment(node.user(), second_camp, status="PENDING", enrolled_at=naive_utc(-5))
    run_import(node)
    assert Enrollment.objects.get(legacy_id=mover["id"]).waitlist_seq == 1
    assert Enrollment.objects.get(legacy_id=waiting["id"]).waitlist_seq == 1

    node.execute(
        "UPDATE enrollments SET bootcamp_id = %s, updated_at = %s WHERE id = %s",
        [second_camp["id"], naive_utc(0), mover["id"]],
    )
    run_import(node)
    line = Enrollment.objects.filter(bootcamp__legacy_id=second_camp["id"], status="WAITLISTED")
    assert list(line.order_by("waitlist_seq").values_list("legacy_id", flat=True)) == [
        waiting["id"],
        mover["id"],
    ]
    assert not Enrollment.objects.filter(bootcamp__legacy_id=first_camp["id"], status="WAITLISTED").exists()


def test_bad_rows_are_refused_with_their_reasons_and_the_rest_imports(node):
    node.execute("ALTER TYPE bootcamp_status ADD VALUE IF NOT EXISTS 'PAUSED'")
    good = node.user(email="good@node.example")
    not_an_email = node.user(email="not-an-email")
    older_twin = node.user(email="Twin@Node.Example", updated_at=naive_utc(-50))
    newer_twin = node.user(email="twin@node.example", updated_at=naive_utc(-1))
    backwards = node.bootcamp(start_date=naive_utc(10).date(), end_date=naive_utc(1).date())
    no_seats = node.bootcamp(capacity=0)
    endless = node.bootcamp(start_date=naive_utc(1).date(), end_date=naive_utc(1).date().replace(year=2091))
    stadium = node.bootcamp(capacity=2_000_000)
    paused = node.bootcamp(status="PAUSED")
    fine = node.bootcamp()
    dangling = node.enrollment(not_an_email, fine)  # its student was refused
    kept = node.enrollment(good, fine)
    twin_lead = node.lead(email="dup@mail.example", updated_at=naive_utc(-9))
    winner_lead = node.lead(email="DUP@mail.example", updated_at=naive_utc(-1))

    _, report = run_import(node, expect=1)

    refused = refusals(report)
    assert "email" in refused[str(not_an_email["id"])]
    assert str(newer_twin["id"]) in refused[str(older_twin["id"])]  # names the one imported
    assert "end date cannot be before the start date" in refused[str(backwards["id"])].lower()
    assert "capacity" in refused[str(no_seats["id"])]
    assert refused[str(endless["id"])] == (
        f"end_date {endless['end_date']:%Y-%m-%d}: A bootcamp runs for 731 days (two years) at most."
    )
    # The value given is named, so the operator needn't look it up in the source.
    assert refused[str(not_an_email["id"])] == "email 'not-an-email': Enter a valid email address."
    assert (
        refused[str(stadium["id"])] == "capacity 2000000: Ensure this value is less than or equal to 100000."
    )
    assert "PAUSED" in refused[str(paused["id"])]
    assert "was not imported" in refused[str(dangling["id"])]
    assert str(winner_lead["id"]) in refused[str(twin_lead["id"])]
    assert len(refused) == 9

    assert set(User.objects.values_list("pk", flat=True)) == {good["id"], newer_twin["id"]}
    assert list(Bootcamp.objects.values_list("legacy_id", flat=True)) == [fine["id"]]
    assert list(Enrollment.objects.values_list("legacy_id", flat=True)) == [kept["id"]]
    assert list(Lead.objects.values_list("legacy_id", flat=True)) == [winner_lead["id"]]


def test_a_dry_run_writes_nothing_and_prints_the_same_report(node):
    fill(node)
    node.user(email="broken")
    _, dry = run_import(node, "--dry-run", expect=1)

    for model in (User, Bootcamp, Enrollment, Assignment, Lead, LeadActivity, LegacyRefreshToken):
        assert not model.objects.exists(), model
    _, real = run_import(node, expect=1)
    assert dry["dry_run"] is True and real["dry_run"] is False
    assert dry["tables"] == real["tables"] and dry["refused"] == real["refused"]


def test_only_imports_the_tables_named(node):
    company = fill(node)
    _, report = run_import(node, "--only", "users,bootcamps")
    assert set(report["tables"]) == {"users", "bootcamps"}
    assert User.objects.count() == 8 and Bootcamp.objects.count() == 2 and not Lead.objects.exists()
    # Later, leads alone: their references resolve to what the first run imported.
    run_import(node, "--only", "leads")
    assert Lead.objects.get(legacy_id=company["leads"]["web"]["id"]).owner_id == company["sales"]["id"]


def test_runs_that_cannot_start_exit_2_with_one_line_and_write_nothing(node, tmp_path):
    node.user()
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[users\n")
    missing_column = tmp_path / "missing.toml"
    missing_column.write_text(DEFAULT_PATH.read_text().replace('notes = "notes"', 'notes = "remarks"'))
    cases = [
        (["--source", "not a url at all"], "can't connect to the source"),
        (["--source", "postgres://postgres@127.0.0.1:1/nothing"], "can't connect to the source"),
        (["--source", node.url, "--mapping", str(bad_toml)], "not valid TOML"),
        (["--source", node.url, "--mapping", str(missing_column)], "leads.remarks"),
        (["--source", node.url, "--only", "users,grades"], "grades"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError) as raised:
            call_command("import_legacy", *args, stdout=_Buffer(), stderr=_Buffer())
        assert raised.value.returncode == 2, args
        assert message in str(raised.value) and "\n" not in str(raised.value), str(raised.value)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgres://reader:Open Sesame-42@node-db/bootcamps",  # a space not percent-encoded
        "postgres://reader:Open%ZZSesame-42@node-db/bootcamps",
        "postgres:/reader:OpenSesame-42@node-db/bootcamps",  # a slash missing
    ],
)
def test_a_source_url_that_cant_be_read_keeps_its_password_out_of_the_output_and_report(url, tmp_path):
    """libpq quotes the part of a URL it can't parse, the password among them, and
    the line went to the terminal, cron mail and the --report file."""
    report = tmp_path / "import.json"
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_legacy", "--source", url, "--report", str(report), stdout=_Buffer(), stderr=_Buffer()
        )

    assert raised.value.returncode == 2
    said = str(raised.value)
    assert said.startswith("can't connect to the source: its URL can't be read:"), said
    assert "Sesame" not in said and "Sesame" not in report.read_text()


def test_the_mapping_file_renames_a_table_and_a_column(node, tmp_path):
    lead = node.lead(full_name="Renamed Person")
    node.execute("ALTER TABLE leads RENAME TO prospects")
    node.execute("ALTER TABLE prospects RENAME COLUMN full_name TO name")
    try:
        mapping = tmp_path / "mapping.toml"
        mapping.write_text(
            DEFAULT_PATH.read_text()
            .replace('[leads]\ntable = "leads"', '[leads]\ntable = "prospects"')
            .replace(
                '[leads.columns]\nid = "id"\nfull_name = "full_name"',
                '[leads.columns]\nid = "id"\nfull_name = "name"',
            )
        )
        with pytest.raises(CommandError) as raised:  # the default mapping names what isn't there
            call_command("import_legacy", "--source", node.url, stdout=_Buffer(), stderr=_Buffer())
        assert raised.value.returncode == 2 and "public.leads" in str(raised.value)

        run_import(node, "--mapping", str(mapping))
        assert Lead.objects.get(legacy_id=lead["id"]).full_name == "Renamed Person"
    finally:
        node.execute("ALTER TABLE prospects RENAME COLUMN name TO full_name")
        node.execute("ALTER TABLE prospects RENAME TO leads")


def test_one_run_reads_one_snapshot_of_the_source(node):
    """A lead the Node backend writes while the run is busy with users is not half-seen."""
    node.user()
    node.lead(email="before@mail.example")

    def progress(table, total):
        if table == "users":
            node.lead(email="during@mail.example")  # committed by another connection
        return _NoBar()

    source = connect(node.url)
    with source:
        report = Importer(source, Mapping.load(), progress=progress).run(["users", "leads"])
        assert source.execute("SHOW transaction_isolation").fetchone()[0] == "repeatable read"
        assert source.execute("SHOW transaction_read_only").fetchone()[0] == "on"
    assert report.tables["leads"].read == 1
    assert list(Lead.objects.values_list("email", flat=True)) == ["before@mail.example"]


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_command_as_a_process_prints_progress_lines_and_exits_with_its_code(node, tmp_path):
    from cohortly.tests.live_servers import database_url_for_servers

    fill(node)
    node.user(email="@nobody")
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "manage.py", "import_legacy", "--source", node.url, "--report", str(report)],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "cohortly.settings_test",
            "DATABASE_URL": database_url_for_servers(),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "users: 9 of 9 rows" in result.stderr and "leads: 5 of 5 rows" in result.stderr  # not a terminal
    assert "Traceback" not in result.stderr
    assert "1 rows were refused" in result.stderr
    saved = json.loads(report.read_text())
    assert saved["tables"]["users"]["created"] == 8 and len(saved["refused"]) == 1
    assert User.objects.count() == 8 and Lead.objects.count() == 5
    assert timezone.now() - User.objects.get(email="boss@node.example").updated_at < timedelta(minutes=5)


def test_cohortly_accounts_are_never_overwritten_by_a_source_user_with_their_email(node):
    mine = UserFactory(email="taken@cohortly.example")
    theirs = node.user(email="Taken@Cohortly.Example")
    _, report = run_import(node, expect=1)
    assert str(mine.pk) in refusals(report)[str(theirs["id"])]
    mine.refresh_from_db()
    assert mine.legacy_id is None and User.objects.count() == 1


def test_an_open_lead_made_in_cohortly_keeps_its_email_from_open_source_leads_only(node):
    mine = [
        LeadFactory(email=f"walked-in-{n}@cohortly.example", status=Lead.Status.CONTACTED) for n in (1, 2)
    ]
    open_twin = node.lead(email="Walked-In-1@Cohortly.Example", status="NEW")
    closed_twins = [node.lead(email="walked-in-2@cohortly.example", status=s) for s in ("CONVERTED", "LOST")]
    other = node.lead(status="QUALIFIED")

    _, report = run_import(node, expect=1)

    assert refusals(report) == {
        str(open_twin["id"]): "walked-in-1@cohortly.example already has an open lead in Cohortly"
    }
    assert set(Lead.objects.filter(legacy_id__isnull=False).values_list("legacy_id", flat=True)) == {
        *(lead["id"] for lead in closed_twins),
        other["id"],
    }
    assert Lead.objects.filter(pk__in=[lead.pk for lead in mine], status=Lead.Status.CONTACTED).count() == 2


def test_imported_bootcamps_get_slugs_that_dont_clash(node):
    BootcampFactory(title="Web Development", slug="web-development")
    node.bootcamp(title="Web Development")
    node.bootcamp(title="Web Development")
    run_import(node)
    assert sorted(Bootcamp.objects.values_list("slug", flat=True)) == [
        "web-development",
        "web-development-2",
        "web-development-3",
    ]


def test_imported_users_log_in_with_their_node_password_which_becomes_argon2(node, anon_client, settings):
    import cohortly.settings
    from legacy.tests.conftest import PASSWORD

    settings.PASSWORD_HASHERS = cohortly.settings.PASSWORD_HASHERS
    person = node.user(email="Ada@Node.Example")
    run_import(node)

    response = anon_client.post("/api/v1/auth/login", {"email": "ada@node.example", "password": PASSWORD})
    assert response.status_code == 200, response.content
    assert User.objects.get(pk=person["id"]).password.startswith("argon2$")
    # A later run with nothing changed in the source leaves the upgraded hash alone.
    run_import(node)
    assert User.objects.get(pk=person["id"]).password.startswith("argon2$")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_on_a_terminal_each_table_gets_a_progress_bar(node):
    import pty

    from cohortly.tests.live_servers import database_url_for_servers

    node.user()
    node.lead()
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "cohortly.settings_test",
        "DATABASE_URL": database_url_for_servers(),
    }
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command with a terminal as its output
        os.chdir(BASE_DIR)
        os.execve(sys.executable, [sys.executable, "manage.py", "import_legacy", "--source", node.url], env)
    output = b""
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "users: 100%|" in text and "leads: 100%|" in text and "1/1" in text, text
    assert "of 1 rows" not in text  # the plain lines are for logs, not terminals


def test_imported_leads_read_well_on_the_sales_pages_and_in_the_api(node, client, admin_client):
    company = fill(node)
    run_import(node)
    sales = User.objects.get(pk=company["sales"]["id"])
    client.force_login(sales)

    fb = Lead.objects.get(legacy_id=company["leads"]["fb"]["id"])
    page = client.get(f"/sales/leads/{fb.pk}/")
    assert page.status_code == 200
    assert "Wants the evening class." in page.content.decode()

    won = Lead.objects.get(legacy_id=company["leads"]["won"]["id"])
    page = client.get(f"/sales/leads/{won.pk}/")
    assert page.status_code == 200 and "Converted" in page.content.decode()
    body = admin_client.get(f"/api/v1/leads/{won.pk}/").json()
    assert body["status"] == "CONVERTED" and body["converted_enrollment"] is None

    odd = Lead.objects.get(legacy_id=company["leads"]["odd"]["id"])
    page = client.get(f"/sales/leads/{odd.pk}/").content.decode()
    assert "Radio spot" in page and LOST_WITHOUT_REASON in page


def test_a_run_the_database_stops_half_way_writes_nothing_and_exits_2(node):
    from django.db import connection

    node.user(email="first@node.example")
    node.lead(full_name="Boom")
    # Cohortly's database refuses what the models' checks let through (a stand-in
    # for any failure while writing).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE leads_lead ADD CONSTRAINT test_no_boom CHECK (full_name <> 'Boom')")

    with pytest.raises(CommandError) as raised:
        call_command("import_legacy", "--source", node.url, stdout=_Buffer(), stderr=_Buffer())

    assert raised.value.returncode == 2
    assert str(raised.value).startswith("the import stopped and wrote nothing:") and "test_no_boom" in str(
        raised.value
    )
    assert "\n" not in str(raised.value)
    assert not User.objects.exists()  # the users written before the leads are gone too


def test_a_time_python_cant_hold_refuses_its_row_with_the_column_and_the_rest_imports(node):
    fine = node.user(email="fine@node.example")
    odd = {
        value: node.user(email=f"odd{n}@node.example")
        for n, value in enumerate(["infinity", "-infinity", "10000-01-01", "0001-01-01 BC"])
    }
    for value, user in odd.items():
        node.execute("UPDATE users SET updated_at = %s::timestamp WHERE id = %s", [value, user["id"]])
    camp = node.bootcamp()
    node.execute("UPDATE bootcamps SET end_date = 'infinity' WHERE id = %s", [camp["id"]])
    other_camp = node.bootcamp()
    late = node.enrollment(fine, other_camp)
    node.execute("UPDATE enrollments SET enrolled_at = '20000-05-05' WHERE id = %s", [late["id"]])

    _, report = run_import(node, expect=1)

    refused = refusals(report)
    for user in odd.values():
        assert refused[str(user["id"])].startswith("updated_at is '"), refused
        assert refused[str(user["id"])].endswith("a date Cohortly can't store (years 1 to 9999)")
    assert refused[str(odd["infinity"]["id"])].startswith("updated_at is 'infinity'")
    assert "end_date is 'infinity'" in refusals(report, "bootcamps")[str(camp["id"])]
    assert "enrolled_at is '20000-05-05" in refusals(report, "enrollments")[str(late["id"])]
    assert set(User.objects.values_list("pk", flat=True)) == {fine["id"]}
    assert list(Bootcamp.objects.values_list("legacy_id", flat=True)) == [other_camp["id"]]
    assert not Enrollment.objects.filter(legacy_id=late["id"]).exists()


def test_a_time_outside_the_years_records_are_kept_in_or_missing_refuses_its_row(node):
    """A year-9999 lead came over and sorted first on the sales pages, where its
    time east of UTC is past what Python holds: every sales page was a 500."""
    fine = node.user(email="fine@node.example")
    ancient = node.user(email="ancient@node.example")
    node.execute("UPDATE users SET created_at = '0001-01-01 00:00' WHERE id = %s", [ancient["id"]])
    future = node.lead(email="future@node.example")
    node.execute(
        "UPDATE leads SET created_at = '9999-12-31 23:00', updated_at = '9999-12-31 23:00' WHERE id = %s",
        [future["id"]],
    )
    # A source whose schema lets a time be missing (not Prisma's): the row, not the run.
    node.execute("ALTER TABLE leads ALTER COLUMN created_at DROP NOT NULL")
    missing = node.lead(email="missing@node.example")
    node.execute("UPDATE leads SET created_at = NULL WHERE id = %s", [missing["id"]])
    kept = node.lead(email="kept@node.example")
    try:
        _, report = run_import(node, expect=1)
    finally:  # the source database is the next test's too
        node.execute("DELETE FROM leads WHERE created_at IS NULL")
        node.execute("ALTER TABLE leads ALTER COLUMN created_at SET NOT NULL")

    assert refusals(report, "users") == {
        str(ancient["id"]): "created_at is 0001-01-01 00:00, outside the years a record's times are kept in "
        "(1970 to 2099)"
    }
    assert refusals(report, "leads") == {
        str(future["id"]): "created_at is 9999-12-31 23:00, outside the years a record's times are kept in "
        "(1970 to 2099)",
        str(missing["id"]): "created_at is empty",
    }
    assert set(User.objects.values_list("pk", flat=True)) >= {fine["id"]}
    assert not User.objects.filter(pk=ancient["id"]).exists()
    assert list(Lead.objects.values_list("legacy_id", flat=True)) == [kept["id"]]


@pytest.mark.parametrize("batch_size", ["2000", "1"])
def test_emails_alike_after_trimming_and_lower_casing_import_one_and_refuse_the_other(node, batch_size):
    older = node.user(email="ada@x.io", full_name="Ada", updated_at=naive_utc(-9))
    newer = node.user(email=" Ada@X.io ", full_name="Ada two", updated_at=naive_utc(-1))
    bystander = node.user(email="grace@x.io")
    old_lead = node.lead(email="bo@x.io", updated_at=naive_utc(-9))
    new_lead = node.lead(email="  Bo@x.io", updated_at=naive_utc(-1))
    closed = node.lead(email="BO@x.io\t", status="LOST")  # a closed lead clashes with nothing

    _, report = run_import(node, "--batch-size", batch_size, expect=1)

    assert refusals(report) == {
        str(older["id"]): f"email ada@x.io is also the email of users {newer['id']}, updated later, "
        "which is imported instead",
        str(old_lead["id"]): f"email bo@x.io is also the email of leads {new_lead['id']}, updated later, "
        "which is imported instead",
    }
    assert dict(User.objects.values_list("pk", "email")) == {
        newer["id"]: "ada@x.io",
        bystander["id"]: "grace@x.io",
    }
    assert User.objects.get(pk=newer["id"]).full_name == "Ada two"
    assert set(Lead.objects.values_list("legacy_id", "email")) == {
        (new_lead["id"], "bo@x.io"),
        (closed["id"], "bo@x.io"),
    }


def test_of_rows_sharing_an_email_the_latest_valid_one_is_imported(node):
    """A later row refused for its own reason doesn't take the valid one down with it."""
    valid = node.user(email="ada@x.io", updated_at=naive_utc(-9))
    bad_hash = node.user(email="Ada@x.io", password_hash="plain-text", updated_at=naive_utc(-1))
    node.execute("ALTER TYPE user_role ADD VALUE IF NOT EXISTS 'SUPPORT'")
    bad_role = node.user(email="ADA@x.io", role="SUPPORT", updated_at=naive_utc(-2))
    valid_lead = node.lead(email="bo@x.io", updated_at=naive_utc(-9))
    refused_camp = node.bootcamp(capacity=0)
    orphan_lead = node.lead(email="Bo@x.io", bootcamp_id=refused_camp["id"], updated_at=naive_utc(-1))

    _, report = run_import(node, expect=1)

    refused = refusals(report)
    assert refused[str(bad_hash["id"])] == "password_hash is not a bcrypt hash"
    assert refused[str(bad_role["id"])] == "unknown user_role value 'SUPPORT'"
    assert refused[str(orphan_lead["id"])] == f"its bootcamp {orphan_lead['bootcamp_id']} was not imported"
    assert len(refused) == 4  # and the bootcamp
    assert list(User.objects.values_list("pk", flat=True)) == [valid["id"]]
    assert list(Lead.objects.values_list("legacy_id", flat=True)) == [valid_lead["id"]]


def test_titles_with_control_characters_are_imported_with_spaces_and_reported(node):
    from assignments.models import Assignment

    teacher = node.user(role="INSTRUCTOR")
    camp = node.bootcamp(instructor_id=teacher["id"], title="Data\tScience\u202e 2027")
    work = node.assignment(camp, title="Week\x071 project")

    out, report = run_import(node)

    assert report["refused"] == []
    assert Bootcamp.objects.get(legacy_id=camp["id"]).title == "Data Science  2027"
    assert Assignment.objects.get(legacy_id=work["id"]).title == "Week 1 project"
    adjusted = {(a["table"], a["legacy_id"], a["field"]) for a in report["adjusted"]}
    assert {("bootcamps", str(camp["id"]), "title"), ("assignments", str(work["id"]), "title")} <= adjusted


def test_a_title_with_nothing_visible_gets_a_stand_in_not_a_refusal(node):
    """Cohortly's titles need a visible character: a Node title of zero-width
    spaces would have refused the bootcamp, and with it its enrollments,
    assignments and leads."""
    from assignments.models import Assignment

    teacher = node.user(role="INSTRUCTOR")
    student = node.user(role="STUDENT")
    camp = node.bootcamp(instructor_id=teacher["id"], title="\u200b\u200b")
    work = node.assignment(camp, title=" \u2800 ")
    seat = node.enrollment(student, camp, status="ACTIVE")

    out, report = run_import(node)

    assert report["refused"] == []
    assert Bootcamp.objects.get(legacy_id=camp["id"]).title == f"Untitled bootcamp (Node {camp['id']})"
    assert Assignment.objects.get(legacy_id=work["id"]).title == f"Untitled assignment (Node {work['id']})"
    assert Enrollment.objects.filter(legacy_id=seat["id"]).exists()
    reasons = {(a["table"], a["legacy_id"]): a["reason"] for a in report["adjusted"] if a["field"] == "title"}
    assert reasons[("bootcamps", str(camp["id"]))] == (
        f"nothing visible in the source: 'Untitled bootcamp (Node {camp['id']})' stands in"
    )


def test_phones_and_names_cohortly_cant_hold_cost_the_value_not_the_user_or_what_hangs_on_them(node):
    sales = node.user(role="SALES", phone="n/a")
    teacher = node.user(role="INSTRUCTOR", phone="+44 20 7946 0958 ext. 12")
    nameless = node.user(email="nameless@node.example", full_name="  ")
    wordy = node.user(full_name="Ada " + "x" * 200)
    tabbed = node.user(full_name="Ada\tLovelace\n")
    flipped = node.user(full_name="Ada\u202eLovelace")
    invisible = node.user(email="invisible@node.example", full_name="\u200b\u200b")
    cut_to_nothing = node.user(email="cut@node.example", full_name="\u200b" * 150 + "Ada")
    camp = node.bootcamp(instructor_id=teacher["id"])
    enrollment = node.enrollment(tabbed, camp)
    lead = node.lead(owner_id=sales["id"], phone="call after 6", full_name="", email="lead@mail.example")

    out, report = run_import(node)

    assert report["refused"] == []
    assert f"users {sales['id']} phone: 'n/a' is not a phone number" in out
    users = {user.pk: user for user in User.objects.all()}
    assert users[sales["id"]].phone == "" and users[teacher["id"]].phone == ""
    assert users[nameless["id"]].full_name == "nameless"
    assert users[wordy["id"]].full_name == ("Ada " + "x" * 200)[:150]
    assert users[tabbed["id"]].full_name == "Ada Lovelace"
    assert Bootcamp.objects.get(legacy_id=camp["id"]).instructors.get().pk == teacher["id"]
    assert Enrollment.objects.filter(legacy_id=enrollment["id"]).exists()
    imported_lead = Lead.objects.get(legacy_id=lead["id"])
    assert imported_lead.owner_id == sales["id"] and imported_lead.phone == ""
    assert imported_lead.full_name == "lead"
    assert "“call after 6”" in imported_lead.activities.get(data__legacy__phone="call after 6").body
    adjusted = {(a["table"], a["legacy_id"], a["field"]): a["reason"] for a in report["adjusted"]}
    assert adjusted[("users", str(sales["id"]), "phone")] == (
        "'n/a' is not a phone number Cohortly can store: left out"
    )
    assert ("users", str(teacher["id"]), "phone") in adjusted
    assert "stands in" in adjusted[("users", str(nameless["id"]), "full_name")]
    assert adjusted[("users", str(wordy["id"]), "full_name")] == "204 characters long: cut to 150"
    assert adjusted[("users", str(tabbed["id"]), "full_name")] == (
        "control characters or text-direction overrides became spaces"
    )
    assert users[flipped["id"]].full_name == "Ada Lovelace"
    assert users[invisible["id"]].full_name == "invisible"
    assert "stands in" in adjusted[("users", str(invisible["id"]), "full_name")]
    assert users[cut_to_nothing["id"]].full_name == "cut"  # the cut left nothing visible
    assert {key for key in adjusted if key[0] == "leads"} == {
        ("leads", str(lead["id"]), "phone"),
        ("leads", str(lead["id"]), "full_name"),
    }

    run_import(node)  # nothing changed: the phone isn't kept twice
    assert imported_lead.activities.count() == 1


def notes_of(lead):
    return list(
        Lead.objects.get(legacy_id=lead["id"])
        .activities.filter(kind="NOTE", data__legacy__notes=True)
        .order_by("created_at", "pk")
        .values_list("body", flat=True)
    )


def test_lead_notes_appended_to_over_several_runs_each_come_over_once(node):
    lead = node.lead(notes="First call.", updated_at=naive_utc(-10))
    run_import(node)

    def change(sql, days):
        node.execute(f"UPDATE leads SET {sql}, updated_at = %s WHERE id = %s", [naive_utc(days), lead["id"]])
        run_import(node)

    change("notes = notes || E'\\nSecond call.'", -9)
    change("status = 'CONTACTED'", -8)  # the notes didn't change: nothing is added
    assert notes_of(lead) == ["First call.", "Second call."]
    change("notes = notes || ' Emailed 3 May.'", -7)
    change("notes = notes || E'\\nNo answer.'", -6)
    change("full_name = 'Someone Else'", -5)
    assert notes_of(lead) == ["First call.", "Second call.", "Emailed 3 May.", "No answer."]
    change("notes = 'Rewritten from scratch.'", -4)  # edited, not appended to: kept whole
    assert notes_of(lead)[-1] == "Rewritten from scratch."
    assert len(notes_of(lead)) == 5


def test_notes_longer_than_the_timeline_holds_become_several_notes(node):
    text = "".join(f"Call {n}: no answer.\n" for n in range(1200)).strip()  # about 24,000 characters
    lead = node.lead(notes=text)
    run_import(node)

    parts = notes_of(lead)
    assert len(parts) == 3 and all(len(part) <= 10000 for part in parts)
    assert "".join(parts) == text

    node.execute(
        "UPDATE leads SET status = 'CONTACTED', updated_at = %s WHERE id = %s", [naive_utc(), lead["id"]]
    )
    run_import(node)
    assert notes_of(lead) == parts


def test_a_source_changed_to_one_without_a_match_keeps_its_text_on_the_timeline(node):
    lead = node.lead(source="Website ")
    run_import(node)
    node.execute(
        "UPDATE leads SET source = 'Trade show booth', updated_at = %s WHERE id = %s",
        [naive_utc(), lead["id"]],
    )
    run_import(node)

    imported = Lead.objects.get(legacy_id=lead["id"])
    assert imported.source == "OTHER"
    assert "“Trade show booth”" in imported.activities.get(data__legacy__source="Trade show booth").body


def test_notes_an_earlier_importer_kept_are_continued_not_repeated(node):
    """Notes kept before the entries remembered the whole text: their bodies, one per line."""
    lead = node.lead(notes="First call.", updated_at=naive_utc(-10))
    run_import(node)
    node.execute(
        "UPDATE leads SET notes = notes || E'\\nSecond call.', updated_at = %s WHERE id = %s",
        [naive_utc(-9), lead["id"]],
    )
    run_import(node)
    LeadActivity.objects.filter(data__legacy__notes=True).update(data={"legacy": {"notes": True}})
    node.execute(
        "UPDATE leads SET status = 'CONTACTED', updated_at = %s WHERE id = %s", [naive_utc(-8), lead["id"]]
    )
    run_import(node)
    assert notes_of(lead) == ["First call.", "Second call."]


def test_mentors_added_or_removed_in_node_follow_on_the_next_run(node):
    first = node.user(role="MENTOR")
    second = node.user(role="MENTOR")
    camp = node.bootcamp(mentors=[first])
    run_import(node)
    bootcamp = Bootcamp.objects.get(legacy_id=camp["id"])
    assert list(bootcamp.mentors.values_list("pk", flat=True)) == [first["id"]]

    node.insert("bootcamp_mentors", {"bootcamp_id": camp["id"], "mentor_id": second["id"]})
    _, report = run_import(node)
    assert counts(report, "bootcamps")["updated"] == 1
    assert set(bootcamp.mentors.values_list("pk", flat=True)) == {first["id"], second["id"]}

    node.execute("DELETE FROM bootcamp_mentors WHERE mentor_id = %s", [first["id"]])
    run_import(node)
    assert list(bootcamp.mentors.values_list("pk", flat=True)) == [second["id"]]

    out, report = run_import(node)  # nothing changed
    assert counts(report, "bootcamps")["unchanged"] == 1 and "nothing was created or updated" in out


def test_an_instructor_deleted_in_node_leaves_their_bootcamps_on_the_next_run(node):
    """Deleting a user in Node empties instructor_id on their bootcamps (ON DELETE
    SET NULL) without touching updated_at: the bootcamp kept them here."""
    teacher = node.user(role="INSTRUCTOR")
    camp = node.bootcamp(instructor_id=teacher["id"])
    run_import(node)
    bootcamp = Bootcamp.objects.get(legacy_id=camp["id"])
    assert list(bootcamp.instructors.values_list("pk", flat=True)) == [teacher["id"]]

    node.execute("DELETE FROM users WHERE id = %s", [teacher["id"]])
    _, report = run_import(node)
    assert counts(report, "bootcamps")["updated"] == 1
    assert list(bootcamp.instructors.all()) == []
    assert not User.objects.get(pk=teacher["id"]).is_active

    out, report = run_import(node)  # nothing changed
    assert counts(report, "bootcamps")["unchanged"] == 1


def test_a_run_whose_new_rows_were_all_refused_says_so(node):
    node.user(email="not-an-email")
    node.user(password_hash="plain")
    out, report = run_import(node, expect=1)
    assert "every row not imported yet or changed was refused" in out
    assert "Nothing new or changed in the source" not in out
    assert report["failed"] is False and len(report["refused"]) == 2


def test_a_run_that_fails_writes_its_failure_to_the_report_file(node, tmp_path):
    from django.db import connection

    report = tmp_path / "import.json"
    report.write_text('{"failed": false, "tables": {"users": {"created": 8}}}\n')  # the last good run
    node.user(email="first@node.example")
    node.lead(full_name="Boom")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE leads_lead ADD CONSTRAINT test_no_boom CHECK (full_name <> 'Boom')")

    with pytest.raises(CommandError) as raised:
        call_command(
            "import_legacy", "--source", node.url, "--report", str(report), stdout=_Buffer(), stderr=_Buffer()
        )

    assert raised.value.returncode == 2
    saved = json.loads(report.read_text())
    assert saved["failed"] is True and saved["dry_run"] is False and "tables" not in saved
    assert (
        saved["error"].startswith("the import stopped and wrote nothing:")
        and "test_no_boom" in saved["error"]
    )

    with pytest.raises(CommandError):
        call_command(
            "import_legacy",
            "--source",
            "not a url",
            "--report",
            str(report),
            stdout=_Buffer(),
            stderr=_Buffer(),
        )
    assert "can't connect to the source" in json.loads(report.read_text())["error"]


def test_a_dry_run_names_no_cohortly_id_it_rolls_back(node):
    company = fill(node)
    node.enrollment(node.user(), company["web"], status="ACTIVE")  # 3 on 2 seats
    _, dry = run_import(node, "--dry-run")
    assert [(b["legacy_id"], b["id"]) for b in dry["over_full_bootcamps"]] == [
        (str(company["web"]["id"]), None)
    ]

    _, real = run_import(node)
    web = Bootcamp.objects.get(legacy_id=company["web"]["id"])
    assert [b["id"] for b in real["over_full_bootcamps"]] == [web.pk]
    _, dry_again = run_import(node, "--dry-run")  # it exists now: its id is real
    assert [b["id"] for b in dry_again["over_full_bootcamps"]] == [web.pk]


def test_people_in_a_role_cohortly_wouldnt_give_that_part_are_refused_or_stood_in_for(node):
    """What Cohortly's own forms refuse, the import does too: only a student holds
    a seat or a waitlist place (a mentor's finished enrollment is history), only
    sales and admins own leads, only instructors and admins write assignments."""
    teacher = node.user(role="INSTRUCTOR")
    alumna = node.user(role="MENTOR")
    student = node.user(role="STUDENT")
    camp = node.bootcamp(instructor_id=teacher["id"])
    teaching_and_seated = node.enrollment(teacher, camp, status="ACTIVE")
    waiting_mentor = node.enrollment(alumna, camp, status="PENDING")
    history = node.enrollment(alumna, node.bootcamp(status="COMPLETED"), status="COMPLETED")
    homework = node.assignment(camp, author_id=student["id"])
    lead = node.lead(owner_id=student["id"])

    _, report = run_import(node, expect=1)

    assert refusals(report, "enrollments") == {
        str(teaching_and_seated["id"]): f"its student users {teacher['id']} has the role INSTRUCTOR: "
        "only a student holds a seat",
        str(waiting_mentor["id"]): f"its student users {alumna['id']} has the role MENTOR: "
        "only a student holds a place on the waitlist",
    }
    finished = Enrollment.objects.get(legacy_id=history["id"])
    assert finished.status == "COMPLETED"
    # Node kept no completion time: its row's last change stands in (the gradebook's cut).
    assert finished.completed_at == history["updated_at"].replace(tzinfo=UTC)
    assert Enrollment.objects.filter(completed_at__isnull=False).count() == 1
    assert Assignment.objects.get(legacy_id=homework["id"]).created_by_id == teacher["id"]
    assert Lead.objects.get(legacy_id=lead["id"]).owner_id is None
    adjusted = {(row["legacy_id"], row["field"]): row["reason"] for row in report["adjusted"]}
    assert adjusted == {
        (str(homework["id"]), "created_by"): f"users {student['id']} has the role STUDENT, which can't write "
        "assignments: the bootcamp's instructor stands in",
        (
            str(lead["id"]),
            "owner",
        ): f"users {student['id']} has the role STUDENT, which can't own leads: left unassigned",
    }


@pytest.mark.parametrize("where", ["missing-folder/report.json", "."])
def test_a_report_path_it_cant_write_stops_the_run_before_anything_is_imported(node, tmp_path, where):
    """It committed the import, then failed writing the report with two tracebacks
    and exit code 1 (which says "rows refused")."""
    node.user(email="ada@node.example")
    path = tmp_path / where
    with pytest.raises(CommandError) as raised:
        call_command("import_legacy", "--source", node.url, "--report", str(path), stdout=_Buffer())
    assert raised.value.returncode == 2
    assert str(raised.value).startswith(f"--report {path}: ") and "\n" not in str(raised.value)
    assert not User.objects.exists()


def test_a_very_long_source_or_phone_kept_on_the_timeline_is_cut_to_what_it_holds(node):
    """Kept whole, the entry was longer than the timeline holds (full_clean refused it)."""
    limit = LeadActivity._meta.get_field("body").max_length
    source = node.lead(email="long@node.example", source="S" * 20_000, phone="1" * 20_000)
    run_import(node)
    lead = Lead.objects.get(legacy_id=source["id"])
    entries = list(lead.activities.order_by("pk"))
    assert len(entries) == 2
    for entry in entries:
        assert len(entry.body) <= limit and entry.body.endswith("…”.")
        entry.full_clean()
    assert entries[0].body.startswith("Source in the Node backend: “SSS")
    # A second run keeps them as they are: nothing changed.
    run_import(node)
    assert lead.activities.count() == 2


def test_a_bootcamp_deleted_in_node_between_two_others_is_listed_and_the_run_goes_on(node):
    """Rows are read by id range: a deleted bootcamp inside a batch's range (no
    enrollments, so the Node backend could delete it) stopped every later run with
    a KeyError."""
    ids = sorted(uuid.uuid4() for _ in range(3))
    camps = [node.bootcamp(id=legacy_id) for legacy_id in ids]
    run_import(node)

    node.execute("DELETE FROM bootcamps WHERE id = %s", [camps[1]["id"]])
    node.execute(
        "UPDATE bootcamps SET title = 'Renamed', updated_at = %s WHERE id = %s", [naive_utc(), ids[2]]
    )
    _, report = run_import(node)

    assert counts(report, "bootcamps") == {
        "read": 2,
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "refused": 0,
    }
    assert Bootcamp.objects.get(legacy_id=ids[2]).title == "Renamed"
    gone = Bootcamp.objects.get(legacy_id=ids[1])
    assert report["missing_in_source"] == [
        {"table": "bootcamps", "legacy_id": str(ids[1]), "id": str(gone.pk)}
    ]
