"""The arithmetic of the program: pure functions of program settings and numbers.

Each function cites the program setting it reads. Nothing here touches storage or the clock.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Iterable

from domain.clock import LocalCalendar
from domain.model import PointsLot
from domain.program import (
    CheckInRule, CouponTemplate, FrequencyBonusRule, GrowthRule, OffsetRule, OrderPointsRule, TierRule,
)
from domain.vocabulary import CouponKind


def growth_for_order(rule: GrowthRule, amount: int, channel: str) -> int:
    """`growth.fen_per_growth` fen give 1 growth, rounded half up; under `growth.min_amount` gives 0;
    only `growth.eligible_channels` count (¥1.49 → 1, ¥1.50 → 2, ¥0.80 → 0)."""
    if channel not in rule.eligible_channels or amount < rule.min_amount:
        return 0
    return (amount * 2 + rule.fen_per_growth) // (rule.fen_per_growth * 2)


def points_for_order(rule: OrderPointsRule, tier: TierRule, amount: int, channel: str, local_day: date) -> int:
    """floor(floor(amount / `points.order.fen_per_unit`) × tier multiplier × day multiplier), where the
    day multiplier comes from `points.order.day_multipliers` by the ISO weekday of the local paid date."""
    if channel not in rule.eligible_channels:
        return 0
    units = amount // rule.fen_per_unit
    day_multiplier = rule.day_multipliers.get(local_day.isoweekday(), 1)
    return int((Decimal(units) * tier.points_multiplier * day_multiplier).to_integral_value(ROUND_FLOOR))


def check_in_points(rule: CheckInRule, streak_days: int) -> int:
    """min(streak, `daily_cap`) plus `streak_bonus` when the streak is a multiple of `streak_bonus_every`."""
    bonus = rule.streak_bonus if streak_days % rule.streak_bonus_every == 0 else 0
    return min(streak_days, rule.daily_cap) + bonus


def count_visits(orders: Iterable[tuple[datetime, int]], window_hours: int) -> int:
    """`frequency_bonus.visit_window_hours`: of (paid_at, net fen) orders in paid_at order, each not fully
    refunded (net above 0) is a visit, unless it comes less than `window_hours` after the last one counted
    (exactly `window_hours` later counts again). Greedy: an order that did not count starts no window."""
    window, last, visits = timedelta(hours=window_hours), None, 0
    for paid_at, net in orders:
        if net > 0 and (last is None or paid_at - last >= window):
            last, visits = paid_at, visits + 1
    return visits


def frequency_bonus_points(rule: FrequencyBonusRule, net_spend: int, visits: int) -> int:
    """`frequency_bonus`: with net spend of at least `min_spend`, the points of the highest threshold the
    visits reach (only that one: thresholds do not add up); otherwise 0."""
    reached = [points for needed, points in rule.thresholds if visits >= needed]   # fewest visits first
    return reached[-1] if reached and net_spend >= rule.min_spend else 0


def proportional_take_back(earned: int, refunded_so_far: int, order_amount: int, already: int) -> int:
    """What a refund takes back: floor(earned × refundedSoFar / amount) less what earlier refunds took."""
    if order_amount <= 0:
        return 0
    return max(0, earned * refunded_so_far // order_amount - already)


def allocate_spend(lots: Iterable[PointsLot], points: int) -> tuple[list[tuple[PointsLot, int]], int]:
    """Take `points` from the lots that expire first. Returns (lot, taken) pairs and the shortfall."""
    plan: list[tuple[PointsLot, int]] = []
    left = points
    for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.id)):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            plan.append((lot, take))
            left -= take
    return plan, left


def offset_return_by_year(calendar: LocalCalendar, sources: Iterable[tuple[datetime, int]], already_returned: int,
                          returning: int) -> list[tuple[datetime | None, int]]:
    """How `returning` points of an offset go back, by the local year of the lots they were taken from.
    `sources` are (earned_at, points) of those lots, earliest first: points come back in that order (the
    first `already_returned` came back with earlier refunds). One (earned_at of its first lot, points) per
    year; what the sources do not cover (offsets from before they were recorded) is (None, points): earned now."""
    shares: list[tuple[datetime | None, int]] = []
    low, high, position = already_returned, already_returned + returning, 0
    for earned_at, points in sources:
        share = min(high, position + points) - max(low, position)
        position += points
        if share <= 0:
            continue
        if shares and calendar.local_date(shares[-1][0]).year == calendar.local_date(earned_at).year:
            shares[-1] = (shares[-1][0], shares[-1][1] + share)
        else:
            shares.append((earned_at, share))
    uncovered = returning - sum(points for _, points in shares)
    return shares + [(None, uncovered)] if uncovered > 0 else shares


def offset_amount(rule: OffsetRule, points: int) -> int:
    """Fen taken off an order for `points`: `points_per_yuan` points are 100 fen."""
    return points * 100 // rule.points_per_yuan


def offset_limit_points(rule: OffsetRule, order_amount: int) -> int:
    """The most points an order may take: `max_order_percent` of orderAmount, in whole `step`s."""
    max_fen = order_amount * rule.max_order_percent // 100
    max_points = max_fen * rule.points_per_yuan // 100
    return max_points - max_points % rule.step


def coupon_discount(kind: str, discount_amount: int | None, discount_percent: int | None, order_amount: int) -> int:
    """Fen off the goods: AMOUNT_OFF its amount (never more than the order), PERCENT_OFF
    floor(orderAmount × percent / 100), FREE_SHIPPING nothing off the goods."""
    if kind == CouponKind.AMOUNT_OFF:
        return min(discount_amount or 0, order_amount)
    if kind == CouponKind.PERCENT_OFF:
        return order_amount * (discount_percent or 0) // 100
    return 0


def coupon_valid_until(template: CouponTemplate, issued_at: datetime, calendar: LocalCalendar) -> datetime:
    """Gift coupons last `valid_days` local days after the issue day; month coupons to the month's end."""
    if template.valid_until_month_end:
        return calendar.end_of_month(calendar.local_date(issued_at))
    return calendar.days_later_end(issued_at, template.valid_days)
