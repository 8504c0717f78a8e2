"""Benchmark: the whole `insights` query (operations/staff-insights.graphql, ProgramInsights) for a 30-day
range at a million members.

    .venv/bin/python bench/insights_million.py [--members 1000000] [--lots 10] [--keep] [--url URL]

Builds bench/jobs_million.py's population on a scratch PostgreSQL database (its `populate`: members, their
lots and ORDER entries over the year), adds the range's activity in set-based SQL (an order for every
third member, a check-in for every second, a redemption for every twentieth, a coupon for every fourth,
some used), VACUUM ANALYZEs, then sends ProgramInsights over HTTP (the ASGI app, in process) as an
OPERATIONS_MANAGER for the 30 local days before D, cold once and warm three times, and each section alone.
Prints wall times, and each report total checked against a direct ledger sum. Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import BigInteger, String, bindparam, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from jobs_million import DAY, Report, database_arguments, populate, scratch_database  # noqa: E402

from domain import commands  # noqa: E402
from domain.program import load_program  # noqa: E402
from domain.service import Service  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.tables import UtcDateTime  # noqa: E402
from persistence.unit_of_work import SqlUnitOfWork  # noqa: E402
from server.app import create_app  # noqa: E402
from server.passwords import Argon2PasswordHasher  # noqa: E402
from server.services import Services  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.wechat import DevelopmentWeChat  # noqa: E402

# The range: the 30 local days before D. `:first` is its first day's midnight, local (as UTC).
ACTIVITY = (
    ("orders", """
INSERT INTO orders (member_id, external_id, amount, shipping_fee, channel, paid_at, refunded_amount, points_earned,
                    growth_earned, points_taken_back, growth_taken_back, created_at)
SELECT id, 'bench-insights-' || id, 5000 + id % 20000, 0, 'APP', :first + (id % 30) * interval '1 day'
       + interval '12 hours', 0, 50, 50, 0, 0, :first + (id % 30) * interval '1 day' + interval '12 hours'
FROM generate_series(3, :members, 3) AS id"""),
    ("check_ins", """
INSERT INTO check_ins (member_id, local_date, streak_days, points_awarded, created_at)
SELECT id, CAST(:first_day AS date) + CAST(id % 30 AS integer), 1, 1, :first + (id % 30) * interval '1 day' + interval '9 hours'
FROM generate_series(2, :members, 2) AS id"""),
    ("coupons", """
INSERT INTO coupons (member_id, template_code, title, kind, min_spend, discount_amount, valid_from, valid_until,
                     source, status, used_at)
SELECT id, 'newcomer', 'bench', 'AMOUNT_OFF', 3000, 500, :first + (id % 30) * interval '1 day',
       :first + (id % 40) * interval '1 day', (ARRAY['SIGNUP_GIFT', 'MONTHLY_GIFT', 'REDEMPTION'])[1 + id % 3],
       CASE WHEN id % 8 = 0 THEN 'USED' ELSE 'AVAILABLE' END,
       CASE WHEN id % 8 = 0 THEN :first + (id % 30) * interval '1 day' + interval '1 hour' END
FROM generate_series(4, :members, 4) AS id"""),
    ("redemptions", """
INSERT INTO redemptions (member_id, reward_id, points_spent, status, created_at)
SELECT m.id, r.id, r.points_cost, 'COMPLETED', :first + (m.id % 30) * interval '1 day' + interval '15 hours'
FROM generate_series(20, :members, 20) AS m (id)
JOIN (SELECT id, points_cost, row_number() OVER (ORDER BY id) - 1 AS n FROM rewards) AS r
  ON r.n = m.id / 20 % (SELECT count(*) FROM rewards)"""),
)

# The contract's ProgramInsights, and checkInsPerDay too: the whole of `insights`.
WHOLE = ("query ProgramInsights" + (ROOT / "operations" / "staff-insights.graphql").read_text()
         .split("query ProgramInsights", 1)[1].replace("    coupons {", "    checkInsPerDay { date checkIns }\n    coupons {", 1))
SECTIONS = ("members { total joined active }", "tierMix { tier { code } members }",
            "segments { segment members share target }",
            "points { issued spent expired outstanding breakageRate byKind { kind points } }",
            "liabilityByExpiryMonth { month points valueFen }", "rewards { reward { id name } redemptions points }",
            "coupons { source issued used expired }", "checkInsPerDay { date checkIns }")

LEDGER = """
SELECT (SELECT sum(delta) FILTER (WHERE delta > 0) FROM point_entries WHERE occurred_at >= :first AND occurred_at < :end)
         AS issued,
       (SELECT sum(points_balance) FROM members) AS balances, (SELECT sum(delta) FROM point_entries) AS ledger,
       (SELECT sum(remaining) FROM points_lots WHERE remaining > 0) AS lots
"""

TYPES = {"first": UtcDateTime(), "end": UtcDateTime(), "first_day": String(), "members": BigInteger()}


def sql(statement: str):
    """`statement` with its parameters typed, so that asyncpg is told what they are."""
    return text(statement).bindparams(*[bindparam(name, type_=type_) for name, type_ in TYPES.items()
                                        if f":{name}" in statement])


async def add_activity(database: Database, values: dict, report: Report) -> None:
    started = time.perf_counter()
    async with database.transaction() as conn:
        for _, statement in ACTIVITY:
            await conn.execute(sql(statement), values)
    report.add("activity", time.perf_counter() - started)
    started = time.perf_counter()
    async with database.write_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("VACUUM (ANALYZE)")
    report.add("vacuum analyze", time.perf_counter() - started)


async def timed(http: httpx.AsyncClient, token: str, query: str, variables: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"})
    seconds = time.perf_counter() - started
    body = response.json()
    if response.status_code != 200 or "errors" in body:
        raise SystemExit(f"insights failed: {response.status_code} {body}")
    return seconds, body["data"]["insights"]


async def run(url: str, members: int, lots: int) -> Report:
    program = load_program(ROOT / "programs" / "standard.toml")
    calendar = program.calendar
    first_day, last_day = DAY - timedelta(days=30), DAY - timedelta(days=1)
    first, end = calendar.start_of_day(first_day), calendar.start_of_day(DAY)
    variables = {"from": first_day.isoformat(), "to": last_day.isoformat()}
    report = Report()
    database = Database(url)
    try:
        await populate(database, program, members, lots, DAY, report)
        await add_activity(database, {"first": first, "first_day": first_day.isoformat(), "members": members}, report)
        settings = Settings.from_env({"LOYALTY_ENV": "test", "LOYALTY_SECRET_KEY": secrets.token_urlsafe(48),
                                      "DATABASE_URL": url})
        services = Services(settings=settings, program=program, database=database, wechat=DevelopmentWeChat())
        await Service(program, lambda: SqlUnitOfWork(database), passwords=Argon2PasswordHasher()).handle(
            commands.CreateStaff("bench-ops", "bench password of some length", "OPERATIONS_MANAGER"))
        app = create_app(services=services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty.test",
                                     timeout=120) as http:
            login = await http.post("/graphql", json={"query": 'mutation { staffLogin(input: {username: "bench-ops", '
                                                               'password: "bench password of some length"}) '
                                                               '{ accessToken } }'})
            token = login.json()["data"]["staffLogin"]["accessToken"]
            seconds, data = await timed(http, token, WHOLE, variables)
            report.add("insights cold", seconds)
            for n in range(3):
                seconds, data = await timed(http, token, WHOLE, variables)
                report.add(f"insights warm {n + 1}", seconds)
            for section in SECTIONS:
                seconds, _ = await timed(http, token, "query($from: Date!, $to: Date!) { insights(from: $from, "
                                         f"to: $to) {{ {section} }} }}", variables)
                report.add(section.split(" ")[0], seconds)
        async with database.read_engine.connect() as conn:
            books = (await conn.execute(sql(LEDGER), {"first": first, "end": end})).one()
            size = (await conn.execute(text("SELECT pg_database_size(current_database())"))).scalar_one()
        points = data["points"]
        report.expect("issued = Σ positive ledger deltas in range", books.issued or 0, points["issued"])
        report.expect("outstanding = Σ balances", books.balances, points["outstanding"])
        report.expect("outstanding = Σ ledger", books.ledger, points["outstanding"])
        report.expect("Σ liability = Σ lots left", books.lots, sum(m["points"] for m in data["liabilityByExpiryMonth"]))
        print(f"{members:,} members × {lots} lots, range {variables['from']} .. {variables['to']}, "
              f"database {size / 2**30:.2f} GiB")
        print(f"members {data['members']}, issued {points['issued']:,}, outstanding {points['outstanding']:,}, "
              f"{len(data['rewards'])} rewards, {len(data['coupons'])} coupon sources")
    finally:
        await database.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--lots", type=int, default=10, help="points lots per member")
    database_arguments(parser)
    args = parser.parse_args()
    with scratch_database(args.url, args.keep) as url:
        report = asyncio.run(run(url, args.members, args.lots))
    report.print_table()
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
