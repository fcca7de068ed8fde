#!/usr/bin/env python3
"""How fast import_legacy moves a Node backend database, and whether its memory stays flat.

    make bench-import            # or: .venv/bin/python bench/import_bench.py

Builds a Node database (legacy/node_schema.sql) filled by SQL: USERS users,
100 bootcamps with instructors and mentors, 20 enrollments and 5 assignments per
bootcamp, LEADS leads (a third with notes, sources typed by hand) and a refresh
token per tenth user. Then, into a freshly migrated Cohortly database, runs
`manage.py import_legacy` as its own process: once at a quarter of the size and
once at full size (the peak memory of the two shows whether it grows with the
tables), then once more at full size with nothing changed. Writes
bench/IMPORT-RESULTS.md.

Settings (environment):
  BENCH_PG_URL     postgres://postgres@127.0.0.1:5432 (the server; two databases are made on it)
  BENCH_REDIS_URL  redis://127.0.0.1:6379/14 (the response cache is told of every write, as in production)
  BENCH_SOURCE_DB cohortly_bench_node   BENCH_TARGET_DB cohortly_bench_import (dropped and rebuilt)
  BENCH_USERS 10000   BENCH_LEADS 100000
"""

# A driver of local tools with SQL of its own: the subprocess and SQL-string checks do not apply.
# ruff: noqa: S603, S608

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
USERS = int(os.environ.get("BENCH_USERS", 10_000))
LEADS = int(os.environ.get("BENCH_LEADS", 100_000))
SOURCE_DB = os.environ.get("BENCH_SOURCE_DB", "cohortly_bench_node")
TARGET_DB = os.environ.get("BENCH_TARGET_DB", "cohortly_bench_import")
# One bcrypt hash (cost 4) for everyone: hashing is not what is measured.
HASH = "$2b$04$18Q0LbbTqo/of7HYU6F9sOwZT1iXjzYMleLHCjMR1YOnkWO83gLu."

FILL = f"""
INSERT INTO users (id, email, password_hash, full_name, phone, role, is_active, created_at, updated_at)
SELECT gen_random_uuid(), 'person' || n || '@node.example', '{HASH}', 'Person ' || n,
       CASE WHEN n % 3 = 0 THEN '+49 30 ' || (1000000 + n) END,
       (CASE WHEN n <= 100 THEN 'INSTRUCTOR' WHEN n <= 200 THEN 'MENTOR' WHEN n <= 230 THEN 'SALES'
             ELSE 'STUDENT' END)::user_role,
       n % 50 <> 0, now() - (n || ' minutes')::interval, now() - (n || ' seconds')::interval
FROM generate_series(1, :users) AS n;

WITH people AS (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users WHERE role = 'INSTRUCTOR')
INSERT INTO bootcamps (id, title, description, start_date, end_date, capacity, price, status, instructor_id,
                       created_at, updated_at)
SELECT gen_random_uuid(), 'Cohort ' || n, 'Twelve weeks.',
       date '2027-01-04' + n::int, date '2027-04-02' + n::int, 25,
       4900, (ARRAY['DRAFT','UPCOMING','ONGOING','COMPLETED','CANCELLED'])[1 + n % 5]::bootcamp_status,
       id, now(), now()
FROM people;

INSERT INTO bootcamp_mentors (bootcamp_id, mentor_id)
SELECT b.id, m.id FROM (SELECT id, row_number() OVER (ORDER BY title) AS n FROM bootcamps) b
JOIN (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users WHERE role = 'MENTOR') m ON m.n = b.n;

INSERT INTO enrollments (id, student_id, bootcamp_id, status, enrolled_at, updated_at)
SELECT gen_random_uuid(), s.id, b.id,
       (ARRAY['ACTIVE','ACTIVE','ACTIVE','PENDING','COMPLETED','DROPPED'])[1 + s.n % 6]::enrollment_status,
       now() - (s.n || ' minutes')::interval, now()
FROM (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users WHERE role = 'STUDENT') s
JOIN (SELECT id, row_number() OVER (ORDER BY title) - 1 AS k FROM bootcamps) b ON b.k = s.n % 100
WHERE s.n <= 2000;

INSERT INTO assignments (id, bootcamp_id, author_id, title, description, due_date, max_score, is_published,
                         created_at, updated_at)
SELECT gen_random_uuid(), b.id, CASE WHEN k % 2 = 0 THEN b.instructor_id END, 'Exercise ' || k, 'Build it.',
       now() + (k || ' days')::interval, 100, true, now(), now()
FROM bootcamps b, generate_series(1, 5) AS k;

INSERT INTO leads (id, full_name, email, phone, source, status, notes, bootcamp_id, owner_id,
                   created_at, updated_at)
SELECT gen_random_uuid(), 'Prospect ' || n, 'prospect' || n || '@mail.example',
       CASE WHEN n % 2 = 0 THEN '+44 20 ' || (1000000 + n) END,
       (ARRAY['website', 'Website ', 'FB ads', 'referral', 'Instagram', 'meetup', 'Radio spot', NULL])
         [1 + n % 8],
       (ARRAY['NEW','CONTACTED','QUALIFIED','CONVERTED','LOST'])[1 + n % 5]::lead_status,
       CASE WHEN n % 3 = 0 THEN 'Called on ' || n || E'.\nWants the evening class.' END,
       CASE WHEN n % 4 = 0 THEN (SELECT array_agg(id) FROM bootcamps)[1 + n % 100] END,
       CASE WHEN n % 2 = 0 THEN (SELECT array_agg(id) FROM users WHERE role = 'SALES')[1 + n % 30] END,
       now() - (n || ' seconds')::interval, now()
FROM generate_series(1, :leads) AS n;

INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, created_at)
SELECT gen_random_uuid(), id, encode(sha256(id::text::bytea), 'hex'), now() + interval '7 days', now()
FROM users WHERE random() < 0.1;
"""


def recreate(name: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def build_source(users: int, leads: int) -> int:
    recreate(SOURCE_DB)
    with psycopg.connect(f"{SERVER}/{SOURCE_DB}", autocommit=True) as source:
        source.execute((ROOT / "legacy" / "node_schema.sql").read_text())
        source.execute(FILL.replace(":users", str(int(users))).replace(":leads", str(int(leads))))
        source.execute("ANALYZE")
        tables = ("users", "bootcamps", "assignments", "enrollments", "leads", "refresh_tokens")
        return sum(source.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables)


def timed_import(report: Path) -> dict:
    """One import run in its own process, with its wall time and peak memory."""
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{TARGET_DB}",
        "REDIS_URL": REDIS,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 60,
    }
    command = [
        sys.executable,
        "manage.py",
        "import_legacy",
        "--source",
        f"{SERVER}/{SOURCE_DB}",
        "--report",
        str(report),
    ]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"import_legacy failed ({code}): {process.stderr.read().decode()[-3000:]}")
    result = json.loads(report.read_text())
    rows = sum(table["read"] for table in result["tables"].values())
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "peak_mb": usage.ru_maxrss // 1024,
        "created": sum(table["created"] for table in result["tables"].values()),
        "unchanged": sum(table["unchanged"] for table in result["tables"].values()),
        "refused": len(result["refused"]),
    }


def fresh_target() -> None:
    recreate(TARGET_DB)
    env = {**os.environ, "DATABASE_URL": f"{SERVER}/{TARGET_DB}", "DEBUG": "true", "REDIS_URL": ""}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )


def main() -> None:
    report = ROOT / "bench" / "out" / "import-report.json"
    report.parent.mkdir(exist_ok=True)
    runs = []
    for label, users, leads in (("quarter size", USERS // 4, LEADS // 4), ("full size", USERS, LEADS)):
        print(f"{label}: building a Node database with {users:,} users and {leads:,} leads ...", flush=True)
        build_source(users, leads)
        fresh_target()
        print(f"{label}: importing ...", flush=True)
        runs.append((f"first import, {label}", users, leads, timed_import(report)))
        print(f"  {runs[-1][3]}", flush=True)
    print("full size: importing again, nothing changed ...", flush=True)
    runs.append(("second import, nothing changed", USERS, LEADS, timed_import(report)))
    print(f"  {runs[-1][3]}", flush=True)

    lines = [
        "# import_legacy: speed and memory",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench-import` on {platform.node()} "
        f"({os.cpu_count()} cores), PostgreSQL on loopback for both databases, "
        "Redis for Cohortly's response cache.",
        "Each run is `manage.py import_legacy` as its own process; rows are the source rows read "
        "(users, bootcamps, assignments, enrollments, leads, refresh tokens); peak memory is the process's "
        "maximum resident set.",
        "",
        "| run | users | leads | rows | seconds | rows/s | peak MB | created | unchanged | refused |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, users, leads, run in runs:
        lines.append(
            f"| {label} | {users:,} | {leads:,} | {run['rows']:,} | {run['seconds']} "
            f"| {run['rows_per_second']:,} "
            f"| {run['peak_mb']} | {run['created']:,} | {run['unchanged']:,} | {run['refused']} |"
        )
    lines += [
        "",
        "Target (issue 12): 100,000 leads and 10,000 users at 5,000 rows/s or more, with memory that does "
        "not grow with the table: compare the peak of the quarter-size and full-size runs.",
        "",
    ]
    (ROOT / "bench" / "IMPORT-RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
