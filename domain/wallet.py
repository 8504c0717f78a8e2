"""The points wallet: every change of a balance is a ledger entry plus the lots it adds or uses.

Invariant: balance = sum of lot remainders − debt, and balance = sum of ledger deltas.
Debt only arises when a refund takes back points the member no longer has.
"""
from __future__ import annotations

from datetime import datetime

from domain.clock import add_months
from domain.errors import LoyaltyError, UserErrorCode
from domain.model import LedgerEntry, Member, PointsLot, PointsOffset
from domain.ports import UnitOfWork
from domain.program import Program
from domain.rules import allocate_spend
from domain.vocabulary import PointKind


def lot_expiry(program: Program, earned_at: datetime) -> datetime:
    """End of the same local date `points.expiry.months` later (29 February → 28 February)."""
    day = program.calendar.local_date(earned_at)
    return program.calendar.end_of_day(add_months(day, program.expiry_months))


async def credit(uow: UnitOfWork, program: Program, member: Member, points: int, kind: str, description: str,
                 now: datetime, order_id: int | None = None, earned_at: datetime | None = None) -> LedgerEntry | None:
    """Add points as a new lot, earned `now` unless `earned_at` says (offset points a refund gives back keep
    the time they were first earned: the annual clearing counts them in that year). Debt left by refunds is
    repaid from the lot first."""
    if points <= 0:
        return None
    remaining = member.add_points(points)
    entry = await uow.points.add_entry(LedgerEntry(
        member_id=member.id, kind=kind, delta=points, balance_after=member.points_balance,
        description=description, occurred_at=now, expires_at=lot_expiry(program, now), order_id=order_id,
    ))
    await uow.points.add_lot(entry, remaining=remaining, earned_at=earned_at)
    return entry


async def debit(uow: UnitOfWork, member: Member, points: int, kind: str, description: str, now: datetime,
                order_id: int | None = None, allow_debt: bool = False) -> LedgerEntry | None:
    """Spend points from the lots that expire first. Without `allow_debt` (refunds only) a
    balance that cannot cover it is refused with INSUFFICIENT_POINTS and nothing changes."""
    entry, _ = await debit_from_lots(uow, member, points, kind, description, now, order_id, allow_debt)
    return entry


async def debit_from_lots(uow: UnitOfWork, member: Member, points: int, kind: str, description: str, now: datetime,
                          order_id: int | None = None, allow_debt: bool = False,
                          ) -> tuple[LedgerEntry | None, list[tuple[PointsLot, int]]]:
    """`debit`, also answering which lots gave how many points (an offset records them:
    `orders.record_offset_lots`)."""
    if points <= 0:
        return None, []
    if not allow_debt and member.points_available < points:
        raise LoyaltyError(UserErrorCode.INSUFFICIENT_POINTS,
                           f"This needs {points} points; {max(member.points_available, 0)} can be spent.")
    lots = await uow.points.spendable_lots(member.id, now)
    plan, shortfall = allocate_spend(lots, points)
    if shortfall and not allow_debt:
        raise LoyaltyError(UserErrorCode.INSUFFICIENT_POINTS,
                           f"This needs {points} points; only {points - shortfall} have not expired.")
    await uow.points.take_from_lots(plan)
    member.take_points(points, shortfall)
    entry = await uow.points.add_entry(LedgerEntry(
        member_id=member.id, kind=kind, delta=-points, balance_after=member.points_balance,
        description=description, occurred_at=now, order_id=order_id,
    ))
    return entry, plan


async def record_offset_lots(uow: UnitOfWork, offset: PointsOffset, taken: list[tuple[int, int]]) -> None:
    """Remember, in the offset's transaction, which lots its points were taken from: (lot id, points). A
    refund gives them back in the years those lots were earned (`rules.offset_return_by_year`), so the annual
    clearing counts them there. Every way of making an offset calls it."""
    await uow.orders.add_offset_lots(offset.id, [(lot_id, points) for lot_id, points in taken if points > 0])


async def spend_held(uow: UnitOfWork, member: Member, points: int, kind: str, description: str,
                     now: datetime) -> LedgerEntry:
    """Spend points a checkout hold took out of their lots already: the ledger entry and the balance; the
    caller releases them from `points_held`."""
    member.take_points(points)
    return await uow.points.add_entry(LedgerEntry(
        member_id=member.id, kind=kind, delta=-points, balance_after=member.points_balance,
        description=description, occurred_at=now))


async def transfer_out(uow: UnitOfWork, member: Member, description: str,
                       now: datetime) -> tuple[list[PointsLot], int]:
    """Empty the member's wallet for a merge through one TRANSFER entry: the lots with points left (as they
    were) and the debt, for `transfer_in` to carry over."""
    lots = await uow.points.lots_with_points(member.id)
    debt = member.points_debt
    await uow.points.take_from_lots([(lot, lot.remaining) for lot in lots])
    delta = member.forfeit_points()
    if delta != 0 or debt:
        await uow.points.add_entry(LedgerEntry(
            member_id=member.id, kind=PointKind.TRANSFER, delta=delta, balance_after=0, description=description,
            occurred_at=now))
    return lots, debt


async def transfer_in(uow: UnitOfWork, member: Member, lots: list[PointsLot], debt: int, description: str,
                      now: datetime) -> None:
    """What `transfer_out` took from another member, added here: each lot as a TRANSFER entry and a lot that
    keeps its original expiry and the time it was earned (the annual clearing counts it in that year),
    then the debt, taken from this member's points (what they cannot cover stays debt)."""
    for lot in lots:
        remaining = member.add_points(lot.remaining)
        entry = await uow.points.add_entry(LedgerEntry(
            member_id=member.id, kind=PointKind.TRANSFER, delta=lot.remaining, balance_after=member.points_balance,
            description=description, occurred_at=now, expires_at=lot.expires_at))
        await uow.points.add_lot(entry, remaining=remaining, earned_at=lot.earned_at)
    await debit(uow, member, debt, PointKind.TRANSFER, description, now, allow_debt=True)


async def forfeit_all(uow: UnitOfWork, member: Member, description: str, now: datetime) -> LedgerEntry | None:
    """Bring the balance to zero through one ADJUSTMENT entry: every lot emptied, any debt written off."""
    lots = await uow.points.lots_with_points(member.id)
    await uow.points.take_from_lots([(lot, lot.remaining) for lot in lots])
    delta = member.forfeit_points()
    if delta == 0:
        return None
    entry = await uow.points.add_entry(LedgerEntry(
        member_id=member.id, kind=PointKind.ADJUSTMENT, delta=delta, balance_after=0, description=description,
        occurred_at=now))
    return entry
