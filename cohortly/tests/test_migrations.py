"""Migrations: none missing, and every one reverses (to zero and back)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

LOCAL_APPS = ["accounts", "bootcamps", "enrollments", "assignments", "leads"]


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:  # --check exits non-zero when a migration is missing
        pytest.fail(f"missing migrations:\n{out.getvalue()}")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_migration_reverses_to_zero_and_back():
    # Unapplying accounts unapplies everything that depends on the user model.
    call_command("migrate", "accounts", "zero", verbosity=0)
    tables = set(connection.introspection.table_names())
    assert not {t for t in tables if t.split("_")[0] in LOCAL_APPS}, tables
    call_command("migrate", verbosity=0)
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


@pytest.mark.django_db(transaction=True)
def test_follow_ups_at_the_ends_of_time_are_cleared():
    from datetime import UTC, datetime

    def migrate_to(target):
        executor = MigrationExecutor(connection)
        executor.migrate([target])
        return executor.loader.project_state([target]).apps

    before = ("leads", "0008_search_text_phone_without_separators")
    apps = migrate_to(before)
    Lead = apps.get_model("leads", "Lead")
    moments = {
        "first": datetime(1, 1, 1, 5, 0, tzinfo=UTC),
        "last": datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        "ordinary": datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
    }
    for name, when in moments.items():
        Lead.objects.create(full_name=name, email=f"{name}@example.org", next_follow_up_at=when)
    try:
        apps = migrate_to(("leads", "0009_clear_follow_ups_at_the_ends_of_time"))
        kept = dict(apps.get_model("leads", "Lead").objects.values_list("full_name", "next_follow_up_at"))
        assert kept == {"first": None, "last": None, "ordinary": moments["ordinary"]}
    finally:
        call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_internationalised_email_domains_are_stored_in_ascii(capsys):
    """accounts 0005, leads 0010 and mail 0003: the spelling normalize_email now
    writes; an address whose ASCII form is taken stays, and is named."""

    def migrate_to(*targets):
        executor = MigrationExecutor(connection)
        executor.migrate(list(targets))
        return executor.loader.project_state(list(targets)).apps

    apps = migrate_to(
        ("accounts", "0004_sessions_and_verified_email"),
        ("leads", "0009_clear_follow_ups_at_the_ends_of_time"),
        ("mail", "0002_created_at_default"),
    )
    User = apps.get_model("accounts", "User")
    for email in ("zoe@exämple.com", "dup@bücher.de", "dup@xn--bcher-kva.de", "plain@example.com"):
        User.objects.create(email=email, full_name=email, role="STUDENT")
    apps.get_model("leads", "Lead").objects.create(full_name="Lena", email="lena@exämple.com")
    Suppressed = apps.get_model("mail", "SuppressedAddress")
    Suppressed.objects.create(address="gone@exämple.com", reason="BOUNCED")
    Suppressed.objects.create(address="twice@bücher.de", reason="BOUNCED")
    Suppressed.objects.create(address="twice@xn--bcher-kva.de", reason="BOUNCED")
    try:
        apps = migrate_to(
            ("accounts", "0005_email_domains_in_ascii"),
            ("leads", "0010_email_domains_in_ascii"),
            ("mail", "0003_addresses_in_ascii"),
        )
        emails = set(apps.get_model("accounts", "User").objects.values_list("email", flat=True))
        assert emails == {
            "zoe@xn--exmple-cua.com",
            "dup@bücher.de",
            "dup@xn--bcher-kva.de",
            "plain@example.com",
        }
        assert "dup@bücher.de left as it is" in capsys.readouterr().out
        assert list(apps.get_model("leads", "Lead").objects.values_list("email", flat=True)) == [
            "lena@xn--exmple-cua.com"
        ]
        assert set(apps.get_model("mail", "SuppressedAddress").objects.values_list("address", flat=True)) == {
            "gone@xn--exmple-cua.com",
            "twice@xn--bcher-kva.de",
        }
    finally:
        call_command("migrate", verbosity=0)
