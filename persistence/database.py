"""Engines and connections.

SQLite: WAL, foreign keys, a busy timeout, and pysqlite's own transaction handling switched off so
that write transactions start with BEGIN IMMEDIATE (SQLAlchemy's documented recipe): without it,
concurrent read-modify-write loses updates. Reads use a second engine with plain deferred BEGIN.
PostgreSQL: one engine; write paths lock the member row with SELECT … FOR UPDATE.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///var/loyalty.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_engine(url: str, begin: str, foreign_keys: bool = True) -> AsyncEngine:
    """`foreign_keys=False` only for migrations: SQLite rebuilds a table to alter it (Alembic's batch
    mode), and dropping the old table would trip the keys that point at it; `persistence.migrate`
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

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql(begin)

    return engine


class Database:
    """The write and read engines of one database URL."""

    def __init__(self, url: str = DEFAULT_URL, pool_size: int = 10):
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.write_engine = sqlite_engine(url, "BEGIN IMMEDIATE")
            self.read_engine = sqlite_engine(url, "BEGIN")
        else:
            self.write_engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
            self.read_engine = self.write_engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an error."""
        async with self.write_engine.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


class Reader:
    """A request's read connection. aiodataloader dispatches batches as concurrent tasks and one
    connection must not serve two at once, so every query takes the lock."""

    def __init__(self, database: Database):
        self._database = database
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def execute(self, statement):
        async with self._lock:
            if self._conn is None:
                self._conn = await self._database.read_engine.connect()
            return await self._conn.execute(statement)

    async def refresh(self) -> None:
        """End the read transaction so the next query sees what a write just committed."""
        async with self._lock:
            if self._conn is not None:
                await self._conn.rollback()

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None
