"""`loyalty verify`: every member's balances agree with their ledgers.

For each member: points balance = Σ ledger deltas = Σ lot remainders + held − refund debt (points a
checkout hold took out of their lots are still the member's), what is held = Σ the lots' points its
HELD holds took, the last ledger entry's balanceAfter is the balance, no lot remainder is negative,
and growth value = Σ growth ledger. Set-based: one query, whatever the number of members, and the comparisons are made
in SQL, so only the members that differ come back (memory stays flat however many there are).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.tables import checkout_holds, growth_entries, hold_lots, members, point_entries, points_lots


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
    held = (select(checkout_holds.c.member_id, func.sum(hold_lots.c.amount).label("total"))
            .join(hold_lots, hold_lots.c.hold_id == checkout_holds.c.id).where(checkout_holds.c.status == "HELD")
            .group_by(checkout_holds.c.member_id).subquery())
    held_total = func.coalesce(held.c.total, 0)
    ledger_total = func.coalesce(ledger.c.total, 0)
    lots_total = func.coalesce(lots.c.total, 0)
    lowest_lot = func.coalesce(lots.c.lowest, 0)
    growth_total = func.coalesce(growth.c.total, 0)
    last_balance_after = func.coalesce(point_entries.c.balance_after, 0)
    rows = await conn.execute(
        select(members.c.id, members.c.member_no, members.c.points_balance, members.c.points_debt,
               members.c.growth_value, ledger_total.label("ledger_total"), lots_total.label("lots_total"),
               lowest_lot.label("lowest_lot"), growth_total.label("growth_total"),
               last_balance_after.label("last_balance_after"), members.c.points_held,
               held_total.label("held_total"))
        .outerjoin(ledger, ledger.c.member_id == members.c.id)
        .outerjoin(lots, lots.c.member_id == members.c.id)
        .outerjoin(growth, growth.c.member_id == members.c.id)
        .outerjoin(held, held.c.member_id == members.c.id)
        .outerjoin(last_entry, last_entry.c.member_id == members.c.id)
        .outerjoin(point_entries, point_entries.c.id == last_entry.c.id)
        .where(or_(members.c.points_balance != ledger_total,
                   members.c.points_balance != lots_total + members.c.points_held - members.c.points_debt,
                   members.c.points_held != held_total,
                   members.c.points_balance != last_balance_after,
                   lowest_lot < 0,
                   members.c.growth_value != growth_total))
        .order_by(members.c.id))
    found = []
    for row in rows:
        checks = [
            ("points balance = sum of ledger", row.points_balance, row.ledger_total),
            ("points balance = sum of lot remainders + held - debt", row.points_balance,
             row.lots_total + row.points_held - row.points_debt),
            ("points held = points the HELD holds took", row.points_held, row.held_total),
            ("points balance = last entry's balanceAfter", row.points_balance, row.last_balance_after),
            ("no lot remainder below 0", 0, min(0, row.lowest_lot)),
            ("growth value = sum of growth ledger", row.growth_value, row.growth_total),
        ]
        found += [Discrepancy(row.id, row.member_no, name, int(expected), int(actual))
                  for name, expected, actual in checks if expected != actual]
    return found
