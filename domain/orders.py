"""Orders and refunds from the commerce backend, and points offsets at checkout."""
from __future__ import annotations

from domain import checkout, commands, idempotency, referrals, tiers, wallet
from domain.clock import within_service_range
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import Order, PointsOffset, Refund
from domain.ports import UnitOfWork
from domain.rules import (
    growth_for_order, offset_amount, offset_return_by_year, points_for_order, proportional_take_back,
)
from domain.vocabulary import Channel, PointKind, names

MAX_AMOUNT = 10**11  # fen: a billion yuan, far beyond any real order; keeps sums inside 64-bit columns


def _amount(value: int, field: str, allow_zero: bool = True) -> int:
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_AMOUNT:
        raise invalid(field, f"{field} must be {'a positive' if not allow_zero else 'a non-negative'} "
                             f"amount in fen, at most {MAX_AMOUNT}.")
    return value


async def record_order(command: commands.RecordOrder, uow: UnitOfWork, context: Handling) -> Order:
    """Points (`points.order`, at the member's tier before this order) and growth (`growth`) for a paid
    order; `externalId` is the retry key."""
    program, now, member_id, amount, channel, paid_at = (context.program, context.now, command.member_id, command.amount,
                                                         command.channel, command.paid_at)
    external_id, shipping_fee = command.external_id, command.shipping_fee
    external_id = idempotency.check_key(external_id, "externalId")
    _amount(amount, "amount")
    shipping = _amount(shipping_fee or 0, "shippingFee")
    if channel not in names(Channel):
        raise invalid("channel", f"channel must be one of {', '.join(names(Channel))}.")
    if paid_at.tzinfo is None:
        raise invalid("paidAt", "paidAt must carry a UTC offset, e.g. 2026-11-23T10:00:00+08:00.")
    if not within_service_range(paid_at):
        raise invalid("paidAt", "paidAt must fall between 1970 and 2199.")
    member = await member_for_update(uow, member_id)
    existing = await uow.orders.by_external_id(external_id)
    if existing is not None:
        same = (existing.member_id, existing.amount, existing.shipping_fee, existing.channel, existing.paid_at) == (
            member.id, amount, shipping, channel, paid_at)
        if not same:
            raise idempotency.key_reused("externalId")
        return context.replay(existing)
    tier_before = program.tier(member.tier_code)
    points = points_for_order(program.order_points, tier_before, amount, channel, program.calendar.local_date(paid_at))
    growth = growth_for_order(program.growth, amount, channel)
    order = await uow.orders.add(Order(
        member_id=member.id, external_id=external_id, amount=amount, shipping_fee=shipping, channel=channel,
        paid_at=paid_at, points_earned=points, growth_earned=growth, created_at=now,
    ))
    await checkout.capture(uow, context, member, order)   # the checkout came before the payment's points
    await wallet.credit(uow, program, member, points, PointKind.ORDER, f"订单 {external_id}", now, order_id=order.id)
    await tiers.change_growth(uow, program, member, growth, PointKind.ORDER, now, order_id=order.id)
    await referrals.order_recorded(uow, program, order)
    return order


async def refund_order(command: commands.RefundOrder, uow: UnitOfWork, context: Handling) -> Order:
    """Take back floor(earned × refundedSoFar / amount) less earlier take-backs, of points and growth
    alike; give back points spent on the order in the same proportion, as a new lot per year the offset's
    points were earned in (`rules.offset_return_by_year`; it expires as a lot earned now). The balance may
    go negative this way (a debt the next points repay). A deregistered member's refund is recorded
    for the books and takes nothing: their points were forfeited when they left."""
    program, now, amount = context.program, context.now, command.amount
    external_id, external_refund_id = command.external_id, command.external_refund_id
    external_id = idempotency.check_key(external_id, "externalId")
    external_refund_id = idempotency.check_key(external_refund_id, "externalRefundId")
    _amount(amount, "amount", allow_zero=False)
    found = await uow.orders.by_external_id(external_id)
    if found is None:
        raise LoyaltyError(UserErrorCode.ORDER_NOT_FOUND, "No order with this externalId.", ["input", "externalId"])
    await context.concerns(f"Member:{found.member_id}")
    member = await uow.members.lock(found.member_id)
    order = await uow.orders.by_external_id(external_id)  # read again under the member's lock
    earlier = await uow.orders.refund_by_external_id(external_refund_id)
    if earlier is not None:
        if (earlier.order_id, earlier.amount) != (order.id, amount):
            raise idempotency.key_reused("externalRefundId")
        return context.replay(order)
    refunded = order.refunded_amount + amount
    if refunded > order.amount:
        raise LoyaltyError(UserErrorCode.REFUND_EXCEEDS_ORDER,
                           f"Only {order.amount - order.refunded_amount} fen of this order is left to refund.",
                           ["input", "amount"])
    points_back = growth_back = returned = 0
    returns: list = []
    if member.deregistered_at is None:  # a closed account's points were forfeited when it closed
        points_back = proportional_take_back(order.points_earned, refunded, order.amount, order.points_taken_back)
        growth_back = proportional_take_back(order.growth_earned, refunded, order.amount, order.growth_taken_back)
        offset = await uow.orders.offset_for(external_id)
        if offset is not None and offset.member_id == member.id:
            returned = proportional_take_back(offset.points, refunded, order.amount, offset.points_returned)
            if returned:
                returns = offset_return_by_year(program.calendar, await uow.orders.offset_lots(offset.id),
                                                offset.points_returned, returned)
            offset.points_returned += returned
            await uow.orders.save_offset(offset)
    description = f"订单 {external_id} 退款"
    await wallet.debit(uow, member, points_back, PointKind.REFUND, description, now, order_id=order.id, allow_debt=True)
    for earned_at, points in returns:
        await wallet.credit(uow, program, member, points, PointKind.REFUND, f"{description}：退还抵扣积分", now,
                            order_id=order.id, earned_at=earned_at)
    await tiers.change_growth(uow, program, member, -growth_back, PointKind.REFUND, now, order_id=order.id)
    order.refunded_amount = refunded
    order.points_taken_back += points_back
    order.growth_taken_back += growth_back
    await uow.orders.save(order)
    await uow.orders.add_refund(Refund(order.id, external_refund_id, amount, points_back, growth_back, returned, now))
    await referrals.order_refunded(uow, program, order)
    return order


async def redeem_points_for_order(command: commands.RedeemPointsForOrder, uow: UnitOfWork,
                                  context: Handling) -> PointsOffset:
    """`points.offset`: `points_per_yuan` points per yuan off, at least `min_points`, in multiples of
    `step`, at most `max_order_percent` of orderAmount; one offset per order (its retry key)."""
    program, now, member_id, points = context.program, context.now, command.member_id, command.points
    external_order_id, order_amount = command.external_order_id, command.order_amount
    external_order_id = idempotency.check_key(external_order_id, "externalOrderId")
    _amount(order_amount, "orderAmount", allow_zero=False)
    rule = program.offset
    checkout.check_offset_points(program, points, order_amount)
    member = await member_for_update(uow, member_id)
    existing = await uow.orders.offset_for(external_order_id)
    if existing is not None:
        if (existing.member_id, existing.points, existing.order_amount) != (member.id, points, order_amount):
            raise idempotency.key_reused("externalOrderId")
        return context.replay(existing)
    if await uow.holds.by_external_order_id(external_order_id) is not None:
        raise invalid("externalOrderId", "This order has a checkout hold: recordOrder captures its points.")
    _, taken = await wallet.debit_from_lots(uow, member, points, PointKind.ORDER_OFFSET,
                                            f"订单 {external_order_id} 积分抵现", now)
    offset = await uow.orders.add_offset(PointsOffset(
        member_id=member.id, external_order_id=external_order_id, points=points,
        amount_off=offset_amount(rule, points), order_amount=order_amount, created_at=now,
    ))
    await wallet.record_offset_lots(uow, offset, [(lot.id, n) for lot, n in taken])
    return offset
