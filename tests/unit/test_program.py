"""Program files (domain/program.py): both shipped programs carry the numbers of the contract docs
(docs/standard-program.md, docs/fresh-grocery-program.md), and a broken file is refused with
a ProgramError that names the setting at fault."""
from __future__ import annotations

import copy
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import ProgramError
from domain.program import CouponGrant, Program, load_program, parse_program

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
STANDARD_PATH = PROGRAMS / "standard.toml"
FRESH_PATH = PROGRAMS / "fresh-grocery.toml"


@pytest.fixture(scope="module")
def standard() -> Program:
    return load_program(STANDARD_PATH)


@pytest.fixture(scope="module")
def fresh() -> Program:
    return load_program(FRESH_PATH)


@pytest.fixture(scope="module")
def standard_data() -> dict:
    with STANDARD_PATH.open("rb") as f:
        return tomllib.load(f)


def _template(program: Program, code: str) -> tuple:
    t = program.coupon_templates[code]
    return (t.kind, t.min_spend, t.discount_amount, t.discount_percent, t.valid_days, t.valid_until_month_end)


# 满30减5: AMOUNT_OFF, minSpend 3000, discountAmount 500, 30 days
FULL30OFF5 = ("AMOUNT_OFF", 3000, 500, None, 30, False)


# ================================================================ the standard program

def test_standard_tiers(standard):
    rows = [(t.level, t.code, t.name, t.growth_threshold, t.points_multiplier, t.retention_deduction)
            for t in standard.tiers]
    assert rows == [
        (1, "regular", "普通会员", 0, Decimal("1.0"), 0),
        (2, "silver", "银牌会员", 500, Decimal("1.0"), 300),
        (3, "gold", "金牌会员", 2000, Decimal("1.2"), 1000),
        (4, "diamond", "钻石会员", 5000, Decimal("1.5"), 2500),
    ]
    assert standard.base_tier.code == "regular"
    assert standard.tier_policy.validity_months == 12
    assert (standard.name, standard.timezone, standard.points_name) == ("standard", "Asia/Shanghai", "积分")


def test_standard_upgrade_gifts(standard):
    gifts = {t.code: (t.upgrade_gift.points, t.upgrade_gift.coupons) for t in standard.tiers}
    assert gifts == {
        "regular": (0, ()),
        "silver": (100, (CouponGrant("full30off5", 2),)),
        "gold": (300, (CouponGrant("full30off5", 3),)),
        "diamond": (800, (CouponGrant("full30off5", 5),)),
    }
    assert _template(standard, "full30off5") == FULL30OFF5


def test_standard_tier_for_growth(standard):
    expected = {0: "regular", 499: "regular", 500: "silver", 1999: "silver", 2000: "gold",
                4999: "gold", 5000: "diamond", 10**9: "diamond"}
    assert {g: standard.tier_for_growth(g).code for g in expected} == expected
    assert standard.next_tier("regular").code == "silver"
    assert standard.next_tier("gold").code == "diamond"
    assert standard.next_tier("diamond") is None
    with pytest.raises(KeyError):
        standard.tier("platinum")


def test_standard_growth_and_order_points(standard):
    assert (standard.growth.fen_per_growth, standard.growth.min_amount) == (100, 100)
    assert standard.growth.eligible_channels == {"APP", "MINI_PROGRAM", "STORE"}
    assert standard.order_points.fen_per_unit == 100
    assert standard.order_points.eligible_channels == {"APP", "MINI_PROGRAM", "STORE"}
    assert standard.order_points.day_multipliers == {2: 2}     # ISO weekday 2 = Tuesday, ×2


def test_standard_points_rules(standard):
    assert standard.signup.points == 100
    assert standard.signup.coupons == (CouponGrant("newcomer", 1),)
    assert _template(standard, "newcomer") == FULL30OFF5
    assert (standard.profile.birthday, standard.profile.gender, standard.profile.household_size) == (5, 5, 5)
    assert (standard.check_in.daily_cap, standard.check_in.streak_bonus_every, standard.check_in.streak_bonus) \
        == (7, 7, 20)
    assert (standard.monthly_bonus.min_spend, standard.monthly_bonus.points) == (50000, 100)   # ¥500 → 100
    assert standard.expiry_months == 12
    assert standard.expiring_soon_days == 30
    assert standard.annual_clearing_percent is None


def test_standard_offsets(standard):
    o = standard.offset
    # 100 points = ¥1, at least 100, in multiples of 100, at most half of orderAmount
    assert (o.points_per_yuan, o.min_points, o.step, o.max_order_percent) == (100, 100, 100, 50)


def test_standard_monthly_coupons_and_birthday_gift(standard):
    m = standard.monthly_coupons
    assert (m.first_day, m.last_day) == (1, 5)
    assert m.grants == {
        "silver": CouponGrant("full50off5", 2),
        "gold": CouponGrant("full50off5", 3),
        "diamond": CouponGrant("full50off5", 5),
    }
    assert "regular" not in m.grants
    # 满50减5: minSpend 5000, discountAmount 500, valid to the end of the month
    assert _template(standard, "full50off5") == ("AMOUNT_OFF", 5000, 500, None, None, True)
    # silver and above: one 满100减20
    assert standard.birthday_gift.min_tier_level == 2
    assert _template(standard, standard.birthday_gift.template) == ("AMOUNT_OFF", 10000, 2000, None, 30, False)


def test_standard_rewards(standard):
    rows = [(r.name, r.kind, r.points_cost, r.stock, r.min_tier_level) for r in standard.rewards]
    assert rows == [
        ("5元无门槛券", "COUPON", 500, None, 1),
        ("满50减10", "COUPON", 800, None, 1),
        ("免运费券", "COUPON", 200, None, 1),
        ("9折券", "COUPON", 1500, None, 2),
        ("会员定制帆布袋", "GOODS", 3000, 100, 1),
    ]
    gives = [_template(standard, r.coupon_template) if r.coupon_template else None for r in standard.rewards]
    assert gives == [
        ("AMOUNT_OFF", 0, 500, None, 30, False),
        ("AMOUNT_OFF", 5000, 1000, None, 30, False),
        ("FREE_SHIPPING", 0, None, None, 30, False),
        ("PERCENT_OFF", 10000, None, 10, 30, False),
        None,
    ]
    assert [r.sort_order for r in standard.rewards] == [0, 1, 2, 3, 4]
    assert len({r.code for r in standard.rewards}) == 5


def test_standard_benefits(standard):
    by_tier: dict[str, list[str]] = {}
    for b in standard.benefits:
        by_tier.setdefault(b.tier, []).append(b.code)
    assert by_tier == {
        "regular": ["POINTS", "MEMBER_EVENTS"],
        "silver": ["BIRTHDAY_GIFT", "MONTHLY_COUPONS", "PRIORITY_SHIPPING"],
        "gold": ["MEMBER_PRICE", "EXCLUSIVE_EVENTS", "DEDICATED_SERVICE"],
        "diamond": ["POINTS_BOOST", "ONE_ON_ONE_SERVICE", "FREE_SHIPPING"],
    }
    assert len(standard.benefits) == 11
    names = {b.code: b.name for b in standard.benefits}
    assert names["POINTS"] == "积分累积" and names["MONTHLY_COUPONS"] == "月券礼" and names["FREE_SHIPPING"] == "免运费"


# ================================================================ the fresh-grocery program

def test_fresh_tiers_and_gifts(fresh):
    rows = [(t.level, t.code, t.name, t.growth_threshold, t.points_multiplier, t.retention_deduction,
             t.upgrade_gift.points, t.upgrade_gift.coupons) for t in fresh.tiers]
    assert rows == [
        (1, "green", "青番茄会员", 0, Decimal("1.0"), 0, 0, ()),
        (2, "red", "红番茄会员", 1000, Decimal("1.0"), 800, 0, (CouponGrant("full30off5", 2),)),
        (3, "gold", "金番茄会员", 4000, Decimal("1.0"), 2000, 0, (CouponGrant("full30off5", 3),)),
    ]
    assert _template(fresh, "full30off5") == FULL30OFF5
    assert fresh.tier_policy.validity_months == 12
    assert (fresh.name, fresh.timezone, fresh.points_name) == ("fresh-grocery", "Asia/Shanghai", "番茄币")
    assert fresh.next_tier("gold") is None


def test_fresh_coins(fresh):
    assert fresh.order_points.fen_per_unit == 1000                  # 1 coin per full ¥10
    assert fresh.order_points.day_multipliers == {2: 2}             # 欢乐会员日: Tuesday ×2
    assert fresh.order_points.eligible_channels == {"APP", "MINI_PROGRAM", "STORE"}
    assert (fresh.growth.fen_per_growth, fresh.growth.min_amount) == (100, 100)   # as standard
    assert fresh.signup.points == 0
    assert fresh.signup.coupons == (CouponGrant("newcomer", 1),)
    assert _template(fresh, "newcomer") == FULL30OFF5
    assert (fresh.profile.birthday, fresh.profile.gender, fresh.profile.household_size) == (5, 0, 5)
    assert (fresh.check_in.daily_cap, fresh.check_in.streak_bonus_every, fresh.check_in.streak_bonus) == (7, 7, 20)
    assert (fresh.monthly_bonus.min_spend, fresh.monthly_bonus.points) == (50000, 100)
    assert fresh.expiry_months == 12
    assert fresh.annual_clearing_percent == 30
    o = fresh.offset
    # 10 coins = ¥1, at least 10, in multiples of 10, up to the whole orderAmount
    assert (o.points_per_yuan, o.min_points, o.step, o.max_order_percent) == (10, 10, 10, 100)


def test_fresh_monthly_coupons(fresh):
    m = fresh.monthly_coupons
    assert (m.first_day, m.last_day) == (1, 5)
    assert m.grants == {"red": CouponGrant("full30off2", 3), "gold": CouponGrant("full50off5", 5)}
    assert _template(fresh, "full30off2") == ("AMOUNT_OFF", 3000, 200, None, None, True)
    assert _template(fresh, "full50off5") == ("AMOUNT_OFF", 5000, 500, None, None, True)


def test_fresh_rewards(fresh):
    rows = [(r.name, r.kind, r.points_cost, r.stock, r.min_tier_level) for r in fresh.rewards]
    assert rows == [("2元无门槛券", "COUPON", 20, None, 1), ("新品试吃装", "GOODS", 80, 500, 2)]
    assert _template(fresh, fresh.rewards[0].coupon_template) == ("AMOUNT_OFF", 0, 200, None, 30, False)
    assert fresh.rewards[1].coupon_template is None
    assert {b.tier for b in fresh.benefits} <= {"green", "red", "gold"}


def test_parse_of_the_file_data_equals_load(standard, standard_data):
    assert parse_program(copy.deepcopy(standard_data), "x") == standard


# ================================================================ broken program data

def _set(path: str, value):
    def change(data):
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


def _delete(path: str):
    def change(data):
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]
    return change


def _chain(*changes):
    def change(data):
        for c in changes:
            c(data)
    return change


BROKEN = {
    # id: (change, text the message must contain (the setting path), text about why)
    "missing [program]": (_delete("program"), "program", "is missing"),
    "unknown time zone": (_set("program.timezone", "Asia/Beijing"), "program.timezone", "unknown time zone"),
    "program name empty": (_set("program.name", "  "), "program.name", "non-empty string"),
    "tier levels with a gap": (_set("tiers.3.level", 5), "tiers", "without gaps"),
    "tier levels repeated": (_set("tiers.3.level", 3), "tiers", "without gaps"),
    "tier level 0": (_set("tiers.0.level", 0), "tiers[0].level", "at least 1"),
    "base threshold not 0": (_set("tiers.0.growth_threshold", 10), "tiers", "growth_threshold 0"),
    "thresholds not rising": (_set("tiers.2.growth_threshold", 500), "tiers", "must rise"),
    "thresholds falling": (_set("tiers.3.growth_threshold", 1500), "tiers", "must rise"),
    "duplicate tier code": (_set("tiers.2.code", "silver"), "tiers", "unique"),
    "multiplier not a number": (_set("tiers.2.points_multiplier", "abc"), "tiers[2].points_multiplier", "positive decimal"),
    "multiplier zero": (_set("tiers.2.points_multiplier", "0"), "tiers[2].points_multiplier", "positive decimal"),
    "multiplier negative": (_set("tiers.3.points_multiplier", "-1.5"), "tiers[3].points_multiplier", "positive decimal"),
    "multiplier as a float": (_set("tiers.2.points_multiplier", 1.2), "tiers[2].points_multiplier", "positive decimal"),
    "multiplier NaN": (_set("tiers.2.points_multiplier", "NaN"), "tiers[2].points_multiplier", "positive decimal"),
    "multiplier missing": (_delete("tiers.1.points_multiplier"), "tiers[1].points_multiplier", "positive decimal"),
    "no tiers": (_set("tiers", []), "tiers", "non-empty list"),
    "upgrade gift with unknown template": (
        _set("tiers.1.upgrade_gift", {"points": 100, "coupons": [{"template": "nope", "count": 2}]}),
        "tiers[1].upgrade_gift.coupons", "'nope'"),
    "upgrade gift with negative points": (
        _set("tiers.2.upgrade_gift", {"points": -300}), "tiers[2].upgrade_gift.points", "at least 0"),
    "reward with unknown coupon template": (
        _set("rewards.0.coupon_template", "nothreshold50"), "rewards[0].coupon_template", "'nothreshold50'"),
    "COUPON reward without a template": (_delete("rewards.1.coupon_template"), "rewards[1].coupon_template", "non-empty"),
    "reward min_tier_level beyond the top tier": (
        _set("rewards.3.min_tier_level", 5), "rewards[3].min_tier_level", "no tier of level 5"),
    "reward of unknown kind": (_set("rewards.4.kind", "SERVICE"), "rewards[4].kind", "COUPON, GOODS"),
    "reward cost zero": (_set("rewards.0.points_cost", 0), "rewards[0].points_cost", "at least 1"),
    "reward negative stock": (_set("rewards.4.stock", -1), "rewards[4].stock", "at least 0"),
    "duplicate reward code": (_set("rewards.1.code", "coupon-5-no-threshold"), "rewards", "unique"),
    "monthly grant for an unknown tier": (
        _set("monthly_coupons.grants.0.tier", "bronze"), "monthly_coupons.grants[0].tier", "'bronze'"),
    "monthly grant with unknown template": (
        _set("monthly_coupons.grants.1.template", "full60off5"), "monthly_coupons.grants[1].template", "'full60off5'"),
    "monthly last day before first day": (
        _chain(_set("monthly_coupons.first_day", 5), _set("monthly_coupons.last_day", 3)),
        "monthly_coupons.last_day", "between 5 and 28"),
    "monthly first day 31": (_set("monthly_coupons.first_day", 31), "monthly_coupons.first_day", "between 1 and 28"),
    "PERCENT_OFF without discount_percent": (
        _delete("coupon_templates.tenpercentoff.discount_percent"),
        "coupon_templates.tenpercentoff.discount_percent", "whole number"),
    "PERCENT_OFF of 100": (
        _set("coupon_templates.tenpercentoff.discount_percent", 100),
        "coupon_templates.tenpercentoff.discount_percent", "between 1 and 99"),
    "AMOUNT_OFF without discount_amount": (
        _delete("coupon_templates.full30off5.discount_amount"), "coupon_templates.full30off5.discount_amount",
        "whole number"),
    "coupon template of unknown kind": (
        _set("coupon_templates.freeshipping.kind", "CASHBACK"), "coupon_templates.freeshipping.kind", "CASHBACK"),
    "coupon template without validity": (
        _delete("coupon_templates.newcomer.valid_days"), "coupon_templates.newcomer.valid_days", "whole number"),
    "coupon template month-end flag not a bool": (
        _set("coupon_templates.full50off5.valid_until_month_end", "yes"),
        "coupon_templates.full50off5.valid_until_month_end", "true or false"),
    "signup coupon with unknown template": (
        _set("points.signup.coupons", [{"template": "welcome", "count": 1}]), "points.signup.coupons", "'welcome'"),
    "negative signup points": (_set("points.signup.points", -100), "points.signup.points", "at least 0"),
    "negative profile points": (_set("points.profile.birthday", -5), "points.profile.birthday", "at least 0"),
    "negative streak bonus": (_set("points.check_in.streak_bonus", -20), "points.check_in.streak_bonus", "at least 0"),
    "a bool where an integer is wanted": (
        _set("growth.fen_per_growth", True), "growth.fen_per_growth", "whole number"),
    "a bool for the check-in cap": (_set("points.check_in.daily_cap", False), "points.check_in.daily_cap", "whole number"),
    "a float where an integer is wanted": (_set("points.offset.step", 100.0), "points.offset.step", "whole number"),
    "a string where an integer is wanted": (_set("points.offset.min_points", "100"), "points.offset.min_points",
                                            "whole number"),
    "offset percent over 100": (_set("points.offset.max_order_percent", 150), "points.offset.max_order_percent",
                                "between 1 and 100"),
    "offset step zero": (_set("points.offset.step", 0), "points.offset.step", "at least 1"),
    "unknown channel": (_set("growth.eligible_channels", ["APP", "WEB"]), "growth.eligible_channels", "channels"),
    "day multiplier weekday 8": (_set("points.order.day_multipliers", {"8": 2}), "points.order.day_multipliers",
                                 "ISO weekdays"),
    "day multiplier not whole": (_set("points.order.day_multipliers", {"2": 1.5}), "points.order.day_multipliers",
                                 "whole multipliers"),
    "missing points.offset": (_delete("points.offset"), "points.offset", "is missing"),
    "growth not a table": (_set("growth", 100), "growth", "must be a table"),
    "missing tier_policy": (_delete("tier_policy"), "tier_policy", "is missing"),
    "birthday gift with unknown template": (_set("birthday_gift.template", "cake"), "birthday_gift.template", "'cake'"),
    "benefit for an unknown tier": (_set("benefits.0.tier", "platinum"), "benefits[0].tier", "'platinum'"),
    "duplicate benefit code": (_set("benefits.1.code", "POINTS"), "benefits", "unique"),
    "expiry months zero": (_set("points.expiry.months", 0), "points.expiry.months", "between 1 and 120"),
    "annual clearing over 100": (_set("points.annual_clearing", {"percent": 101}), "points.annual_clearing.percent",
                                 "between 1 and 100"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_program_names_the_setting(standard_data, case):
    change, where, why = BROKEN[case]
    data = copy.deepcopy(standard_data)
    change(data)
    with pytest.raises(ProgramError) as caught:
        parse_program(data, "broken.toml")
    message = str(caught.value)
    assert message.startswith("broken.toml: "), message
    # the setting path follows the file name, then the reason
    assert f"broken.toml: {where}" in message, message
    assert why in message, message


def test_broken_cases_start_from_valid_data(standard_data):
    # the untouched copy parses: each case above fails only because of its one change
    assert parse_program(copy.deepcopy(standard_data), "ok.toml").name == "standard"


def test_a_positive_integer_multiplier_is_accepted(standard_data):
    data = copy.deepcopy(standard_data)
    data["tiers"][3]["points_multiplier"] = 2
    assert parse_program(data).tier("diamond").points_multiplier == Decimal(2)


def test_tiers_are_ordered_by_level_whatever_the_file_order(standard_data):
    data = copy.deepcopy(standard_data)
    data["tiers"].reverse()
    program = parse_program(data)
    assert [t.code for t in program.tiers] == ["regular", "silver", "gold", "diamond"]
    assert program.base_tier.code == "regular"


def test_a_root_that_is_not_a_table():
    with pytest.raises(ProgramError, match="file: must be a table"):
        parse_program([], "x.toml")  # type: ignore[arg-type]


# ================================================================ loading files

def test_load_missing_file(tmp_path):
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ProgramError) as caught:
        load_program(missing)
    assert str(missing) in str(caught.value)
    assert "no such program file" in str(caught.value)


def test_load_invalid_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[program]\nname = "standard\n', encoding="utf-8")   # unterminated string
    with pytest.raises(ProgramError) as caught:
        load_program(path)
    message = str(caught.value)
    assert str(path) in message and "not valid TOML" in message
    assert "line 2" in message    # tomllib's position is passed on


def test_load_reports_setting_errors_with_the_file_name(tmp_path):
    text = STANDARD_PATH.read_text(encoding="utf-8").replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"')
    path = tmp_path / "mars.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProgramError, match=r"mars\.toml: program\.timezone: unknown time zone 'Mars/Olympus'"):
        load_program(path)


def test_load_accepts_a_string_path():
    assert load_program(str(FRESH_PATH)).name == "fresh-grocery"


def test_load_a_file_that_is_not_utf8(tmp_path):
    # TOML files must be UTF-8; a Chinese operator's editor saving GBK is a plausible mistake.
    path = tmp_path / "gbk.toml"
    path.write_bytes(STANDARD_PATH.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(ProgramError, match=r"gbk\.toml: .*UTF-8"):
        load_program(path)


def test_load_a_path_that_cannot_be_read(tmp_path):
    with pytest.raises(ProgramError, match="cannot be read"):
        load_program(tmp_path)  # a directory, not a file
