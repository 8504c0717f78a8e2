"""Benchmark: the calendar jobs "points expiry" and "tier retention" at a million members.

    .venv/bin/python bench/jobs_million.py [--members 1000000] [--lots 10] [--keep] [--url URL]

Creates a scratch PostgreSQL database on LOYALTY_TEST_POSTGRES (dropped after unless --keep; with
--url, an existing empty database is used instead and never dropped), migrates it, and loads the
members in set-based SQL (INSERT … SELECT FROM generate_series): `--lots` points lots each, their
expiry dates spread over the year from the end of day D-1, so that 1/365 of the members have a lot
that expired at the end of D-1 and none older is left, and 70/20/8/2 % regular/silver/gold/diamond,
with 1/365 of the members holding a tier above the base that expired in the day before D 00:10.
Every balance agrees with its ledgers, as `loyalty verify` checks.

It then runs `expire_points` and `retain_tiers` at D 00:10 local, as `loyalty jobs run` does, and
checks what they did against a snapshot of the due rows taken before; then `loyalty verify`'s check.
It prints wall times, the database size, peak RSS after each step and the tracemalloc peak of each
job (tracemalloc is on during the jobs, so their times include its overhead). Run it at 100,000 and
1,000,000 members: the jobs' time should follow the due rows, and their memory stay flat (it is
bounded by a batch of 1000 members, whatever the number of members).
Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import sys
import time
import tracemalloc
from contextlib import asynccontextmanager, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import AsyncIterator, Iterator

from sqlalchemy import BigInteger, Integer, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.jobs import expire_points, retain_tiers  # noqa: E402
from domain.program import Program, load_program  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.integrity import find_discrepancies  # noqa: E402
from persistence.migrate import upgrade  # noqa: E402
from persistence.tables import UtcDateTime  # noqa: E402
from persistence.unit_of_work import SqlUnitOfWork  # noqa: E402

POSTGRES_ADMIN = os.environ.get("LOYALTY_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
DAY = date(2027, 6, 15)  # D: the jobs run at 00:10 local that day
RUN_AFTER_MIDNIGHT = timedelta(minutes=10)

# Members 1..N. A member's tier comes from a pick in 0..99 (70/20/8/2 %); members whose tier day is 0
# (1/365 of them) pick from 70..99 only, so they all hold a tier above the base, one that is due.
# Growth lies in the tier's band (diamond: up to 5000 above its threshold). Every lot of a member
# has the same points, so the balance is lots × points. Tiers above the base expire on day `tier_day`
# of the year that starts at D-1 00:10 local, at second 1..86398 of that day: day 0 is due at D 00:10.
LOAD_MEMBERS = """
INSERT INTO members (id, member_no, tier_code, tier_expires_at, growth_value, points_balance, points_debt,
                     created_at)
SELECT m.id, 'B' || lpad(m.id::text, 9, '0'), t.code,
       CASE WHEN t.level > 1 THEN :tier_year_from + m.tier_day * interval '1 day'
                                  + (1 + m.id * 7919 % 86398) * interval '1 second' END,
       t.growth_threshold + m.id * 13 % coalesce(t.next_threshold - t.growth_threshold, 5000),
       :lots * (10 + m.id * 53 % 191), 0, :joined_from + m.id % 365 * interval '1 day'
FROM (SELECT id, (id + 182) % 365 AS tier_day,
             CASE WHEN (id + 182) % 365 = 0 THEN 70 + id * 37 % 30 ELSE id * 37 % 100 END AS pick
      FROM generate_series(1, :members) AS id) AS m
JOIN (SELECT code, level, growth_threshold, lead(growth_threshold) OVER (ORDER BY level) AS next_threshold
      FROM tiers) AS t
  ON t.code = CASE WHEN m.pick < 70 THEN 'regular' WHEN m.pick < 90 THEN 'silver'
                   WHEN m.pick < 98 THEN 'gold' ELSE 'diamond' END
"""

LOAD_WECHAT_IDENTITIES = """
INSERT INTO wechat_identities (openid, member_id, created_at) SELECT 'bench-' || id, id, created_at FROM members
"""

# One ORDER entry per lot, numbered in expiry order within the member (so ids follow time and the
# last entry's balance_after is the balance). Lot 0 expires at the end of day `id % 365` after D-1
# (day 0: due), the others at the end of day 1..364, `stride` days apart. A lot is earned at noon
# local on its expiry date a year earlier (`points.expiry.months` = 12).
LOAD_POINT_ENTRIES = """
INSERT INTO point_entries (id, member_id, kind, delta, balance_after, description, occurred_at, expires_at)
SELECT (member_id - 1) * :lots + position, member_id, 'ORDER', points, points * position,
       '订单 bench-' || member_id || '-' || position,
       expires_at - interval '1 year' - interval '11:59:59', expires_at
FROM (SELECT member_id, points, expires_at,
             row_number() OVER (PARTITION BY member_id ORDER BY expires_at, lot) AS position
      FROM (SELECT m.id AS member_id, m.points_balance / :lots AS points, lot,
                   :first_expiry + CASE WHEN lot = 0 THEN m.id % 365
                                        ELSE 1 + (lot - 1) * :stride + m.id % :stride END * interval '1 day'
                       AS expires_at
            FROM members AS m, generate_series(0, :lots - 1) AS lot) AS lots) AS numbered
"""

LOAD_POINTS_LOTS = """
INSERT INTO points_lots (id, member_id, entry_id, points, remaining, earned_at, expires_at)
SELECT id, member_id, id, delta, delta, occurred_at, expires_at FROM point_entries
"""

LOAD_GROWTH_ENTRIES = """
INSERT INTO growth_entries (member_id, delta, growth_after, reason, occurred_at)
SELECT id, growth_value, growth_value, 'ORDER', created_at FROM members WHERE growth_value > 0 ORDER BY id
"""

# (table, statement), in the order the foreign keys need.
LOAD = (("members", LOAD_MEMBERS), ("wechat_identities", LOAD_WECHAT_IDENTITIES),
        ("point_entries", LOAD_POINT_ENTRIES), ("points_lots", LOAD_POINTS_LOTS),
        ("growth_entries", LOAD_GROWTH_ENTRIES))

FOREIGN_KEYS = """
SELECT conrelid::regclass::text AS table_name, conname AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN :tables
"""

PLAIN_INDEXES = """
SELECT indexname AS name, indexdef AS definition FROM pg_indexes
WHERE schemaname = current_schema() AND tablename IN :tables
  AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = indexname::regclass)
"""

SNAPSHOT_DUE_LOTS = """
CREATE TEMPORARY TABLE due_lots AS
SELECT id, member_id, remaining FROM points_lots WHERE remaining > 0 AND expires_at < :now
"""

SNAPSHOT_DUE_TIERS = """
CREATE TEMPORARY TABLE due_tiers AS
SELECT m.id, m.tier_code, m.growth_value, m.tier_expires_at
FROM members AS m JOIN tiers AS t ON t.code = m.tier_code WHERE t.level > 1 AND m.tier_expires_at <= :now
"""

CHECK_EXPIRY = """
SELECT (SELECT count(DISTINCT member_id) FROM due_lots) AS due_members,
       (SELECT count(*) FROM due_lots) AS due_lots,
       (SELECT coalesce(sum(remaining), 0) FROM due_lots) AS due_points,
       (SELECT count(*) FROM due_lots JOIN points_lots USING (id) WHERE points_lots.remaining > 0) AS lots_left,
       (SELECT count(*) FROM points_lots WHERE remaining = 0) AS lots_at_zero,
       (SELECT count(*) FROM points_lots WHERE remaining > 0 AND expires_at < :now) AS still_due,
       count(*) AS entries, count(DISTINCT member_id) AS entry_members, coalesce(-sum(delta), 0) AS entry_points
FROM point_entries WHERE kind = 'EXPIRY' AND occurred_at = :now
"""

CHECK_RETENTION = """
SELECT count(*) AS due_members,
       count(*) FILTER (WHERE m.tier_expires_at = d.tier_expires_at + interval '1 year'
                        OR (m.tier_code = 'regular' AND m.tier_expires_at IS NULL)) AS moved_on,
       count(*) FILTER (WHERE m.growth_value = greatest(d.growth_value - t.retention_deduction, 0)) AS deducted,
       count(*) FILTER (WHERE m.tier_code <> d.tier_code) AS tier_changed,
       (SELECT count(*) FROM notifications WHERE kind = 'TIER_CHANGED') AS notified,
       (SELECT count(*) FROM members AS m JOIN tiers AS t ON t.code = m.tier_code
        WHERE t.level > 1 AND m.tier_expires_at <= :now) AS still_due
FROM due_tiers AS d JOIN members AS m USING (id) JOIN tiers AS t ON t.code = d.tier_code
"""


PARAMETER_TYPES = {"now": UtcDateTime(), "first_expiry": UtcDateTime(), "tier_year_from": UtcDateTime(),
                   "joined_from": UtcDateTime(), "members": BigInteger(), "lots": Integer(), "stride": Integer()}


def sql(statement: str):
    """`statement` with its parameters typed, so that asyncpg is told what they are."""
    return text(statement).bindparams(*[bindparam(name, type_=type_) for name, type_ in PARAMETER_TYPES.items()
                                        if f":{name}" in statement])


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def database_arguments(parser: argparse.ArgumentParser) -> None:
    """--keep and --url, as every benchmark on a scratch database takes them (`scratch_database`)."""
    parser.add_argument("--keep", action="store_true", help="keep the scratch database, as the benchmark left it")
    parser.add_argument("--url", help="an existing, empty PostgreSQL database to use instead (never dropped)")


@contextmanager
def scratch_database(url: str | None = None, keep: bool = False) -> Iterator[str]:
    """The URL of a PostgreSQL database for one benchmark: `url` when given (never dropped), else a new
    one on LOYALTY_TEST_POSTGRES's server, dropped afterwards unless `keep`. Says where a kept one is."""
    name = None
    if url is None:
        name = f"loyalty_bench_{secrets.token_hex(4)}"
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        if name is not None and not keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"database kept: {url}")


class Report:
    """One row per step: wall time, members processed, peak RSS after it, tracemalloc peak during it."""

    def __init__(self):
        self.rows: list[tuple[str, float, int | None, float, float | None]] = []
        self.failures: list[str] = []

    def add(self, step: str, seconds: float, processed: int | None = None, traced: float | None = None) -> None:
        self.rows.append((step, seconds, processed, peak_rss_mib(), traced))

    def expect(self, what: str, expected: int, found: int) -> None:
        if expected != found:
            self.failures.append(f"{what}: expected {expected}, found {found}")

    def print_table(self) -> None:
        print(f"{'step':<16} {'wall s':>8} {'processed':>10} {'peak RSS MiB':>13} {'tracemalloc peak MiB':>21}")
        for step, seconds, processed, rss, traced in self.rows:
            print(f"{step:<16} {seconds:>8.2f} {'' if processed is None else f'{processed:,}':>10} {rss:>13.1f} "
                  f"{'' if traced is None else f'{traced:.2f}':>21}")
        print("checks: " + ("all passed" if not self.failures else "FAILED\n  " + "\n  ".join(self.failures)))


@asynccontextmanager
async def keys_and_indexes_deferred(conn: AsyncConnection, tables: list[str]) -> AsyncIterator[None]:
    """The foreign keys of `tables` and their indexes that back no constraint, dropped for the block and
    made again after it, as pg_restore does: one join checks a key and one sort builds an index, several
    times faster than a trigger call and an index insertion per row. In the caller's transaction, so
    that a load that fails leaves the schema as it was."""
    tables_param = bindparam("tables", expanding=True)
    keys = (await conn.execute(text(FOREIGN_KEYS).bindparams(tables_param), {"tables": tables})).all()
    indexes = (await conn.execute(text(PLAIN_INDEXES).bindparams(tables_param), {"tables": tables})).all()
    for key in keys:
        await conn.exec_driver_sql(f"ALTER TABLE {key.table_name} DROP CONSTRAINT {key.name}")
    for index in indexes:
        await conn.exec_driver_sql(f"DROP INDEX {index.name}")
    yield
    for index in indexes:
        await conn.exec_driver_sql(index.definition)
    for key in keys:
        await conn.exec_driver_sql(f"ALTER TABLE {key.table_name} ADD CONSTRAINT {key.name} {key.definition}")


async def load(database: Database, members: int, lots: int, first_expiry, tier_year_from, report: Report) -> None:
    values = {"members": members, "lots": lots, "stride": 364 // max(lots - 1, 1), "first_expiry": first_expiry,
              "tier_year_from": tier_year_from, "joined_from": first_expiry - timedelta(days=3 * 365)}
    started = time.perf_counter()
    async with database.transaction() as conn:
        if (await conn.execute(text("SELECT count(*) FROM members"))).scalar_one():
            raise SystemExit(f"{database.url} already has members: give an empty database")
        # The per-member numbering sorts in memory; the indexes are built in memory.
        await conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        await conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        async with keys_and_indexes_deferred(conn, [table for table, _ in LOAD]):
            for _, statement in LOAD:
                await conn.execute(sql(statement), values)
        for table in ("members", "point_entries", "points_lots"):  # rows were given ids: move the sequences on
            await conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
    report.add("load", time.perf_counter() - started)
    started = time.perf_counter()
    async with database.write_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("VACUUM (ANALYZE)")  # what autovacuum would have done, and not during the jobs
    report.add("vacuum analyze", time.perf_counter() - started)


async def timed_job(report: Report, step: str, job) -> int:
    tracemalloc.start()
    started = time.perf_counter()
    result = await job
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    report.add(step, seconds, result.processed, traced)
    return result.processed


async def check_expiry(snapshot: AsyncConnection, now, processed: int, report: Report) -> None:
    c = (await snapshot.execute(sql(CHECK_EXPIRY), {"now": now})).one()
    report.expect("expiry: members processed", c.due_members, processed)
    report.expect("expiry: due lots left with points", 0, c.lots_left)
    report.expect("expiry: lots at 0 (only the due ones)", c.due_lots, c.lots_at_zero)
    report.expect("expiry: lots still due", 0, c.still_due)
    report.expect("expiry: EXPIRY entries", c.due_members, c.entries)
    report.expect("expiry: members with an EXPIRY entry", c.due_members, c.entry_members)
    report.expect("expiry: points expired", c.due_points, c.entry_points)


async def check_retention(snapshot: AsyncConnection, now, processed: int, report: Report) -> None:
    c = (await snapshot.execute(sql(CHECK_RETENTION), {"now": now})).one()
    report.expect("retention: members processed", c.due_members, processed)
    report.expect("retention: expiry a year on (or back to regular)", c.due_members, c.moved_on)
    report.expect("retention: deduction taken", c.due_members, c.deducted)
    report.expect("retention: TIER_CHANGED notifications", c.tier_changed, c.notified)
    report.expect("retention: tiers still due", 0, c.still_due)


async def populate(database: Database, program: Program, members: int, lots: int, day: date,
                   report: Report) -> None:
    """Migrate the empty `database` and load `members` members of `lots` lots each as they stand when the
    jobs run at `day` 00:10 local (see LOAD_MEMBERS), then VACUUM ANALYZE. bench/serve.py loads with it too."""
    calendar = program.calendar
    now = calendar.start_of_day(day) + RUN_AFTER_MIDNIGHT
    await upgrade(database, program)
    await load(database, members, lots, calendar.end_of_day(day - timedelta(days=1)), now - timedelta(days=1), report)


async def run(url: str, members: int, lots: int) -> Report:
    program = load_program(ROOT / "programs" / "standard.toml")
    now = program.calendar.start_of_day(DAY) + RUN_AFTER_MIDNIGHT
    report = Report()
    database = Database(url)
    try:
        await populate(database, program, members, lots, DAY, report)
        async with database.read_engine.connect() as conn:
            size = (await conn.execute(text("SELECT pg_database_size(current_database())"))).scalar_one()
        print(f"{members:,} members × {lots} lots, jobs at {now.isoformat()}, database {size / 2**30:.2f} GiB")
        async with database.read_engine.connect() as snapshot:
            await snapshot.execution_options(isolation_level="AUTOCOMMIT")
            await snapshot.execute(sql(SNAPSHOT_DUE_LOTS), {"now": now})
            await snapshot.execute(sql(SNAPSHOT_DUE_TIERS), {"now": now})
            processed = await timed_job(report, "points expiry",
                                        expire_points(lambda: SqlUnitOfWork(database), program, now))
            await check_expiry(snapshot, now, processed, report)
            processed = await timed_job(report, "tier retention",
                                        retain_tiers(lambda: SqlUnitOfWork(database), program, now))
            await check_retention(snapshot, now, processed, report)
        started = time.perf_counter()
        async with database.read_engine.connect() as conn:
            found = await find_discrepancies(conn)
        report.add("verify", time.perf_counter() - started)
        report.expect("verify: discrepancies", 0, len(found))
    finally:
        await database.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--lots", type=int, default=10, help="points lots per member")
    database_arguments(parser)
    args = parser.parse_args()
    if args.members < 1 or args.lots < 1:
        parser.error("--members and --lots must be at least 1")
    with scratch_database(args.url, args.keep) as url:
        report = asyncio.run(run(url, args.members, args.lots))
    report.print_table()
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
