"""`loyalty db upgrade`: Alembic migrations to head, then the program's catalog into the tables."""
from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from domain.program import Program
from persistence.catalog import sync_program
from persistence.database import Database, Reader, sqlite_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


@functools.cache
def head_revision() -> str:
    """The newest migration's revision: what a migrated database is at."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def migration_version(reader: Reader) -> str | None:
    """The Alembic revision the database is at (None before the first migration)."""
    try:
        return (await reader.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except DBAPIError:
        return None


class MigrationError(RuntimeError):
    pass


async def _migrate_sqlite(url: str, revision: str) -> None:
    """In one transaction with foreign keys off (see `sqlite_engine`), then every key checked."""
    engine = sqlite_engine(url, "BEGIN IMMEDIATE", foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
            broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
            if broken:
                raise MigrationError(f"the migration would leave broken foreign keys: {broken[:5]}")
    finally:
        await engine.dispose()


async def upgrade(database: Database, program: Program, revision: str = "head") -> None:
    if database.is_sqlite:
        Path(database.write_engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        await _migrate_sqlite(database.url, revision)
    else:
        async with database.transaction() as conn:
            await conn.run_sync(_upgrade, revision)
    async with database.transaction() as conn:
        await sync_program(conn, program)
