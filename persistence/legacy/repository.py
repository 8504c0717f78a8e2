"""Legacy points: the import's set-wise statements, a batch of rows a transaction, and the rows waiting for a
phone number. On PostgreSQL a batch goes in one statement a table (INSERT … SELECT FROM unnest of arrays, one
UPDATE … FROM unnest for the balances); on SQLite, in executemany."""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Sequence

from sqlalchemy import BigInteger, Table, bindparam, insert, literal_column, null, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.legacy_points import LegacyRow
from domain.model import LedgerEntry, LegacyPoints, Member
from domain.vocabulary import LegacyPointsStatus
from persistence.database import Query, run_query
from persistence.personal_data import PersonalDataCipher
from persistence.rows import columns_of, to_model
from persistence.tables import legacy_points, members, point_entries, points_lots

WAITING_ONLY = legacy_points.c.status == literal_column(f"'{LegacyPointsStatus.WAITING.value}'")  # the partial index's

WAITING = Query(select(*columns_of(legacy_points, LegacyPoints))
                .where(WAITING_ONLY, legacy_points.c.phone_index.in_(bindparam("indexes", expanding=True)))
                .order_by(legacy_points.c.id).with_for_update())
MARK_CREDITED = Query(update(legacy_points).where(legacy_points.c.id == bindparam("row_id"), WAITING_ONLY)
                      .values(status=LegacyPointsStatus.CREDITED.value, entry_id=bindparam("entry_id"),
                              credited_at=bindparam("credited_at"), phone_index=null()))
IMPORTED = Query(select(legacy_points.c.external_row_id, legacy_points.c.file_digest, legacy_points.c.line)
                 .where(legacy_points.c.external_row_id.in_(bindparam("ids", expanding=True))))
MEMBER_FIELDS = len(fields(Member))
MEMBERS = Query(select(*columns_of(members, Member), members.c.phone_index)
                .where(or_(members.c.member_no.in_(bindparam("member_nos", expanding=True)),
                           members.c.phone_index.in_(bindparam("indexes", expanding=True))))
                .order_by(members.c.id).with_for_update())

ENTRY_COLUMNS = ("id", "member_id", "kind", "delta", "balance_after", "description", "occurred_at", "expires_at")
LOT_COLUMNS = ("member_id", "entry_id", "points", "remaining", "earned_at", "expires_at")
ROW_COLUMNS = ("external_row_id", "file_digest", "line", "legacy_points", "points", "status", "phone_index",
               "entry_id", "imported_at", "credited_at")
PG = postgresql.dialect()


def _unnest_insert(table: Table, names: tuple[str, ...]) -> Query:
    """INSERT of many rows given as one array a column (PostgreSQL)."""
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=PG)}[])" for name in names)
    return Query(text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})")
                 .bindparams(*[bindparam(name, type_=postgresql.ARRAY(table.c[name].type)) for name in names]))


INSERT_ENTRIES = _unnest_insert(point_entries, ENTRY_COLUMNS)
INSERT_LOTS = _unnest_insert(points_lots, LOT_COLUMNS)
INSERT_ROWS = _unnest_insert(legacy_points, ROW_COLUMNS)
SAVE_BALANCES = Query(text(
    "UPDATE members SET points_balance = given.balance, points_debt = given.debt "
    "FROM unnest(CAST(:member_ids AS BIGINT[]), CAST(:balances AS BIGINT[]), CAST(:debts AS BIGINT[])) "
    "AS given (id, balance, debt) WHERE members.id = given.id"
).bindparams(*[bindparam(name, type_=postgresql.ARRAY(BigInteger)) for name in ("member_ids", "balances", "debts")]))
NEXT_ENTRY_IDS = text("SELECT nextval((SELECT pg_get_serial_sequence('point_entries', 'id'))) AS id "
                      "FROM generate_series(1, :count)")
LAST_ENTRY_ID = text("SELECT coalesce(max(id), 0) FROM point_entries")


class SqlLegacyPointsRepository:
    def __init__(self, conn: AsyncConnection, personal_data: PersonalDataCipher | None = None):
        self.conn = conn
        self._personal_data = personal_data
        self.postgresql = conn.dialect.name == "postgresql"

    @property
    def personal_data(self) -> PersonalDataCipher:
        if self._personal_data is None:
            raise RuntimeError("this unit of work was opened without the personal-data cipher")
        return self._personal_data

    async def lock_for_import(self) -> None:
        # EXCLUSIVE conflicts with the ROW SHARE lock of `waiting_for`'s SELECT … FOR UPDATE, not with reads.
        # SQLite: BEGIN IMMEDIATE holds the whole database already.
        if self.postgresql:
            await self.conn.execute(text("LOCK TABLE legacy_points IN EXCLUSIVE MODE"))

    async def imported(self, external_row_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        rows = await run_query(self.conn, IMPORTED, {"ids": list(external_row_ids)})
        return {row.external_row_id: (row.file_digest, row.line) for row in rows}

    async def members_for_import(self, member_nos: Sequence[str],
                                 phones: Sequence[str]) -> tuple[dict[str, Member], dict[str, Member]]:
        phone_of = {index: phone for phone in phones for index in self.personal_data.indexes(phone)}
        rows = await run_query(self.conn, MEMBERS, {"member_nos": list(member_nos), "indexes": list(phone_of)})
        by_no, by_phone = {}, {}
        for row in rows:
            member = Member(*row[:MEMBER_FIELDS])   # MEMBERS selects the fields in their order, then phone_index
            by_no[member.member_no] = member
            if row.phone_index in phone_of:
                by_phone[phone_of[row.phone_index]] = member
        return by_no, by_phone

    async def add_imported(self, credited: Sequence[tuple[LegacyRow, LedgerEntry, int]], waiting: Sequence[LegacyRow],
                           file_digest: str, now: datetime) -> None:
        ids = await self._new_entry_ids(len(credited))
        entries, lots, rows = [], [], []
        for entry_id, (row, entry, remaining) in zip(ids, credited):
            entry.id = entry_id
            entries.append({name: getattr(entry, name) for name in ENTRY_COLUMNS})
            lots.append({"member_id": entry.member_id, "entry_id": entry_id, "points": entry.delta,
                         "remaining": remaining, "earned_at": entry.occurred_at, "expires_at": entry.expires_at})
            rows.append(self._row(row, file_digest, now, LegacyPointsStatus.CREDITED, None, entry_id, now))
        for row in waiting:
            index = self.personal_data.index(row.phone)
            rows.append(self._row(row, file_digest, now, LegacyPointsStatus.WAITING, index, None, None))
        await self._insert(INSERT_ENTRIES, point_entries, entries)
        await self._insert(INSERT_LOTS, points_lots, lots)
        await self._insert(INSERT_ROWS, legacy_points, rows)

    @staticmethod
    def _row(row: LegacyRow, file_digest: str, now: datetime, status: LegacyPointsStatus, phone_index: str | None,
             entry_id: int | None, credited_at: datetime | None) -> dict:
        return {"external_row_id": row.external_row_id, "file_digest": file_digest, "line": row.line,
                "legacy_points": row.legacy_points, "points": row.points, "status": status.value,
                "phone_index": phone_index, "entry_id": entry_id, "imported_at": now,
                "credited_at": credited_at}

    async def _new_entry_ids(self, count: int) -> list[int]:
        """Ids for `count` new ledger entries, ascending: an entry's id orders it within its member's ledger
        (`loyalty verify` compares the last one's balanceAfter)."""
        if count == 0:
            return []
        if self.postgresql:
            return sorted((await self.conn.execute(NEXT_ENTRY_IDS, {"count": count})).scalars())
        last = (await self.conn.execute(LAST_ENTRY_ID)).scalar_one()  # BEGIN IMMEDIATE: nobody else inserts
        return list(range(last + 1, last + 1 + count))

    async def _insert(self, query: Query, table: Table, rows: list[dict]) -> None:
        if not rows:
            return
        if self.postgresql:
            await run_query(self.conn, query, {name: [row[name] for row in rows] for name in rows[0]})
        else:
            await self.conn.execute(insert(table), rows)

    async def save_balances(self, changed: Sequence[Member]) -> None:
        if not changed:
            return
        if self.postgresql:
            await run_query(self.conn, SAVE_BALANCES, {"member_ids": [m.id for m in changed],
                                                       "balances": [m.points_balance for m in changed],
                                                       "debts": [m.points_debt for m in changed]})
        else:
            await self.conn.execute(update(members).where(members.c.id == bindparam("member"))
                                    .values(points_balance=bindparam("balance"), points_debt=bindparam("debt")),
                                    [{"member": m.id, "balance": m.points_balance, "debt": m.points_debt}
                                     for m in changed])

    async def waiting_for(self, phone: str) -> list[LegacyPoints]:
        rows = await run_query(self.conn, WAITING, {"indexes": self.personal_data.indexes(phone)})
        return [to_model(LegacyPoints, row) for row in rows]

    async def mark_credited(self, row_id: int, entry_id: int, now: datetime) -> None:
        await run_query(self.conn, MARK_CREDITED, {"row_id": row_id, "entry_id": entry_id, "credited_at": now})
