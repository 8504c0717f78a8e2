"""Benchmark: the lifecycle segment job at a million members.

    .venv/bin/python bench/segments_million.py [--members 1000000] [--orders 8] [--keep] [--url URL]

Creates a scratch PostgreSQL database on LOYALTY_TEST_POSTGRES (dropped after unless --keep; with --url, an
existing empty database is used instead and never dropped), loads the members as bench/jobs_million.py does
(one points lot each), then their orders in set-based SQL: 0 to 2 × `--orders` per member (`--orders` on
average), paid over the 400 days before D, ¥10–¥310 each, 1 in 10 from THIRD_PARTY, 1 in 20 fully refunded
and 1 in 20 partly. It runs `assign_segments` at D 00:10 local under the standard program (the first run:
every member gets a segment), then at D+1 under fresh-grocery (other thresholds: many move), and prints
each run's wall time and the members per segment. Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from jobs_million import (  # noqa: E402
    DAY, RUN_AFTER_MIDNIGHT, Report, database_arguments, keys_and_indexes_deferred, populate, scratch_database,
)

from domain.jobs import assign_segments  # noqa: E402
from domain.program import load_program  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.unit_of_work import SqlUnitOfWork  # noqa: E402

# Member m has (m * 7919) % (2 * orders + 1) orders; order k of member m is paid (m * 31 + k * 97) % 400 days
# and (m + k) * 7 % 86400 seconds before D 00:00 local (:day_start).
LOAD_ORDERS = """
INSERT INTO orders (member_id, external_id, amount, shipping_fee, channel, paid_at, refunded_amount,
                    points_earned, growth_earned, points_taken_back, growth_taken_back, created_at)
SELECT m.id, 'bench-' || m.id || '-' || k, amount, 0,
       CASE WHEN (m.id + k) % 10 = 0 THEN 'THIRD_PARTY' ELSE 'APP' END, paid_at,
       CASE WHEN (m.id + k) % 20 = 1 THEN amount WHEN (m.id + k) % 20 = 2 THEN amount / 2 ELSE 0 END,
       0, 0, 0, 0, paid_at
FROM members AS m
CROSS JOIN LATERAL generate_series(1, (m.id * 7919) % (2 * :orders + 1)) AS k
CROSS JOIN LATERAL (SELECT 1000 + (m.id * 13 + k * 7) % 30000 AS amount,
                           CAST(:day_start AS timestamptz) - ((m.id * 31 + k * 97) % 400) * interval '1 day'
                               - ((m.id + k) * 7 % 86400) * interval '1 second' AS paid_at) AS o
"""


async def load_orders(database: Database, orders: int, day_start, report: Report) -> int:
    started = time.perf_counter()
    async with database.transaction() as conn:
        await conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        async with keys_and_indexes_deferred(conn, ["orders"]):
            await conn.execute(text(LOAD_ORDERS), {"orders": orders, "day_start": day_start})
        count = (await conn.execute(text("SELECT count(*) FROM orders"))).scalar_one()
    report.add("load orders", time.perf_counter() - started, count)
    started = time.perf_counter()
    async with database.write_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("VACUUM (ANALYZE) orders")
        await conn.exec_driver_sql("VACUUM (ANALYZE) members")
    report.add("vacuum analyze", time.perf_counter() - started)
    return count


async def by_segment(database: Database) -> str:
    async with database.read_engine.connect() as conn:
        rows = await conn.execute(text("SELECT segment, count(*) FROM members GROUP BY segment ORDER BY 2 DESC"))
        return ", ".join(f"{segment} {count:,}" for segment, count in rows)


async def run(url: str, members: int, orders: int) -> Report:
    standard = load_program(ROOT / "programs" / "standard.toml")
    fresh = load_program(ROOT / "programs" / "fresh-grocery.toml")
    report = Report()
    database = Database(url)
    try:
        await populate(database, standard, members, 1, DAY, report)
        count = await load_orders(database, orders, standard.calendar.start_of_day(DAY), report)
        print(f"{members:,} members, {count:,} orders")
        for step, program, day in (("segments (std)", standard, DAY), ("segments (fresh)", fresh, DAY + timedelta(days=1))):
            now = program.calendar.start_of_day(day) + RUN_AFTER_MIDNIGHT
            started = time.perf_counter()
            result = await assign_segments(lambda: SqlUnitOfWork(database), program, now)
            report.add(step, time.perf_counter() - started, result.processed)
            report.expect(f"{step}: members processed", members, result.processed)
            print(f"{step} at {now.isoformat()}: {await by_segment(database)}")
    finally:
        await database.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=8, help="orders per member on average")
    database_arguments(parser)
    args = parser.parse_args()
    with scratch_database(args.url, args.keep) as url:
        report = asyncio.run(run(url, args.members, args.orders))
    report.print_table()
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
