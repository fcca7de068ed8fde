"""The importer writes users, leads and the leads' timeline with COPY: the rows must be the ones
bulk_create writes, and the query cache must see them."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from accounts.models import User
from accounts.tests.factories import UserFactory
from bootcamps.tests.factories import BootcampFactory
from leads.models import Lead, LeadActivity
from legacy.hashers import LegacyBcryptPasswordHasher
from legacy.importer import _copy_insert

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

#: What COPY's text format has to escape, and what JSON has to keep.
EARLIER = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NODE_HASH = "$2b$04$18Q0LbbTqo/of7HYU6F9sOwZT1iXjzYMleLHCjMR1YOnkWO83gLu."
AWKWARD = "tab\there, line\nbreak, back\\slash, \\N, quotes \"'“”, ünïcödé 🐍"


def leads_and_timeline(bootcamp, owner):
    """New, unsaved leads covering every kind of column, and timelines for them once saved."""
    plus_two = timezone(timedelta(hours=2))

    def leads():
        return [
            Lead(
                full_name="Ada Lovelace",
                email="ada@example.org",
                phone="+44 20 1234567",
                source=Lead.Source.OTHER,
                status=Lead.Status.NEW,
                message=AWKWARD,
                bootcamp_id=bootcamp.pk,
                owner_id=owner.pk,
                created_at=datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
                legacy_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
                legacy_updated_at=datetime(2024, 3, 1, 1, 0, tzinfo=plus_two),
            ),
            Lead(
                full_name="Grace Hopper",
                email="grace@example.org",
                status=Lead.Status.LOST,
                lost_reason=AWKWARD,
                created_at=datetime(1999, 12, 31, 23, 0, tzinfo=UTC),
                legacy_id=uuid.UUID("00000000-0000-4000-8000-000000000002"),
                legacy_updated_at=datetime(2000, 1, 1, tzinfo=UTC),
            ),
            # Fields left to their defaults; CONVERTED without its links, as imported ones are.
            Lead(
                full_name="",
                email="empty@example.org",
                status=Lead.Status.CONVERTED,
                created_at=EARLIER,
                legacy_id=uuid.UUID("00000000-0000-4000-8000-000000000003"),
            ),
        ]

    def timeline(saved):
        return [
            LeadActivity(
                lead=saved[0],
                kind=LeadActivity.Kind.NOTE,
                body=AWKWARD,
                data={"legacy": {"notes": True}},
                created_at=EARLIER,
            ),
            LeadActivity(
                lead=saved[0],
                kind=LeadActivity.Kind.CREATED,
                body="",
                data={"legacy": {"source": AWKWARD}, "list": [1, 2.5, None, True], "nested": {"x": ""}},
                created_at=datetime(2024, 1, 1, tzinfo=plus_two),
            ),
            LeadActivity(
                lead=saved[1], kind=LeadActivity.Kind.NOTE, actor=owner, body="x" * 10000, created_at=EARLIER
            ),
            LeadActivity(lead=saved[2], kind=LeadActivity.Kind.CREATED, created_at=EARLIER),
        ]

    return leads, timeline


def written(insert, leads, timeline):
    """The rows `insert` writes for the leads and their timeline (ids as positions), then rolled back."""
    with transaction.atomic():
        saved = leads()
        insert(Lead, saved)
        activities = timeline(saved)
        insert(LeadActivity, activities)
        assert all(lead.pk and not lead._state.adding for lead in [*saved, *activities])
        position = {lead.pk: n for n, lead in enumerate(saved)}
        lead_rows = [
            {**row, "id": position[row["id"]]}
            for row in Lead.objects.filter(pk__in=position).order_by("pk").values()
        ]
        activity_rows = [
            {**row, "id": None, "lead_id": position[row["lead_id"]]}
            for row in LeadActivity.objects.filter(lead__in=position).order_by("pk").values()
        ]
        transaction.set_rollback(True)
    return lead_rows, activity_rows


def test_copy_writes_the_rows_bulk_create_writes():
    owner = UserFactory(role=User.Role.SALES)
    leads, timeline = leads_and_timeline(BootcampFactory(), owner)
    started = datetime.now(UTC)

    by_orm = written(lambda model, rows: model.objects.bulk_create(rows), leads, timeline)
    by_copy = written(_copy_insert, leads, timeline)

    # updated_at is stamped when each is written; everything else is the same.
    for lead_rows in (by_orm[0], by_copy[0]):
        for row in lead_rows:
            assert started <= row.pop("updated_at") <= datetime.now(UTC)
    assert by_copy == by_orm
    lead_rows, activity_rows = by_copy
    assert [row["message"] for row in lead_rows][0] == AWKWARD
    assert lead_rows[0]["search_text"] == "ADA LOVELACE ADA@EXAMPLE.ORG +44 20 1234567 +44201234567"
    assert activity_rows[1]["data"]["legacy"]["source"] == AWKWARD
    assert len(activity_rows) == 4


def test_copy_writes_the_users_bulk_create_writes():
    def users():
        return [
            User(
                id=uuid.UUID("00000000-0000-4000-8000-0000000000a1"),
                email="ada@example.org",
                password=LegacyBcryptPasswordHasher.wrap(NODE_HASH),
                full_name=AWKWARD,
                phone="+44 20 1234567",
                role=User.Role.INSTRUCTOR,
                is_active=False,
                created_at=datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
                legacy_id=uuid.UUID("00000000-0000-4000-8000-0000000000a1"),
                legacy_updated_at=datetime(2024, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            ),
            # Fields left to their defaults (the id too, fixed here so both runs match).
            User(
                id=uuid.UUID("00000000-0000-4000-8000-0000000000a2"),
                email="b@example.org",
                created_at=EARLIER,
            ),
        ]

    def rows(insert):
        with transaction.atomic():
            saved = users()
            insert(User, saved)
            assert not any(user._state.adding for user in saved)
            found = list(User.objects.filter(pk__in=[user.pk for user in saved]).order_by("pk").values())
            transaction.set_rollback(True)
        for row in found:
            assert row.pop("updated_at") is not None
        return found

    by_orm = rows(lambda model, saved: model.objects.bulk_create(saved))
    assert rows(_copy_insert) == by_orm
    assert by_orm[0]["full_name"] == AWKWARD and by_orm[1]["ended_sessions"] == {}


def test_an_empty_copy_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        _copy_insert(Lead, [])


@pytest.mark.skipif(
    not django_settings.REDIS_URL, reason="the response cache runs only with Redis (set REDIS_URL)"
)
def test_the_response_cache_sees_rows_written_with_copy(sales_client, settings):
    settings.RESPONSE_CACHE_SECONDS = 60
    assert sales_client.get("/api/v1/leads/").json()["count"] == 0
    assert sales_client.get("/api/v1/leads/")["X-Cache"] == "hit"
    _copy_insert(Lead, [Lead(full_name="Ada", email="ada@example.org", legacy_id=uuid.uuid4())])
    listed = sales_client.get("/api/v1/leads/")
    assert [row["email"] for row in listed.json()["results"]] == ["ada@example.org"]
