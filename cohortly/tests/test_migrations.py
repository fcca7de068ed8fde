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
