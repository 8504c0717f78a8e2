"""Test harness: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: a fresh database per run on LOYALTY_TEST_POSTGRES (default 127.0.0.1:5432, trust
auth, reached through the `test` database), dropped afterwards. Unreachable, it is skipped,
except with CI=true, where that fails the run. Each test starts from an empty database holding
only the program's catalog.
"""
from __future__ import annotations

import base64
import os
import secrets
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, event, text
from sqlalchemy.ext.asyncio import create_async_engine

from api.core.auth import new_api_key
from api.core.documents import operation_documents
from domain import commands
from domain.access import ALL_SCOPES
from domain.program import Program, load_program
from domain.service import Service
from persistence.catalog import sync_program
from persistence.database import Database
from persistence.integrity import find_discrepancies
from persistence.migrate import upgrade
from persistence.tables import catalog_version, metadata
from persistence.unit_of_work import SqlUnitOfWork
from server.app import create_app
from server.passwords import Argon2PasswordHasher
from server.services import Services
from server.settings import Settings
from server.wechat import DevelopmentWeChat

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "operations"  # what the clients send, the contract's operations among them
PROGRAMS = {"standard": ROOT / "programs" / "standard.toml", "fresh-grocery": ROOT / "programs" / "fresh-grocery.toml"}
POSTGRES_ADMIN = os.environ.get("LOYALTY_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("LOYALTY_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def pytest_configure(config):
    config.addinivalue_line("markers", "program(name): run the test under another program file")


@pytest.fixture(scope="session")
def programs() -> dict[str, Program]:
    return {name: load_program(path) for name, path in PROGRAMS.items()}


async def _create_postgres_database() -> str:
    admin = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"loyalty_test_{secrets.token_hex(4)}"
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


async def _drop_postgres_database(url: str) -> None:
    admin = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def new_database(backend: str, folder: Path) -> AsyncIterator[Database]:
    """An empty database of `backend`: a SQLite file in `folder`, or a new PostgreSQL database dropped
    afterwards (skipped when PostgreSQL is unreachable, except with CI=true, where that fails)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'loyalty.db'}"
    else:
        try:
            url = await _create_postgres_database()
        except Exception as exc:  # noqa: BLE001 - any connection failure means no PostgreSQL here
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL is required in CI and is unreachable: {exc}")
            pytest.skip(f"PostgreSQL unreachable: {exc}")
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
        if backend == "postgresql":
            await _drop_postgres_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
async def migrated_database(request, tmp_path_factory, programs):
    """One migrated database per backend for the whole run."""
    async with new_database(request.param, tmp_path_factory.mktemp("sqlite")) as database:
        await upgrade(database, programs["standard"])
        yield database


@pytest.fixture(params=BACKENDS)
async def empty_database(request, tmp_path):
    """A database of its own with no table at all, for tests of the migrations themselves."""
    async with new_database(request.param, tmp_path) as database:
        yield database


BOTH_PROGRAMS = pytest.mark.parametrize("program", list(PROGRAMS), indirect=True)


@pytest.fixture
def program(request, programs) -> Program:
    """The standard program; `@pytest.mark.program(name)` picks another, `@BOTH_PROGRAMS` runs under each."""
    marker = request.node.get_closest_marker("program")
    return programs[getattr(request, "param", None) or (marker.args[0] if marker else "standard")]


@pytest.fixture
async def database(migrated_database, program) -> Database:
    """The run's database, emptied, holding only `program`'s catalog. When the test ends, every
    member's balances must still agree with their ledgers (`loyalty verify`)."""
    async with migrated_database.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            if table is not catalog_version:  # a counter that only goes up: held catalogs compare with it
                await conn.execute(delete(table))
        await sync_program(conn, program)
    yield migrated_database
    async with migrated_database.read_engine.connect() as conn:
        assert await find_discrepancies(conn) == []


@dataclass
class StatementCounter:
    count: int = 0


@contextmanager
def counting_statements(database: Database):
    """Counts the SQL statements sent to `database` inside the block."""
    counter = StatementCounter()

    def count(*_args, **_kwargs):
        counter.count += 1

    engines = database.engines
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", count)


def _operations() -> str:
    return "\n".join(p.read_text() for p in sorted(OPERATIONS.glob("*.graphql")))


LOGIN = """
mutation LoginWithWeChat($code: String!) {
  loginWithWeChat(input: { code: $code }) {
    accessToken expiresAt refreshToken member { id memberNo } userErrors { field message code retryAfter }
  }
}
"""


class GraphQLClient:
    """The API over HTTP (a real ASGI app through httpx), with the contract's operations by name."""

    def __init__(self, http: httpx.AsyncClient):
        self.http = http
        self.operations = _operations()
        self.documents = {name: text for path in sorted(OPERATIONS.glob("*.graphql"))
                          for name, text in operation_documents(path.read_text(encoding="utf-8")).items()}
        self.api_key: str | None = None

    async def post(self, query: str, variables: dict | None = None, *, token: str | None = None,
                   api_key: str | None = None, now: datetime | str | None = None,
                   operation_name: str | None = None, headers: dict | None = None) -> httpx.Response:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if api_key:
            headers["X-API-Key"] = api_key
        if now is not None:
            headers["X-Loyalty-Now"] = now if isinstance(now, str) else now.isoformat()
        body = {"query": query, "variables": variables or {}}
        if operation_name:
            body["operationName"] = operation_name
        return await self.http.post("/graphql", json=body, headers=headers)

    async def execute(self, query: str, variables: dict | None = None, **kw) -> dict:
        response = await self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    async def op(self, name: str, variables: dict | None = None, **kw) -> dict:
        """A contract operation, sent as a client sends it (its own document: the server runs it by its
        compiled plan, `api.core.plans`); returns the whole JSON answer."""
        return await self.execute(self.documents[name], variables, operation_name=name, **kw)

    async def data(self, name: str, variables: dict | None = None, **kw) -> dict:
        """A contract operation that must not fail at the GraphQL level."""
        result = await self.op(name, variables, **kw)
        assert "errors" not in result, result
        return result["data"]

    async def login(self, code: str, **kw) -> tuple[str, str]:
        """(access token, member global ID) for a WeChat code through the development stand-in."""
        payload = await self.sign_in(code, **kw)
        return payload["accessToken"], payload["member"]["id"]

    async def sign_in(self, code: str, **kw) -> dict:
        """The whole loginWithWeChat payload (with the refresh token)."""
        data = await self.execute(LOGIN, {"code": code}, **kw)
        assert "errors" not in data, data
        payload = data["data"]["loginWithWeChat"]
        assert payload["userErrors"] == [], payload
        return payload

    async def integration(self, name: str, variables: dict, **kw) -> dict:
        return await self.data(name, variables, api_key=self.api_key, **kw)


TEST_ENV = {"LOYALTY_ENV": "test", "LOYALTY_SECRET_KEY": "test-secret-key-of-sufficient-length"}


def production_env(**more: str) -> dict[str, str]:
    """What production needs to start: keys of its own, made now (a key written in the repository is
    refused), and WeChat credentials."""
    return {"LOYALTY_ENV": "production", "LOYALTY_SECRET_KEY": secrets.token_urlsafe(48),
            "LOYALTY_DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "LOYALTY_WECHAT_APPID": "wx-production", "LOYALTY_WECHAT_SECRET": secrets.token_hex(16),
            "DATABASE_URL": "sqlite+aiosqlite:///production-settings-only.db", **more}


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env(TEST_ENV)


@pytest.fixture
def services(settings, program, database) -> Services:
    return Services(settings=settings, program=program, database=database, wechat=DevelopmentWeChat())


@asynccontextmanager
async def client_for(services: Services, database) -> AsyncIterator[GraphQLClient]:
    """The API of `services` over HTTP, with an integration key of every scope."""
    app = create_app(services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty.test") as http:
        client = GraphQLClient(http)
        client.api_key = await add_api_key(database, "tests", [s.value for s in ALL_SCOPES])
        yield client


@pytest.fixture
async def api(services, database) -> GraphQLClient:
    async with client_for(services, database) as client:
        yield client


@pytest.fixture
def api_with(program, database):
    """Another instance of the API: `api_with(LOYALTY_RATE_LIMITS="...", wechat=..., sms=...)`, settings on
    top of the tests' own."""
    def make(wechat=None, sms=None, **env):
        settings = Settings.from_env({**TEST_ENV, **env})
        services = Services(settings, program, database, wechat or DevelopmentWeChat(),
                            **({"sms": sms} if sms is not None else {}))
        return client_for(services, database)
    return make


def service_for(database, program: Program | None = None) -> Service:
    """The service layer over `database`, as the CLI builds it: writes made outside a request."""
    return Service(program or load_program(PROGRAMS["standard"]), lambda: SqlUnitOfWork(database),
                   passwords=Argon2PasswordHasher())


async def add_api_key(database, name: str, scopes: list[str]) -> str:
    """A new integration key with these scopes, as `loyalty apikey create` makes one."""
    key, key_hash = new_api_key()
    await service_for(database).handle(commands.CreateApiKey(name, tuple(scopes), key_hash, key[:10]))
    return key
