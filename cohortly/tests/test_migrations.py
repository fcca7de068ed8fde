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
