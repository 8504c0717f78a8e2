"""Benchmark: the fresh-grocery program's calendar jobs over many members: the monthly spend bonus and the
visit-frequency bonus on 1 April, the annual clearing's reminder in December and the clearing on 1 January.

    .venv/bin/python bench/jobs_year_end.py [--members 200000] [--orders 8] [--lots 10]

Creates a scratch PostgreSQL database on LOYALTY_TEST_POSTGRES (dropped after), migrates it under
programs/fresh-grocery.toml and loads, in set-based SQL, the members with about `--orders` orders each
paid in March 2026 (¥20 to ¥110, hours apart) and `--lots` lots each earned through 2026, every balance
agreeing with its ledgers. Then it runs each job as `loyalty jobs run` does and prints wall time, members
processed and peak RSS, then `loyalty verify`'s check. The jobs' time should follow the members they
process (a batch never rescans the members done before it), their memory stay flat.
Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from jobs_million import scratch_database  # noqa: E402

from domain.jobs import clear_annually, grant_frequency_bonus, grant_monthly_bonus, remind_annual_clearing  # noqa: E402
from domain.program import load_program  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.integrity import find_discrepancies  # noqa: E402
from persistence.migrate import upgrade  # noqa: E402
from persistence.unit_of_work import SqlUnitOfWork  # noqa: E402

# Naive UTC, as UtcDateTime stores it; Shanghai is UTC+8. Member m's lot k (worth 10 + m % 50 points) is
# earned on day (7m + 53k) % 360 of 2026, local; its ledger entry's balance_after counts the lots before it.
LOAD = (
    """INSERT INTO members (id, member_no, tier_code, growth_value, points_balance, points_debt, created_at)
       SELECT id, 'B' || id, 'green', 0, :lots * (10 + id % 50), 0, timestamp '2025-01-01'
       FROM generate_series(1, :members) AS id""",
    """INSERT INTO point_entries (id, member_id, kind, delta, balance_after, description, occurred_at, expires_at)
       SELECT (m - 1) * :lots + k, m, 'ORDER', 10 + m % 50, (10 + m % 50) * k, 'bench',
              timestamp '2025-12-31 16:00' + ((m * 7 + k * 53) % 360) * interval '1 day',
              timestamp '2026-12-31 15:59:59' + ((m * 7 + k * 53) % 360) * interval '1 day' + interval '1 day'
       FROM generate_series(1, :members) AS m, generate_series(1, :lots) AS k""",
    """INSERT INTO points_lots (id, member_id, entry_id, points, remaining, earned_at, expires_at)
       SELECT id, member_id, id, delta, delta, occurred_at, expires_at FROM point_entries""",
    # 6 to 10 orders a member (with --orders 8) in March, local; the bonuses' rows, not the ledgers'.
    """INSERT INTO orders (member_id, external_id, amount, shipping_fee, channel, paid_at, refunded_amount,
                           points_earned, growth_earned, points_taken_back, growth_taken_back, created_at)
       SELECT m, 'bench-' || m || '-' || k, 2000 + (m * 13 + k * 7) % 9000, 0, 'APP',
              timestamp '2026-02-28 16:00' + ((m * 7 + k * 83) % 700) * interval '1 hour', 0, 0, 0, 0, 0,
              timestamp '2026-03-01'
       FROM generate_series(1, :members) AS m, generate_series(1, :orders + m % 5 - 2) AS k""",
)


async def run(url: str, members: int, orders: int, lots: int) -> int:
    program = load_program(ROOT / "programs" / "fresh-grocery.toml")
    database = Database(url)
    rows = []
    try:
        started = time.perf_counter()
        await upgrade(database, program)
        async with database.transaction() as conn:
            for statement in LOAD:
                await conn.execute(text(statement), {"members": members, "orders": orders, "lots": lots})
            for table in ("members", "point_entries", "points_lots"):   # rows were given ids: move the sequences on
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        async with database.write_engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM (ANALYZE)")
        rows.append(("load", time.perf_counter() - started, None))
        calendar = program.calendar
        for job, day in ((grant_monthly_bonus, date(2026, 4, 1)), (grant_frequency_bonus, date(2026, 4, 1)),
                         (remind_annual_clearing, date(2026, 12, 2)), (clear_annually, date(2027, 1, 1))):
            started = time.perf_counter()
            result = await job(lambda: SqlUnitOfWork(database), program,
                               calendar.start_of_day(day) + timedelta(minutes=10))
            rows.append((result.job, time.perf_counter() - started, result.processed))
        started = time.perf_counter()
        async with database.read_engine.connect() as conn:
            found = await find_discrepancies(conn)
        rows.append(("verify", time.perf_counter() - started, None))
    finally:
        await database.dispose()
    print(f"{members:,} members, about {orders} orders in March and {lots} lots of 2026 each")
    print(f"{'step':<18} {'wall s':>8} {'processed':>10}")
    for step, seconds, processed in rows:
        print(f"{step:<18} {seconds:>8.1f} {'' if processed is None else f'{processed:,}':>10}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"verify: {len(found)} discrepancies")
    return len(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=8, help="orders a member in March, about")
    parser.add_argument("--lots", type=int, default=10, help="points lots a member earned in 2026")
    args = parser.parse_args()
    if args.members < 1 or args.orders < 3 or args.lots < 1:
        parser.error("--members and --lots must be at least 1, --orders at least 3")
    with scratch_database() as url:
        found = asyncio.run(run(url, args.members, args.orders, args.lots))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
