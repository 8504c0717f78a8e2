"""Running calendar jobs in tests: on the test database, with a clock, and killed half-way on request."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from persistence.integrity import find_discrepancies
from persistence.unit_of_work import SqlUnitOfWork


class Killed(Exception):
    """The process died: the open transaction never commits."""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def killed_after(database, commits: int):
    """A unit-of-work factory for a job run that dies inside the transaction after `commits` commits:
    every statement of that batch has run, and none of it is committed."""
    done = 0

    @asynccontextmanager
    async def new_uow():
        async with SqlUnitOfWork(database) as uow:
            commit = uow.commit

            async def commit_or_die():
                nonlocal done
                if done == commits:
                    raise Killed()
                done += 1
                await commit()

            uow.commit = commit_or_die
            yield uow

    return new_uow


async def run_job(job, database, program, now: str, batch_size: int = 1000, new_uow=None):
    return await job(new_uow or (lambda: SqlUnitOfWork(database)), program, at(now), batch_size)


async def loyalty_jobs_run(database, program_file: str, now: str) -> str:
    """`loyalty jobs run --now NOW` as an operator runs it (another process, `programs/<program_file>.toml`) on
    the test database; what it printed."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, DATABASE_URL=database.url, LOYALTY_ENV="test",
               LOYALTY_SECRET_KEY="cli-secret-key-cli-secret-key-cli-secret",
               LOYALTY_PROGRAM=str(root / "programs" / f"{program_file}.toml"))
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server.cli", "jobs", "run", "--now", now],
                                   cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def assert_ledgers_agree(database) -> None:
    """`loyalty verify`, now (the database fixture also runs it when the test ends)."""
    async with database.read_engine.connect() as conn:
        assert await find_discrepancies(conn) == []


MY_NOTIFICATIONS = """
query MyNotifications($first: Int!, $after: String) {
  me { notifications(first: $first, after: $after) {
    totalCount unreadCount
    edges { cursor node { id kind title body createdAt readAt } }
    pageInfo { hasNextPage endCursor }
  } }
}
"""

MARK_NOTIFICATIONS_READ = """
mutation MarkNotificationsRead($ids: [ID!]!) {
  markNotificationsRead(input: { ids: $ids }) { unreadCount userErrors { field message code } }
}
"""


async def notifications(api, token: str, now: str | None = None) -> dict:
    data = await api.execute(MY_NOTIFICATIONS, {"first": 100}, token=token, now=now)
    assert "errors" not in data, data
    return data["data"]["me"]["notifications"]


async def notices(api, token: str, kind: str | None = None) -> list[dict]:
    """The member's notifications (newest first), of one kind if given."""
    nodes = [e["node"] for e in (await notifications(api, token))["edges"]]
    return [n for n in nodes if kind is None or n["kind"] == kind]
