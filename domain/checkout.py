"""Checkout holds: points and/or one coupon reserved for an order awaiting payment (the commerce
backend's checkout), so that a checkout that is never paid loses the member nothing.

- `hold_for_checkout` checks the points as redeemPointsForOrder does (`points.offset`) and the coupon as
  useCoupon does, then takes the points out of their lots (soonest-expiring first; `hold_lots` says
  which) into `Member.points_held`: they leave what the member can spend (`points_available`) and cannot
  expire while held, but stay in the ledger's balance. The coupon is held: no other hold or use may
  take it. The hold lasts `checkout.hold_minutes`; its external order id is its retry key.
- `capture` (recordOrder of the same external id, in the order's transaction): the held points become
  an ORDER_OFFSET entry and an offset of the order (refunds give them back as for redeemPointsForOrder),
  the coupon is used by the order.
- `release_hold`, or the job for expired holds (`release_expired`): each point goes back to the lot it
  came from, the coupon is free again.
- A recordOrder that finds its hold expired records the order, spends the points and the coupon again
  only if they are still there, and keeps what it could not (`CheckoutHold.unapplied`) for its answer.

Every path locks the member first and the hold second, so hold, release, expiry, capture and their
retries serialise per member: no point is lost or spent twice in any interleaving.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from domain import commands, coupons, idempotency, wallet
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import CheckoutHold, Coupon, Member, Order, PointsOffset
from domain.ports import UnitOfWork
from domain.program import Program
from domain.rules import allocate_spend, coupon_discount, offset_amount, offset_limit_points
from domain.vocabulary import HoldStatus, PointKind


def check_offset_points(program: Program, points: int, order_amount: int) -> None:
    """`points.offset`: at least `min_points`, in multiples of `step`, at most `max_order_percent` of the order."""
    rule = program.offset
    if points < rule.min_points or points % rule.step:
        raise invalid("points", f"points must be at least {rule.min_points}, in multiples of {rule.step}.")
    limit = offset_limit_points(rule, order_amount)
    if points > limit:
        raise invalid("points", f"This order can take at most {limit} points.")


def _fingerprint(member_id: int, order_amount: int, points: int | None, coupon_id: int | None) -> str:
    return hashlib.sha256(f"{member_id}|{order_amount}|{points}|{coupon_id}".encode()).hexdigest()


async def hold_for_checkout(command: commands.HoldForCheckout, uow: UnitOfWork, context: Handling) -> CheckoutHold:
    program, now = context.program, context.now
    external_order_id = idempotency.check_key(command.external_order_id, "externalOrderId")
    if command.order_amount <= 0 or command.order_amount > 10**11:
        raise invalid("orderAmount", "orderAmount must be a positive amount in fen.")
    if command.points is None and command.coupon_id is None:
        raise invalid("points", "Hold points, a coupon, or both.")
    if command.points is not None:
        check_offset_points(program, command.points, command.order_amount)
    member = await member_for_update(uow, command.member_id)
    fingerprint = _fingerprint(member.id, command.order_amount, command.points, command.coupon_id)
    existing = await uow.holds.by_external_order_id(external_order_id)
    if existing is not None:
        if existing.request_hash != fingerprint:
            raise idempotency.key_reused("externalOrderId")
        return context.replay(existing)
    if await uow.orders.by_external_id(external_order_id) is not None \
            or await uow.orders.offset_for(external_order_id) is not None:
        raise invalid("externalOrderId", "This order is recorded already, or has its points offset: nothing to hold.")
    coupon = None
    if command.coupon_id is not None:
        coupon = await usable_coupon(uow, member, command.coupon_id, external_order_id, command.order_amount, now)
    points = command.points or 0
    plan = []
    if points:
        plan = await _points_to_hold(uow, member, points, now)
        await uow.points.take_from_lots(plan)
        member.points_held += points
    amount_off = (offset_amount(program.offset, points) if points else 0) + (
        coupon_discount(coupon.kind, coupon.discount_amount, coupon.discount_percent, command.order_amount)
        if coupon else 0)
    hold = await uow.holds.add(CheckoutHold(
        member_id=member.id, external_order_id=external_order_id, request_hash=fingerprint,
        order_amount=command.order_amount, points=points, amount_off=amount_off,
        coupon_id=coupon.id if coupon else None, status=HoldStatus.HELD, created_at=now,
        expires_at=now + timedelta(minutes=program.checkout.hold_minutes)))
    await uow.holds.add_lots(hold.id, [(lot.id, taken) for lot, taken in plan])
    return hold


async def _points_to_hold(uow: UnitOfWork, member: Member, points: int, now: datetime) -> list:
    if member.points_available < points:
        raise LoyaltyError(UserErrorCode.INSUFFICIENT_POINTS,
                           f"This needs {points} points; {max(member.points_available, 0)} can be spent.",
                           ["input", "points"])
    plan, shortfall = allocate_spend(await uow.points.spendable_lots(member.id, now), points)
    if shortfall:
        raise LoyaltyError(UserErrorCode.INSUFFICIENT_POINTS,
                           f"This needs {points} points; only {points - shortfall} have not expired.",
                           ["input", "points"])
    return plan


async def usable_coupon(uow: UnitOfWork, member: Member, coupon_id: int | None, external_order_id: str,
                        order_amount: int, now: datetime) -> Coupon:
    """The member's coupon, locked, that this order may use: as useCoupon checks it (`coupons.check_usable`),
    and not held for another order."""
    coupon = await coupons.check_usable(uow, member, coupon_id, order_amount, now)
    holder = await uow.holds.holding_coupon(coupon.id)
    if holder is not None and holder.external_order_id != external_order_id:
        raise LoyaltyError(UserErrorCode.COUPON_ALREADY_USED, "This coupon is held for another order.",
                           ["input", "couponId"])
    return coupon


async def release_hold(command: commands.ReleaseHold, uow: UnitOfWork, context: Handling) -> CheckoutHold:
    """Give a hold back (the checkout was cancelled). Releasing one released or expired again answers it
    as it is; a captured hold is the order's (refund the order instead)."""
    external_order_id = idempotency.check_key(command.external_order_id, "externalOrderId")
    found = await uow.holds.by_external_order_id(external_order_id)
    if found is None:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No hold for this order.", ["input", "externalOrderId"])
    member = await member_for_update(uow, found.member_id)
    hold = await uow.holds.lock(found.id)
    if hold.status == HoldStatus.CAPTURED:
        raise invalid("externalOrderId", "This hold was captured by its order: refund the order instead.")
    if hold.status != HoldStatus.HELD:
        return context.replay(hold)
    await _give_back(uow, member, hold, HoldStatus.RELEASED, context.now)
    return hold


async def _give_back(uow: UnitOfWork, member: Member, hold: CheckoutHold, status: str, now: datetime) -> None:
    """Every held point back into the lot it came from (one that expired meanwhile lapses at the next
    expiry run), the coupon free again, the hold settled as `status`."""
    await uow.points.return_to_lots(await uow.holds.lots_of(hold.id))
    member.points_held -= hold.points
    hold.status, hold.settled_at = status, now
    await uow.holds.save(hold)


async def release_all(uow: UnitOfWork, member: Member, now: datetime) -> None:
    """Every hold of a member who is leaving (注销, a fold-in, a merge's source) given back first."""
    for hold in await uow.holds.held_of_member(member.id):
        await _give_back(uow, member, hold, HoldStatus.RELEASED, now)


async def release_expired(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """The job's batch: up to `limit` holds past their time, each given back and EXPIRED. How many."""
    due = await uow.holds.expired(now, limit)
    for hold_id, member_id in sorted(due, key=lambda pair: pair[1]):   # members locked in one order
        member = await uow.members.lock(member_id)
        hold = await uow.holds.lock(hold_id)
        if member is not None and hold.status == HoldStatus.HELD and hold.expires_at <= now:
            await _give_back(uow, member, hold, HoldStatus.EXPIRED, now)
    return len(due)


async def capture(uow: UnitOfWork, context: Handling, member: Member, order: Order) -> None:
    """In recordOrder's transaction (the member locked): the order's hold, if any, becomes the order's. A
    live hold is captured; one past its time is given back, its points and coupon spent again only if they
    are still there, and what could not be is kept on the hold for recordOrder's answer."""
    program, now = context.program, context.now
    found = await uow.holds.by_external_order_id(order.external_id)
    if found is None or found.member_id != member.id:
        return
    hold = await uow.holds.lock(found.id)
    if hold.status != HoldStatus.HELD and hold.status != HoldStatus.EXPIRED:
        return
    if hold.status == HoldStatus.HELD and hold.expires_at > now:
        if hold.points:
            await _offset(uow, program, member, hold, now)
            member.points_held -= hold.points
        if hold.coupon_id is not None:
            coupon = await uow.coupons.lock(hold.coupon_id)
            coupons.mark_used(coupon, order.external_id, hold.order_amount, now)
            await uow.coupons.save(coupon)
        hold.status, hold.settled_at = HoldStatus.CAPTURED, now
        await uow.holds.save(hold)
        return
    if hold.status == HoldStatus.HELD:
        await _give_back(uow, member, hold, HoldStatus.EXPIRED, now)
    unapplied = []
    if hold.points:
        try:
            await _offset(uow, program, member, hold, now, from_lots=True)   # INSUFFICIENT_POINTS, or spent
        except LoyaltyError as error:
            unapplied.append(error)
    if hold.coupon_id is not None:
        try:
            coupon = await usable_coupon(uow, member, hold.coupon_id, order.external_id, hold.order_amount, now)
            coupons.mark_used(coupon, order.external_id, hold.order_amount, now)
            await uow.coupons.save(coupon)
        except LoyaltyError as error:
            unapplied.append(error)
    hold.unapplied = json.dumps([{"field": error.field, "code": error.code.value,
                                  "message": f"The hold had expired: {error.message}"} for error in unapplied],
                                ensure_ascii=False) if unapplied else None
    await uow.holds.save(hold)


async def _offset(uow: UnitOfWork, program: Program, member: Member, hold: CheckoutHold, now: datetime,
                  from_lots: bool = False) -> None:
    """The hold's points spent on its order: an ORDER_OFFSET entry and the order's offset (what refunds
    give back, in the years of the lots they came from). Held points are out of their lots already; after
    expiry they are spent from the lots."""
    description = f"订单 {hold.external_order_id} 积分抵现"
    if from_lots:
        _, plan = await wallet.debit_from_lots(uow, member, hold.points, PointKind.ORDER_OFFSET, description, now)
        taken = [(lot.id, points) for lot, points in plan]
    else:
        await wallet.spend_held(uow, member, hold.points, PointKind.ORDER_OFFSET, description, now)
        taken = await uow.holds.lots_of(hold.id)
    offset = await uow.orders.add_offset(PointsOffset(
        member_id=member.id, external_order_id=hold.external_order_id, points=hold.points,
        amount_off=offset_amount(program.offset, hold.points), order_amount=hold.order_amount, created_at=now))
    await wallet.record_offset_lots(uow, offset, taken)   # a refund gives them back in the years they were earned
