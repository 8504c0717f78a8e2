"""Benchmark: SQL statements per contract query, and MemberHome latency over HTTP.

    .venv/bin/python bench/contract_queries.py [--database postgresql|sqlite] [--requests 500]

Creates a scratch database (PostgreSQL: a new database on LOYALTY_TEST_POSTGRES, dropped after),
migrates it, loads the demo data, serves the API with uvicorn in a subprocess, and times
sequential MemberHome requests from this process. Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.core.auth import MEMBER_AUDIENCE, issue_access_token  # noqa: E402
from domain.program import load_program  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.migrate import upgrade  # noqa: E402
from server.app import create_app  # noqa: E402
from server.demo import seed_demo  # noqa: E402
from server.services import Services  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.wechat import DevelopmentWeChat  # noqa: E402

POSTGRES_ADMIN = os.environ.get("LOYALTY_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET = "benchmark-secret-key-benchmark-secret-key"
QUERIES = {
    "MemberHome": {},
    "MyCoupons": {"first": 50},
    "PointHistory": {"first": 50},
    "Tiers": {},
    "RewardCatalog": {"first": 50},
}


async def admin(sql: str) -> None:
    engine = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def statement_counts(database: Database, services: Services, token: str) -> dict[str, int]:
    operations = "\n".join(p.read_text() for p in sorted((ROOT / "operations").glob("*.graphql")))
    app = create_app(services=services)
    counts = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for name, variables in QUERIES.items():
            seen = []
            listener = lambda *a, **k: seen.append(1)  # noqa: E731
            for engine in database.engines:
                event.listen(engine.sync_engine, "before_cursor_execute", listener)
            response = await client.post("/graphql", json={"query": operations, "operationName": name,
                                                           "variables": variables},
                                         headers={"Authorization": f"Bearer {token}"})
            assert "errors" not in response.json(), response.text
            for engine in database.engines:
                event.remove(engine.sync_engine, "before_cursor_execute", listener)
            counts[name] = len(seen)
    return counts


def time_member_home(url: str, token: str, requests: int) -> list[float]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, LOYALTY_ENV="test", LOYALTY_SECRET_KEY=SECRET)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--port", str(port),
                               "--log-level", "warning"], cwd=ROOT, env=env)
    query = (ROOT / "operations" / "member-app.graphql").read_text()
    body = {"query": query, "operationName": "MemberHome"}
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            for _ in range(50):  # warm-up: pools, caches
                client.post("/graphql", json=body, headers=headers)
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.post("/graphql", json=body, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200 and "errors" not in response.json()
            return timings
    finally:
        server.terminate()
        server.wait()


async def prepare(url: str):
    settings = Settings.from_env({"DATABASE_URL": url, "LOYALTY_ENV": "test", "LOYALTY_SECRET_KEY": SECRET})
    program = load_program(settings.program_path)
    database = Database(url)
    await upgrade(database, program)
    now = datetime.now(timezone.utc)
    _, session_token_id = await seed_demo(database, program, now)
    token, _ = issue_access_token(SECRET, MEMBER_AUDIENCE, session_token_id, now, 3600)
    services = Services(settings, program, database, DevelopmentWeChat())
    counts = await statement_counts(database, services, token)
    await database.dispose()
    return token, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    if args.database == "postgresql":
        name = f"loyalty_bench_{secrets.token_hex(4)}"
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        token, counts = asyncio.run(prepare(url))
        timings = time_member_home(url, token, args.requests)
    finally:
        if args.database == "postgresql":
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"database: {args.database}")
    for query, count in counts.items():
        print(f"  {query:<15} {count} SQL statements")
    timings.sort()
    print(f"MemberHome over HTTP, {len(timings)} sequential requests: median {statistics.median(timings):.2f} ms, "
          f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms, p99 {timings[int(len(timings) * 0.99)]:.2f} ms")


if __name__ == "__main__":
    main()
