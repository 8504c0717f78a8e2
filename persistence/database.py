"""Engines and connections.

SQLite: WAL, foreign keys, a busy timeout, and pysqlite's own transaction handling switched off so
that write transactions start with BEGIN IMMEDIATE (SQLAlchemy's documented recipe): without it,
concurrent read-modify-write loses updates. Reads use a second engine and no transaction at all.
PostgreSQL: one pool; write paths lock the member row with SELECT … FOR UPDATE; reads run in
autocommit (no BEGIN/ROLLBACK, never "idle in transaction"). The API's pool has no pre-ping (a round
trip per checkout): a read whose pooled connection turns out dead (the server restarted, a proxy cut
it) runs again on another, as many times as the pool has connections; a write fails with 503 and is
retried by its caller with its idempotency key. API sessions get `statement_timeout`,
`lock_timeout` and `idle_in_transaction_session_timeout` (`DatabaseSettings`).

A request holds at most one pooled connection at a time, and never waits for a connection while it
holds one (see `Reader`): a request that held its read connection while it waited for a second one
for its write deadlocked the pool under load (25 simultaneous check-ins, pool 10 + 10).
"""
from __future__ import annotations

import asyncio
import re
from collections import namedtuple
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

import asyncpg
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
    # A round trip per checkout to find a dead connection first: the jobs and the CLI keep it; the API
    # does without (its reads run again on another connection, see `Reader`).
    pre_ping: bool = True

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
                pool_timeout=settings.pool_timeout_seconds, pool_pre_ping=settings.pre_ping,
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


LAST_ID = 2**63 - 1  # `id < coalesce(:after_id, LAST_ID)`: a keyset page from the start when no cursor is given


class Query:
    """A statement built once (at import), with named parameters (`bindparam`), run on every request that
    needs it: a read through the request's reader (`await reader.fetch(QUERY, name=value, …)`), a write
    on its unit of work's connection (`run_query`, `run_many`).

    On PostgreSQL it goes to asyncpg itself, as a prepared statement that asyncpg keeps per connection:
    SQLAlchemy compiles it once per process, and its parameters and rows go through the column types'
    own processors (UTC datetimes), as SQLAlchemy would convert them; nothing is compiled, cache-keyed or
    bridged through a greenlet per request. An `expanding` parameter (`column.in_(bindparam(…,
    expanding=True))`) becomes one array parameter (`= ANY($n)`), so that any number of ids is one
    prepared statement. On SQLite it runs through SQLAlchemy like any statement. Either way the rows
    answer to `row.column` and `row._mapping`, and the statement is counted as every statement is."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled: _Compiled | None = None

    def compiled(self, dialect) -> "_Compiled":
        if self._compiled is None:
            self._compiled = _Compiled(self.statement, dialect)
        return self._compiled


_EXPANDING = re.compile(r"IN \(__\[POSTCOMPILE_(\w+)\]\)")


class _Compiled:
    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.defaults = {name: bind.value for name, bind in compiled.binds.items()
                         if name in compiled.positiontup and bind.value is not None}
        expanding = [name for name in compiled.positiontup if compiled.binds[name].expanding]
        self.names = [name for name in compiled.positiontup if name not in expanding] + expanding
        numbers = {name: position for position, name in enumerate(self.names, start=1)}

        def as_array(match: re.Match) -> str:
            name = match.group(1)
            return f"= ANY(${numbers[name]}::{compiled.binds[name].type.compile(dialect)}[])"

        self.sql = _EXPANDING.sub(as_array, compiled.string)
        processors = compiled._bind_processors
        self.binders: list[tuple[int, Callable, bool]] = [
            (i, processors[name], name in expanding) for i, name in enumerate(self.names) if name in processors]
        self.columns = compiled._result_columns
        self.row = _row_class(tuple(column[0] for column in self.columns))
        self.results: list[tuple[int, Callable]] | None = None  # known once the server has described the rows

    async def describe(self, driver, dialect) -> None:
        """The result processors, which SQLAlchemy picks by the type the server says each column has (as
        its own asyncpg cursor does): once per process."""
        attributes = (await driver.prepare(self.sql)).get_attributes()
        self.results = [(i, processor) for i, (column, attribute) in enumerate(zip(self.columns, attributes))
                        if (processor := column[3]._cached_result_processor(dialect, attribute.type.oid))
                        is not None]

    def arguments(self, params: dict[str, Any]) -> list:
        values = [params[name] if name in params else self.defaults[name] for name in self.names]
        for i, process, expanding in self.binders:
            values[i] = [process(v) for v in values[i]] if expanding else process(values[i])
        return values

    def rows(self, records) -> list:
        if not self.results:
            return [self.row(*record) for record in records]
        rows = []
        for record in records:
            values = list(record)
            for i, process in self.results:
                values[i] = process(values[i])
            rows.append(self.row(*values))
        return rows


def _row_class(names: tuple[str, ...]):
    """A named tuple with SQLAlchemy's `row._mapping`."""
    base = namedtuple("Row", names)
    return type("Row", (base,), {"__slots__": (), "_mapping": property(lambda row: row._asdict())})


async def run_query(conn: AsyncConnection, query: Query, params: dict[str, Any]) -> list:
    """`query`'s rows on `conn`: a reader's connection, or a write transaction's (an INSERT, UPDATE or
    DELETE answers its RETURNING rows)."""
    driver = await _straight(conn)
    if driver is None:
        return _rows(await conn.execute(query.statement, params))
    compiled = query.compiled(conn.dialect)
    arguments = compiled.arguments(params)
    async with _sent(conn, compiled.sql, arguments, many=False):
        if compiled.results is None:
            await compiled.describe(driver, conn.dialect)
        records = await driver.fetch(compiled.sql, *arguments)
    return compiled.rows(records)


async def run_many(conn: AsyncConnection, query: Query, params: list[dict[str, Any]]) -> None:
    """`query` (an INSERT, UPDATE or DELETE) once for each of `params`, in a write transaction: on
    PostgreSQL in one round trip (asyncpg's executemany)."""
    if not params:
        return
    driver = await _straight(conn)
    if driver is None:
        await conn.execute(query.statement, params)
        return
    compiled = query.compiled(conn.dialect)
    arguments = [compiled.arguments(each) for each in params]
    async with _sent(conn, compiled.sql, arguments, many=True):
        await driver.executemany(compiled.sql, arguments)


async def _straight(conn: AsyncConnection):
    """The asyncpg connection under `conn` when a statement may go to it straight: on PostgreSQL, outside
    any transaction (a reader's) or in one SQLAlchemy has begun. None otherwise: SQLite, or a write
    transaction's first statement, which goes through SQLAlchemy so that it begins the transaction."""
    if conn.dialect.name != "postgresql":
        return None
    sync = conn.sync_connection
    raw = sync.connection if not (sync.invalidated or sync.closed) else await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver.is_in_transaction() or sync.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return driver
    return None


@asynccontextmanager
async def _sent(conn: AsyncConnection, sql: str, arguments: list, many: bool) -> AsyncIterator[None]:
    """A statement sent straight to asyncpg: counted as SQLAlchemy counts its own, and a connection cut
    off mid-statement (or found dead) never handed out by the pool again."""
    sync = conn.sync_connection
    sync.dispatch.before_cursor_execute(sync, None, sql, arguments, None, many)
    try:
        yield
    except asyncpg.PostgresError:
        raise
    except BaseException:
        await conn.invalidate()
        raise


def _rows(result) -> list:
    return list(result) if result.returns_rows else []


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

    async def fetch(self, query: Query, **params) -> list:
        """The rows of a built-once `query` (see `Query`)."""
        return await self._run(lambda conn: run_query(conn, query, params))

    async def execute(self, statement):
        return await self._run(lambda conn: conn.execute(statement))

    async def _run(self, work):
        if self._writer is not None and self._writer is asyncio.current_task():
            raise RuntimeError("a read inside this request's own write would wait for itself: read through the uow")
        async with self._lock:
            if self._closed:  # a resolver left running after its request was answered (graphql-core does that
                raise RequestOver()  # when a sibling field fails): it must not take a connection nobody returns
            if self._conn is None:
                self._conn = await self._database.read_engine.connect()
            # Cut off mid-statement (the request's time limit), SQLAlchemy invalidates the connection: the
            # pool never hands out one whose driver is still busy.
            # A pooled connection found dead (the server restarted: maybe every one in the pool) is dropped
            # and the read, which changed nothing, runs again on the next, until the pool has none left.
            for _ in range(self._database.capacity):
                try:
                    return await work(self._conn)
                except Exception as exc:
                    if not connection_dropped(exc):
                        raise
                await self._release()
                self._conn = await self._database.read_engine.connect()
            return await work(self._conn)

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


def connection_dropped(exc: BaseException) -> bool:
    """The connection was dead when used (through SQLAlchemy or straight on asyncpg)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated
    # InternalClientError: asyncpg found the connection mid-way through an operation it never finished
    # (the server ended it while a message was on the way).
    return isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                            ConnectionError))


def is_unavailable(exc: BaseException) -> bool:
    """The database could not serve in time, through no fault of the request: no pooled connection
    came free, a lock or statement outlasted its PostgreSQL timeout, or the connection dropped. The
    request may be retried (with its idempotency key, it cannot apply twice)."""
    if isinstance(exc, SqlTimeout):
        return True
    if connection_dropped(exc):
        return True
    if isinstance(exc, (DBAPIError, asyncpg.PostgresError)):
        text = str(exc.orig if isinstance(exc, DBAPIError) else exc).lower()
        return any(s in text for s in ("canceling statement due to", "lock timeout", "statement timeout",
                                       "terminating connection", "connection is closed", "database is locked"))
    return isinstance(exc, (ConnectionError, OSError))
