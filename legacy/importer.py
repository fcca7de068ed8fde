"""Copy the Node backend's database into Cohortly, any number of times.

One run reads the source in one read-only REPEATABLE READ transaction (one
consistent state while the Node backend keeps serving), streams each table in
batches through a server-side cursor, and writes each batch in bulk (new users,
leads and timeline entries with COPY, other new rows with bulk_create, changed
rows with bulk_update). Every imported row keeps its source id (users as their own id,
everything else in `legacy_id`) and the source's `updated_at`, so a later run
creates what is new, updates what changed, leaves the rest alone and never
touches a row created in Cohortly.

A row that can't be imported is refused with its reason in the report; a row
that refers to a refused or missing one is refused too. The decisions the old
data forces are documented in MIGRATING.md and tested in legacy/tests.
"""

import functools
import hashlib
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.datetime import DateLoader, TimestampLoader, TimestamptzLoader

from accounts.models import User, normalize_email, phone_validator
from accounts.permissions import SALES_TEAM
from accounts.services import user_logout_all
from accounts.signals import user_role_changing
from assignments.models import Assignment
from assignments.permissions import AUTHORS
from bootcamps.models import Bootcamp
from bootcamps.services import unique_slug
from cohortly.authentication import user_cache_invalidate
from cohortly.caching import tables_changed
from cohortly.models import TITLE_UNSHOWABLE, showable
from enrollments.models import Enrollment
from leads.models import Lead, LeadActivity
from legacy.hashers import LegacyBcryptPasswordHasher
from legacy.mapping import Mapping
from legacy.models import LegacyRefreshToken, LegacyUserState

#: The tables in the order they are imported (each refers only to those before it).
ORDER = ("users", "bootcamps", "assignments", "enrollments", "leads", "refresh_tokens")
#: Tables whose rows Cohortly keeps a legacy id for, and so can miss in the source.
MODELS = {
    "users": User,
    "bootcamps": Bootcamp,
    "assignments": Assignment,
    "enrollments": Enrollment,
    "leads": Lead,
}

NODE_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}\Z")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")
#: What a lead lost in the Node backend says about why (it kept no reason).
LOST_WITHOUT_REASON = "Marked lost in the Node backend, which kept no reason."
OPEN_LEAD = set(Lead.OPEN_STATUSES)
#: Users gone from the source at once past which none is deactivated (both must be
#: exceeded): Importer._end_access_of_gone_users.
GONE_AT_MOST = 10
GONE_SHARE_AT_MOST = 0.05
NAME_LENGTH = 150
#: What Cohortly's titles and names can't hold (cohortly.models.title_validator,
#: name_validator): control characters and text-direction overrides.
UNSHOWABLE_IN_TITLES = re.compile(f"[{TITLE_UNSHOWABLE}]+")

EVERY_ROW = sql.SQL("TRUE")


def model_table(model) -> str:
    """The source table a model is imported from."""
    return next(table for table, candidate in MODELS.items() if candidate is model)


class SourceError(Exception):
    """The source can't be read: the run doesn't start."""


def first_line(exc: Exception) -> str:
    """An error in one line, for an operator's terminal or cron mail."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Unrepresentable:
    """A date or time PostgreSQL holds and Python can't ('infinity', a year after
    9999, a BC date), as the source wrote it: its row is refused, not the run."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return repr(self.text)


def _tolerant(loader):
    class Tolerant(loader):
        def load(self, data):
            try:
                return super().load(data)
            except psycopg.DataError:
                return Unrepresentable(bytes(data).decode("utf-8", "replace"))

    Tolerant.__name__ = f"Tolerant{loader.__name__}"
    return Tolerant


def connect(url: str) -> psycopg.Connection:
    """The source, read in one read-only REPEATABLE READ transaction: one consistent
    state for the whole run while the Node backend keeps writing, and no way to write."""
    try:
        source = psycopg.connect(url, connect_timeout=10, application_name="cohortly import_legacy")
    except psycopg.ProgrammingError as exc:
        # A URL libpq can't parse: its message quotes the offending part, which may
        # be the password ("unexpected spaces found in …"), into cron mail and --report.
        said = re.sub(r'"[^"]*"', '"…"', first_line(exc))
        raise SourceError(f"can't connect to the source: its URL can't be read: {said}") from exc
    except psycopg.Error as exc:
        raise SourceError(f"can't connect to the source: {first_line(exc)}") from exc
    source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    source.read_only = True
    for type_name, loader in (
        ("timestamp", TimestampLoader),
        ("timestamptz", TimestamptzLoader),
        ("date", DateLoader),
    ):
        source.adapters.register_loader(type_name, _tolerant(loader))
    return source


#: The years a source row's times may fall in: a record of this system is never
#: older than 1970 nor dated past this century.
MOMENTS_KEPT = (1970, 2099)
#: The times every row of Cohortly has: a source row without one is refused.
STAMPS_REQUIRED = frozenset({"created_at", "updated_at", "enrolled_at"})


class Refused(Exception):
    """This row can't be imported; the message says why."""


def _utc(value: datetime | None) -> datetime | None:
    """Prisma's TIMESTAMP(3) holds UTC without saying so: the same instant, made aware."""
    if not isinstance(value, datetime) or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _bulk_update(model, instances, fields: list[str]) -> None:
    """Write the changed rows' fields (bulk_update doesn't stamp updated_at itself)."""
    now = timezone.now()
    for instance in instances:
        instance.updated_at = now
    model.objects.bulk_update(instances, [*fields, "legacy_updated_at", "updated_at"])


def _copy_insert(model, instances) -> None:
    """Insert new rows as bulk_create would, through PostgreSQL's COPY.

    bulk_create sends one INSERT with every value quoted into its text (Django
    binds parameters on the client): for users, leads and the leads' timeline that
    was most of a first import's time, in Python and in the server's parser. COPY
    streams the same values (each field's pre_save and get_db_prep_save, as
    bulk_create takes them); instances without a pk get theirs from the table's own
    sequence first, so they end up with it, as bulk_create leaves them. COPY goes
    around the ORM, so the response cache is told the table changed. legacy/tests hold the
    rows to bulk_create's. Other databases (the embedded SQLite of `make run`) get
    bulk_create itself.
    """
    if not instances:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated]
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    )
    prepare = [(f.pre_save, f.get_db_prep_save) for f in fields]
    without_pk = [instance for instance in instances if instance.pk is None]
    with connection.cursor() as cursor:
        if without_pk:
            cursor.execute(
                "SELECT nextval(seq) FROM pg_get_serial_sequence(%s, %s) AS seq, generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(without_pk)],
            )
            for instance, pk in zip(without_pk, sorted(pk for (pk,) in cursor.fetchall()), strict=True):
                instance.pk = pk
        with cursor.copy(copy) as rows:
            for instance in instances:
                rows.write_row([db_value(value(instance, True), connection) for value, db_value in prepare])
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
    tables_changed(model)


def _name(value: str | None, email: str, adjusted: list) -> str:
    """A person's name as Cohortly can hold it, so that a messy name costs no account:
    control characters and text-direction overrides become a space, a name with
    nothing visible is the email's part before the @, a name longer than
    Cohortly's limit is cut. Each change is noted in `adjusted`."""
    name = UNSHOWABLE_IN_TITLES.sub(" ", value or "").strip()
    if name != (value or "").strip():
        adjusted.append(("full_name", "control characters or text-direction overrides became spaces"))
    if len(name) > NAME_LENGTH:
        adjusted.append(("full_name", f"{len(name)} characters long: cut to {NAME_LENGTH}"))
        name = name[:NAME_LENGTH].rstrip()
    # Checked after the cut, which may leave nothing visible.
    if not showable(name):
        name = showable(email.partition("@")[0])[:NAME_LENGTH] or "Imported user"
        adjusted.append(("full_name", f"nothing visible in the source: {name!r} (from the email) stands in"))
    return name


def _title(value: str | None, adjusted: list, *, stand_in: str) -> str:
    """A title as Cohortly can hold it (cohortly.models.title_validator), so that a
    messy title costs no bootcamp or assignment (and what hangs on it): control
    characters and text-direction overrides become a space, and a title with
    nothing visible (zero-width spaces, say) is `stand_in`. Noted in `adjusted`."""
    title = UNSHOWABLE_IN_TITLES.sub(" ", value or "").strip()
    if title != (value or "").strip():
        adjusted.append(("title", "control characters or text-direction overrides became spaces"))
    if not showable(title):
        adjusted.append(("title", f"nothing visible in the source: {stand_in!r} stands in"))
        return stand_in
    return title


def _node_hash(password: str) -> str | None:
    """The Node hash a Cohortly password still is, or None once it was replaced."""
    prefix = f"{LegacyBcryptPasswordHasher.algorithm}$"
    return password.removeprefix(prefix) if password.startswith(prefix) else None


def _phone(value: str | None, adjusted: list) -> str:
    """A phone number Cohortly's rule accepts, or none: Node phones were free text
    ("n/a", "ext. 12"), and one that can't be kept costs nothing else."""
    phone = (value or "").strip()
    if not phone:
        return ""
    try:
        phone_validator(phone)
        if len(phone) > User._meta.get_field("phone").max_length:
            raise ValidationError("too long")
    except ValidationError:
        adjusted.append(("phone", f"{phone!r} is not a phone number Cohortly can store: left out"))
        return ""
    return phone


@functools.cache
def _unchecked(model, checked: tuple[str, ...]) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.concrete_fields if f.name not in checked)


def _validated(instance, *checked: str):
    """The model's validators on the fields that come from the source as they are
    (the rest are mapped or set here), and its clean(); a refusal with the reasons."""
    try:
        instance.clean_fields(exclude=_unchecked(type(instance), checked))
        instance.clean()
    except ValidationError as exc:
        reasons = (
            "; ".join(
                f"{_named(instance, name)}: {' '.join(messages)}"
                for name, messages in exc.message_dict.items()
            )
            if hasattr(exc, "error_dict")
            else " ".join(exc.messages)
        )
        raise Refused(reasons) from exc
    return instance


def _named(instance, name: str) -> str:
    """A refused field with the value it was given, so the report says what to
    fix without a look into the source: `email 'ada@'`, `capacity 0`."""
    value = getattr(instance, name, None) if name not in ("__all__", "password") else None
    if value is None or value == "":
        return name
    text = repr(value) if isinstance(value, str) else str(value)
    return f"{name} {text[:60]}{'…' if len(text) > 60 else ''}"


@dataclass
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0


@dataclass
class Report:
    dry_run: bool = False
    tables: dict[str, Counts] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)
    missing_in_source: list[dict] = field(default_factory=list)
    adjusted: list[dict] = field(default_factory=list)
    #: What the run chose not to do, and why (a reader must act on these).
    warnings: list[str] = field(default_factory=list)
    over_full_bootcamps: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self, table: str) -> Counts:
        return self.tables.setdefault(table, Counts())

    def refuse(self, table: str, legacy_id, reason: str) -> None:
        self.counts(table).refused += 1
        self.refused.append({"table": table, "legacy_id": str(legacy_id), "reason": reason})

    def refuse_in_part(self, table: str, legacy_id, reason: str) -> None:
        """A change of which a part was refused and the rest imported: listed with
        the refusals (the exit code says so), counted with the rows it updated."""
        self.refused.append({"table": table, "legacy_id": str(legacy_id), "reason": reason})

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def adjust(self, table: str, legacy_id, column: str, reason: str) -> None:
        """A value imported otherwise than the source holds it (the row itself came over)."""
        self.adjusted.append({"table": table, "legacy_id": str(legacy_id), "field": column, "reason": reason})

    @property
    def rows(self) -> int:
        return sum(counts.read for counts in self.tables.values())

    @property
    def changed(self) -> bool:
        """Whether the run wrote anything: rows created or updated, or access ended
        for what the source no longer has (a user deactivated, a token revoked)."""
        rows = any(counts.created or counts.updated for counts in self.tables.values())
        return rows or any(row.get("access_ended") or row.get("revoked") for row in self.missing_in_source)

    def as_dict(self) -> dict:
        return {
            "failed": False,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.rows / self.seconds) if self.seconds else None,
            "tables": {table: vars(counts) for table, counts in self.tables.items()},
            "refused": self.refused,
            "adjusted": self.adjusted,
            "warnings": self.warnings,
            "missing_in_source": self.missing_in_source,
            "over_full_bootcamps": self.over_full_bootcamps,
        }


#: The longest note the timeline holds (LeadActivity.body); longer notes become several.
NOTE_LENGTH = LeadActivity._meta.get_field("body").max_length


def _seen(text: str) -> dict:
    """What a notes entry remembers of the whole text it was cut from."""
    return {"length": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}


def _notes(lead, added: str) -> list[LeadActivity]:
    """`added`, the new part of the lead's notes, as notes no longer than the timeline
    holds, each remembering the whole text they were cut from (for the next run)."""
    if not added:
        return []
    parts = [added[start : start + NOTE_LENGTH] for start in range(0, len(added), NOTE_LENGTH)]
    return [
        LeadActivity(
            lead=lead,
            kind=LeadActivity.Kind.NOTE,
            body=part,
            data={"legacy": {"notes": True, "seen": _seen(lead._notes)}},
            created_at=lead.legacy_updated_at,
        )
        for part in parts
    ]


def _notes_added(text: str, before: list[dict]) -> str:
    """What was appended to the notes since the last run that kept them: the whole
    text when there was nothing before or it was edited rather than appended to."""
    if not text or not before:
        return text
    seen = before[-1].get("seen")
    if seen is None:
        # Kept by an importer that didn't remember the whole text: the notes so far
        # are the entries' bodies, appended one per line.
        bodies = "\n".join(entry["body"] for entry in before)
        seen = _seen(bodies)
    length = seen["length"]
    if len(text) >= length and hashlib.sha256(text[:length].encode()).hexdigest() == seen["sha256"]:
        return text[length:].strip()
    return text


def _kept_texts(lead, last: dict, *, new: bool) -> list[LeadActivity]:
    """The source texts Cohortly's fields couldn't hold, unless the same is kept already."""
    kept = []
    for key, text, body in (
        ("source", lead._original_source, "Source in the Node backend: “{}”."),
        ("phone", lead._dropped_phone, "Phone in the Node backend, not a number Cohortly can store: “{}”."),
    ):
        if text and last.get(key) != text:
            # Cut to what the timeline holds (data keeps it whole, for the next run).
            room = NOTE_LENGTH - len(body.format(""))
            shown = text if len(text) <= room else text[: room - 1] + "…"
            kept.append(
                LeadActivity(
                    lead=lead,
                    kind=LeadActivity.Kind.CREATED if new else LeadActivity.Kind.NOTE,
                    body=body.format(shown),
                    data={"legacy": {key: text}},
                    created_at=lead.created_at if new else lead.legacy_updated_at,
                )
            )
    return kept


class Importer:
    """One run. Every table is read in id order, so a batch's earlier imports are one
    range lookup (`_imported_between`), and a row whose `updated_at` hasn't moved is
    counted unchanged before anything is built for it."""

    def __init__(
        self,
        connection: psycopg.Connection,
        mapping: Mapping,
        *,
        progress,
        batch_size: int = 2000,
        end_access_of_many_gone: bool = False,
    ):
        self.end_access_of_many_gone = end_access_of_many_gone
        self.source = connection
        self.mapping = mapping
        self.progress = progress
        self.batch_size = batch_size
        self.report = Report()
        self._created_bootcamps = set()

    # --- Reading the source -------------------------------------------------------

    def _col(self, table: str, column: str) -> sql.Composable:
        return self.mapping.column(table, column)

    def _count(self, table: str, where: sql.Composable) -> int:
        query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(self.mapping.table(table), where)
        return self.source.execute(query).fetchone()[0]

    def _batches(self, table: str, where: sql.Composable, order_by: list[sql.Composable], extra: list):
        """The table's rows, in batches, through a server-side cursor: memory stays flat."""
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(
            sql.SQL(", ").join([self.mapping.select_list(table), *extra]),
            self.mapping.table(table),
            where,
            sql.SQL(", ").join(order_by),
        )
        with self.source.cursor(name=f"import_{table}", row_factory=dict_row) as cursor:
            cursor.itersize = self.batch_size
            cursor.execute(query)
            while rows := cursor.fetchmany(self.batch_size):
                yield rows

    def _run_table(self, table: str, handle, *, where=EVERY_ROW, order_by=None, extra=()) -> None:
        counts = self.report.counts(table)
        order_by = order_by or [self._col(table, "id")]
        with self.progress(table, self._count(table, where)) as bar:
            for rows in self._batches(table, where, order_by, list(extra)):
                counts.read += len(rows)
                handle(rows)
                bar.update(len(rows))

    def _email_losers(self, table: str, make_convert, holders, *, where: sql.Composable = EVERY_ROW) -> dict:
        """{id: reason} for each row that loses its email to another row of `table`.

        Emails are compared as the import stores them (normalize_email: trimmed and
        lower-cased), never by a database's idea of lower(): two rows equal that way
        can't both come over. Of the rows alike that `make_convert(rows)` accepts, the
        one an earlier run imported with that email keeps it (`holders(emails)`:
        {email: source id}), whichever is edited later in the Node backend; else the
        one updated last is imported. A row refused for its own reason takes none of
        the others with it. Reading only ids and emails first, this
        holds one entry per address in memory, and reads whole rows only for the
        few addresses shared.
        """
        query = sql.SQL("SELECT {}, {} FROM {} WHERE {}").format(
            self._col(table, "id"), self._col(table, "email"), self.mapping.table(table), where
        )
        first_of, shared = {}, defaultdict(list)
        with self.source.cursor(name=f"emails_{table}") as cursor:
            cursor.itersize = self.batch_size
            cursor.execute(query)
            for row_id, email in cursor:
                key = normalize_email(email)
                if key in shared:
                    shared[key].append(row_id)
                elif (other := first_of.setdefault(key, row_id)) != row_id:
                    shared[key] = [other, row_id]
        del first_of
        ids = [row_id for group in shared.values() for row_id in group]
        rows = {}
        for start in range(0, len(ids), self.batch_size):
            query = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
                self.mapping.select_list(table), self.mapping.table(table), self._col(table, "id")
            )
            with self.source.cursor(row_factory=dict_row) as cursor:
                for row in cursor.execute(query, [ids[start : start + self.batch_size]]):
                    rows[row["id"]] = row
        convert = make_convert(list(rows.values()))
        held = holders(list(shared))
        losers = {}
        for email, group in shared.items():
            valid = []
            for row in sorted((rows[row_id] for row_id in group), key=lambda row: row["id"]):
                try:
                    self._converted(row, convert)
                except Refused:
                    continue  # refused for its own reason when its batch comes
                valid.append(row)
            if len(valid) < 2:
                continue
            holder = next((row for row in valid if row["id"] == held.get(email)), None)
            winner = holder or max(valid, key=lambda row: row["updated_at"])  # the lowest id of a tie
            for row in valid:
                if row is winner:
                    continue
                if holder:
                    why = "imported earlier, which keeps it"
                elif winner["updated_at"] > row["updated_at"]:
                    why = "updated later, which is imported instead"
                else:
                    why = "updated as late, which is imported instead"
                losers[row["id"]] = f"email {email} is also the email of {table} {winner['id']}, {why}"
        return losers

    def _enum(self, enum: str, value: str | None) -> str:
        mapped = self.mapping.enums[enum].get(value)
        if mapped is None:
            raise Refused(f"unknown {enum} value {value!r}")
        return mapped

    # --- What an earlier run imported ---------------------------------------------------

    @staticmethod
    def _imported_between(model, rows, *fields, key: str = "legacy_id") -> dict:
        """{source id: (fields...)} for every row imported with an id in this batch's range."""
        bounds = (rows[0]["id"], rows[-1]["id"])
        found = model.objects.filter(**{f"{key}__range": bounds}).values_list(key, *fields)
        return {row[0]: row[1:] for row in found}

    @staticmethod
    def _pks(model, ids, *, flat: bool = True):
        """The Cohortly rows imported from these source ids: a set of their (user) ids, or {id: pk}."""
        ids = {legacy_id for legacy_id in ids if legacy_id is not None}
        if not ids:
            return set() if flat else {}
        rows = model.objects.filter(legacy_id__in=ids)
        return set(rows.values_list("pk", flat=True)) if flat else dict(rows.values_list("legacy_id", "pk"))

    @staticmethod
    def _roles(ids) -> dict:
        """{user id: role} of the users imported from these source ids."""
        ids = {legacy_id for legacy_id in ids if legacy_id is not None}
        return dict(User.objects.filter(legacy_id__in=ids).values_list("pk", "role")) if ids else {}

    def _fresh(self, table: str, rows, known: dict, *, stamp: int, changed=frozenset()) -> list:
        """The rows new or changed since they were last imported (or `changed` by what
        their updated_at doesn't cover); the rest count as unchanged."""
        fresh = []
        for row in rows:
            before = known.get(row["id"])
            if before is not None and before[stamp] == _utc(row["updated_at"]) and row["id"] not in changed:
                self.report.counts(table).unchanged += 1
            else:
                fresh.append(row)
        return fresh

    @staticmethod
    def _converted(row, convert):
        """`convert(row)`, once no value of the row is one Cohortly can't hold."""
        for column, value in row.items():
            if isinstance(value, Unrepresentable):
                raise Refused(f"{column} is {value.text!r}, a date Cohortly can't store (years 1 to 9999)")
            if value is None and column in STAMPS_REQUIRED:
                raise Refused(f"{column} is empty")
            if isinstance(value, datetime) and not MOMENTS_KEPT[0] <= value.year <= MOMENTS_KEPT[1]:
                # A year-9999 lead sorted first on every sales page, where its time
                # in a zone east of UTC is past what Python holds: a 500.
                shown = value.replace(tzinfo=None).isoformat(" ", "minutes")
                raise Refused(
                    f"{column} is {shown}, outside the years a record's times are kept in "
                    f"({MOMENTS_KEPT[0]} to {MOMENTS_KEPT[1]})"
                )
        return convert(row)

    def _sorted_out(self, table: str, rows, convert) -> list[tuple[dict, object]]:
        """(row, converted) for each row `convert` accepts; the others are refused."""
        accepted = []
        for row in rows:
            try:
                accepted.append((row, self._converted(row, convert)))
            except Refused as exc:
                self.report.refuse(table, row["id"], str(exc))
        return accepted

    def _write(self, model, accepted, known: dict, fields: list[str], *, copy=False) -> tuple[list, list]:
        """Insert the new rows (with COPY if `copy`) and update the changed ones: (created, updated)."""
        table = model_table(model)
        counts = self.report.counts(table)
        created, updated = [], []
        for row, instance in accepted:
            for column, reason in getattr(instance, "_adjusted", ()):
                self.report.adjust(table, row["id"], column, reason)
            if row["id"] in known:
                instance.pk = known[row["id"]][0]
                updated.append(instance)
            else:
                created.append(instance)
        if copy:
            _copy_insert(model, created)
        else:
            model.objects.bulk_create(created)
        _bulk_update(model, updated, fields)
        counts.created += len(created)
        counts.updated += len(updated)
        return created, updated

    # --- The run ----------------------------------------------------------------------

    def run(self, tables: list[str]) -> Report:
        started = time.monotonic()
        for table in ORDER:
            if table in tables:
                getattr(self, f"_import_{table}")()
        if {"bootcamps", "enrollments"} & set(tables):
            self._find_over_full_bootcamps()
        for table in ORDER:
            if table in tables and table in MODELS:
                self._find_missing(table)
        if "refresh_tokens" in tables:
            self._revoke_gone_refresh_tokens()
        self.report.seconds = time.monotonic() - started
        return self.report

    # --- users --------------------------------------------------------------------------

    def _import_users(self) -> None:
        # Cohortly keeps one account per email: of several, the one updated last.
        self._users_losing_email = self._email_losers(
            "users",
            lambda rows: self._user,
            lambda emails: dict(
                User.objects.filter(email__in=emails, legacy_id__isnull=False).values_list(
                    "email", "legacy_id"
                )
            ),
        )
        self._run_table("users", self._users_batch)

    def _user(self, row) -> User:
        email = normalize_email(row["email"])
        if not NODE_BCRYPT.match(row["password_hash"] or ""):
            raise Refused("password_hash is not a bcrypt hash")
        adjusted = []
        user = User(
            id=row["id"],
            email=email,
            password=LegacyBcryptPasswordHasher.wrap(row["password_hash"]),
            full_name=_name(row["full_name"], email, adjusted),
            phone=_phone(row["phone"], adjusted),
            role=self._enum("user_role", row["role"]),
            is_active=bool(row["is_active"]),
            created_at=_utc(row["created_at"]),
            # The company's real users, whom the Node backend has been mailing:
            # their addresses count as proven (MIGRATING.md). Set at creation only.
            email_verified_at=_utc(row["created_at"]),
            legacy_id=row["id"],
            legacy_updated_at=_utc(row["updated_at"]),
        )
        user._adjusted = adjusted
        return _validated(user, "email", "full_name", "phone", "password")

    def _users_batch(self, rows) -> None:
        # Users keep their id: Cohortly's own accounts in the range are found too.
        known = self._imported_between(
            User, rows, "legacy_updated_at", "legacy_id", "is_active", "role", "password", key="pk"
        )

        def convert(row):
            if row["id"] in self._users_losing_email:
                raise Refused(self._users_losing_email[row["id"]])
            return self._user(row)

        fresh = self._fresh("users", rows, known, stamp=0)
        accepted = self._sorted_out("users", fresh, convert)
        emails = {
            email: (pk, legacy_id, stamp, active)
            for email, pk, legacy_id, stamp, active in User.objects.filter(
                email__in=[user.email for _, user in accepted]
            ).values_list("email", "pk", "legacy_id", "legacy_updated_at", "is_active")
        }
        writable = []
        leaving = set()  # the active ADMINs this batch deactivates or demotes
        for row, user in accepted:
            owner, imported, stamp, active = emails.get(user.email, (user.pk, None, None, None))
            # Its holder was deleted in the Node backend (deactivated here, its stamp
            # cleared) and someone registered there again with it: the address is the
            # new account's, once this row passes its checks; the old one keeps its records.
            release = owner if owner != user.pk and imported and stamp is None and not active else None
            if owner != user.pk and release is None:
                whose = f"users {owner}, imported earlier" if imported else f"Cohortly account {owner}"
                self.report.refuse("users", row["id"], f"email {user.email} belongs to {whose}")
                continue
            if user.pk in known and known[user.pk][1] is None:
                self.report.refuse("users", row["id"], "a Cohortly account has this id and wasn't imported")
                continue
            if user.pk in known:
                _, _, was_active, role = known[user.pk][:4]
                if refusal := self._role_refusal(user, role):
                    # The role stays, and the rest of the change comes over: a
                    # deactivation or a new password must not wait on a bootcamp's
                    # staff list. The row counts as imported (re-applying it on every
                    # run would undo what Cohortly changed since, a deactivation
                    # here among them): the role comes with its next change there.
                    user.role = role
                if admins := self._admins_refusal(user, was_active, role, leaving):
                    self.report.refuse("users", row["id"], admins)
                    continue
                if refusal:
                    self.report.refuse_in_part(
                        "users",
                        row["id"],
                        f"{refusal} Its other changes came over; the role comes with the user's next change "
                        "in the Node backend.",
                    )
            if release is not None:
                self._release_email(release, user)
            writable.append((row, user))
        written = {user.pk for _, user in writable}
        for row in fresh:
            before = known.get(row["id"])  # (stamp, legacy id, is_active, ...)
            imported_and_active = before is not None and before[1] is not None and before[2]
            # Refused, but deactivated in the Node backend: that part can't wait for the rest.
            if row["id"] not in written and imported_and_active and not row["is_active"]:
                self._deactivate_refused(row, leaving)
        known = {pk: (pk, *rest) for pk, rest in known.items()}
        states = LegacyUserState.objects.in_bulk([user.pk for _, user in writable if user.pk in known])
        ending = set()
        new_passwords = []  # the imported users whose password the Node backend changed
        for row, user in writable:
            if user.pk not in known:
                continue
            _, _, _, was_active, _, stored = known[user.pk]
            state = states.get(user.pk)
            # An empty record is "not known": _end_sessions keeps no Node hash for a
            # user whose own was upgraded here before the importer kept one.
            node_hash_before = (state.password_hash or None) if state else _node_hash(stored)
            if node_hash_before is None or node_hash_before == row["password_hash"]:
                # Unchanged in the Node backend: keep what Cohortly holds, which a
                # login may have upgraded to Argon2 (or the user changed here). With
                # no record of the Node hash at all (upgraded here before the importer
                # kept one), Cohortly's is kept too, and this one is the record from
                # now on: a later change to it in the Node backend then wins.
                user.password = stored
            else:
                ending.add(user.pk)  # a new password in the Node backend: it wins
                new_passwords.append(user)
            if was_active and not user.is_active:
                ending.add(user.pk)
        # The password is written only where the Node backend changed it: written
        # back as read, it undid a password changed here while the import ran.
        created, updated = self._write(
            User, writable, known, ["email", "full_name", "phone", "role", "is_active"], copy=True
        )
        User.objects.bulk_update(new_passwords, ["password"])
        for user in updated:
            user_cache_invalidate(user.pk)
            if user.pk in ending:
                # A new password or a deactivation in the Node backend ends every
                # session, here too. A role or any other change ends none: the
                # role is read from the user row at each request.
                user_logout_all(user=user)
        self._remember_users(writable, states, ending)

    def _deactivate_refused(self, row, leaving: set) -> None:
        """An imported user whose row is refused (an address Cohortly can't take, a
        hash that isn't bcrypt) while the Node backend deactivated them: they are
        deactivated here too, every session ended, unless they are Cohortly's last
        active ADMIN. The row stays refused, so its other changes come with it once
        its reason is gone."""
        user = User.objects.get(pk=row["id"])
        if user.role == User.Role.ADMIN and not self._other_admins_stay(user, leaving):
            self.report.warn(
                f"users {row['id']} ({user.email}) is deactivated in the Node backend but stays active: "
                "Cohortly's last active ADMIN."
            )
            return
        User.objects.filter(pk=user.pk).update(is_active=False, updated_at=timezone.now())
        user_cache_invalidate(user.pk)
        # Tokens issued since the change stand; a stamp Python can't hold ('infinity'):
        # since now.
        changed_at = _utc(row["updated_at"])
        self._end_sessions(user, since=changed_at if isinstance(changed_at, datetime) else timezone.now())
        self.report.adjust(
            "users",
            row["id"],
            "is_active",
            "deactivated in the Node backend: deactivated here too and its sessions ended, although the "
            "row's other changes were refused",
        )

    @staticmethod
    def _end_sessions(user: User, *, since) -> None:
        """Every session of `user` ended here, and the Node tokens that stand for
        them from now on recorded: those issued at or after `since`. (Without the
        record, the user's Node tokens would never work again, however new.)"""
        user_logout_all(user=user)
        state = LegacyUserState.objects.filter(user=user).first()
        if state is None:
            state = LegacyUserState(user=user, password_hash=_node_hash(user.password) or "")
        state.token_generation = user.token_generation
        state.tokens_issued_since = since
        state.save()

    def _release_email(self, holder_pk, user: User) -> None:
        """Give `user` the address of an account deleted in the Node backend: that
        one's becomes an address of the reserved .invalid domain that still shows
        the old one, and the report says so."""
        limit = User._meta.get_field("email").max_length
        candidates = [
            f"{user.email}.released-{str(holder_pk)[:8]}.invalid",
            f"{user.email}.released-{holder_pk}.invalid",
            f"{holder_pk}@released.invalid",
        ]
        taken = set(User.objects.filter(email__in=candidates).values_list("email", flat=True))
        released = next(
            (address for address in candidates if len(address) <= limit and address not in taken),
            f"{uuid.uuid4()}@released.invalid",
        )
        User.objects.filter(pk=holder_pk).update(email=released, updated_at=timezone.now())
        user_cache_invalidate(holder_pk)
        self.report.adjust(
            "users",
            holder_pk,
            "email",
            f"released to users {user.pk}, who has {user.email} in the Node backend now; this account, "
            f"deleted there, keeps its records as {released}",
        )

    @staticmethod
    def _role_refusal(user: User, role: str) -> str | None:
        """Why Cohortly can't take this imported user's new role, or None: what an
        ADMIN's change here may not do, the Node backend's may not either. The role
        stays while the user holds something by it (a seat, a place on a bootcamp's
        staff: accounts.signals.user_role_changing)."""
        if user.role == role:
            return None
        try:
            user_role_changing.send(
                sender=User, user=User(pk=user.pk, email=user.email, role=role), role=user.role
            )
        except ValidationError as exc:
            return f"role {role} to {user.role}: {' '.join(exc.messages)}"
        return None

    @staticmethod
    def _other_admins_stay(user: User, leaving: set) -> bool:
        """Whether an active ADMIN stays once `user` and the `leaving` ones (this
        batch's, not written yet) are no longer; if so, `user` is leaving too."""
        others = User.objects.filter(role=User.Role.ADMIN, is_active=True).exclude(pk__in={user.pk, *leaving})
        if not others.exists():
            return False
        leaving.add(user.pk)
        return True

    def _admins_refusal(self, user: User, was_active: bool, role: str, leaving: set) -> str | None:
        """Why this change can't be taken at all, or None: it would leave Cohortly
        without an active ADMIN (counting the ADMINs this batch already takes away:
        two deactivated in one edit are one, and the other refused). The row is
        refused until either side changes."""
        leaves_admins = role == User.Role.ADMIN and was_active and not (user.is_active and user.role == role)
        if leaves_admins and not self._other_admins_stay(user, leaving):
            return "this would leave Cohortly without an active ADMIN"
        return None

    def _remember_users(self, writable, states: dict, ending: set) -> None:
        """Each written user's Node hash, and, for those whose sessions just ended,
        which Node tokens still stand for them: those issued since the change."""
        new, changed = [], []
        for row, user in writable:
            state = states.get(user.pk)
            if state is None:
                state = LegacyUserState(user_id=user.pk)
                new.append(state)
            else:
                changed.append(state)
            state.password_hash = row["password_hash"]
            # Those whose sessions just ended; and those deactivated before they first
            # came over, whose tokens of before that were taken back on reactivation.
            if user.pk in ending or (state in new and not user.is_active):
                state.token_generation = user.token_generation
                state.tokens_issued_since = _utc(row["updated_at"])
        _copy_insert(LegacyUserState, new)
        LegacyUserState.objects.bulk_update(
            changed, ["password_hash", "token_generation", "tokens_issued_since"]
        )

    # --- bootcamps (with their instructor and mentors) ---------------------------------

    def _import_bootcamps(self) -> None:
        self._slugs = set()
        self._created_bootcamps = set()
        self._run_table("bootcamps", self._bootcamps_batch)

    def _mentors_of(self, bootcamp_ids) -> dict:
        query = sql.SQL("SELECT {} AS bootcamp_id, {} AS mentor_id FROM {} WHERE {} = ANY(%s)").format(
            self._col("bootcamp_mentors", "bootcamp_id"),
            self._col("bootcamp_mentors", "mentor_id"),
            self.mapping.table("bootcamp_mentors"),
            self._col("bootcamp_mentors", "bootcamp_id"),
        )
        mentors = defaultdict(list)
        for bootcamp_id, mentor_id in self.source.execute(query, [list(bootcamp_ids)]).fetchall():
            mentors[bootcamp_id].append(mentor_id)
        return mentors

    def _bootcamps_batch(self, rows) -> None:
        known = self._imported_between(Bootcamp, rows, "pk", "legacy_updated_at")
        mentors = self._mentors_of(row["id"] for row in rows)
        # bootcamp_mentors rows have no updated_at, and adding or removing one leaves the
        # bootcamp's alone; nor does deleting its instructor's user, which sets
        # instructor_id to NULL (ON DELETE SET NULL). A bootcamp whose people differ
        # from Cohortly's is changed too.
        here = {"mentors": defaultdict(set), "instructors": defaultdict(set)}
        for relation, people_here in here.items():
            for bootcamp_pk, user_id in (
                getattr(Bootcamp, relation)
                .through.objects.filter(bootcamp_id__in=[pk for pk, _ in known.values()])
                .values_list("bootcamp_id", "user_id")
            ):
                people_here[bootcamp_pk].add(user_id)
        instructor_of = {row["id"]: row["instructor_id"] for row in rows}
        # Only this batch's rows: `known` also holds bootcamps in its id range that
        # the source deleted (_find_missing lists them).
        other_people = {
            legacy_id
            for legacy_id, (pk, _) in known.items()
            if legacy_id in instructor_of
            and (
                set(mentors[legacy_id]) != here["mentors"][pk]
                or {instructor_of[legacy_id]} - {None} != here["instructors"][pk]
            )
        }
        rows = self._fresh("bootcamps", rows, known, stamp=1, changed=other_people)
        if not rows:
            return
        people = {row["instructor_id"] for row in rows} | {m for ids in mentors.values() for m in ids}
        roles = dict(User.objects.filter(legacy_id__in=people - {None}).values_list("pk", "role"))

        def person(user_id, role, what):
            if user_id not in roles:
                raise Refused(f"its {what} users {user_id} was not imported")
            if roles[user_id] != role:
                raise Refused(f"its {what} users {user_id} has the role {roles[user_id]}, not {role}")
            return user_id

        def convert(row):
            adjusted = []
            bootcamp = Bootcamp(
                title=_title(row["title"], adjusted, stand_in=f"Untitled bootcamp (Node {row['id']})"),
                description=row["description"] or "",
                start_date=row["start_date"],
                end_date=row["end_date"],
                capacity=row["capacity"],
                price=row["price"],
                status=self._enum("bootcamp_status", row["status"]),
                created_at=_utc(row["created_at"]),
                legacy_id=row["id"],
                legacy_updated_at=_utc(row["updated_at"]),
            )
            bootcamp._adjusted = adjusted
            _validated(bootcamp, "title", "description", "capacity", "price", "start_date", "end_date")
            if row["capacity"] is not None and row["capacity"] < 1:
                raise Refused("capacity is below 1")
            if row["id"] not in known:
                bootcamp.slug = unique_slug(bootcamp.title, also_taken=self._slugs)
                self._slugs.add(bootcamp.slug)
            instructor = row["instructor_id"]
            bootcamp._people = {
                "instructors": [person(instructor, "INSTRUCTOR", "instructor")] if instructor else [],
                "mentors": [person(mentor, "MENTOR", "mentor") for mentor in mentors[row["id"]]],
            }
            return bootcamp

        created, updated = self._write(
            Bootcamp,
            self._sorted_out("bootcamps", rows, convert),
            known,
            ["title", "description", "start_date", "end_date", "capacity", "price", "status"],
        )
        self._created_bootcamps.update(bootcamp.pk for bootcamp in created)
        # Instructor and mentors follow the source whenever the bootcamp is written.
        for relation in ("instructors", "mentors"):
            through = getattr(Bootcamp, relation).through
            through.objects.filter(bootcamp_id__in=[bootcamp.pk for bootcamp in updated]).delete()
            through.objects.bulk_create(
                through(bootcamp_id=bootcamp.pk, user_id=user_id)
                for bootcamp in created + updated
                for user_id in bootcamp._people[relation]
            )

    # --- assignments --------------------------------------------------------------------

    def _import_assignments(self) -> None:
        self._run_table("assignments", self._assignments_batch)

    def _assignments_batch(self, rows) -> None:
        known = self._imported_between(Assignment, rows, "pk", "legacy_updated_at")
        rows = self._fresh("assignments", rows, known, stamp=1)
        if not rows:
            return
        bootcamps = self._pks(Bootcamp, (row["bootcamp_id"] for row in rows), flat=False)
        authors = self._roles(row["author_id"] for row in rows)
        instructor_of = dict(
            Bootcamp.instructors.through.objects.filter(bootcamp_id__in=bootcamps.values()).values_list(
                "bootcamp_id", "user_id"
            )
        )

        def convert(row):
            bootcamp = bootcamps.get(row["bootcamp_id"])
            if bootcamp is None:
                raise Refused(f"its bootcamp {row['bootcamp_id']} was not imported")
            if row["author_id"] is not None and row["author_id"] not in authors:
                raise Refused(f"its author users {row['author_id']} was not imported")
            adjusted = []
            author = row["author_id"]
            if author is not None and authors[author] not in AUTHORS:
                adjusted.append(
                    (
                        "created_by",
                        f"users {author} has the role {authors[author]}, which can't write assignments: "
                        "the bootcamp's instructor stands in",
                    )
                )
                author = None
            author = author or instructor_of.get(bootcamp)
            if author is None:
                raise Refused(
                    "it has no author who may write one, and its bootcamp no instructor to stand in"
                )
            assignment = Assignment(
                bootcamp_id=bootcamp,
                created_by_id=author,
                title=_title(row["title"], adjusted, stand_in=f"Untitled assignment (Node {row['id']})"),
                description=row["description"] or "",
                due_at=_utc(row["due_date"]),
                max_score=Decimal(row["max_score"]) if row["max_score"] is not None else None,
                is_published=bool(row["is_published"]),
                # Its students know it from the Node backend: nothing to announce.
                announced_due_at=_utc(row["due_date"]) if row["is_published"] else None,
                created_at=_utc(row["created_at"]),
                legacy_id=row["id"],
                legacy_updated_at=_utc(row["updated_at"]),
            )
            assignment._adjusted = adjusted
            return _validated(assignment, "title", "description", "due_at", "max_score")

        self._write(
            Assignment,
            self._sorted_out("assignments", rows, convert),
            known,
            ["bootcamp", "created_by", "title", "description", "due_at", "max_score", "is_published"],
        )

    # --- enrollments --------------------------------------------------------------------

    def _import_enrollments(self) -> None:
        # By bootcamp and arrival, so that PENDING ones join each waitlist in enrolled_at order.
        self._next_seq = {}
        order = [self._col("enrollments", column) for column in ("bootcamp_id", "enrolled_at", "id")]
        self._run_table("enrollments", self._enrollments_batch, order_by=order)

    def _waitlist_seq(self, bootcamp_pk: int) -> int:
        """The next place on the bootcamp's waitlist, after everyone already on it."""
        if bootcamp_pk not in self._next_seq:
            current = Enrollment.objects.filter(
                bootcamp_id=bootcamp_pk, status=Enrollment.Status.WAITLISTED
            ).aggregate(m=Max("waitlist_seq"))["m"]
            self._next_seq[bootcamp_pk] = (current or 0) + 1
        seq = self._next_seq[bootcamp_pk]
        self._next_seq[bootcamp_pk] += 1
        return seq

    def _enrollments_batch(self, rows) -> None:
        found = Enrollment.objects.filter(legacy_id__in=[row["id"] for row in rows]).values_list(
            "legacy_id", "pk", "legacy_updated_at", "status", "waitlist_seq", "bootcamp_id"
        )
        known = {row[0]: row[1:] for row in found}  # (pk, stamp, status, seq, bootcamp)
        rows = self._fresh("enrollments", rows, known, stamp=1)
        if not rows:
            return
        bootcamps = self._pks(Bootcamp, (row["bootcamp_id"] for row in rows), flat=False)
        students = self._roles(row["student_id"] for row in rows)
        # One enrollment per student and bootcamp: {pair: (legacy id, pk, stamp, status, seq)}.
        taken = {
            (student, bootcamp): rest
            for student, bootcamp, *rest in Enrollment.objects.filter(
                student_id__in=students, bootcamp_id__in=bootcamps.values()
            ).values_list(
                "student_id", "bootcamp_id", "legacy_id", "pk", "legacy_updated_at", "status", "waitlist_seq"
            )
        }
        ids = {row["id"] for row in rows}
        gone = {
            legacy_id for legacy_id, *_ in taken.values() if legacy_id is not None and legacy_id not in ids
        }
        gone -= self._present("enrollments", gone)

        def convert(row):
            if row["student_id"] not in students:
                raise Refused(f"its student users {row['student_id']} was not imported")
            if row["bootcamp_id"] not in bootcamps:
                raise Refused(f"its bootcamp {row['bootcamp_id']} was not imported")
            bootcamp = bootcamps[row["bootcamp_id"]]
            status = self._enum("enrollment_status", row["status"])
            role = students[row["student_id"]]
            if (
                status in (Enrollment.Status.ACTIVE, Enrollment.Status.WAITLISTED)
                and role != User.Role.STUDENT
            ):
                # As in Cohortly: only a student holds a seat or a place in line (a
                # finished enrollment of someone since made a mentor is history).
                raise Refused(
                    f"its student users {row['student_id']} has the role {role}: only a student holds "
                    f"a {'place on the waitlist' if status == Enrollment.Status.WAITLISTED else 'seat'}"
                )
            # Last of the checks, so that only a row that comes over takes a kept one.
            holder = taken.get((row["student_id"], bootcamp))
            if holder is not None and holder[0] != row["id"]:
                if holder[0] not in gone or row["id"] in known:
                    raise Refused("the student already has an enrollment in this bootcamp in Cohortly")
                # The pair's enrollment was deleted in the Node backend and made
                # again (a drop by delete, then a new enrollment): the same
                # enrollment here, which takes the new row's id and values.
                gone.discard(holder[0])
                known[row["id"]] = (*holder[1:], bootcamp)
            before = known.get(row["id"])
            if status != Enrollment.Status.WAITLISTED:
                seq = None
            elif before and before[2] == Enrollment.Status.WAITLISTED and before[4] == bootcamp:
                seq = before[3]  # keeps its place
            # (moved to another bootcamp's waitlist: it joins the end of that one)
            else:
                seq = self._waitlist_seq(bootcamp)
            enrolled_at = _utc(row["enrolled_at"])
            updated_at = _utc(row["updated_at"])
            return Enrollment(
                student_id=row["student_id"],
                bootcamp_id=bootcamp,
                status=status,
                waitlist_seq=seq,
                enrolled_at=enrolled_at,
                # Node kept no completion time: its last change is the nearest.
                completed_at=updated_at if status == Enrollment.Status.COMPLETED else None,
                created_at=enrolled_at,
                legacy_id=row["id"],
                legacy_updated_at=updated_at,
            )

        self._write(
            Enrollment,
            self._sorted_out("enrollments", rows, convert),
            known,
            ["student", "bootcamp", "status", "waitlist_seq", "enrolled_at", "completed_at", "legacy_id"],
        )

    def _find_over_full_bootcamps(self) -> None:
        over_full = (
            Bootcamp.objects.filter(legacy_id__isnull=False)
            .annotate(
                seats_taken=Count("enrollments", filter=Q(enrollments__status__in=Enrollment.SEAT_HOLDING))
            )
            .filter(seats_taken__gt=F("capacity"))
            .order_by("pk")
            .values("pk", "legacy_id", "title", "capacity", "seats_taken")
        )
        self.report.over_full_bootcamps = [
            {
                # A dry run's new bootcamps get ids it rolls back: a later run's differ.
                "id": None if self.report.dry_run and row["pk"] in self._created_bootcamps else row["pk"],
                "legacy_id": str(row["legacy_id"]),
                "title": row["title"],
                "capacity": row["capacity"],
                "seats_taken": row["seats_taken"],
            }
            for row in over_full
        ]

    # --- leads (with their notes on the timeline) --------------------------------------

    def _import_leads(self) -> None:
        # Cohortly keeps one open lead per email: of several, the one updated last.
        open_statuses = [
            value for value, status in self.mapping.enums["lead_status"].items() if status in OPEN_LEAD
        ]
        is_open = sql.SQL("{}::text = ANY({})").format(
            self._col("leads", "status"), sql.Literal(open_statuses)
        )
        self._open_leads_losing_email = self._email_losers(
            "leads",
            self._lead_converter,
            lambda emails: dict(
                Lead.objects.filter(
                    email__in=emails, status__in=OPEN_LEAD, legacy_id__isnull=False
                ).values_list("email", "legacy_id")
            ),
            where=is_open,
        )
        self._run_table("leads", self._leads_batch)

    def _lead_converter(self, rows):
        """What turns these rows into leads (their bootcamps and owners looked up once)."""
        bootcamps = self._pks(Bootcamp, (row["bootcamp_id"] for row in rows), flat=False)
        owners = self._roles(row["owner_id"] for row in rows)

        def convert(row):
            status = self._enum("lead_status", row["status"])
            if row["bootcamp_id"] is not None and row["bootcamp_id"] not in bootcamps:
                raise Refused(f"its bootcamp {row['bootcamp_id']} was not imported")
            if row["owner_id"] is not None and row["owner_id"] not in owners:
                raise Refused(f"its owner users {row['owner_id']} was not imported")
            source, original_source = self.mapping.source_of(row["source"])
            email = normalize_email(row["email"])
            adjusted = []
            owner = row["owner_id"]
            if owner is not None and owners[owner] not in SALES_TEAM:
                adjusted.append(
                    (
                        "owner",
                        f"users {owner} has the role {owners[owner]}, which can't own leads: left unassigned",
                    )
                )
                owner = None
            lead = Lead(
                full_name=_name(row["full_name"], email, adjusted),
                email=email,
                phone=_phone(row["phone"], adjusted),
                source=source,
                status=status,
                lost_reason=LOST_WITHOUT_REASON if status == Lead.Status.LOST else "",
                bootcamp_id=bootcamps.get(row["bootcamp_id"]),
                owner_id=owner,
                created_at=_utc(row["created_at"]),
                legacy_id=row["id"],
                legacy_updated_at=_utc(row["updated_at"]),
            )
            lead._adjusted = adjusted
            lead._original_source = original_source
            lead._dropped_phone = (
                (row["phone"] or "").strip() if any(f == "phone" for f, _ in adjusted) else ""
            )
            lead._notes = (row["notes"] or "").strip()
            return _validated(lead, "full_name", "email", "phone")

        return convert

    def _leads_batch(self, rows) -> None:
        known = self._imported_between(Lead, rows, "pk", "legacy_updated_at")
        rows = self._fresh("leads", rows, known, stamp=1)
        if not rows:
            return
        lead_of = self._lead_converter(rows)
        # Only an open lead can clash with one open in Cohortly.
        statuses = self.mapping.enums["lead_status"]
        open_emails = {
            normalize_email(row["email"]) for row in rows if statuses.get(row["status"]) in OPEN_LEAD
        }
        # {email: (legacy id, pk, stamp)} of the open leads Cohortly has.
        open_in_cohortly = {
            email: rest
            for email, *rest in Lead.objects.filter(email__in=open_emails, status__in=OPEN_LEAD).values_list(
                "email", "legacy_id", "pk", "legacy_updated_at"
            )
        }
        ids = {row["id"] for row in rows}
        gone = {held[0] for held in open_in_cohortly.values() if held[0] is not None and held[0] not in ids}
        gone -= self._present("leads", gone)
        # {legacy id: the bootcamp the lead has here} of the leads converted in Cohortly
        # since they came over (a conversion into another bootcamp keeps the lead's own).
        converted_here = dict(
            Lead.objects.filter(legacy_id__in=ids, converted_enrollment__isnull=False).values_list(
                "legacy_id", "bootcamp_id"
            )
        )

        def convert(row):
            email = normalize_email(row["email"])
            if row["id"] in converted_here:
                # The Node backend never knew of the enrollment: a change there (a note
                # appended) reopened the lead with its links kept, and it could be
                # converted again, into a second enrollment.
                lead = lead_of(row)
                if lead.status != Lead.Status.CONVERTED:
                    self.report.refuse_in_part(
                        "leads",
                        row["id"],
                        f"status {lead.status}: the lead was converted in Cohortly, and stays CONVERTED with "
                        "its bootcamp. Its other changes came over.",
                    )
                lead.status, lead.lost_reason = Lead.Status.CONVERTED, ""
                lead.bootcamp_id = converted_here[row["id"]]
                return lead
            if self._enum("lead_status", row["status"]) not in OPEN_LEAD:
                return lead_of(row)
            if row["id"] in self._open_leads_losing_email:
                raise Refused(self._open_leads_losing_email[row["id"]])
            lead = lead_of(row)  # its own checks first: only a lead that comes over takes a kept one
            holder = open_in_cohortly.get(email)
            if holder is not None and holder[0] != row["id"]:
                if holder[0] not in gone or row["id"] in known:
                    raise Refused(f"{email} already has an open lead in Cohortly")
                # Deleted in the Node backend and made again for the same person:
                # the same lead here, which takes the new row's id and values, its
                # timeline kept.
                gone.discard(holder[0])
                known[row["id"]] = holder[1:]
            return lead

        created, updated = self._write(
            Lead,
            self._sorted_out("leads", rows, convert),
            known,
            [
                "full_name",
                "email",
                "phone",
                "source",
                "status",
                "lost_reason",
                "bootcamp",
                "owner",
                "legacy_id",
            ],
            copy=True,
        )
        _copy_insert(LeadActivity, [*self._timeline_of_new(created), *self._timeline_of_changed(updated)])

    @staticmethod
    def _timeline_of_new(leads) -> list[LeadActivity]:
        """What Cohortly's fields couldn't hold (a source its choices had no match for, a
        phone number it can't store), and the notes, on the timeline."""
        activities = []
        for lead in leads:
            activities += _kept_texts(lead, {}, new=True)
            activities += _notes(lead, lead._notes)
        return activities

    @staticmethod
    def _timeline_of_changed(leads) -> list[LeadActivity]:
        """A changed lead's notes, what the sales team appended since as one more note,
        and a source or phone text that changed since the last one kept."""
        last = defaultdict(dict)  # lead pk -> {"notes": data, "source": text, "phone": text}
        for lead_id, data, body in (
            LeadActivity.objects.filter(lead__in=leads, data__legacy__isnull=False)
            .order_by("created_at", "pk")
            .values_list("lead_id", "data", "body")
        ):
            legacy = data["legacy"]
            if legacy.get("notes"):
                last[lead_id].setdefault("notes", []).append({**legacy, "body": body})
            for key in ("source", "phone"):
                if key in legacy:
                    last[lead_id][key] = legacy[key]
        activities = []
        for lead in leads:
            activities += _kept_texts(lead, last[lead.pk], new=False)
            activities += _notes(lead, _notes_added(lead._notes, last[lead.pk].get("notes", [])))
        return activities

    # --- refresh tokens -----------------------------------------------------------------

    def _import_refresh_tokens(self) -> None:
        # Expired tokens can never be exchanged: they aren't read.
        unexpired = sql.SQL("{} > (now() AT TIME ZONE 'UTC')").format(
            self._col("refresh_tokens", "expires_at")
        )
        self._run_table("refresh_tokens", self._refresh_tokens_batch, where=unexpired)

    def _refresh_tokens_batch(self, rows) -> None:
        counts = self.report.counts("refresh_tokens")
        # The Node backend never changes a token but to revoke it (logout).
        known = self._imported_between(LegacyRefreshToken, rows, "pk", "revoked_at")
        users = self._pks(User, (row["user_id"] for row in rows))
        # One token, one row: the hash is how an exchange finds it. A hash imported
        # earlier under another id is that token: should its old row be gone from the
        # source (re-inserted there under a new id), the stored token takes the new
        # id, and keeps whether it was spent here; should both rows be there (hashes
        # alike but for case), or two rows of this batch share it, the first keeps it.
        digests = {row["id"]: (row["token_hash"] or "").lower() for row in rows}
        stored = {
            digest: (legacy_id, pk)
            for digest, legacy_id, pk in LegacyRefreshToken.objects.filter(
                token_hash__in=set(digests.values())
            ).values_list("token_hash", "legacy_id", "pk")
        }
        still_there = self._present(
            "refresh_tokens", [legacy_id for legacy_id, _ in stored.values() if legacy_id not in digests]
        )
        holders = {digest: legacy_id for digest, (legacy_id, _) in stored.items()}
        moved = {}  # source id -> the stored token it is now
        for row_id, digest in digests.items():
            legacy_id, pk = stored.get(digest, (row_id, None))
            if (
                holders.get(digest) == legacy_id != row_id
                and legacy_id not in digests
                and legacy_id not in still_there
            ):
                moved[row_id], holders[digest] = pk, row_id

        def convert(row):
            if row["user_id"] not in users:
                raise Refused(f"its user {row['user_id']} was not imported")
            digest = digests[row["id"]]
            if not SHA256_HEX.match(digest):
                raise Refused("token_hash is not a SHA-256 hex digest")
            holder = holders.setdefault(digest, row["id"])
            if holder != row["id"]:
                raise Refused(f"its token_hash is also the hash of refresh_tokens {holder}, which keeps it")
            return LegacyRefreshToken(
                legacy_id=row["id"],
                user_id=row["user_id"],
                token_hash=digest,
                expires_at=_utc(row["expires_at"]),
                revoked_at=_utc(row["revoked_at"]),
                created_at=_utc(row["created_at"]),
            )

        created, updated = [], []
        for row, token in self._sorted_out("refresh_tokens", rows, convert):
            if row["id"] in moved:
                token.pk = moved[row["id"]]
                updated.append(token)
            elif row["id"] not in known:
                created.append(token)
            elif known[row["id"]][1] == token.revoked_at:
                counts.unchanged += 1
            else:
                token.pk = known[row["id"]][0]
                updated.append(token)
        LegacyRefreshToken.objects.bulk_create(created)
        LegacyRefreshToken.objects.bulk_update(updated, ["legacy_id", "revoked_at"])
        counts.created += len(created)
        counts.updated += len(updated)

    # --- what the source no longer has ---------------------------------------------------

    def _find_missing(self, table: str) -> None:
        """Imported rows whose source row is gone: listed, never deleted here."""
        model = MODELS[table]
        rows = model.objects.filter(legacy_id__isnull=False).order_by("pk").values_list("legacy_id", "pk")
        missing, batch, imported = [], [], 0
        for row in rows.iterator(chunk_size=self.batch_size):
            batch.append(row)
            imported += 1
            if len(batch) == self.batch_size:
                missing += self._missing(table, batch)
                batch = []
        missing += self._missing(table, batch)
        ended = self._end_access_of_gone_users(missing, imported) if table == "users" else set()
        self.report.missing_in_source.extend(
            {"table": table, "legacy_id": str(legacy_id), "id": str(pk)}
            | ({"access_ended": True} if pk in ended else {})
            for legacy_id, pk in missing
        )

    def _missing(self, table: str, batch) -> list:
        """Of `batch`'s (source id, pk), those whose source row `table` no longer has."""
        present = self._present(table, [legacy_id for legacy_id, _ in batch])
        return [(legacy_id, pk) for legacy_id, pk in batch if legacy_id not in present]

    def _present(self, table: str, ids) -> set:
        """Those of these source ids that `table` of the source still has."""
        if not ids:
            return set()
        query = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
            self._col(table, "id"), self.mapping.table(table), self._col(table, "id")
        )
        return {row[0] for row in self.source.execute(query, [list(ids)]).fetchall()}

    def _too_many_gone(self, gone: int, imported: int) -> bool:
        """More than GONE_AT_MOST and GONE_SHARE_AT_MOST of what was imported gone
        at once: a source that lost its rows, not a day's deletions (unless the
        run was told otherwise)."""
        return (
            gone > GONE_AT_MOST and gone > imported * GONE_SHARE_AT_MOST and not self.end_access_of_many_gone
        )

    def _end_access_of_gone_users(self, missing, imported: int) -> set:
        """A user deleted in the Node backend (a ban, an erasure request) loses access
        here too: deactivated, every session ended. The row itself stays, as every
        row gone from the source does; its import stamp is cleared, so that should the
        row come back, it is imported again as the source has it.

        Not when many go at once: more than GONE_AT_MOST users and GONE_SHARE_AT_MOST
        of those imported is a source that lost its users (a wrong --source, a
        truncated table), not a day's deletions. Then nobody is deactivated and the
        report says why, unless the run was told to (`end_access_of_many_gone`).
        Nor the last active ADMIN: Cohortly keeps one."""
        missing_pks = [pk for _, pk in missing]
        # Already deactivated (in Node before the deletion, or here): nothing to end,
        # but the stamp goes too, so that a new Node account registered with the
        # address gets it (_users_batch releases only an unstamped holder's).
        stamped = User.objects.filter(pk__in=missing_pks, is_active=False, legacy_updated_at__isnull=False)
        # Counted as the active ones are: the rows this run would change (those
        # released by earlier runs are missing every time, and change nothing).
        held = stamped.count()
        if self._too_many_gone(held, imported):
            self.report.warn(
                f"{held:,} deactivated users are gone from the source among more than "
                f"{GONE_SHARE_AT_MOST:.0%} of the users imported: their addresses stay theirs. Check "
                "--source; if the Node backend really deleted them, run again with "
                "--end-access-of-many-gone."
            )
        elif held:
            stamped.update(legacy_updated_at=None)
        gone = list(User.objects.filter(pk__in=missing_pks, is_active=True).order_by("pk"))
        if not gone:
            return set()
        if self._too_many_gone(len(gone), imported):
            self.report.warn(
                f"{len(gone):,} of the {imported:,} imported users are gone from the source and still active "
                f"here: more than {GONE_SHARE_AT_MOST:.0%}, so none was deactivated. Check --source; if the "
                "Node backend really deleted them, run again with --end-access-of-many-gone."
            )
            return set()
        gone_pks = {user.pk for user in gone}
        admins_stay = (
            User.objects.filter(role=User.Role.ADMIN, is_active=True).exclude(pk__in=gone_pks).exists()
        )
        ended = set()
        for user in gone:
            if user.role == User.Role.ADMIN and not admins_stay:
                self.report.warn(
                    f"users {user.legacy_id} ({user.email}) is gone from the source but stays active: "
                    "Cohortly's last active ADMIN."
                )
                continue
            now = timezone.now()
            User.objects.filter(pk=user.pk).update(is_active=False, legacy_updated_at=None, updated_at=now)
            self._end_sessions(user, since=now)
            ended.add(user.pk)
        return ended

    def _revoke_gone_refresh_tokens(self) -> None:
        """Refresh tokens still exchangeable here whose row the Node backend deleted:
        revoked, and listed. Not when many go at once (the same bounds as for users:
        a wrong --source or a truncated table would sign everyone out), unless the
        run was told to (`end_access_of_many_gone`)."""
        exchangeable = (
            LegacyRefreshToken.objects.filter(
                revoked_at__isnull=True, spent_at__isnull=True, expires_at__gt=timezone.now()
            )
            .order_by("pk")
            .values_list("legacy_id", "pk")
        )
        gone, imported = [], exchangeable.count()
        for start in range(0, imported, self.batch_size):
            gone += self._missing("refresh_tokens", list(exchangeable[start : start + self.batch_size]))
        if self._too_many_gone(len(gone), imported):
            self.report.warn(
                f"{len(gone):,} of the {imported:,} Node refresh tokens still exchangeable here are gone "
                f"from the source: more than {GONE_SHARE_AT_MOST:.0%}, so none was revoked. Check --source; "
                "if the Node backend really deleted them, run again with --end-access-of-many-gone."
            )
            revoke = False  # listed, not revoked
        else:
            revoke = True
            LegacyRefreshToken.objects.filter(pk__in=[pk for _, pk in gone]).update(revoked_at=timezone.now())
        self.report.missing_in_source.extend(
            {"table": "refresh_tokens", "legacy_id": str(legacy_id), "id": str(pk)}
            | ({"revoked": True} if revoke else {})
            for legacy_id, pk in gone
        )
