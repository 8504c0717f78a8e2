"""Benchmark: `loyalty import legacy-points` on a million-row file, on PostgreSQL.

    .venv/bin/python bench/legacy_import.py [--rows 1000000] [--members 200000] [--keep] [--url URL]

Creates a scratch PostgreSQL database on LOYALTY_TEST_POSTGRES (dropped after unless --keep; with --url, an
existing empty database is used instead and never dropped), migrates it and loads `--members` members in
set-based SQL: member numbers 1000000001…, every second member with a bound phone number (sealed and
blind-indexed under the data key the command is given, 130xxxxxxxx), every fiftieth in debt (−50 points
after a refund, with its REFUND entry), so that `loyalty verify` is clean before the import.

It then writes a CSV of `--rows` rows (in a temporary folder) with the mix an operator's export would have:
60 % by member number, 25 % by a member's phone number (written with +86 and dashes now and then), 10 % by a
phone number nobody has (waiting; some numbers twice), 5 % bad (a word for points, points that convert to
0, an unknown member number, a repeated external row id, a row of two fields), legacy points 0…200,000.
While writing it counts what the import must do.

It runs the command as an operator would (`python -m server.cli import legacy-points FILE`, LOYALTY_ENV=
test), and prints its wall time, rows/second, CPU time and peak RSS (the command's own VmHWM), checks the
counts it printed and the database against what the file holds, and that `loyalty verify`'s check is
clean; then runs it again (a re-run: nothing changes) and prints the same. Run it at 100,000 and
1,000,000 rows: the peak RSS should not move with the rows. Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import BigInteger, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from jobs_million import database_arguments, scratch_database  # noqa: E402

from domain.program import load_program  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.integrity import find_discrepancies  # noqa: E402
from persistence.migrate import upgrade  # noqa: E402
from persistence.personal_data import PersonalDataCipher, phone_place  # noqa: E402
from persistence.tables import legacy_points, members, point_entries, points_lots  # noqa: E402
from server.settings import Settings  # noqa: E402

ENV = {"LOYALTY_ENV": "test", "LOYALTY_SECRET_KEY": "bench-legacy-import-secret-key-of-length"}
JOINED = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
DEBT = 50

LOAD_MEMBERS = """
INSERT INTO members (id, member_no, tier_code, growth_value, points_balance, points_debt, created_at)
SELECT id, (1000000000 + id)::text, :tier, 0, CASE WHEN id % 50 = 0 THEN -:debt ELSE 0 END,
       CASE WHEN id % 50 = 0 THEN :debt ELSE 0 END, :joined
FROM generate_series(1, :members) AS id
"""
LOAD_DEBT_ENTRIES = """
INSERT INTO point_entries (member_id, kind, delta, balance_after, description, occurred_at)
SELECT id, 'REFUND', -:debt, -:debt, '退款扣回（bench）', :joined FROM members WHERE id % 50 = 0 ORDER BY id
"""
BIND_PHONES = """
UPDATE members SET phone_sealed = given.sealed, phone_index = given.index
FROM unnest(:ids, :sealed, :indexes) AS given (id, sealed, index) WHERE members.id = given.id
"""


def typed(statement: str):
    """`statement` with its parameters typed, so that asyncpg is told what they are."""
    types = {"members": BigInteger(), "debt": BigInteger(), "joined": members.c.created_at.type}
    return text(statement).bindparams(*[bindparam(name, type_=type_) for name, type_ in types.items()
                                        if f":{name}" in statement])


def member_phone(member_id: int) -> str:
    return str(13000000000 + member_id)


def waiting_phone(n: int) -> str:
    return str(15000000000 + n)


async def populate(database: Database, count: int, cipher: PersonalDataCipher) -> float:
    program = load_program(ROOT / "programs" / "standard.toml")
    await upgrade(database, program)
    started = time.perf_counter()
    values = {"members": count, "tier": program.base_tier.code, "debt": DEBT, "joined": JOINED}
    ids = list(range(2, count + 1, 2))
    phones = {"ids": ids, "sealed": [cipher.seal(member_phone(i), phone_place(i)) for i in ids],
              "indexes": [cipher.index(member_phone(i)) for i in ids]}
    async with database.transaction() as conn:
        if (await conn.execute(select(func.count()).select_from(members))).scalar_one():
            raise SystemExit(f"{database.safe_url} already has members: give an empty database")
        await conn.execute(typed(LOAD_MEMBERS), values)
        await conn.execute(typed(LOAD_DEBT_ENTRIES), values)
        await conn.execute(text(BIND_PHONES).bindparams(bindparam("ids", type_=ARRAY(BigInteger)),
                                                         bindparam("sealed", type_=ARRAY(members.c.phone_sealed.type)),
                                                         bindparam("indexes", type_=ARRAY(members.c.phone_index.type))),
                           phones)
        await conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('members', 'id'), max(id)) FROM members")
    async with database.write_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("VACUUM (ANALYZE)")
    return time.perf_counter() - started


class Expected:
    """What the import must do with the file: counted while it is written."""

    def __init__(self):
        self.rows = self.credited = self.waiting = self.rejected = self.points = 0


def write_file(path: Path, rows: int, member_count: int, seed: int = 12) -> Expected:
    """The file, written a row at a time; 5 % of the rows are bad in one of five ways."""
    rng = random.Random(seed)
    expected = Expected()
    recent: list[str] = []   # external ids of good rows, for repeats
    with path.open("w", encoding="utf-8", newline="") as file:
        out = csv.writer(file)
        out.writerow(["phone_or_member_no", "legacy_points", "external_row_id"])
        for n in range(rows):
            expected.rows += 1
            external_id = f"pos-{n:08d}"
            pick = rng.random()
            legacy = rng.randrange(100, 200_001)
            member_no = str(1000000000 + rng.randrange(1, member_count + 1))
            if pick < 0.05:                                   # bad
                expected.rejected += 1
                kind = n % 5
                if kind == 0:
                    out.writerow([member_no, "n/a", external_id])
                elif kind == 1:
                    out.writerow([member_no, rng.randrange(100), external_id])
                elif kind == 2:
                    out.writerow([str(2000000000 + n), legacy, external_id])
                elif kind == 3 and recent:
                    out.writerow([member_no, legacy, rng.choice(recent)])
                else:
                    out.writerow([member_no, legacy])
                continue
            if pick < 0.65:
                who = member_no
                expected.credited += 1
                expected.points += legacy // 100
            elif pick < 0.90:
                phone = member_phone(2 * rng.randrange(1, member_count // 2 + 1))
                who = phone if n % 4 else f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
                expected.credited += 1
                expected.points += legacy // 100
            else:
                who = waiting_phone(rng.randrange(rows // 12 + 1))
                expected.waiting += 1
            out.writerow([who, legacy, external_id])
            if len(recent) < 1000:
                recent.append(external_id)
            else:
                recent[rng.randrange(1000)] = external_id
    return expected


# `python -m server.cli`, telling its own peak RSS as it exits: VmHWM of its address space, which exec made new
# (getrusage's and wait4's ru_maxrss would count this process's pages, which the child had before its exec).
COMMAND = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        print(next(line for line in status if line.startswith("VmHWM:")).strip(), file=sys.stderr)
atexit.register(peak)
runpy.run_module("server.cli", run_name="__main__", alter_sys=True)
"""


def run_command(url: str, path: Path, output: Path) -> tuple[int, float, float, float, str]:
    """The command as an operator runs it: (exit status, wall seconds, CPU seconds, peak RSS MiB, its last
    line)."""
    env = {**os.environ, **ENV, "DATABASE_URL": url}
    started = time.perf_counter()
    with output.open("w") as out:
        child = subprocess.Popen([sys.executable, "-c", COMMAND, "import", "legacy-points", str(path)],
                                 cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
        _, err = child.communicate()
    seconds = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = re.search(r"VmHWM:\s+(\d+) kB", err)
    if peak is None:
        raise SystemExit(f"the command failed:\n{err}")
    last = output.read_text().rstrip("\n").rsplit("\n", 1)[-1]
    return child.returncode, seconds, cpu.ru_utime + cpu.ru_stime, int(peak.group(1)) / 1024, last


async def database_counts(database: Database) -> dict[str, int]:
    async with database.read_engine.connect() as conn:
        row = (await conn.execute(select(
            select(func.count()).select_from(legacy_points).where(legacy_points.c.status == "CREDITED")
            .scalar_subquery().label("credited"),
            select(func.count()).select_from(legacy_points).where(legacy_points.c.status == "WAITING")
            .scalar_subquery().label("waiting"),
            select(func.coalesce(func.sum(point_entries.c.delta), 0)).where(point_entries.c.kind == "MIGRATION")
            .scalar_subquery().label("points"),
            select(func.count()).select_from(points_lots).scalar_subquery().label("lots"),
            select(func.sum(members.c.points_balance)).scalar_subquery().label("balances")))).one()
        return dict(row._mapping)


async def verify(database: Database) -> int:
    async with database.read_engine.connect() as conn:
        return len(await find_discrepancies(conn))


def summary(expected: Expected, already: int) -> str:
    imported = 0 if already else expected.credited + expected.waiting
    credited, points, waiting = (0, 0, 0) if already else (expected.credited, expected.points, expected.waiting)
    return (f"legacy points: {expected.rows} rows; imported {imported} (credited {credited}, {points} points; "
            f"waiting {waiting}); already imported {already}; rejected {expected.rejected}")


async def measure(url: str, rows: int, member_count: int) -> list[str]:
    settings = Settings.from_env({**ENV, "DATABASE_URL": url})
    cipher = PersonalDataCipher(settings.data_key, settings.old_data_keys)
    database = Database(url)
    failures = []
    try:
        loaded = await populate(database, member_count, cipher)
        print(f"{member_count:,} members loaded in {loaded:.1f} s ({member_count // 2:,} with a phone, "
              f"{member_count // 50:,} in debt); verify: {await verify(database)} discrepancies")
        with tempfile.TemporaryDirectory(prefix="legacy-bench-") as folder:
            path, output = Path(folder) / "legacy.csv", Path(folder) / "output.txt"
            started = time.perf_counter()
            expected = write_file(path, rows, member_count)
            print(f"file: {rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB, written in "
                  f"{time.perf_counter() - started:.1f} s; expected: credited {expected.credited:,} "
                  f"({expected.points:,} points), waiting {expected.waiting:,}, rejected {expected.rejected:,}")
            print(f"{'run':<8} {'exit':>4} {'wall s':>8} {'rows/s':>9} {'CPU s':>7} {'peak RSS MiB':>13}")
            cpu_before = 0.0
            for run, already in (("import", 0), ("re-run", expected.credited + expected.waiting)):
                code, seconds, cpu, rss, last = run_command(url, path, output)
                cpu, cpu_before = cpu - cpu_before, cpu
                print(f"{run:<8} {code:>4} {seconds:>8.1f} {rows / seconds:>9,.0f} {cpu:>7.1f} {rss:>13.1f}")
                if code != (1 if expected.rejected else 0):
                    failures.append(f"{run}: exit status {code}")
                if last != summary(expected, already):
                    failures.append(f"{run}: printed {last!r}, expected {summary(expected, already)!r}")
                rejected_lines = sum(1 for line in output.open() if re.match(r"line \d+: ", line))
                if rejected_lines != expected.rejected:
                    failures.append(f"{run}: {rejected_lines} rejected lines printed, expected {expected.rejected}")
                found = await database_counts(database)
                wanted = {"credited": expected.credited, "waiting": expected.waiting, "points": expected.points,
                          "lots": expected.credited,
                          "balances": expected.points - DEBT * (member_count // 50)}
                if found != wanted:
                    failures.append(f"{run}: database holds {found}, expected {wanted}")
                if (discrepancies := await verify(database)):
                    failures.append(f"{run}: verify found {discrepancies} discrepancies")
    finally:
        await database.dispose()
    return failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=200_000)
    database_arguments(parser)
    args = parser.parse_args()
    if args.rows < 20 or args.members < 100:
        parser.error("--rows at least 20, --members at least 100")
    print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with scratch_database(args.url, args.keep) as url:
        failures = asyncio.run(measure(url, args.rows, args.members))
    print("checks: " + ("all passed" if not failures else "FAILED\n  " + "\n  ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
