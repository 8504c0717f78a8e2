"""Benchmark: the HTTP GraphQL server against a hand-written floor (reads), and against older commits (writes).

    .venv/bin/python bench/serve.py [--quick] [--members 200000] [--lots 10] [--duration 10] [--rounds 3]
                                    [--ref f3c7ce7 …|--ref none] [--ref-reads] [--only reads|writes]
                                    [--project-workers 1] [--floor-workers N] [--documents full|persisted]
                                    [--write-rate 2000] [--reload] [--keep] [--out FILE]

Reads: the member app's MemberHome, MyCoupons(first: 20), PointHistory(first: 20) and RewardCatalog(first: 20)
from `operations/member-app.graphql`, sent by wrk (bench/wrk/graphql.lua) at 1 connection (-t1 -c1) and at
16 (-t2 -c16), to the project at HEAD (the working tree: `python -m server.cli serve`) and to the floor
(bench/floor.py: the same four answers hand-written over asyncpg, one SQL statement each, served by the same
uvicorn with the same options and the same JSON encoder). Before measuring, each operation is fetched once
from both and their `data` must be equal (the run stops on a difference). Each row: a warm-up (2 s,
discarded), then `--duration` seconds; `--rounds` rounds, interleaved (round 1 project then floor, round 2
floor then project, …). The table gives the medians over rounds of p50, p99 (ms) and req/s, and the ratios
project p50 / floor p50 and floor req/s / project req/s. `--ref-reads` measures the older commits' reads too.

Writes: CheckIn and RedeemReward at 16 connections (-t2 -c16), HEAD against each `--ref` (default f3c7ce7;
`--ref none`: HEAD alone), interleaved the same way. Every request comes from a member not used before
(each server, round, operation and warm-up has its own block of members; the same blocks on every server)
with a unique idempotency key, and must succeed: a status outside 2xx, "errors" or a non-empty userErrors
fails the row (ERR). A block has members for `--write-rate` requests a second (default 2000, fewer if the
population has too few; the run prints how many it used): one that runs out reuses a member, and the row
fails. Afterwards every server's database must pass its `loyalty verify` (balances = ledgers = lots: HEAD's
`find_discrepancies`, a ref's own CLI), and the rows written are counted against the successful answers.

Data: a population of `--members` members with `--lots` points lots each (bench/jobs_million.py's loader,
as the calendar jobs would find it on the day it is loaded) goes once into a template database kept between
runs (`loyalty_bench_tpl_<members>_<lots>_<migration head>`; `--reload` loads it again). A second template,
made on a day's first run (`loyalty_bench_day_…_<date>`), adds the member the reads are about, made through
the service layer (`Service.handle`) so that every row is real: a profile, a bound phone, 40 orders (two
large ones 11 months ago, whose points lapse within 30 days; 38 over the last 58 days, up to diamond with
each upgrade's gift), 30 days of check-ins ending yesterday and 3 rewards redeemed. MemberHome then shows
a 30-day streak and points expiring soon, MyCoupons 14 coupons (8 available, 6 expired), PointHistory a
full page. Each server gets its own clone (CREATE DATABASE … TEMPLATE), dropped at the end unless `--keep`;
a ref's clone is downgraded to that ref's migration head (HEAD's migrations) and the ref runs from a
`git worktree` of it with this venv's Python. Sessions are inserted in SQL and access tokens minted here
in the format the schema calls for (`sessions.token_id`: {"sid": token_id}; before it: {"sub", "sid": id}).
RedeemReward redeems the cheapest reward of unlimited stock any member may take (if none is unlimited,
the cheapest one's stock is raised in the bench databases, and the run says so), from members whose
unexpired points cover it.

Request bodies: `--documents full` (the default) sends {"query", "operationName", "variables"}, the query
being the operation's text as it stands in the file, then the fragments it uses (as the project registers
it: `api.core.documents.operation_documents` when there is one); `--documents persisted` sends
{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": SHA-256 of that text}}, "operationName",
"variables"} to the project at HEAD, and the same body to the floor, which ignores it (when the project
answers PersistedQueryNotFound, the check registers the document first, as Apollo's APQ does). Refs
always get the full document.

Servers run with LOYALTY_ENV=development, LOYALTY_RATE_LIMITS=off and a random LOYALTY_SECRET_KEY, their
logs in a temporary folder (kept, and named, when the run fails); nothing is pinned to a core (servers,
PostgreSQL and wrk share the machine: the run prints the core count and the load average before it).
`--project-workers N` serves the project with `serve --workers N`, and the floor with as many uvicorn
workers unless `--floor-workers` says otherwise. `--quick` (20,000 members, 3 s, 1 round) is for trying
changes. Raw results go to `--out` (JSON, default /tmp/serve-<timestamp>.json); the exit status is 1 when
a row failed or a database did not verify. Ctrl-C stops the servers, drops the run's databases and removes
the worktrees. Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
import jwt
from graphql import FragmentDefinitionNode, FragmentSpreadNode, OperationDefinitionNode, parse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs_million import Report, populate  # noqa: E402
from domain import commands  # noqa: E402
from domain.program import Program, load_program  # noqa: E402
from domain.service import Service  # noqa: E402
from persistence.database import Database  # noqa: E402
from persistence.integrity import find_discrepancies  # noqa: E402
from persistence.migrate import alembic_config, head_revision  # noqa: E402
from persistence.personal_data import PersonalDataCipher  # noqa: E402
from persistence.unit_of_work import SqlUnitOfWork  # noqa: E402
from server.settings import DEFAULT_PROGRAM, Settings  # noqa: E402

POSTGRES_ADMIN = os.environ.get("LOYALTY_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
OPERATIONS_FILE = ROOT / "operations" / "member-app.graphql"
LUA = Path(__file__).resolve().parent / "wrk" / "graphql.lua"
READS = {"MemberHome": {}, "MyCoupons": {"first": 20}, "PointHistory": {"first": 20}, "RewardCatalog": {"first": 20}}
WRITES = ("CheckIn", "RedeemReward")
READ_LOADS = ((1, 1), (16, 2))  # (connections, wrk threads)
WRITE_LOAD = (16, 2)
WARM_UP_SECONDS = 2
KEY_PLACEHOLDER = "__IDEMPOTENCY_KEY__"
READER_OPENID = "serve-bench-reader"
TOKEN_TTL = timedelta(hours=12)
MEMBER_AUDIENCE = "loyalty-member"
QUICK = {"members": 20_000, "duration": 3, "rounds": 1}
DEFAULTS = {"members": 200_000, "duration": 10, "rounds": 3}


# --- databases ---------------------------------------------------------------------------------------

def url_of(name: str) -> str:
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


def dsn(url: str) -> str:
    """asyncpg's spelling of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def admin(statement: str, *arguments):
    conn = await asyncpg.connect(dsn(POSTGRES_ADMIN))
    try:
        return await conn.fetch(statement, *arguments)
    finally:
        await conn.close()


async def exists(name: str) -> bool:
    return bool(await admin("SELECT FROM pg_database WHERE datname = $1", name))


async def drop(name: str) -> None:
    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def clone(name: str, template: str) -> None:
    """A copy of `template` (which nobody may be connected to). FILE_COPY copies the files at a checkpoint:
    much faster for a large database than WAL_LOG, PostgreSQL 15's default."""
    version = int((await admin("SHOW server_version_num"))[0][0])
    strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')


async def describe(name: str, text: str) -> None:
    await admin(f"COMMENT ON DATABASE \"{name}\" IS '{text}'")


async def description(name: str) -> str:
    rows = await admin("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name)
    return (rows[0][0] or "") if rows else ""


async def population_template(members: int, lots: int, program: Program, reload: bool) -> str:
    """The population, loaded once and kept: `--reload` loads it again."""
    name = f"loyalty_bench_tpl_{members}_{lots}_{head_revision()}"
    if await exists(name) and not reload:
        print(f"population: {name}, kept ({await description(name)}; --reload loads it again)")
        return name
    building = name + "_building"
    await drop(building)
    await drop(name)
    await admin(f'CREATE DATABASE "{building}"')
    print(f"population: loading {members:,} members × {lots} lots into {name} …", flush=True)
    database, report, started = Database(url_of(building)), Report(), time.perf_counter()
    try:
        await populate(database, program, members, lots, program.calendar.local_date(datetime.now(timezone.utc)),
                       report)
    finally:
        await database.dispose()
    took = time.perf_counter() - started
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds, *_ in report.rows)
    await admin(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    await describe(name, f"built {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC in {took:.1f} s: migrate, {steps}")
    print(f"population: {name} built in {took:.1f} s ({steps})")
    return name


async def day_template(population: str, program: Program, cipher: PersonalDataCipher, today: date,
                       reload: bool) -> str:
    """The population and the member the reads are about, whose history ends yesterday: made once a day."""
    prefix = population.replace("_tpl_", "_day_")
    name = f"{prefix}_{today:%Y%m%d}"
    if await exists(name) and not reload:
        print(f"reads' member: {name}, kept (made on that day's first run)")
        return name
    for row in await admin("SELECT datname FROM pg_database WHERE datname LIKE $1", prefix + "\\_%"):
        await drop(row["datname"])  # other days', and one left half made
    building = name + "_building"
    started = time.perf_counter()
    await clone(building, population)
    database = Database(url_of(building))
    try:
        await make_reader(database, program, cipher, today)
        async with database.write_engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        await database.dispose()
    await admin(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    print(f"reads' member: {name} made in {time.perf_counter() - started:.1f} s")
    return name


async def make_reader(database: Database, program: Program, cipher: PersonalDataCipher, today: date) -> None:
    """The member the reads are about, through the service layer, in the order things happened."""
    service = Service(program, lambda: SqlUnitOfWork(database, cipher))
    calendar = program.calendar

    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        return calendar.start_of_day(today - timedelta(days=days_ago)) + timedelta(hours=hour, minutes=minute)

    member, _, _ = await service.handle(commands.SignInWithWeChat(READER_OPENID, None, None), now=at(340, 9))
    conn = await asyncpg.connect(dsn(database.url))
    try:
        rewards = {row["code"]: row["id"] for row in await conn.fetch("SELECT code, id FROM rewards")}
    finally:
        await conn.close()
    events = [(at(340, 10), commands.UpdateProfile(member.id, nickname="小满", birthday=date(1995, 6, 18),
                                                   gender="FEMALE", household_size=3)),
              (at(340, 11), commands.BindPhone(member.id, "13812345678"))]
    channels = ("MINI_PROGRAM", "APP", "STORE")
    # Two large orders 11 months ago (up to gold: the points of the first, of the signup and of the silver
    # gift lapse within 30 days, pointsExpiringSoon, less what the redemptions below take from them first),
    # then 38 from 58 days ago to 2 days ago: up to diamond, with each upgrade's gift.
    amounts = (128_00, 56_50, 239_00, 88_00, 172_30, 45_90, 310_00)
    orders = [(335, 1_299_00), (330, 860_00)] + [(58 - n * 3 // 2, amounts[n % len(amounts)]) for n in range(38)]
    for n, (days_ago, amount) in enumerate(orders):
        paid_at = at(days_ago, 19, 30)
        events.append((paid_at, commands.RecordOrder(member.id, f"SERVE-BENCH-{n + 1}", amount, 800,
                                                     channels[n % len(channels)], paid_at - timedelta(minutes=5))))
    events += [(at(days_ago, 8), commands.CheckIn(member.id, f"serve-bench-check-in-{days_ago}"))
               for days_ago in range(30, 0, -1)]
    events += [(at(days_ago, 21), commands.RedeemReward(member.id, rewards[code], f"serve-bench-redeem-{days_ago}"))
               for days_ago, code in ((20, "coupon-free-shipping"), (9, "coupon-5-no-threshold"),
                                      (3, "coupon-free-shipping")) if code in rewards]
    for moment, command in sorted(events, key=lambda event: event[0]):
        await service.handle(command, now=moment)


async def downgrade(url: str, revision: str) -> None:
    """HEAD's migrations, down to `revision` (persistence.migrate drives Alembic the same way up)."""
    from alembic import command

    def run(connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    database = Database(url)
    try:
        async with database.transaction() as conn:
            await conn.run_sync(run)
    finally:
        await database.dispose()


async def sign_in(url: str, member_ids: list[int], secret: str) -> list[str]:
    """A live session per member (set-based) and its access token, in the format this schema's code reads:
    with `sessions.token_id` (migration 0005) {"sid": token_id}, before it {"sub": member id, "sid": id}."""
    conn = await asyncpg.connect(dsn(url))
    try:
        token_ids = await conn.fetchval("SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_schema "
                                        "= current_schema() AND table_name = 'sessions' AND column_name = 'token_id')")
        now = datetime.now(timezone.utc)
        created = now.replace(tzinfo=None)
        if token_ids:
            rows = await conn.fetch("INSERT INTO sessions (member_id, created_at, token_id) SELECT id, $2, "
                                    "md5(random()::text || id::text) FROM unnest($1::bigint[]) AS id "
                                    "RETURNING id, member_id, token_id", member_ids, created)
        else:
            rows = await conn.fetch("INSERT INTO sessions (member_id, created_at) SELECT id, $2 "
                                    "FROM unnest($1::bigint[]) AS id RETURNING id, member_id", member_ids, created)
    finally:
        await conn.close()
    times = {"aud": MEMBER_AUDIENCE, "iat": int(now.timestamp()), "exp": int((now + TOKEN_TTL).timestamp())}
    tokens = {}
    for row in rows:
        claims = {"sid": row["token_id"]} if token_ids else {"sub": str(row["member_id"]), "sid": row["id"]}
        tokens[row["member_id"]] = jwt.encode({**claims, **times}, secret, algorithm="HS256")
    return [tokens[m] for m in member_ids]


# --- documents ---------------------------------------------------------------------------------------

def documents(path: Path) -> dict[str, str]:
    """Each operation's text as it stands in the file, then the fragments it uses as they stand, in the order
    first met, separated by a blank line: what the project registers for persisted documents
    (`api.core.documents.operation_documents`, used when there is one)."""
    text = path.read_text(encoding="utf-8")
    try:
        from api.core.documents import operation_documents
    except ImportError:
        pass
    else:
        return operation_documents(text)
    definitions = parse(text).definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}

    def spreads(node, found: dict) -> dict:
        for selection in getattr(getattr(node, "selection_set", None), "selections", None) or ():
            if isinstance(selection, FragmentSpreadNode):
                if selection.name.value not in found:
                    found[selection.name.value] = fragments[selection.name.value]
                    spreads(fragments[selection.name.value], found)
            else:
                spreads(selection, found)
        return found

    return {d.name.value: "\n\n".join(text[p.loc.start:p.loc.end] for p in [d, *spreads(d, {}).values()])
            for d in definitions if isinstance(d, OperationDefinitionNode) and d.name is not None}


def request_body(document: str, name: str, variables: dict, persisted: bool) -> dict:
    if not persisted:
        return {"query": document, "operationName": name, "variables": variables}
    digest = hashlib.sha256(document.encode()).hexdigest()
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, "operationName": name,
            "variables": variables}


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


# --- servers -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def migration_head(ref: str) -> str:
    """The newest revision among `ref`'s migration files: the one no other names as its down_revision."""
    folder = "persistence/migrations/versions"
    revisions, downs = set(), set()
    for path in git("ls-tree", "--name-only", f"{ref}:{folder}").split():
        if path.endswith(".py"):
            source = git("show", f"{ref}:{folder}/{path}")
            revision = re.search(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", source, re.M)
            down = re.search(r"^down_revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", source, re.M)
            if revision:
                revisions.add(revision.group(1))
            if down:
                downs.add(down.group(1))
    heads = revisions - downs
    if len(heads) != 1:
        raise SystemExit(f"{ref}: cannot tell its migration head from {sorted(revisions)}")
    return heads.pop()


@dataclass
class Server:
    label: str                      # project, floor, or the ref's short commit
    kind: str                       # "project", "floor" or "ref"
    database: str
    command: list[str]
    cwd: Path
    persisted: bool = False         # takes persisted documents
    env: dict = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    log: Path | None = None
    reads_token: str = ""
    write_tokens: dict = field(default_factory=dict)   # block → tokens

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, folder: Path) -> None:
        self.port = free_port()
        self.log = folder / f"{self.label}.log"
        with open(self.log, "wb") as log:
            # A process group of its own: stopped whole (uvicorn's workers too), and spared the terminal's Ctrl-C.
            self.process = subprocess.Popen([*self.command, "--port", str(self.port)], cwd=self.cwd, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    async def wait_ready(self, seconds: float = 90) -> None:
        """Until /readyz (or, before it existed, /healthz) answers 200."""
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise SystemExit(f"{self.label} exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    response = await client.get("/readyz")
                    if response.status_code == 404:
                        response = await client.get("/healthz")
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise SystemExit(f"{self.label} not ready after {seconds} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log else ""

    def stop(self) -> None:
        """The whole process group (uvicorn's workers too): SIGTERM, then SIGKILL after 15 s."""
        if self.process is None:
            return
        for sig, seconds in ((signal.SIGTERM, 15), (signal.SIGKILL, None)):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(seconds)
                return
            except ProcessLookupError:  # the group is gone
                return
            except subprocess.TimeoutExpired:
                continue


def server_env(database: str, secret: str, extra: dict | None = None) -> dict:
    """The machine's environment without any LOYALTY_ setting of its own, and the bench's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_") and k != "DATABASE_URL"}
    return {**env, "DATABASE_URL": url_of(database), "LOYALTY_SECRET_KEY": secret, "LOYALTY_RATE_LIMITS": "off",
            "LOYALTY_ENV": "development", **(extra or {})}


# --- wrk ---------------------------------------------------------------------------------------------

async def wrk(url: str, connections: int, threads: int, seconds: int, body: Path, tokens: Path,
              key_prefix: str | None = None) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
               "-s", str(LUA), f"{url}/graphql", "--", str(threads), str(body), str(tokens)]
    process = await asyncio.create_subprocess_exec(*command + ([key_prefix] if key_prefix else []),
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await process.communicate()
    except asyncio.CancelledError:  # Ctrl-C
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    line = next((line for line in out.decode().splitlines() if line.startswith("WRK_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({process.returncode}): {' '.join(command)}\n{out.decode()}\n{err.decode()}")
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    # Each answer falls in one of the Lua script's three counts at most; `exhausted` counts requests that
    # reused a member (a row with any is as wrong as one with failures, whatever those requests answered).
    result["failed"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts",
                                               "non_2xx", "graphql_errors", "user_errors"))
    return result


def trouble(result: dict) -> str:
    """What went wrong in a measurement (or in the sum of several), "" when nothing did."""
    found = [f"{result['failed']} failed"] if result["failed"] else []
    if result["exhausted"]:
        found.append(f"{result['exhausted']} reused a member (raise --write-rate, or --members)")
    return ", ".join(found)


def brief(result: dict) -> str:
    problem = f"  ERR {trouble(result)}" if trouble(result) else ""
    return (f"p50 {result['p50_us'] / 1000:7.2f} ms  p99 {result['p99_us'] / 1000:7.2f} ms  "
            f"{result['rps']:8.1f} req/s{problem}")


def in_round(servers: list, round_no: int) -> list:
    """Round 1 in the given order, round 2 reversed, …: each server goes first as often as the others."""
    return list(servers) if round_no % 2 == 1 else list(reversed(servers))


# --- the run -----------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.settings = Settings.from_env({"LOYALTY_PROGRAM": str(DEFAULT_PROGRAM)})  # the data key servers use
        self.program = load_program(DEFAULT_PROGRAM)
        self.secret = base64.b64encode(os.urandom(36)).decode()
        self.folder = Path(tempfile.mkdtemp(prefix="loyalty-serve-bench-"))
        self.databases: list[str] = []
        self.worktrees: list[Path] = []
        self.servers: list[Server] = []
        self.documents = documents(OPERATIONS_FILE)
        self.results: dict = {"reads": [], "writes": [], "checks": {}}
        self.failed = False

    # set-up

    async def prepare(self) -> None:
        args = self.args
        population = await population_template(args.members, args.lots, self.program, args.reload)
        today = self.program.calendar.local_date(datetime.now(timezone.utc))
        cipher = PersonalDataCipher(self.settings.data_key, self.settings.old_data_keys)
        template = await day_template(population, self.program, cipher, today, args.reload)
        self.results["template"] = {"population": population, "day": template,
                                    "population_built": await description(population)}
        started = time.perf_counter()
        reads, writes = args.only in (None, "reads"), args.only in (None, "writes")
        python = sys.executable
        project = Server("project", "project", self.run_database("project"),
                         [python, "-m", "server.cli", "serve", "--workers", str(args.project_workers)], ROOT,
                         persisted=args.documents == "persisted")
        self.servers.append(project)
        if reads:
            self.servers.append(Server("floor", "floor", self.run_database("floor"),
                                       [python, str(ROOT / "bench" / "floor.py"), "--workers",
                                        str(args.floor_workers or args.project_workers)], ROOT,
                                       persisted=project.persisted))
        if writes or args.ref_reads:
            for ref in args.refs:
                self.servers.append(self.ref_server(ref))
        for server in self.servers:
            await clone(server.database, template)
        for server in self.servers:
            if server.kind == "ref":
                revision = migration_head(server.label)
                if revision != head_revision():
                    await downgrade(url_of(server.database), revision)
        await self.choose_members()
        for server in self.servers:
            server.env = server_env(server.database, self.secret, server.env)
            members = [self.reader] + (self.eligible if server.kind != "floor" else [])
            tokens = await sign_in(url_of(server.database), members, self.secret)
            server.reads_token = tokens[0]
            if server.kind != "floor":
                position = 1
                for block, size in self.blocks:
                    server.write_tokens[block] = tokens[position:position + size]
                    position += size
        print(f"databases: {', '.join(self.databases)} cloned, sessions and tokens made in "
              f"{time.perf_counter() - started:.1f} s")

    def run_database(self, label: str) -> str:
        name = f"loyalty_bench_run_{os.getpid()}_{label}"
        self.databases.append(name)
        return name

    def ref_server(self, ref: str) -> Server:
        commit = git("rev-parse", "--short", f"{ref}^{{commit}}")
        tree = self.folder / f"ref-{commit}"
        git("worktree", "add", "--detach", str(tree), commit)
        self.worktrees.append(tree)
        cli = "server.cli" if (tree / "server" / "cli.py").exists() else "api.cli"
        # Its own packages first (this venv's editable install points at the working tree).
        env = {"PYTHONPATH": str(tree)}
        found = subprocess.run([sys.executable, "-c", f"import {cli}; print({cli}.__file__)"], cwd=tree,
                               env={**os.environ, **env}, capture_output=True, text=True).stdout.strip()
        if not found.startswith(str(tree)):
            raise SystemExit(f"{ref}: {cli} is imported from {found or 'nowhere'}, not from its worktree {tree}")
        return Server(commit, "ref", self.run_database(f"ref_{commit}"), [sys.executable, "-m", cli, "serve"], tree,
                      env=env)

    async def choose_members(self) -> None:
        """The reads' member, the reward to redeem, and the write members: those whose unexpired points cover
        the reward, in blocks of `--write-rate` × seconds, the same blocks on every server."""
        args = self.args
        conn = await asyncpg.connect(dsn(url_of(self.servers[0].database)))
        try:
            self.reader = await conn.fetchval("SELECT member_id FROM wechat_identities WHERE openid = $1",
                                              READER_OPENID)
            reward = await conn.fetchrow("SELECT id, name, points_cost, stock FROM rewards WHERE active AND "
                                         "min_tier_level <= 1 ORDER BY stock IS NOT NULL, points_cost, id LIMIT 1")
            now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
            eligible = [row[0] for row in await conn.fetch(
                "SELECT member_id FROM points_lots WHERE remaining > 0 AND expires_at >= $1 AND member_id <> $3 "
                "GROUP BY member_id HAVING sum(remaining) >= $2 ORDER BY member_id", now, reward["points_cost"],
                self.reader)]
        finally:
            await conn.close()
        self.reward = dict(reward)
        self.reward_note = "unlimited stock"
        if reward["stock"] is not None:
            self.reward_note = f"stock raised from {reward['stock']} to 10,000,000 in the bench databases"
            for server in self.servers:
                await admin_in(server.database, "UPDATE rewards SET stock = 10000000 WHERE id = $1", reward["id"])
        # Blocks: one member per operation for the check, then per round and operation a warm-up's and a run's.
        self.blocks: list[tuple[tuple, int]] = [(("check", op), 1) for op in WRITES]
        seconds = args.rounds * len(WRITES) * (WARM_UP_SECONDS + args.duration)
        self.write_rate = min(args.write_rate, (len(eligible) - len(WRITES)) // seconds)
        if args.only in (None, "writes"):
            if self.write_rate < 1:
                raise SystemExit(f"too few members for the writes: {len(eligible)} can redeem {reward['name']}")
            if self.write_rate < args.write_rate:
                print(f"writes: --write-rate {args.write_rate} needs more members than the population has: "
                      f"{self.write_rate} per second")
            for round_no in range(1, args.rounds + 1):
                for op in WRITES:
                    self.blocks.append(((round_no, op, "warm-up"), self.write_rate * WARM_UP_SECONDS))
                    self.blocks.append(((round_no, op, "run"), self.write_rate * args.duration))
        needed = sum(size for _, size in self.blocks)
        self.eligible = eligible[:needed]
        self.results["members"] = {"reader": self.reader, "eligible": len(eligible), "write_members": needed,
                                   "write_rate": self.write_rate, "reward": {**self.reward, "note": self.reward_note}}

    async def start_servers(self) -> None:
        started = time.perf_counter()
        for server in self.servers:
            server.start(self.folder)
        for server in self.servers:
            await server.wait_ready()
        print("servers: " + ", ".join(f"{s.label} :{s.port}" for s in self.servers)
              + f", ready in {time.perf_counter() - started:.1f} s")

    # requests

    def body_for(self, server: Server, name: str, variables: dict) -> dict:
        return request_body(self.documents[name], name, variables, server.persisted)

    async def post(self, server: Server, body: dict, token: str) -> dict:
        """One request, as wrk will send it; a persisted document the server does not know yet is registered
        first, the APQ way (the same request with its query)."""
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            response = await client.post("/graphql", json=body, headers=headers)
            answer = response.json()
            if "query" not in body and "PersistedQueryNotFound" in json.dumps(answer.get("errors")):
                full = {**body, "query": self.documents[body["operationName"]]}
                registered = (await client.post("/graphql", json=full, headers=headers)).json()
                if registered.get("errors"):
                    return registered
                response = await client.post("/graphql", json=body, headers=headers)
                answer = response.json()
        if response.status_code != 200:
            answer.setdefault("errors", [f"HTTP {response.status_code}"])
        return answer

    async def check_reads(self, servers: list[Server]) -> None:
        """Each operation once from every server: no errors, and the floor's (and a ref's) `data` the project's."""
        project = servers[0]
        for name, variables in READS.items():
            answers = {s.label: await self.post(s, self.body_for(s, name, variables), s.reads_token) for s in servers}
            for label, answer in answers.items():
                if answer.get("errors") or not answer.get("data"):
                    raise SystemExit(f"{name} from {label}: {json.dumps(answer, ensure_ascii=False)[:2000]}")
            for server in servers[1:]:
                differences = diff(answers[project.label]["data"], answers[server.label]["data"])
                if differences and server.kind == "floor":
                    raise SystemExit(f"{name}: the floor's data differs from the project's:\n  "
                                     + "\n  ".join(differences[:30]))
                if differences:
                    print(f"note: {name} from {server.label} differs from the project's: {differences[:5]}")
            self.results["checks"][name] = answers[project.label]["data"]
        print(f"reads checked: the floor answers the same data as the project for {', '.join(READS)}")

    async def check_writes(self, servers: list[Server]) -> None:
        for server in servers:
            for op in WRITES:
                body = json.loads(self.write_body(server, op).read_text().replace(KEY_PLACEHOLDER, f"check-{op}"))
                answer = await self.post(server, body, server.write_tokens[("check", op)][0])
                payload = (answer.get("data") or {}).get(op[0].lower() + op[1:]) or {}
                if answer.get("errors") or payload.get("userErrors") != []:
                    raise SystemExit(f"{op} on {server.label}: {json.dumps(answer, ensure_ascii=False)[:2000]}")
        print(f"writes checked: {' and '.join(WRITES)} succeed on {', '.join(s.label for s in servers)}")

    def read_files(self, server: Server, name: str) -> tuple[Path, Path]:
        body = self.folder / f"{server.label}-{name}.json"
        if not body.exists():
            body.write_text(json.dumps(self.body_for(server, name, READS[name]), ensure_ascii=False))
        tokens = self.folder / f"{server.label}-reads.tokens"
        if not tokens.exists():
            tokens.write_text(server.reads_token + "\n")
        return body, tokens

    def write_body(self, server: Server, op: str) -> Path:
        body = self.folder / f"{server.label}-{op}.json"
        if not body.exists():
            variables = {"idempotencyKey": KEY_PLACEHOLDER}
            if op == "RedeemReward":
                variables["rewardId"] = global_id("Reward", self.reward["id"])
            body.write_text(json.dumps(self.body_for(server, op, variables), ensure_ascii=False))
        return body

    def token_file(self, server: Server, block: tuple) -> Path:
        path = self.folder / f"{server.label}-{'-'.join(map(str, block))}.tokens"
        path.write_text("\n".join(server.write_tokens[block]) + "\n")
        return path

    # measurements

    async def measure_reads(self, servers: list[Server]) -> None:
        args = self.args
        for round_no in range(1, args.rounds + 1):
            for name in READS:
                for connections, threads in READ_LOADS:
                    for server in in_round(servers, round_no):
                        body, tokens = self.read_files(server, name)
                        await wrk(server.url, connections, threads, WARM_UP_SECONDS, body, tokens)
                        result = await wrk(server.url, connections, threads, args.duration, body, tokens)
                        self.results["reads"].append({"round": round_no, "operation": name, "connections": connections,
                                                      "server": server.label, **result})
                        print(f"  round {round_no} {name:<13} c{connections:<3} {server.label:<8} {brief(result)}",
                              flush=True)

    async def measure_writes(self, servers: list[Server]) -> None:
        args = self.args
        connections, threads = WRITE_LOAD
        for round_no in range(1, args.rounds + 1):
            for op in WRITES:
                for server in in_round(servers, round_no):
                    body = self.write_body(server, op)
                    runs = {}
                    for phase, seconds in (("warm-up", WARM_UP_SECONDS), ("run", args.duration)):
                        block = (round_no, op, phase)
                        runs[phase] = await wrk(server.url, connections, threads, seconds, body,
                                                self.token_file(server, block), f"r{round_no}{phase[0]}")
                    result = runs["run"]
                    self.results["writes"].append({"round": round_no, "operation": op, "connections": connections,
                                                   "server": server.label, "warm_up": runs["warm-up"], **result})
                    warm = runs["warm-up"]
                    note = f"  (warm-up: {trouble(warm)})" if trouble(warm) else ""
                    print(f"  round {round_no} {op:<13} c{connections:<3} {server.label:<8} {brief(result)}{note}",
                          flush=True)

    async def verify(self, servers: list[Server]) -> None:
        """`loyalty verify` on every database written to, and the rows written against the answers that said so."""
        for server in servers:
            if server.kind == "project":
                database = Database(url_of(server.database))
                try:
                    async with database.read_engine.connect() as conn:
                        found = await find_discrepancies(conn)
                finally:
                    await database.dispose()
                verdict = f"{len(found)} discrepancies" + "".join(f"\n    member {d.member_id}: {d.check}: expected "
                                                                  f"{d.expected}, found {d.found}" for d in found[:10])
                ok = not found
            else:
                cli = server.command[2]
                done = subprocess.run([sys.executable, "-m", cli, "verify"], cwd=server.cwd, env=server.env,
                                      capture_output=True, text=True)
                ok = done.returncode == 0
                verdict = (done.stdout.strip().splitlines() or [done.stderr.strip()])[-1].removeprefix("verify: ")
            conn = await asyncpg.connect(dsn(url_of(server.database)))
            try:
                check_ins = await conn.fetchval("SELECT count(*) FROM check_ins WHERE member_id = ANY($1::bigint[])",
                                                self.eligible)
                redemptions = await conn.fetchval("SELECT count(*) FROM redemptions WHERE member_id = ANY($1::bigint[])"
                                                  " AND reward_id = $2", self.eligible, self.reward["id"])
            finally:
                await conn.close()
            answered = {op: 1 for op in WRITES}  # the check's request
            for r in self.results["writes"]:
                if r["server"] == server.label:
                    answered[r["operation"]] += r["requests"] - r["failed"] + r["warm_up"]["requests"] \
                        - r["warm_up"]["failed"]
            self.results["checks"][f"verify {server.label}"] = {"ok": ok, "verdict": verdict, "check_ins": check_ins,
                                                                "redemptions": redemptions, "answered": answered}
            self.failed |= not ok
            print(f"verify {server.label}: {verdict}; rows written: {check_ins:,} check-ins for {answered['CheckIn']:,}"
                  f" successful CheckIn answers, {redemptions:,} redemptions for {answered['RedeemReward']:,} "
                  "successful RedeemReward answers (requests cut off at the end may be answered after wrk stops)")

    async def run(self) -> None:
        args = self.args
        await self.prepare()
        await self.start_servers()
        reads = [s for s in self.servers if s.kind in ("project", "floor") or (args.ref_reads and s.kind == "ref")]
        writes = [s for s in self.servers if s.kind in ("project", "ref")]
        if args.only in (None, "reads"):
            await self.check_reads(reads)
        if args.only in (None, "writes"):
            await self.check_writes(writes)
        if args.only in (None, "reads"):
            print(f"reads: {args.rounds} round(s) of {args.duration} s per row after {WARM_UP_SECONDS} s of warm-up")
            await self.measure_reads(reads)
        if args.only in (None, "writes"):
            print(f"writes: RedeemReward redeems {self.reward['name']} ({self.reward['points_cost']} points, "
                  f"{self.reward_note}); {len(self.eligible):,} members signed in on each of "
                  f"{', '.join(s.label for s in writes)}")
            await self.measure_writes(writes)
            # Requests answered per block against its members: wrk sends at most `connections` more than it counts.
            blocks = dict(self.blocks)
            run_block, warm_block = blocks[(1, WRITES[0], "run")], blocks[(1, WRITES[0], "warm-up")]
            used = max(r["requests"] for r in self.results["writes"])
            used_warm = max(r["warm_up"]["requests"] for r in self.results["writes"])
            print(f"members: at most {used:,} of a run's {run_block:,} and {used_warm:,} of a warm-up's {warm_block:,} "
                  f"were used ({self.write_rate} a second)")
            await self.verify(writes)

    def cleanup(self) -> None:
        for server in self.servers:
            server.stop()
        if not self.args.keep:
            for name in self.databases:
                try:
                    asyncio.run(drop(name))
                except Exception as exc:  # noqa: BLE001 - the rest still gets cleaned up
                    print(f"could not drop {name}: {exc}", file=sys.stderr)
        elif self.databases:
            print("databases kept: " + ", ".join(self.databases))
        for tree in self.worktrees:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)
        if self.failed or self.args.keep:
            print(f"logs and request files kept in {self.folder}")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


async def admin_in(database: str, statement: str, *arguments) -> None:
    conn = await asyncpg.connect(dsn(url_of(database)))
    try:
        await conn.execute(statement, *arguments)
    finally:
        await conn.close()


def diff(a, b, path: str = "data") -> list[str]:
    """Where two parsed JSON values differ, one line per place."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [line for key in sorted(set(a) | set(b), key=str)
                for line in diff(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}.{key}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items, {len(b)} items"]
        return [line for i, (x, y) in enumerate(zip(a, b)) for line in diff(x, y, f"{path}[{i}]")]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} ≠ {b!r}"]


# --- the report --------------------------------------------------------------------------------------

def medians(rows: list[dict]) -> dict:
    return {"p50_ms": statistics.median(r["p50_us"] for r in rows) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in rows) / 1000,
            "rps": statistics.median(r["rps"] for r in rows), "failed": sum(r["failed"] for r in rows),
            "exhausted": sum(r["exhausted"] for r in rows), "rounds": len(rows)}


def cells(m: dict) -> list[str]:
    if trouble(m):
        return [f"ERR ({trouble(m)})", "", ""]
    return [f"{m['p50_ms']:.2f}", f"{m['p99_ms']:.2f}", f"{m['rps']:.0f}"]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else ""


def compare(results: list[dict], other: str, operations, loads: list[int],
            floor: bool) -> tuple[list[list[str]], list[dict]]:
    """Table rows of the project at HEAD against `other`: the medians over rounds, and two ratios. Against
    the floor: project p50 / floor p50 and floor req/s / project req/s (how many times the floor does
    better); against an older commit: HEAD p50 / ref p50 and HEAD req/s / ref req/s (req/s above 1: HEAD
    serves more)."""
    rows, summary = [], []
    for name in operations:
        for connections in loads:
            picked = {label: [r for r in results if r["operation"] == name and r["connections"] == connections
                              and r["server"] == label] for label in ("project", other)}
            if not picked["project"] or not picked[other]:
                continue
            a, b = medians(picked["project"]), medians(picked[other])
            ratios = ["", ""]
            if not trouble(a) and not trouble(b):
                ratios = [ratio(a["p50_ms"], b["p50_ms"]),
                          ratio(b["rps"], a["rps"]) if floor else ratio(a["rps"], b["rps"])]
            rows.append([name, str(connections), *cells(a), *cells(b), *ratios])
            summary.append({"operation": name, "connections": connections, "project": a, other: b})
    return rows, summary


def report(bench: Bench, started: float) -> None:
    args, results = bench.args, bench.results
    results["summary"] = {}
    for server in bench.servers:
        if server.kind == "project":
            continue
        floor = server.kind == "floor"
        other = server.label
        for kind, operations, loads in (("reads", READS, [c for c, _ in READ_LOADS]),
                                        ("writes", WRITES, [WRITE_LOAD[0]])):
            rows, summary = compare(results[kind], other, operations, loads, floor)
            if not rows:
                continue
            title = f"{kind}: the project at HEAD against " + ("the floor" if floor else f"{other} (older commit)")
            ratios = (["p50 project/floor", "req/s floor/project"] if floor
                      else [f"p50 HEAD/{other}", f"req/s HEAD/{other}"])
            print(f"\n### {title}\n")
            print(table(["operation", "conns", "project p50 ms", "project p99 ms", "project req/s", f"{other} p50 ms",
                         f"{other} p99 ms", f"{other} req/s", *ratios], rows))
            results["summary"][title] = summary
    if results["writes"] and not any(server.kind == "ref" for server in bench.servers):
        rows = [[name, str(WRITE_LOAD[0]), *cells(medians([r for r in results["writes"] if r["operation"] == name]))]
                for name in WRITES]
        print("\n### writes: the project at HEAD (no --ref to compare with)\n")
        print(table(["operation", "conns", "project p50 ms", "project p99 ms", "project req/s"], rows))
    results["wall_s"] = time.perf_counter() - started
    path = Path(args.out or f"/tmp/serve-{datetime.now():%Y%m%d-%H%M%S}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(f"\nwall time {results['wall_s'] / 60:.1f} min; raw results in {path}")


def machine(bench: Bench) -> dict:
    try:
        from server.cli import UVICORN_SETTINGS
    except ImportError:
        UVICORN_SETTINGS = {"log_config": None, "access_log": False}
    args = bench.args
    pg = asyncio.run(admin("SHOW server_version"))[0][0]
    found = {"cores": os.cpu_count(), "python": platform.python_version(), "postgresql": pg,
             "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0].strip(),
             "uvicorn": {k: v for k, v in UVICORN_SETTINGS.items()}, "pinning": "none",
             "project_workers": args.project_workers, "floor_workers": args.floor_workers or args.project_workers,
             "documents": args.documents, "members": args.members, "lots_per_member": args.lots,
             "duration_s": args.duration, "warm_up_s": WARM_UP_SECONDS, "rounds": args.rounds, "refs": args.refs,
             "write_rate": args.write_rate}
    print(f"machine: {found['cores']} cores, Python {found['python']}, PostgreSQL {pg}, {found['wrk']}; no CPU pinning "
          f"(servers, PostgreSQL and wrk share the cores); load average {os.getloadavg()[0]:.2f} before the run")
    print(f"settings: uvicorn {found['uvicorn']} for the project and the floor; project workers "
          f"{found['project_workers']}, floor workers {found['floor_workers']}; documents {args.documents} (refs: "
          f"full); {args.members:,} members × {args.lots} lots; {args.rounds} round(s) × {args.duration} s after "
          f"{WARM_UP_SECONDS} s of warm-up; refs {', '.join(args.refs) or 'none'}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, help=f"population (default {DEFAULTS['members']:,})")
    parser.add_argument("--lots", type=int, default=10, help="points lots per member (default 10)")
    parser.add_argument("--duration", type=int, help=f"seconds per measurement (default {DEFAULTS['duration']})")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {DEFAULTS['rounds']})")
    parser.add_argument("--ref", action="append", dest="refs", help="an older commit to compare writes with "
                        "(repeatable; default f3c7ce7; 'none' for none)")
    parser.add_argument("--ref-reads", action="store_true", help="measure the refs' reads too")
    parser.add_argument("--only", choices=("reads", "writes"))
    parser.add_argument("--project-workers", type=int, default=1, help="the project's `serve --workers` (default 1)")
    parser.add_argument("--floor-workers", type=int, help="the floor's uvicorn workers (default: the project's)")
    parser.add_argument("--documents", choices=("full", "persisted"), default="full",
                        help="request bodies for the project at HEAD (default full)")
    parser.add_argument("--write-rate", type=int, default=2000,
                        help="write requests per second the members of a block are enough for (default 2000, or "
                             "what the population allows)")
    parser.add_argument("--reload", action="store_true", help="load the template databases again")
    parser.add_argument("--keep", action="store_true", help="keep the run's databases, logs and request files")
    parser.add_argument("--quick", action="store_true", help="20,000 members, 3 s, 1 round: for trying changes")
    parser.add_argument("--out", help="JSON file for the raw results (default /tmp/serve-<timestamp>.json)")
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.refs = [ref for ref in dict.fromkeys(args.refs or ["f3c7ce7"]) if ref.lower() != "none"]
    if args.members < 1 or args.lots < 1 or args.duration <= 0 or args.rounds < 1:
        parser.error("--members, --lots, --duration and --rounds must be positive")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    started = time.perf_counter()
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as after Ctrl-C
    try:
        bench.results["machine"] = machine(bench)
        asyncio.run(bench.run())
        report(bench, started)
    except KeyboardInterrupt:
        bench.failed = True
        print("interrupted: cleaning up", file=sys.stderr)
    except BaseException:
        bench.failed = True
        raise
    finally:
        bench.cleanup()
    measured = bench.results["reads"] + bench.results["writes"]
    sys.exit(1 if bench.failed or any(trouble(r) or trouble(r.get("warm_up", r)) for r in measured) else 0)


if __name__ == "__main__":
    main()
