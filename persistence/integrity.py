"""`loyalty verify`: every member's balances agree with their ledgers.

For each member: points balance = Σ ledger deltas = Σ lot remainders − refund debt, the last
ledger entry's balanceAfter is the balance, no lot remainder is negative, and growth value =
Σ growth ledger. Set-based: one query per check, whatever the number of members.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.tables import growth_entries, members, point_entries, points_lots


@dataclass(frozen=True)
class Discrepancy:
    member_id: int
    member_no: str
    check: str
    expected: int
    found: int


async def find_discrepancies(conn: AsyncConnection) -> list[Discrepancy]:
    ledger = (select(point_entries.c.member_id, func.coalesce(func.sum(point_entries.c.delta), 0).label("total"))
              .group_by(point_entries.c.member_id).subquery())
    last_entry = (select(point_entries.c.member_id, func.max(point_entries.c.id).label("id"))
                  .group_by(point_entries.c.member_id).subquery())
    lots = (select(points_lots.c.member_id, func.sum(points_lots.c.remaining).label("total"),
                   func.min(points_lots.c.remaining).label("lowest"))
            .group_by(points_lots.c.member_id).subquery())
    growth = (select(growth_entries.c.member_id, func.sum(growth_entries.c.delta).label("total"))
              .group_by(growth_entries.c.member_id).subquery())
    rows = await conn.execute(
        select(members.c.id, members.c.member_no, members.c.points_balance, members.c.points_debt,
               members.c.growth_value, func.coalesce(ledger.c.total, 0).label("ledger_total"),
               func.coalesce(lots.c.total, 0).label("lots_total"), func.coalesce(lots.c.lowest, 0).label("lowest_lot"),
               func.coalesce(growth.c.total, 0).label("growth_total"),
               func.coalesce(point_entries.c.balance_after, 0).label("last_balance_after"))
        .outerjoin(ledger, ledger.c.member_id == members.c.id)
        .outerjoin(lots, lots.c.member_id == members.c.id)
        .outerjoin(growth, growth.c.member_id == members.c.id)
        .outerjoin(last_entry, last_entry.c.member_id == members.c.id)
        .outerjoin(point_entries, point_entries.c.id == last_entry.c.id)
        .order_by(members.c.id))
    found = []
    for row in rows:
        checks = [
            ("points balance = sum of ledger", row.points_balance, row.ledger_total),
            ("points balance = sum of lot remainders - debt", row.points_balance, row.lots_total - row.points_debt),
            ("points balance = last entry's balanceAfter", row.points_balance, row.last_balance_after),
            ("no lot remainder below 0", 0, min(0, row.lowest_lot)),
            ("growth value = sum of growth ledger", row.growth_value, row.growth_total),
        ]
        found += [Discrepancy(row.id, row.member_no, name, int(expected), int(actual))
                  for name, expected, actual in checks if expected != actual]
    return found
