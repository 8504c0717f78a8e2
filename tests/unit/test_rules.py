"""The program's arithmetic (domain/rules.py), checked against the numbers of the contract docs.

Pure functions: no database, no HTTP. Expected values are worked out by hand in the comments.
Dates used: 2024-03-04 is a Monday, 2024-03-05 a Tuesday (member day); 2024 is a leap year.
"""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.model import PointsLot
from domain.program import Program, load_program
from domain.rules import (
    allocate_spend, check_in_points, count_visits, coupon_discount, coupon_valid_until, frequency_bonus_points,
    growth_for_order, offset_amount, offset_limit_points, offset_return_by_year, points_for_order,
    proportional_take_back,
)

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2024, 3, 4)
TUESDAY = date(2024, 3, 5)
WEDNESDAY = date(2024, 3, 6)
SUNDAY = date(2024, 3, 10)


@pytest.fixture(scope="module")
def standard() -> Program:
    return load_program(PROGRAMS / "standard.toml")


@pytest.fixture(scope="module")
def fresh() -> Program:
    return load_program(PROGRAMS / "fresh-grocery.toml")


# ---------------------------------------------------------------- growth

@pytest.mark.parametrize("amount, expected", [
    (149, 1),      # ¥1.49 → 1 (half up, below .5)
    (150, 2),      # ¥1.50 → 2 (exactly half rounds up)
    (80, 0),       # ¥0.80 → 0 (under ¥1 gives nothing)
    (99, 0),       # ¥0.99 → 0, although it would round to 1
    (100, 1),      # ¥1.00 → 1, the smallest order that counts
    (0, 0),
    (250, 3),      # ¥2.50 → 3 (half up, not banker's rounding to 2)
    (349, 3),      # ¥3.49 → 3
    (250000, 2500),  # ¥2500.00 → 2500
    (123456, 1235),  # ¥1234.56 → 1235
])
def test_growth_is_one_per_yuan_half_up(standard, amount, expected):
    assert growth_for_order(standard.growth, amount, "APP") == expected


@pytest.mark.parametrize("channel", ["APP", "MINI_PROGRAM", "STORE"])
def test_growth_counts_every_own_channel(standard, channel):
    assert growth_for_order(standard.growth, 150, channel) == 2


def test_third_party_orders_give_no_growth(standard, fresh):
    assert growth_for_order(standard.growth, 100000, "THIRD_PARTY") == 0
    assert growth_for_order(fresh.growth, 100000, "THIRD_PARTY") == 0


# ---------------------------------------------------------------- order points

def test_order_points_floor_the_yuan_before_the_multiplier(standard):
    regular, gold, diamond = standard.tier("regular"), standard.tier("gold"), standard.tier("diamond")
    rule = standard.order_points
    # ¥1.99 at gold: floor(1.99) = 1 → 1 × 1.2 = 1.2 → 1 (not floor(1.99 × 1.2) = 2)
    assert points_for_order(rule, gold, 199, "APP", MONDAY) == 1
    # ¥99.99 regular: floor(99.99) = 99
    assert points_for_order(rule, regular, 9999, "APP", MONDAY) == 99
    # ¥0.99 → 0 units → 0
    assert points_for_order(rule, diamond, 99, "APP", MONDAY) == 0
    # ¥4 at gold: 4 × 1.2 = 4.8 → 4 (floor, not rounding to 5)
    assert points_for_order(rule, gold, 400, "APP", MONDAY) == 4
    # ¥3 at diamond: 3 × 1.5 = 4.5 → 4 (floor, not half up to 5)
    assert points_for_order(rule, diamond, 300, "APP", MONDAY) == 4


@pytest.mark.parametrize("tier_code, amount, day, expected", [
    ("regular", 12345, MONDAY, 123),           # floor(123.45) = 123 × 1.0 × 1
    ("regular", 12345, TUESDAY, 246),          # 123 × 1.0 × 2
    ("silver", 12345, TUESDAY, 246),           # silver multiplier 1.0
    ("gold", 12345, WEDNESDAY, 147),           # 123 × 1.2 = 147.6 → 147
    ("gold", 12345, TUESDAY, 295),             # 123 × 1.2 × 2 = 295.2 → 295
    ("diamond", 12345, SUNDAY, 184),           # 123 × 1.5 = 184.5 → 184
    ("diamond", 12345, TUESDAY, 369),          # 123 × 1.5 × 2 = 369
    ("gold", 999999, MONDAY, 11998),           # floor(9999.99) = 9999 × 1.2 = 11998.8 → 11998
])
def test_order_points_by_tier_and_member_day(standard, tier_code, amount, day, expected):
    assert points_for_order(standard.order_points, standard.tier(tier_code), amount, "APP", day) == expected


def test_member_day_follows_the_date_passed_not_today(standard):
    regular = standard.tier("regular")
    rule = standard.order_points
    # Every Tuesday of March 2024 doubles, every other weekday does not: ¥10 → 20 on Tuesday, else 10.
    for offset in range(31):
        day = date(2024, 3, 1) + timedelta(days=offset)
        expected = 20 if day.isoweekday() == 2 else 10
        assert points_for_order(rule, regular, 1000, "STORE", day) == expected, day


def test_order_points_are_exact_decimals_and_ints(standard):
    gold, diamond = standard.tier("gold"), standard.tier("diamond")
    assert gold.points_multiplier == Decimal("1.2") and diamond.points_multiplier == Decimal("1.5")
    for units in range(0, 3000):
        for tier, day in ((gold, MONDAY), (gold, TUESDAY), (diamond, MONDAY), (diamond, TUESDAY)):
            # exact floor in integers: units × m × d with m = tenths / 10
            tenths = int(tier.points_multiplier * 10)
            day_x = 2 if day == TUESDAY else 1
            expected = units * tenths * day_x // 10
            got = points_for_order(standard.order_points, tier, units * 100 + 99, "APP", day)
            assert type(got) is int
            assert got == expected, (tier.code, units, day)


@pytest.mark.parametrize("multiplier, units, expected", [
    # Multipliers where binary floats fall just under the integer: 100 × 1.15 = 114.99999999999999
    # in float (floor 114); the exact value is 115.
    ("1.15", 100, 115),
    # 100 × 2.3 = 229.99999999999997 in float; exactly 230.
    ("2.3", 100, 230),
    # 10 × 1.15 = 11.5 → 11, and 180 × 1.15 = 207 exactly (float gives 206.99999999999997).
    ("1.15", 10, 11),
    ("1.15", 180, 207),
])
def test_order_points_do_not_suffer_float_error(standard, multiplier, units, expected):
    tier = replace(standard.tier("gold"), points_multiplier=Decimal(multiplier))
    assert points_for_order(standard.order_points, tier, units * 100, "APP", MONDAY) == expected


def test_third_party_orders_earn_no_points(standard, fresh):
    assert points_for_order(standard.order_points, standard.tier("diamond"), 100000, "THIRD_PARTY", TUESDAY) == 0
    assert points_for_order(fresh.order_points, fresh.tier("gold"), 100000, "THIRD_PARTY", TUESDAY) == 0


@pytest.mark.parametrize("amount, day, expected", [
    (999, MONDAY, 0),       # under ¥10: no coin
    (1000, MONDAY, 1),      # one full ¥10
    (1999, MONDAY, 1),      # floor(1999 / 1000) = 1
    (12345, MONDAY, 12),    # floor(123.45 / 10) = 12
    (12345, TUESDAY, 24),   # 欢乐会员日 doubles: 12 × 2
])
def test_fresh_grocery_coins_per_full_ten_yuan(fresh, amount, day, expected):
    assert points_for_order(fresh.order_points, fresh.tier("gold"), amount, "MINI_PROGRAM", day) == expected


# ---------------------------------------------------------------- check-in

# min(streak, 7) plus 20 on every 7th day of a streak
CHECK_IN_EXPECTED = {
    1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 27,
    8: 7, 9: 7, 10: 7, 11: 7, 12: 7, 13: 7, 14: 27,
    15: 7, 16: 7, 17: 7, 18: 7, 19: 7, 20: 7, 21: 27,
}


@pytest.mark.parametrize("streak", range(1, 22))
def test_check_in_points_over_three_weeks(standard, streak):
    assert check_in_points(standard.check_in, streak) == CHECK_IN_EXPECTED[streak]


def test_check_in_first_week_totals(standard):
    # 1+2+3+4+5+6+(7+20) = 48; three weeks: 48 + (7×7+20) × 2 = 48 + 138 = 186
    assert sum(check_in_points(standard.check_in, s) for s in range(1, 8)) == 48
    assert sum(check_in_points(standard.check_in, s) for s in range(1, 22)) == 186


# ---------------------------------------------------------------- refunds

def test_take_back_over_partial_refunds_sums_to_what_was_earned():
    earned, amount = 295, 12345
    # cumulative refunds 1000, 3345, 7345, 12345 fen:
    #   295×1000//12345 = 23          → 23
    #   295×3345//12345 = 79  − 23    → 56
    #   295×7345//12345 = 175 − 79    → 96
    #   295×12345//12345 = 295 − 175  → 120
    steps = []
    taken = 0
    for refunded_so_far in (1000, 3345, 7345, 12345):
        step = proportional_take_back(earned, refunded_so_far, amount, taken)
        steps.append(step)
        taken += step
    assert steps == [23, 56, 96, 120]
    assert taken == earned


def test_take_back_random_refund_sequences_always_total_the_earned_amount():
    rng = random.Random(20240305)
    for _ in range(300):
        amount = rng.randint(1, 200000)
        earned = rng.randint(0, 5000)
        cuts = sorted(rng.sample(range(1, amount), min(amount - 1, rng.randint(0, 6)))) if amount > 1 else []
        taken = 0
        for refunded_so_far in [*cuts, amount]:
            step = proportional_take_back(earned, refunded_so_far, amount, taken)
            assert step >= 0
            taken += step
            # never more than the proportional share so far
            assert taken == earned * refunded_so_far // amount
        assert taken == earned


def test_take_back_edge_cases():
    assert proportional_take_back(100, 1, 3, 0) == 33         # 100 × 1 // 3 = 33
    assert proportional_take_back(100, 1, 300, 0) == 0        # 100×1//300 = 0
    assert proportional_take_back(100, 0, 300, 0) == 0
    assert proportional_take_back(100, 300, 300, 100) == 0    # everything already taken
    assert proportional_take_back(0, 300, 300, 0) == 0        # nothing earned (THIRD_PARTY)
    assert proportional_take_back(100, 50, 0, 0) == 0         # a zero-amount order takes nothing back
    assert proportional_take_back(100, 150, 300, 60) == 0     # already took more than 50: never negative


def test_take_back_one_third():
    # 100 × 100 // 300 = 33; then 100 × 200 // 300 = 66 − 33 = 33; then 100 − 66 = 34
    assert proportional_take_back(100, 100, 300, 0) == 33
    assert proportional_take_back(100, 200, 300, 33) == 33
    assert proportional_take_back(100, 300, 300, 66) == 34


# ---------------------------------------------------------------- spending lots

def _lot(lot_id: int, remaining: int, expires: datetime, points: int | None = None) -> PointsLot:
    return PointsLot(id=lot_id, member_id=1, points=points or max(remaining, 1), remaining=remaining,
                     earned_at=expires - timedelta(days=365), expires_at=expires)


def test_allocate_spend_takes_soonest_expiry_first_then_lowest_id():
    march = datetime(2025, 3, 4, 23, 59, 59, tzinfo=SHANGHAI)
    june = datetime(2025, 6, 1, 23, 59, 59, tzinfo=SHANGHAI)
    lots = [_lot(5, 300, june), _lot(9, 50, march), _lot(2, 100, march), _lot(1, 0, march, points=10)]
    plan, shortfall = allocate_spend(lots, 200)
    # march lots first, id 2 before id 9 (id 1 is empty and skipped): 100 from #2, 50 from #9, 50 from #5
    assert [(lot.id, taken) for lot, taken in plan] == [(2, 100), (9, 50), (5, 50)]
    assert shortfall == 0
    # the input lots are not changed by planning
    assert [lot.remaining for lot in lots] == [300, 50, 100, 0]


def test_allocate_spend_compares_moments_not_wall_times():
    # 2025-03-04 23:59:59 in Shanghai is 15:59:59Z: it expires before 2025-03-04 20:00Z.
    shanghai_end = datetime(2025, 3, 4, 23, 59, 59, tzinfo=SHANGHAI)
    utc_evening = datetime(2025, 3, 4, 20, 0, tzinfo=timezone.utc)
    plan, _ = allocate_spend([_lot(1, 10, utc_evening), _lot(2, 10, shanghai_end)], 10)
    assert [(lot.id, taken) for lot, taken in plan] == [(2, 10)]


def test_allocate_spend_exact_and_short():
    end = datetime(2025, 3, 4, 23, 59, 59, tzinfo=SHANGHAI)
    lots = [_lot(1, 30, end), _lot(2, 20, end + timedelta(days=1))]
    plan, shortfall = allocate_spend(lots, 50)
    assert [(lot.id, taken) for lot, taken in plan] == [(1, 30), (2, 20)] and shortfall == 0
    plan, shortfall = allocate_spend(lots, 80)
    assert [(lot.id, taken) for lot, taken in plan] == [(1, 30), (2, 20)] and shortfall == 30
    plan, shortfall = allocate_spend(lots, 0)
    assert plan == [] and shortfall == 0
    plan, shortfall = allocate_spend([], 40)
    assert plan == [] and shortfall == 40


# ---------------------------------------------------------------- offsets

@pytest.mark.parametrize("order_amount, limit", [
    (10000, 5000),   # half of ¥100 = ¥50 = 5000 points
    (12345, 6100),   # half = 6172 fen → 6172 points → whole 100s: 6100
    (199, 0),        # half = 99 fen → 99 points → 0
    (200, 100),      # half = 100 fen → 100 points
    (399, 100),      # half = 199 fen → 100
    (1, 0),
])
def test_standard_offset_limit(standard, order_amount, limit):
    assert offset_limit_points(standard.offset, order_amount) == limit


@pytest.mark.parametrize("order_amount, limit", [
    (10000, 1000),   # the whole ¥100 = 1000 coins (10 coins = ¥1)
    (12345, 1230),   # ¥123.45 → 1234.5 coins → 1234 → whole 10s: 1230
    (99, 0),         # ¥0.99 → 9 coins → 0
    (100, 10),       # ¥1 → 10 coins
])
def test_fresh_offset_limit(fresh, order_amount, limit):
    assert offset_limit_points(fresh.offset, order_amount) == limit


def test_offset_amounts(standard, fresh):
    assert offset_amount(standard.offset, 100) == 100     # 100 points = ¥1 = 100 fen
    assert offset_amount(standard.offset, 6100) == 6100
    assert offset_amount(fresh.offset, 10) == 100         # 10 coins = ¥1 = 100 fen
    assert offset_amount(fresh.offset, 1230) == 12300


def test_offset_limit_never_takes_more_than_allowed(standard, fresh):
    for program in (standard, fresh):
        rule = program.offset
        for order_amount in range(1, 5000, 7):
            limit = offset_limit_points(rule, order_amount)
            assert limit % rule.step == 0 and limit >= 0
            assert offset_amount(rule, limit) * 100 <= order_amount * rule.max_order_percent
            # one more step would go over the limit
            assert offset_amount(rule, limit + rule.step) * 100 > order_amount * rule.max_order_percent


# ---------------------------------------------------------------- coupons

@pytest.mark.parametrize("kind, amount, percent, order_amount, expected", [
    ("AMOUNT_OFF", 500, None, 3000, 500),       # 满30减5 on ¥30
    ("AMOUNT_OFF", 500, None, 300, 300),        # never more than the order (a no-threshold coupon on ¥3)
    ("AMOUNT_OFF", 500, None, 0, 0),
    ("PERCENT_OFF", None, 10, 12345, 1234),     # floor(12345 × 10 / 100) = 1234
    ("PERCENT_OFF", None, 10, 10000, 1000),
    ("PERCENT_OFF", None, 10, 99, 9),           # floor(9.9)
    ("FREE_SHIPPING", None, None, 12345, 0),    # nothing off the goods
])
def test_coupon_discount(kind, amount, percent, order_amount, expected):
    assert coupon_discount(kind, amount, percent, order_amount) == expected


def test_gift_coupon_valid_thirty_local_days(standard):
    template = standard.coupon_templates["full30off5"]
    cal = standard.calendar
    # issued Monday 2024-03-04 10:00 local → 2024-03-04 + 30 days = 2024-04-03, to 23:59:59 local
    until = coupon_valid_until(template, datetime(2024, 3, 4, 2, 0, tzinfo=timezone.utc), cal)
    assert until == datetime(2024, 4, 3, 23, 59, 59, tzinfo=SHANGHAI)
    # 2024-01-31 16:30Z is 2024-02-01 00:30 in Shanghai: Feb 1 + 30 days (leap February of 29) = Mar 2.
    # Counting from the UTC date (Jan 31) would give Mar 1.
    until = coupon_valid_until(template, datetime(2024, 1, 31, 16, 30, tzinfo=timezone.utc), cal)
    assert until == datetime(2024, 3, 2, 23, 59, 59, tzinfo=SHANGHAI)
    # The same issue in 2023 (28-day February): Feb 1 + 30 = Mar 3.
    until = coupon_valid_until(template, datetime(2023, 1, 31, 16, 30, tzinfo=timezone.utc), cal)
    assert until == datetime(2023, 3, 3, 23, 59, 59, tzinfo=SHANGHAI)


def test_monthly_coupon_valid_until_month_end(standard):
    template = standard.coupon_templates["full50off5"]
    cal = standard.calendar
    # February of a leap year ends on the 29th
    until = coupon_valid_until(template, datetime(2024, 2, 3, 1, 0, tzinfo=SHANGHAI), cal)
    assert until == datetime(2024, 2, 29, 23, 59, 59, tzinfo=SHANGHAI)
    # ... of a common year on the 28th
    until = coupon_valid_until(template, datetime(2023, 2, 3, 1, 0, tzinfo=SHANGHAI), cal)
    assert until == datetime(2023, 2, 28, 23, 59, 59, tzinfo=SHANGHAI)
    # 2024-02-29 16:30Z is already 1 March in Shanghai: valid to the end of March
    until = coupon_valid_until(template, datetime(2024, 2, 29, 16, 30, tzinfo=timezone.utc), cal)
    assert until == datetime(2024, 3, 31, 23, 59, 59, tzinfo=SHANGHAI)
    # December rolls nowhere: end of 31 December
    until = coupon_valid_until(template, datetime(2024, 12, 1, 0, 0, tzinfo=SHANGHAI), cal)
    assert until == datetime(2024, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)


# ---------------------------------------------------------------- visit-frequency bonus (fresh-grocery)

def _visits(*moments: tuple[str, int]) -> list[tuple[datetime, int]]:
    return [(datetime.fromisoformat(f"2026-03-{m}+08:00"), net) for m, net in moments]


@pytest.mark.parametrize("orders, expected", [
    (_visits(("02T10:00", 100), ("03T09:59", 100)), 1),                      # 23 h 59 min apart: once
    (_visits(("02T10:00", 100), ("03T10:00", 100)), 2),                      # exactly 24 h apart: twice
    (_visits(("02T10:00", 100), ("03T06:00", 100), ("03T16:00", 100)), 2),   # 30 h after the counted visit
    (_visits(("02T10:00", 0), ("02T20:00", 100)), 1),                        # fully refunded: no visit, no window
    (_visits(("02T10:00", 0), ("04T10:00", 0)), 0),
    ([], 0),
])
def test_visits_are_counted_greedily_from_the_last_counted_one(orders, expected):
    assert count_visits(orders, 24) == expected


def test_a_window_of_0_hours_counts_every_order():
    assert count_visits(_visits(("02T10:00", 100), ("02T10:00", 100), ("02T10:01", 100)), 0) == 3


@pytest.mark.parametrize("net_spend, visits, expected", [
    (30000, 4, 0), (30000, 5, 20), (30000, 19, 20), (30000, 20, 50), (30000, 31, 50),   # the highest reached
    (29999, 20, 0),                                                                      # ¥299.99: nothing
])
def test_frequency_bonus_pays_the_highest_threshold_reached(fresh, net_spend, visits, expected):
    assert frequency_bonus_points(fresh.frequency_bonus, net_spend, visits) == expected


def test_the_standard_program_has_no_frequency_bonus(standard):
    assert standard.frequency_bonus is None


# ---------------------------------------------------------------- offsets given back by year

def _earned(day: str, points: int) -> tuple[datetime, int]:
    return datetime.fromisoformat(f"{day}+08:00"), points


def test_offset_points_come_back_first_taken_first_returned_by_local_year(fresh):
    calendar = fresh.calendar
    # Years are local: 2026-01-01 00:30 in Shanghai (16:30Z on 31 December) is 2026's.
    sources = [_earned("2025-06-01T10:00", 20), _earned("2025-12-31T23:30", 10), _earned("2026-01-01T00:30", 70)]
    first = offset_return_by_year(calendar, sources, 0, 50)
    assert first == [(sources[0][0], 30), (sources[2][0], 20)]
    assert offset_return_by_year(calendar, sources, 50, 50) == [(sources[2][0], 50)]
    assert offset_return_by_year(calendar, sources, 25, 10) == [(sources[1][0], 5), (sources[2][0], 5)]
    assert offset_return_by_year(calendar, sources, 0, 100) == [(sources[0][0], 30), (sources[2][0], 70)]


def test_offset_points_not_recorded_come_back_as_earned_now(fresh):
    assert offset_return_by_year(fresh.calendar, [], 0, 40) == [(None, 40)]
    sources = [_earned("2025-06-01T10:00", 30)]
    assert offset_return_by_year(fresh.calendar, sources, 20, 20) == [(sources[0][0], 10), (None, 10)]
    assert offset_return_by_year(fresh.calendar, sources, 0, 0) == []
