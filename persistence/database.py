"""Engines and connections.

SQLite: WAL, foreign keys, a busy timeout, and pysqlite's own transaction handling switched off so
that write transactions start with BEGIN IMMEDIATE (SQLAlchemy's documented recipe): without it,
concurrent read-modify-write loses updates. Reads use a second engine and no transaction at all.
PostgreSQL: one pool; write paths lock the member row with SELECT … FOR UPDATE; reads run in
autocommit (no BEGIN/ROLLBACK, never "idle in transaction"). API sessions get `statement_timeout`,
`lock_timeout` and `idle_in_transaction_session_timeout` (`DatabaseSettings`).

A request holds at most one pooled connection at a time, and never waits for a connection while it
holds one (see `Reader`): a request that held its read connection while it waited for a second one
for its write deadlocked the pool under load (25 simultaneous check-ins, pool 10 + 10).
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SqlTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///var/loyalty.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class DatabaseSettings:
    """The pool, and how long a PostgreSQL statement, lock wait or idle transaction may last (None: no
    limit, as for migrations, jobs and the CLI)."""

    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout_seconds: float = 10.0
    statement_timeout_ms: int | None = None
    lock_timeout_ms: int | None = None
    idle_in_transaction_timeout_ms: int | None = None

    def server_settings(self) -> dict[str, str]:
        limits = {"statement_timeout": self.statement_timeout_ms, "lock_timeout": self.lock_timeout_ms,
                  "idle_in_transaction_session_timeout": self.idle_in_transaction_timeout_ms}
        return {name: str(value) for name, value in limits.items() if value is not None}


def sqlite_engine(url: str, begin: str | None, foreign_keys: bool = True) -> AsyncEngine:
    """`begin`: the statement that opens a transaction, None for an engine that only reads, each statement
    on its own. `foreign_keys=False` only for migrations: SQLite rebuilds a table to alter it (Alembic's
    batch mode), and dropping the old table would trip the keys that point at it; `persistence.migrate`
    checks every key afterwards instead."""
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", f"foreign_keys={'ON' if foreign_keys else 'OFF'}",
                       f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    if begin is not None:
        @event.listens_for(engine.sync_engine, "begin")
        def on_begin(connection):
            connection.exec_driver_sql(begin)

    return engine


class Database:
    """The write and read engines of one database URL."""

    def __init__(self, url: str = DEFAULT_URL, settings: DatabaseSettings = DatabaseSettings()):
        self.url = url
        self.settings = settings
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.write_engine = sqlite_engine(url, "BEGIN IMMEDIATE")
            self.read_engine = sqlite_engine(url, None)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=settings.pool_size, max_overflow=settings.max_overflow,
                pool_timeout=settings.pool_timeout_seconds, pool_pre_ping=True,
                connect_args={"server_settings": settings.server_settings()})
            self.read_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def capacity(self) -> int:
        """Connections the pool may open (PostgreSQL; 0 for SQLite, whose connections are files)."""
        return 0 if self.is_sqlite else self.settings.pool_size + self.settings.max_overflow

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """The engines that own a pool (on PostgreSQL the read engine is the write engine's, with other
        options; its events are the write engine's)."""
        return (self.write_engine, self.read_engine) if self.is_sqlite else (self.write_engine,)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an error."""
        async with self.write_engine.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


class Reader:
    """A request's reads, and the one pooled connection the request holds at a time.

    Reads run on one connection, taken when the first is needed, outside any transaction. A write
    (`released()`) first gives that connection back to the pool, and the request's reads wait until
    the write is done; so does a call to another service (WeChat), which may take seconds. So a
    request never holds one connection while it waits for another, and the pool cannot deadlock
    however small it is. aiodataloader dispatches batches as concurrent tasks and one connection
    must not serve two at once, so every read takes the lock."""

    def __init__(self, database: Database):
        self._database = database
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._writer: asyncio.Task | None = None
        self._closed = False

    async def execute(self, statement):
        if self._writer is not None and self._writer is asyncio.current_task():
            raise RuntimeError("a read inside this request's own write would wait for itself: read through the uow")
        async with self._lock:
            if self._closed:  # a resolver left running after its request was answered (graphql-core does that
                raise RequestOver()  # when a sibling field fails): it must not take a connection nobody returns
            if self._conn is None:
                self._conn = await self._database.read_engine.connect()
            # Cut off mid-statement (the request's time limit), SQLAlchemy invalidates the connection: the
            # pool never hands out one whose driver is still busy.
            return await self._conn.execute(statement)

    @asynccontextmanager
    async def released(self) -> AsyncIterator[None]:
        """The block runs holding no read connection, and no read of this request runs meanwhile."""
        async with self._lock:
            await self._release()
            self._writer = asyncio.current_task()
            try:
                yield
            finally:
                self._writer = None

    async def close(self) -> None:
        """At the end of the request: waits for a read still running, so that its connection goes back to
        the pool idle. A write cut off by the request's time limit may still be finishing: it holds no read
        connection, and is not waited for."""
        self._closed = True
        if self._writer is None:
            async with self._lock:
                await self._release()

    async def _release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


async def ping(reader: Reader) -> None:
    """A statement that needs nothing but a connection."""
    await reader.execute(text("SELECT 1"))


class RequestOver(Exception):
    """A read asked for after its request was answered."""


def is_unavailable(exc: BaseException) -> bool:
    """The database could not serve in time, through no fault of the request: no pooled connection
    came free, a lock or statement outlasted its PostgreSQL timeout, or the connection dropped. The
    request may be retried (with its idempotency key, it cannot apply twice)."""
    if isinstance(exc, SqlTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        text = str(exc.orig).lower()
        return any(s in text for s in ("canceling statement due to", "lock timeout", "statement timeout",
                                       "terminating connection", "connection is closed", "database is locked"))
    return isinstance(exc, (ConnectionError, OSError))
