"""legacy's data migrations, run on rows as an earlier release left them."""

import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from legacy.tests.conftest import PASSWORD_HASH


def migrate_to(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_the_node_hash_of_every_imported_user_still_holding_it_is_remembered():
    from accounts.models import User  # only legacy is migrated back: the user table is today's

    migrate_to(("legacy", "0001_initial"))

    def user(password, *, imported=True):
        pk = uuid.uuid4()
        User.objects.create(
            id=pk,
            email=f"{pk}@node.example",
            full_name="Someone",
            password=password,
            legacy_id=pk if imported else None,
        )
        return pk

    holding = user(f"legacy_bcrypt${PASSWORD_HASH}")
    user("argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA")  # upgraded at a login: unknown
    user("argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA", imported=False)
    try:
        apps = migrate_to(("legacy", "0002_user_state"))
        states = apps.get_model("legacy", "LegacyUserState").objects.values_list(
            "user_id", "password_hash", "token_generation", "tokens_issued_since"
        )
        assert list(states) == [(holding, PASSWORD_HASH, 0, None)]
    finally:
        call_command("migrate", verbosity=0)
