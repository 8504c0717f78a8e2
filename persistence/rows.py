"""Mapping rows to domain dataclasses whose fields are named as the columns are, and reading rows by id."""
from __future__ import annotations

from dataclasses import fields
from typing import Sequence, TypeVar

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.database import Query, Reader, run_query

T = TypeVar("T")


def columns_of(table: Table, cls: type) -> list:
    return [table.c[f.name] for f in fields(cls)]


def to_model(cls: type[T], row) -> T:
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})


_INSERTS: dict[tuple[str, tuple[str, ...]], Query] = {}
_UPDATES: dict[tuple[str, tuple[str, ...]], Query] = {}


async def insert_model(conn: AsyncConnection, table: Table, obj: T) -> T:
    """Insert a dataclass and set its new id (one built-once statement per table and set of fields)."""
    values = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "id"}  # asdict() deep-copies each
    key = (table.name, tuple(values))
    query = _INSERTS.get(key)
    if query is None:
        query = _INSERTS[key] = Query(insert(table).values({name: bindparam(name) for name in values})
                                      .returning(table.c.id))
    obj.id = (await run_query(conn, query, values))[0].id
    return obj


async def update_model(conn: AsyncConnection, table: Table, obj, names: tuple[str, ...]) -> None:
    key = (table.name, names)
    query = _UPDATES.get(key)
    if query is None:
        query = _UPDATES[key] = Query(update(table).where(table.c.id == bindparam("row_id"))
                                      .values({name: bindparam(f"new_{name}") for name in names}))
    await run_query(conn, query, {"row_id": obj.id, **{f"new_{name}": getattr(obj, name) for name in names}})


_BY_IDS: dict[str, Query] = {}  # per table, built on first use


async def rows_by_ids(reader: Reader, table: Table, ids: Sequence[int]) -> dict[int, object]:
    query = _BY_IDS.get(table.name)
    if query is None:
        query = _BY_IDS[table.name] = Query(select(table).where(table.c.id.in_(bindparam("ids", expanding=True))))
    return {row.id: row for row in await reader.fetch(query, ids=list(ids))}
