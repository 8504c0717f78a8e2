"""Benchmark: hostile and heavy traffic against one instance. Not a test: it prints numbers.

    .venv/bin/python bench/hostile.py [--writes 200] [--search-seconds 30]

1. Refusal: documents that spread one fragment `spreads` times on each of `levels` levels (the
   attack that froze an instance), timed over HTTP against `loyalty serve`, next to a small query.
2. Worst pre-execution CPU: a random search for the accepted document that costs most to parse,
   measure and validate (what one anonymous request can make the event loop do before anything runs).
3. Writes: `--writes` simultaneous check-ins, each by its own member, then as many simultaneous
   redemptions by one member, on PostgreSQL with the default pool: throughput, and every answer that
   is not a 200 with a result (there should be none); `loyalty verify` afterwards.

The server runs in a subprocess (uvicorn, one process) on a scratch PostgreSQL database on
LOYALTY_TEST_POSTGRES, dropped afterwards.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.core.auth import MEMBER_AUDIENCE, issue_access_token  # noqa: E402
from api.core.document_limits import DocumentChecks  # noqa: E402
from api.schema import schema  # noqa: E402
from domain import commands  # noqa: E402
from domain.program import load_program  # noqa: E402
from domain.service import Service  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.integrity import find_discrepancies  # noqa: E402
from persistence.migrate import upgrade  # noqa: E402
from persistence.unit_of_work import SqlUnitOfWork  # noqa: E402
from server.settings import RequestLimits  # noqa: E402

POSTGRES_ADMIN = os.environ.get("LOYALTY_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET = secrets.token_urlsafe(48)
NOW = "2026-03-02T10:00:00+08:00"


def fan_out(spreads: int, levels: int) -> str:
    definitions = [f"fragment F{n} on Query {{ {' '.join([f'...F{n + 1}'] * spreads)} }}" for n in range(levels)]
    definitions.append(f"fragment F{levels} on Query {{ tiers {{ id }} }}")
    return "query FanOut { ...F0 }\n" + "\n".join(definitions)


def fan_out_by_names(spreads: int, levels: int) -> str:
    names = lambda n: [f"F{n}x{k}" for k in range(spreads)]  # noqa: E731
    definitions = [f"fragment {name} on Query {{ {' '.join(f'...{nxt}' for nxt in names(n + 1))} }}"
                   for n in range(levels) for name in names(n)]
    definitions += [f"fragment {name} on Query {{ tiers {{ id }} }}" for name in names(levels)]
    return "query FanOut { " + " ".join(f"...{name}" for name in names(0)) + " }\n" + "\n".join(definitions)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def admin(sql: str) -> None:
    engine = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


def serve(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, LOYALTY_ENV="test", LOYALTY_SECRET_KEY=SECRET)
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "loyalty"), "serve", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz")
            return server, base
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def time_refusals(base: str) -> None:
    print("\n1. Refusing fan-out documents over HTTP (median of 20, one connection)")
    with httpx.Client(base_url=base) as client:
        def median_ms(query: str) -> tuple[float, str]:
            timings, code = [], ""
            for _ in range(20):
                started = time.perf_counter()
                answer = client.post("/graphql", json={"query": query})
                timings.append((time.perf_counter() - started) * 1000)
                code = (answer.json().get("errors") or [{}])[0].get("extensions", {}).get("code", "ok")
            return statistics.median(timings), code
        baseline, _ = median_ms("{ tiers { id } }")
        print(f"   {'a small query (tiers { id })':<44} {baseline:7.2f} ms")
        for build in (fan_out, fan_out_by_names):
            for spreads, levels in [(3, 12), (3, 20), (3, 30), (4, 30)]:
                query = build(spreads, levels)
                elapsed, code = median_ms(query)
                label = f"{build.__name__} {spreads} spreads x {levels} levels ({len(query)} B)"
                print(f"   {label:<44} {elapsed:7.2f} ms  {code}")


def worst_pre_execution(seconds: float) -> None:
    """Random documents over the schema, fragments included; the costliest one the limits accept."""
    from graphql import GraphQLObjectType, get_named_type, is_composite_type, specified_rules
    limits = RequestLimits()
    types = schema._schema
    rng = random.Random(7)

    def selection(type_, depth, fragments, budget) -> str:
        parts = []
        for _ in range(rng.randint(1, 8)):
            if budget[0] <= 0:
                break
            if rng.random() < 0.3 and fragments.get(type_.name):
                parts.append("..." + rng.choice(fragments[type_.name]))
                budget[0] -= 2
                continue
            name, field = rng.choice(list(type_.fields.items()))
            if any(arg.type.__class__.__name__ == "GraphQLNonNull" and arg_name != "first"
                   for arg_name, arg in field.args.items()):
                continue
            call = f"{name}(first: {rng.randint(0, 3)})" if "first" in field.args else name
            inner = get_named_type(field.type)
            budget[0] -= 1
            if is_composite_type(inner):
                if depth < 6 and isinstance(inner, GraphQLObjectType):
                    parts.append(f"{call} {{ {selection(inner, depth + 1, fragments, budget)} }}")
            else:
                parts.append(call)
        return " ".join(parts) or "__typename"

    def cost_of(query: str) -> tuple[float, bool]:
        checks = DocumentChecks(limits, production=False)
        began = time.perf_counter()
        found = checks.checked(query)
        if found.problem is None:
            checks.validate(found, types, tuple(specified_rules))
        return time.perf_counter() - began, found.problem is None

    candidates, tried, started = [], 0, time.monotonic()
    while time.monotonic() - started < seconds:
        tried += 1
        fragments, definitions = {}, []
        for n in range(rng.randint(0, 40)):
            on = rng.choice(["Query", "Member", "Tier", "CouponConnection", "CouponEdge", "Coupon"])
            body = selection(types.get_type(on), 0, fragments, [rng.randint(3, 60)])
            definitions.append(f"fragment F{n} on {on} {{ {body} }}")
            fragments.setdefault(on, []).append(f"F{n}")
        query = "{ " + selection(types.query_type, 0, fragments, [rng.randint(10, 900)]) + " } " + " ".join(definitions)
        elapsed, accepted = cost_of(query)
        if accepted:
            candidates.append((elapsed, query))
    member_fields = ["memberNo", "nickname", "phoneMasked", "birthday", "gender", "householdSize", "growthValue",
                     "pointsBalance", "createdAt", "id"]
    crafted = {  # shapes built to sit just inside the limits
        "32 x me { id }": "{ " + " ".join(["me { id }"] * 32) + " }",
        "45 x the same field": "{ me { " + " ".join(["id"] * 45) + " } }",
        "40 fragments side by side": "{ me { " + " ".join(f"...F{i}" for i in range(40)) + " } } " + " ".join(
            f"fragment F{i} on Member {{ {member_fields[i % 10]} }}" for i in range(40)),
        "a chain of 44 fragments": "{ me { ...F0 } } " + " ".join(
            f"fragment F{i} on Member {{ ...F{i + 1} id }}" for i in range(44)) + " fragment F44 on Member { id }",
        "1,990 tokens of distinct fields": "{ " + " ".join(
            f"a{i}: tiers {{ id code name level growthThreshold benefits {{ id code name description }} }}"
            for i in range(15)) + " me { " + " ".join(member_fields) + " coupons(first: 3) { totalCount edges { "
            "cursor node { id title kind minSpend discountAmount discountPercent validFrom validUntil status "
            "source usedAt usedOrderId } } pageInfo { hasNextPage endCursor } } } }",
    }
    for label, query in crafted.items():
        elapsed, accepted = cost_of(query)
        if accepted:
            candidates.append((elapsed, query))
        else:
            print(f"   (crafted '{label}' is refused)")
    # A single timing may hold a garbage collection: the costliest twenty again, five times each, the least
    # of the five kept.
    candidates.sort(reverse=True)
    worst = max(((min(cost_of(query)[0] for _ in range(5)), query) for _, query in candidates[:20]), default=(0, ""))
    named = next((label for label, query in crafted.items() if query == worst[1]), "random")
    typical = statistics.median(elapsed for elapsed, _ in candidates) if candidates else 0
    print(f"\n2. Pre-execution CPU (parse + measures + validation) of {len(candidates):,} accepted random documents "
          f"({tried:,} tried in {seconds:.0f} s): median {typical * 1000:.1f} ms, worst {worst[0] * 1000:.1f} ms "
          f"({named}, {len(worst[1]):,} bytes)")


async def prepare_members(url: str, count: int) -> list[str]:
    """`count` members with a session each; the first has points for `count // 2` of the cheapest
    unlimited reward."""
    program = load_program(ROOT / "programs" / "standard.toml")
    database = Database(url)
    await upgrade(database, program)
    now, at = datetime.now(timezone.utc), datetime.fromisoformat(NOW)
    service = Service(program, lambda: SqlUnitOfWork(database))
    tokens = []
    for n in range(count):
        member, session, _ = await service.handle(commands.SignInWithWeChat(f"dev-bench-{n}", None, None), now=at)
        tokens.append(issue_access_token(SECRET, MEMBER_AUDIENCE, session.token_id, now, 3600)[0])
        if n == 0:
            cheapest = min((r for r in program.rewards if r.stock is None and r.min_tier_level <= 1),
                           key=lambda r: r.points_cost)
            points = cheapest.points_cost * (count // 2) - program.signup.points
            await service.handle(commands.AdjustPoints(member.id, points, "bench", "bench"), now=at)
    await database.dispose()
    return tokens


async def burst(base: str, requests: list[tuple[dict, dict]]) -> tuple[float, list[httpx.Response]]:
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        answers = await asyncio.gather(*(client.post("/graphql", json=body, headers=headers)
                                         for body, headers in requests), return_exceptions=True)
        return time.perf_counter() - started, answers


def report(label: str, elapsed: float, answers: list, ok) -> None:
    failed = [a for a in answers if isinstance(a, Exception) or a.status_code != 200 or not ok(a.json())]
    statuses = sorted({getattr(a, "status_code", type(a).__name__) for a in failed}, key=str)
    print(f"   {label:<44} {len(answers) / elapsed:7.0f} req/s  {elapsed * 1000:7.0f} ms in all  "
          f"not a 200 with a result: {len(failed)} {statuses if failed else ''}")


async def writes(base: str, url: str, tokens: list[str]) -> None:
    print(f"\n3. {len(tokens)} simultaneous writes, one instance, PostgreSQL, default pool (10 + 10)")
    check_in = 'mutation($k: String!) { checkIn(input: {idempotencyKey: $k}) { checkIn { pointsAwarded } ' \
               'member { pointsBalance } userErrors { code } } }'
    headers = lambda token: {"Authorization": f"Bearer {token}", "X-Loyalty-Now": NOW}  # noqa: E731
    elapsed, answers = await burst(base, [({"query": check_in, "variables": {"k": f"bench-{n}"}}, headers(token))
                                          for n, token in enumerate(tokens)])
    report("check-ins, one member each", elapsed,
           answers, lambda body: body["data"]["checkIn"]["checkIn"] is not None)
    rich = tokens[0]  # points for half of the redemptions: the other half must be refused, none lost
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        catalog = await client.post("/graphql", json={"query": "{ rewards(first: 50) { edges { node { id pointsCost "
                                                               "stock minTierLevel } } } }"})
        reward = min((e["node"] for e in catalog.json()["data"]["rewards"]["edges"]
                      if e["node"]["stock"] is None and e["node"]["minTierLevel"] <= 1), key=lambda n: n["pointsCost"])
    redeem = 'mutation($r: ID!, $k: String!) { redeemReward(input: {rewardId: $r, idempotencyKey: $k}) ' \
             '{ redemption { id } userErrors { code } } }'
    elapsed, answers = await burst(base, [({"query": redeem, "variables": {"r": reward["id"], "k": f"r-{n}"}},
                                           headers(rich)) for n in range(len(tokens))])
    report("redemptions by one member", elapsed, answers,
           lambda body: body["data"]["redeemReward"]["redemption"] is not None
           or body["data"]["redeemReward"]["userErrors"][0]["code"] == "INSUFFICIENT_POINTS")
    granted = sum(1 for a in answers if not isinstance(a, Exception) and a.status_code == 200
                  and a.json()["data"]["redeemReward"]["redemption"] is not None)
    print(f"   redemptions granted: {granted} (points for {len(tokens) // 2} were there)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--search-seconds", type=float, default=30)
    args = parser.parse_args()
    name = f"loyalty_hostile_{secrets.token_hex(4)}"
    await admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    server = None
    try:
        tokens = await prepare_members(url, args.writes)
        server, base = serve(url)
        time_refusals(base)
        worst_pre_execution(args.search_seconds)
        await writes(base, url, tokens)
        database = Database(url)
        async with database.read_engine.connect() as conn:
            found = await find_discrepancies(conn)
        await database.dispose()
        print(f"\nloyalty verify: {len(found)} discrepancies")
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
