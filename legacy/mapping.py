"""The importer's mapping: every name of the Node backend's database, in one TOML file.

`Mapping.load()` reads and checks the file's shape; `Mapping.check_source()` checks
that every table and column it names exists in the source before a row is read.
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from bootcamps.models import Bootcamp
from enrollments.models import Enrollment
from leads.models import Lead

DEFAULT_PATH = Path(__file__).with_name("mapping.toml")

#: Each source table and the columns the importer reads from it (Cohortly's names).
TABLES = {
    "users": (
        "id",
        "email",
        "password_hash",
        "full_name",
        "phone",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    ),
    "bootcamps": (
        "id",
        "title",
        "description",
        "start_date",
        "end_date",
        "capacity",
        "price",
        "status",
        "instructor_id",
        "created_at",
        "updated_at",
    ),
    "bootcamp_mentors": ("bootcamp_id", "mentor_id"),
    "assignments": (
        "id",
        "bootcamp_id",
        "author_id",
        "title",
        "description",
        "due_date",
        "max_score",
        "is_published",
        "created_at",
        "updated_at",
    ),
    "enrollments": ("id", "student_id", "bootcamp_id", "status", "enrolled_at", "updated_at"),
    "leads": (
        "id",
        "full_name",
        "email",
        "phone",
        "source",
        "status",
        "notes",
        "bootcamp_id",
        "owner_id",
        "created_at",
        "updated_at",
    ),
    "refresh_tokens": ("id", "user_id", "token_hash", "expires_at", "revoked_at", "created_at"),
}

#: Each enum and the Cohortly values its source values may become.
ENUMS = {
    "user_role": {"ADMIN", "SALES", "INSTRUCTOR", "MENTOR", "STUDENT"},
    "bootcamp_status": set(Bootcamp.Status.values),
    "enrollment_status": {
        Enrollment.Status.ACTIVE,
        Enrollment.Status.WAITLISTED,
        Enrollment.Status.COMPLETED,
        Enrollment.Status.DROPPED,
        Enrollment.Status.CANCELLED,
    },
    "lead_status": set(Lead.Status.values),
}

_SEPARATORS = re.compile(r"[\s\-_.]+")


class MappingError(Exception):
    """The mapping can't be used: the run doesn't start."""


def normalize_source_text(text: str) -> str:
    return _SEPARATORS.sub(" ", text).strip().lower()


@dataclass(frozen=True)
class Mapping:
    schema: str
    tables: dict[str, str]
    columns: dict[str, dict[str, str]]
    enums: dict[str, dict[str, str]]
    lead_sources: dict[str, str]

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Mapping":
        path = Path(path) if path else DEFAULT_PATH
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MappingError(f"can't read the mapping {path}: {exc.strerror}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise MappingError(f"the mapping {path} is not valid TOML: {exc}") from exc

        known = {"schema", "enums", "lead_sources", *TABLES}
        if unknown := sorted(set(data) - known):
            raise MappingError(f"the mapping names unknown sections: {', '.join(unknown)}")
        schema = data.get("schema", "public")
        if not isinstance(schema, str) or not schema:
            raise MappingError("the mapping's schema must be a name")

        tables, columns = {}, {}
        for table, needed in TABLES.items():
            section = data.get(table)
            if not isinstance(section, dict) or not isinstance(section.get("table"), str):
                raise MappingError(f"the mapping has no [{table}] section with a table name")
            names = section.get("columns", {})
            if not isinstance(names, dict):
                raise MappingError(f"[{table}.columns] must map column names")
            if missing := [column for column in needed if not isinstance(names.get(column), str)]:
                raise MappingError(f"[{table}.columns] doesn't name {', '.join(missing)}")
            if extra := sorted(set(names) - set(needed)):
                raise MappingError(
                    f"[{table}.columns] names columns the importer doesn't read: {', '.join(extra)}"
                )
            tables[table] = section["table"]
            columns[table] = {column: names[column] for column in needed}

        enums = {}
        for enum, allowed in ENUMS.items():
            values = data.get("enums", {}).get(enum)
            if not isinstance(values, dict) or not values:
                raise MappingError(f"the mapping has no [enums.{enum}]")
            if wrong := sorted(f"{key} = {value!r}" for key, value in values.items() if value not in allowed):
                raise MappingError(
                    f"[enums.{enum}] maps to values Cohortly doesn't have: {', '.join(wrong)} "
                    f"(it has {', '.join(sorted(allowed))})"
                )
            enums[enum] = dict(values)

        lead_sources = {}
        for source, texts in data.get("lead_sources", {}).items():
            if source not in Lead.Source.values:
                raise MappingError(f"[lead_sources] names {source!r}, which isn't a Cohortly lead source")
            if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
                raise MappingError(f"[lead_sources] {source} must be a list of strings")
            for text in texts:
                lead_sources[normalize_source_text(text)] = source
        return cls(schema=schema, tables=tables, columns=columns, enums=enums, lead_sources=lead_sources)

    def table(self, table: str) -> sql.Composable:
        return sql.Identifier(self.schema, self.tables[table])

    def column(self, table: str, column: str) -> sql.Composable:
        return sql.Identifier(self.columns[table][column])

    def select_list(self, table: str) -> sql.Composable:
        """Every column the importer reads, as Cohortly's names; enums as text."""
        return sql.SQL(", ").join(
            sql.SQL("{}::text AS {}").format(self.column(table, column), sql.Identifier(column))
            if column in ("role", "status")
            else sql.SQL("{} AS {}").format(self.column(table, column), sql.Identifier(column))
            for column in TABLES[table]
        )

    def check_source(self, cursor, tables: list[str]) -> None:
        """Refuse the run when a table or column this mapping names isn't in the source."""
        problems = []
        for table in tables:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s",
                [self.schema, self.tables[table]],
            )
            present = {row[0] for row in cursor.fetchall()}
            if not present:
                problems.append(f"table {self.schema}.{self.tables[table]}")
                continue
            problems.extend(
                f"column {self.tables[table]}.{name}"
                for name in self.columns[table].values()
                if name not in present
            )
        if problems:
            raise MappingError(f"the mapping names what the source doesn't have: {', '.join(problems)}")

    def source_of(self, text: str | None) -> tuple[str, str]:
        """(Cohortly lead source, the original text to keep when it became OTHER)."""
        if not text or not text.strip():
            return Lead.Source.OTHER, ""
        source = self.lead_sources.get(normalize_source_text(text))
        if source is None:
            return Lead.Source.OTHER, text.strip()
        return source, ""
