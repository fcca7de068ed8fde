"""A Node backend database on the test PostgreSQL server, built from its own DDL."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import bcrypt
import factory
import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from psycopg import sql

SCHEMA = Path(__file__).resolve().parents[1] / "node_schema.sql"
TABLES = ("refresh_tokens", "leads", "assignments", "enrollments", "bootcamp_mentors", "bootcamps", "users")
#: Every factory user's password; hashed once at cost 4 (the Node apps use 10-12).
PASSWORD = "Legacy-pass-2024"
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
#: The Node backend's JWT secrets, as the cutover configures them.
ACCESS_SECRET, REFRESH_SECRET = "node-access-secret-" + "x" * 50, "node-refresh-secret-" + "y" * 50


def naive_utc(days: float = 0) -> datetime:
    """A time as Prisma stores it: UTC, without a zone."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(tzinfo=None, microsecond=0)


class LegacyUser(factory.DictFactory):
    id = factory.LazyFunction(uuid.uuid4)
    email = factory.Sequence(lambda n: f"person{n}@node.example")
    password_hash = PASSWORD_HASH
    full_name = factory.Faker("name")
    phone = None
    role = "STUDENT"
    is_active = True
    created_at = factory.LazyFunction(lambda: naive_utc(-400))
    updated_at = factory.LazyFunction(lambda: naive_utc(-30))


class LegacyBootcamp(factory.DictFactory):
    id = factory.LazyFunction(uuid.uuid4)
    title = factory.Sequence(lambda n: f"Full-stack cohort {n}")
    description = "Twelve weeks of web development."
    start_date = date(2026, 3, 2)
    end_date = date(2026, 5, 22)
    capacity = 20
    price = Decimal("4900.00")
    status = "UPCOMING"
    instructor_id = None
    created_at = factory.LazyFunction(lambda: naive_utc(-200))
    updated_at = factory.LazyFunction(lambda: naive_utc(-20))


class LegacyEnrollment(factory.DictFactory):
    id = factory.LazyFunction(uuid.uuid4)
    status = "ACTIVE"
    enrolled_at = factory.LazyFunction(lambda: naive_utc(-100))
    updated_at = factory.LazyFunction(lambda: naive_utc(-10))


class LegacyAssignment(factory.DictFactory):
    id = factory.LazyFunction(uuid.uuid4)
    author_id = None
    title = factory.Sequence(lambda n: f"Exercise {n}")
    description = "Build it."
    due_date = factory.LazyFunction(lambda: naive_utc(14))
    max_score = 100
    is_published = True
    created_at = factory.LazyFunction(lambda: naive_utc(-50))
    updated_at = factory.LazyFunction(lambda: naive_utc(-5))


class LegacyLead(factory.DictFactory):
    id = factory.LazyFunction(uuid.uuid4)
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"prospect{n}@mail.example")
    phone = None
    source = "website"
    status = "NEW"
    notes = None
    bootcamp_id = None
    owner_id = None
    created_at = factory.LazyFunction(lambda: naive_utc(-60))
    updated_at = factory.LazyFunction(lambda: naive_utc(-3))


class LegacyRefreshToken(factory.DictFactory):
    id = factory.LazyFunction(uuid.uuid4)
    token_hash = factory.LazyFunction(lambda: uuid.uuid4().hex * 2)
    expires_at = factory.LazyFunction(lambda: naive_utc(7))
    revoked_at = None
    created_at = factory.LazyFunction(naive_utc)


class LegacyDatabase:
    """The source database: insert rows, change them, and its URL for the importer."""

    def __init__(self, url: str):
        self.url = url
        self.connection = psycopg.connect(url, autocommit=True)

    def insert(self, table: str, row: dict) -> dict:
        columns = list(row)
        self.connection.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            ),
            [row[column] for column in columns],
        )
        return row

    def execute(self, query: str, params=None):
        return self.connection.execute(query, params)

    def user(self, **fields):
        return self.insert("users", LegacyUser(**fields))

    def bootcamp(self, mentors=(), **fields):
        bootcamp = self.insert("bootcamps", LegacyBootcamp(**fields))
        for mentor in mentors:
            self.insert("bootcamp_mentors", {"bootcamp_id": bootcamp["id"], "mentor_id": mentor["id"]})
        return bootcamp

    def enrollment(self, student, bootcamp, **fields):
        return self.insert(
            "enrollments", LegacyEnrollment(student_id=student["id"], bootcamp_id=bootcamp["id"], **fields)
        )

    def assignment(self, bootcamp, **fields):
        return self.insert("assignments", LegacyAssignment(bootcamp_id=bootcamp["id"], **fields))

    def lead(self, **fields):
        return self.insert("leads", LegacyLead(**fields))

    def refresh_token(self, user, **fields):
        return self.insert("refresh_tokens", LegacyRefreshToken(user_id=user["id"], **fields))

    def truncate(self) -> None:
        self.connection.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, TABLES)))
        )


@pytest.fixture(scope="session")
def legacy_database_url(django_db_setup, django_db_blocker):
    """A database beside the test database, holding the Node backend's schema."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("the legacy importer reads PostgreSQL: set DATABASE_URL=postgres://...")
        s = connection.settings_dict
        name = f"{s['NAME']}_node"
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        server = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(f"{server}/{name}", autocommit=True) as source:
        source.execute(SCHEMA.read_text())
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def node(legacy_database_url):
    """The Node backend's database, empty at the start of each test."""
    database = LegacyDatabase(legacy_database_url)
    database.truncate()
    yield database
    database.connection.close()


@pytest.fixture
def cutover(settings):
    """The Node backend's tokens honoured, as during the switch."""
    settings.LEGACY_JWT_SECRET = ACCESS_SECRET
    settings.LEGACY_JWT_REFRESH_SECRET = REFRESH_SECRET
    settings.LEGACY_TOKENS_UNTIL = timezone.now() + timedelta(days=14)
    return settings
