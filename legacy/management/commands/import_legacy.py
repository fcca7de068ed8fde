"""manage.py import_legacy --source postgres://USER@HOST/DB

Copies the Node backend's users, bootcamps, assignments, enrollments, leads and
refresh tokens into Cohortly; run it as often as you like (see MIGRATING.md).

Exit codes: 0 nothing was refused, 1 rows were refused (the rest imported),
2 the run could not start (bad URL, source unreachable, mapping invalid).
"""

import contextlib
import json
import shutil
import sys
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from tqdm import tqdm

from legacy.importer import ORDER, Importer, SourceError, connect, first_line
from legacy.mapping import Mapping, MappingError

#: The source tables each importable table reads (bootcamps bring their mentors).
READS = {table: [table] for table in ORDER} | {"bootcamps": ["bootcamps", "bootcamp_mentors"]}
#: How many refusals the printed report lists (the --report file has them all).
SHOWN = 20


class LineProgress:
    """Progress as plain lines, for logs and cron mail: about every tenth of a table."""

    def __init__(self, write, table: str, total: int):
        self.write, self.table, self.total = write, table, total
        self.done, self.next_at = 0, max(1, total // 10)

    def update(self, n: int) -> None:
        self.done += n
        if self.done >= self.next_at and self.done < self.total:
            self.write(f"{self.table}: {self.done:,} of {self.total:,} rows")
            self.next_at = self.done + max(1, self.total // 10)

    def close(self) -> None:
        self.write(f"{self.table}: {self.done:,} of {self.total:,} rows")


class Command(BaseCommand):
    help = "Import (or re-import) the Node.js backend's database into Cohortly."

    def add_arguments(self, parser):
        parser.add_argument(
            "--source", help="postgres://USER@HOST/DB of the Node backend (default: LEGACY_DATABASE_URL)"
        )
        parser.add_argument("--dry-run", action="store_true", help="read and check everything, write nothing")
        parser.add_argument(
            "--only", help=f"comma-separated tables to import, of: {', '.join(ORDER)} (default: all)"
        )
        parser.add_argument("--mapping", help="the mapping file (default: legacy/mapping.toml)")
        parser.add_argument("--report", help="also write the report to this file, as JSON")
        parser.add_argument("--batch-size", type=int, default=2000, help="rows read and written at a time")
        parser.add_argument(
            "--end-access-of-many-gone",
            action="store_true",
            help="deactivate users, and revoke refresh tokens, gone from the source even when more than 10 "
            "and 5%% of them went at once",
        )

    def handle(self, *args, report, dry_run, **options):
        try:
            self._import(report=report, dry_run=dry_run, **options)
        except Exception as exc:
            if report and not (isinstance(exc, CommandError) and exc.returncode == 1):
                # A cron reading the file must not take the last successful run's
                # report for this one's.
                failure = {"failed": True, "dry_run": dry_run, "error": first_line(exc)}
                # Not when the path itself is what failed (checked before anything is read).
                with contextlib.suppress(OSError):
                    Path(report).write_text(json.dumps(failure, indent=2) + "\n", encoding="utf-8")
            raise

    def _import(
        self, *, source, dry_run, only, mapping, report, batch_size, end_access_of_many_gone=False, **options
    ):
        source = source or settings.LEGACY_DATABASE_URL
        if not source:
            raise CommandError(
                "say where the Node database is: --source URL or LEGACY_DATABASE_URL", returncode=2
            )
        tables = self._tables(only)
        if report:
            # Before anything is imported: a path it can't write stopped the run only
            # after it had committed.
            try:
                with Path(report).open("a", encoding="utf-8"):
                    pass
            except OSError as exc:
                raise CommandError(f"--report {report}: {exc.strerror or exc}", returncode=2) from exc
        try:
            mapping = Mapping.load(mapping)
        except MappingError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1", returncode=2)

        try:
            connection = connect(source)
        except SourceError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        with connection:
            with connection.cursor() as cursor:
                try:
                    mapping.check_source(cursor, [name for table in tables for name in READS[table]])
                except MappingError as exc:
                    raise CommandError(str(exc), returncode=2) from exc
            importer = Importer(
                connection,
                mapping,
                progress=self._progress,
                batch_size=batch_size,
                end_access_of_many_gone=end_access_of_many_gone,
            )
            importer.report.dry_run = dry_run
            try:
                with transaction.atomic():
                    result = importer.run(tables)
                    if dry_run:
                        transaction.set_rollback(True)
            except (DatabaseError, psycopg.Error) as exc:
                # One transaction: a run that stops half-way leaves nothing behind.
                raise CommandError(
                    f"the import stopped and wrote nothing: {first_line(exc)}", returncode=2
                ) from exc
            connection.rollback()

        self._print(result)
        if report:
            Path(report).write_text(
                json.dumps(result.as_dict(), indent=2, default=str) + "\n", encoding="utf-8"
            )
        if result.refused or result.warnings:
            # A warning is something the run chose not to do (deactivate or revoke
            # what a suspect source lost): a scheduled run must not pass as a success.
            said = []
            if result.refused:
                said.append(
                    f"{len(result.refused)} rows were refused, in whole or in part; the rest "
                    f"{'would have been' if dry_run else 'was'} imported."
                )
            if result.warnings:
                said.append(f"{len(result.warnings)} warnings above ask for a look.")
            raise CommandError(" ".join(said), returncode=1)

    def _tables(self, only: str | None) -> list[str]:
        if not only:
            return list(ORDER)
        tables = [table.strip() for table in only.split(",") if table.strip()]
        if unknown := [table for table in tables if table not in ORDER]:
            raise CommandError(
                f"--only names unknown tables: {', '.join(unknown)} (choose from {', '.join(ORDER)})",
                returncode=2,
            )
        return tables

    @contextlib.contextmanager
    def _progress(self, table: str, total: int):
        if self.stderr.isatty():
            # A terminal that reports no width (a pty under `script`) still gets a bar.
            size = shutil.get_terminal_size()
            bar = tqdm(
                total=total,
                desc=f"{table:>14}",
                unit=" rows",
                file=sys.stderr,
                ncols=min(size.columns, 100),
                nrows=size.lines,
            )
        else:
            bar = LineProgress(self.stderr.write, table, total)
        try:
            yield bar
        finally:
            bar.close()

    def _print(self, report) -> None:
        write = self.stdout.write
        title = "Dry run: nothing was written." if report.dry_run else "Import finished."
        write(self.style.MIGRATE_HEADING(title))
        write(f"{'table':<16}{'read':>9}{'created':>9}{'updated':>9}{'unchanged':>11}{'refused':>9}")
        for table, counts in report.tables.items():
            write(
                f"{table:<16}{counts.read:>9,}{counts.created:>9,}{counts.updated:>9,}"
                f"{counts.unchanged:>11,}{counts.refused:>9,}"
            )
        rate = f", {report.rows / report.seconds:,.0f} rows/s" if report.seconds else ""
        write(f"{report.rows:,} rows in {report.seconds:.1f} s{rate}.")
        if not report.changed and report.refused:
            write("Nothing was created or updated: every row not imported yet or changed was refused.")
        elif not report.changed:
            write("Nothing new or changed in the source: nothing was created or updated.")
        if report.refused:
            write(self.style.WARNING(f"Refused ({len(report.refused)}):"))
            for refusal in report.refused[:SHOWN]:
                write(f"  {refusal['table']} {refusal['legacy_id']}: {refusal['reason']}")
            if len(report.refused) > SHOWN:
                write(f"  ... and {len(report.refused) - SHOWN} more (--report FILE lists them all)")
        if report.adjusted:
            write(f"Imported with a value changed ({len(report.adjusted)}):")
            for change in report.adjusted[:SHOWN]:
                write(f"  {change['table']} {change['legacy_id']} {change['field']}: {change['reason']}")
            if len(report.adjusted) > SHOWN:
                write(f"  ... and {len(report.adjusted) - SHOWN} more (--report FILE lists them all)")
        if report.over_full_bootcamps:
            write(
                self.style.WARNING(
                    "Over-full bootcamps (their ACTIVE enrollments stay; new ones join the waitlist):"
                )
            )
            for bootcamp in report.over_full_bootcamps:
                write(
                    f"  {bootcamp['title']} ({bootcamp['legacy_id']}): "
                    f"{bootcamp['seats_taken']} of {bootcamp['capacity']} seats taken"
                )
        for warning in report.warnings:
            write(self.style.WARNING(warning))
        if report.missing_in_source:
            write(f"Imported earlier but gone from the source ({len(report.missing_in_source)}; kept here):")
            for row in report.missing_in_source[:SHOWN]:
                done = (
                    ": deactivated, every session ended"
                    if row.get("access_ended")
                    else ": revoked"
                    if row.get("revoked")
                    else ""
                )
                write(f"  {row['table']} {row['legacy_id']} (Cohortly id {row['id']}){done}")
            if len(report.missing_in_source) > SHOWN:
                write(
                    f"  ... and {len(report.missing_in_source) - SHOWN} more (--report FILE lists them all)"
                )
