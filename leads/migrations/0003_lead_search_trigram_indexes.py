"""Trigram indexes for the lead search on PostgreSQL.

The search is `UPPER(col) LIKE UPPER('%term%')` over name, email and phone (what
Django's icontains generates): a B-tree can't serve a leading wildcard, a
trigram GIN index on the same expression can. SQLite (development) has no such
index type and searches its small demo table directly.
"""

from django.db import migrations

COLUMNS = ("full_name", "email", "phone")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS lead_{column}_trgm_idx ON leads_lead "
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS lead_{column}_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_validators_name_index_open_lead_message")]

    operations = [migrations.RunPython(create, drop)]
