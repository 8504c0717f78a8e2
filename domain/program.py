"""The loyalty program: every number of the rules, read from a program file and validated.

A program file (`programs/*.toml`) is the only place a number of the program lives. `load_program`
turns it into these frozen objects or raises `ProgramError` naming the setting that is wrong.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.clock import LocalCalendar
from domain.errors import ProgramError
from domain.vocabulary import Channel, CouponKind, RewardKind, names


@dataclass(frozen=True)
class CouponGrant:
    template: str
    count: int


@dataclass(frozen=True)
class Gift:
    points: int = 0
    coupons: tuple[CouponGrant, ...] = ()


@dataclass(frozen=True)
class TierRule:
    code: str
    name: str
    level: int
    growth_threshold: int
    points_multiplier: Decimal
    retention_deduction: int
    upgrade_gift: Gift


@dataclass(frozen=True)
class CouponTemplate:
    code: str
    title: str
    kind: str
    min_spend: int
    discount_amount: int | None
    discount_percent: int | None
    valid_days: int | None
    valid_until_month_end: bool


@dataclass(frozen=True)
class RewardSpec:
    code: str
    name: str
    description: str
    kind: str
    points_cost: int
    stock: int | None
    min_tier_level: int
    coupon_template: str | None
    sort_order: int


@dataclass(frozen=True)
class BenefitSpec:
    tier: str
    code: str
    name: str
    description: str
    sort_order: int


@dataclass(frozen=True)
class GrowthRule:
    fen_per_growth: int
    min_amount: int
    eligible_channels: frozenset[str]


@dataclass(frozen=True)
class OrderPointsRule:
    fen_per_unit: int
    eligible_channels: frozenset[str]
    day_multipliers: dict[int, int]


@dataclass(frozen=True)
class ProfileRule:
    birthday: int
    gender: int
    household_size: int


@dataclass(frozen=True)
class CheckInRule:
    daily_cap: int
    streak_bonus_every: int
    streak_bonus: int


@dataclass(frozen=True)
class MonthlyBonusRule:
    min_spend: int
    points: int


@dataclass(frozen=True)
class OffsetRule:
    points_per_yuan: int
    min_points: int
    step: int
    max_order_percent: int


@dataclass(frozen=True)
class MonthlyCouponsRule:
    first_day: int
    last_day: int
    grants: dict[str, CouponGrant]


@dataclass(frozen=True)
class BirthdayGiftRule:
    """Issued by the daily jobs on days 1 to `window_days` of the member's birthday month."""

    min_tier_level: int
    template: str
    window_days: int


@dataclass(frozen=True)
class TierPolicy:
    validity_months: int
    demote_after_months_without_order: int | None


@dataclass(frozen=True)
class ReminderRule:
    """How far ahead the daily jobs warn of coupons and tiers lapsing (points: `expiring_soon_days`)."""

    coupon_expiring_days: int
    tier_expiring_days: int


@dataclass(frozen=True)
class MakeUpRule:
    """补签: a missed local day within `window_days`, at most `per_month` a local month, for `cost_points`."""

    window_days: int
    per_month: int
    cost_points: int


@dataclass(frozen=True)
class CheckoutRule:
    """Points and a coupon held for an order awaiting payment, `hold_minutes` at most."""

    hold_minutes: int


@dataclass(frozen=True)
class ReferralRule:
    """邀请有礼: the referee's coupons on joining; the referrer's points once the referee's first eligible order
    has stood `qualify_days` without being fully refunded, at most `monthly_cap` rewarded a local month."""

    referee_coupons: tuple[CouponGrant, ...]
    referrer_points: int
    qualify_days: int
    monthly_cap: int


@dataclass(frozen=True)
class FrequencyBonusRule:
    """Visits a local month (orders; those within `visit_window_hours` of the last counted one count once):
    with net spend of at least `min_spend`, the highest threshold reached pays its points on the 1st of the
    next month. `thresholds`: (visits, points), fewest visits first."""

    min_spend: int
    visit_window_hours: int
    thresholds: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SegmentRule:
    """Lifecycle segment thresholds (`domain.segments`): new within `new_days` of joining; recency high with an
    eligible order within `recent_days`; frequency high with `frequent_orders` in 365 days; monetary high with
    net spend of `valuable_spend` fen in 365 days."""

    new_days: int = 30
    recent_days: int = 90
    frequent_orders: int = 3
    valuable_spend: int = 100000


@dataclass(frozen=True)
class MigrationRule:
    """Legacy points: `legacy_ratio` legacy points make 1 point, rounded down."""

    legacy_ratio: int


@dataclass(frozen=True)
class Program:
    name: str
    timezone: str
    points_name: str
    growth_name: str
    growth: GrowthRule
    tier_policy: TierPolicy
    tiers: tuple[TierRule, ...]
    order_points: OrderPointsRule
    signup: Gift
    profile: ProfileRule
    check_in: CheckInRule
    monthly_bonus: MonthlyBonusRule | None
    expiry_months: int
    expiring_soon_days: int
    annual_clearing_percent: int | None
    offset: OffsetRule
    monthly_coupons: MonthlyCouponsRule
    birthday_gift: BirthdayGiftRule | None
    reminders: ReminderRule
    coupon_templates: dict[str, CouponTemplate]
    rewards: tuple[RewardSpec, ...]
    benefits: tuple[BenefitSpec, ...]
    calendar: LocalCalendar = field(compare=False)
    checkout: CheckoutRule = CheckoutRule(30)
    make_up: MakeUpRule | None = None          # off when the file has no points.check_in.make_up
    referral: ReferralRule | None = None       # off when the file has no [referral]
    frequency_bonus: FrequencyBonusRule | None = None
    migration: MigrationRule = MigrationRule(100)
    segments: SegmentRule = SegmentRule()     # the defaults when the file has no [segments]

    @property
    def base_tier(self) -> TierRule:
        return self.tiers[0]

    def tier(self, code: str) -> TierRule:
        for tier in self.tiers:
            if tier.code == code:
                return tier
        raise KeyError(code)

    def tier_for_growth(self, growth: int) -> TierRule:
        """The highest tier whose threshold the growth value reaches."""
        reached = self.tiers[0]
        for tier in self.tiers:
            if growth >= tier.growth_threshold:
                reached = tier
        return reached

    def next_tier(self, code: str) -> TierRule | None:
        level = self.tier(code).level
        return next((t for t in self.tiers if t.level > level), None)


class _Reader:
    """Reads one table of the file, naming the path of any setting that is missing or wrong."""

    def __init__(self, source: str, path: str, data: Any):
        if not isinstance(data, dict):
            raise ProgramError(f"{source}: {path or 'file'}: must be a table")
        self.source, self.path, self.data = source, path, data

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> ProgramError:
        return ProgramError(f"{self.source}: {self._where(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def table(self, key: str) -> "_Reader":
        if key not in self.data:
            raise self.fail(key, "is missing")
        return _Reader(self.source, self._where(key), self.data[key])

    def optional_table(self, key: str) -> "_Reader | None":
        return self.table(key) if key in self.data else None

    def tables(self, key: str) -> list["_Reader"]:
        items = self.data.get(key)
        if not isinstance(items, list) or not items:
            raise self.fail(key, "must be a non-empty list of tables")
        return [_Reader(self.source, f"{self._where(key)}[{i}]", item) for i, item in enumerate(items)]

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def integer(self, key: str, default: int | None = None, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "must be a whole number")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise self.fail(key, f"must be {bound}, not {value}")
        return value

    def optional_integer(self, key: str, minimum: int = 0, maximum: int | None = None) -> int | None:
        return self.integer(key, minimum=minimum, maximum=maximum) if key in self.data else None

    def decimal(self, key: str) -> Decimal:
        value = self.data.get(key)
        try:
            number = Decimal(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number <= 0:
            raise self.fail(key, 'must be a positive decimal written as a string, e.g. "1.2"')
        return number

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.string(key)
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def channels(self, key: str) -> frozenset[str]:
        values = self.data.get(key)
        if not isinstance(values, list) or any(v not in names(Channel) for v in values):
            raise self.fail(key, f"must be a list of channels from {', '.join(names(Channel))}")
        return frozenset(values)

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value


def _grants(reader: _Reader, key: str) -> tuple[CouponGrant, ...]:
    if not reader.has(key):
        return ()
    items = reader.data[key]
    if not isinstance(items, list):
        raise reader.fail(key, "must be a list of { template, count }")
    grants = []
    for i, item in enumerate(items):
        entry = _Reader(reader.source, f"{reader._where(key)}[{i}]", item)
        grants.append(CouponGrant(entry.string("template"), entry.integer("count", minimum=1, maximum=50)))
    return tuple(grants)


def _gift(reader: _Reader | None) -> Gift:
    if reader is None:
        return Gift()
    return Gift(reader.integer("points", default=0), _grants(reader, "coupons"))


def _coupon_template(reader: _Reader, code: str) -> CouponTemplate:
    kind = reader.choice("kind", names(CouponKind))
    discount_amount = reader.integer("discount_amount", minimum=1) if kind == CouponKind.AMOUNT_OFF else None
    discount_percent = reader.integer("discount_percent", minimum=1, maximum=99) if kind == CouponKind.PERCENT_OFF else None
    until_month_end = reader.boolean("valid_until_month_end")
    valid_days = None if until_month_end else reader.integer("valid_days", minimum=1, maximum=3660)
    return CouponTemplate(
        code=code,
        title=reader.string("title"),
        kind=kind,
        min_spend=reader.integer("min_spend", default=0),
        discount_amount=discount_amount,
        discount_percent=discount_percent,
        valid_days=valid_days,
        valid_until_month_end=until_month_end,
    )


def parse_program(data: dict, source: str = "program") -> Program:
    """Build a Program from a parsed program file, checking every setting and every cross-reference."""
    root = _Reader(source, "", data)
    head = root.table("program")
    zone_name = head.string("timezone", "Asia/Shanghai")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise head.fail("timezone", f"unknown time zone {zone_name!r}") from None

    templates_table = root.table("coupon_templates")
    templates = {code: _coupon_template(templates_table.table(code), code) for code in templates_table.data}

    def check_grants(grants: tuple[CouponGrant, ...], where: _Reader, key: str) -> None:
        for grant in grants:
            if grant.template not in templates:
                raise where.fail(key, f"names coupon template {grant.template!r}, which coupon_templates does not define")

    tiers = []
    for entry in root.tables("tiers"):
        gift_table = entry.optional_table("upgrade_gift")
        gift = _gift(gift_table)
        if gift_table:
            check_grants(gift.coupons, gift_table, "coupons")
        tiers.append(TierRule(
            code=entry.string("code"),
            name=entry.string("name"),
            level=entry.integer("level", minimum=1),
            growth_threshold=entry.integer("growth_threshold"),
            points_multiplier=entry.decimal("points_multiplier"),
            retention_deduction=entry.integer("retention_deduction", default=0),
            upgrade_gift=gift,
        ))
    tiers.sort(key=lambda t: t.level)
    levels = [t.level for t in tiers]
    if levels != list(range(1, len(tiers) + 1)):
        raise root.fail("tiers", f"levels must run 1, 2, 3, … without gaps or repeats, not {levels}")
    if tiers[0].growth_threshold != 0:
        raise root.fail("tiers", "the level-1 tier must have growth_threshold 0")
    if any(a.growth_threshold >= b.growth_threshold for a, b in zip(tiers, tiers[1:])):
        raise root.fail("tiers", "growth_threshold must rise with the level")
    codes = [t.code for t in tiers]
    if len(set(codes)) != len(codes):
        raise root.fail("tiers", "tier codes must be unique")

    growth = root.table("growth")
    points = root.table("points")
    order = points.table("order")
    day_multipliers = {}
    for weekday, multiplier in order.table("day_multipliers").data.items() if order.has("day_multipliers") else []:
        if not str(weekday).isdigit() or not 1 <= int(weekday) <= 7 or isinstance(multiplier, bool) or not isinstance(multiplier, int) or multiplier < 1:
            raise order.fail("day_multipliers", "keys are ISO weekdays 1-7 and values whole multipliers of at least 1")
        day_multipliers[int(weekday)] = multiplier

    signup_table = points.table("signup")
    signup = _gift(signup_table)
    check_grants(signup.coupons, signup_table, "coupons")

    profile = points.table("profile")
    check_in = points.table("check_in")
    make_up_table = check_in.optional_table("make_up")
    make_up = MakeUpRule(make_up_table.integer("window_days", minimum=1, maximum=31),
                         make_up_table.integer("per_month", minimum=1, maximum=31),
                         make_up_table.integer("cost_points", minimum=0)) if make_up_table else None
    checkout_table = root.optional_table("checkout")
    checkout = CheckoutRule(checkout_table.integer("hold_minutes", minimum=1, maximum=24 * 60)) \
        if checkout_table else CheckoutRule(30)
    referral_table = root.optional_table("referral")
    referral = None
    if referral_table:
        referee_coupons = tuple(_grants(referral_table, "referee_coupons"))
        check_grants(referee_coupons, referral_table, "referee_coupons")
        referral = ReferralRule(referee_coupons, referral_table.integer("referrer_points", minimum=1),
                                referral_table.integer("qualify_days", minimum=0, maximum=366),
                                referral_table.integer("monthly_cap", minimum=1))
    frequency_table = root.optional_table("frequency_bonus")
    frequency_bonus = None
    if frequency_table:
        thresholds = []
        for i, item in enumerate(frequency_table.data.get("thresholds") or []):
            entry = _Reader(source, f"frequency_bonus.thresholds[{i}]", item)
            thresholds.append((entry.integer("visits", minimum=1), entry.integer("points", minimum=1)))
        thresholds.sort()
        if not thresholds or len({v for v, _ in thresholds}) != len(thresholds):
            raise frequency_table.fail("thresholds", "give at least one, each with its own number of visits")
        frequency_bonus = FrequencyBonusRule(frequency_table.integer("min_spend", minimum=0),
                                             frequency_table.integer("visit_window_hours", default=24, minimum=0),
                                             tuple(thresholds))
    migration_table = root.optional_table("migration")
    migration = MigrationRule(migration_table.integer("legacy_ratio", minimum=1)) if migration_table \
        else MigrationRule(100)
    segments_table = root.optional_table("segments")
    segments = SegmentRule(segments_table.integer("new_days", default=30, minimum=0, maximum=366),
                           segments_table.integer("recent_days", minimum=1, maximum=365),
                           segments_table.integer("frequent_orders", minimum=1),
                           segments_table.integer("valuable_spend", minimum=1)) if segments_table else SegmentRule()
    bonus = points.optional_table("monthly_bonus")
    clearing = points.optional_table("annual_clearing")
    offset = points.table("offset")

    monthly = root.table("monthly_coupons")
    monthly_grants: dict[str, CouponGrant] = {}
    if monthly.has("grants"):
        for i, item in enumerate(monthly.data["grants"]):
            entry = _Reader(source, f"monthly_coupons.grants[{i}]", item)
            tier_code = entry.string("tier")
            if tier_code not in codes:
                raise entry.fail("tier", f"unknown tier {tier_code!r}")
            monthly_grants[tier_code] = CouponGrant(entry.string("template"), entry.integer("count", minimum=1, maximum=50))
            check_grants((monthly_grants[tier_code],), entry, "template")
    first_day = monthly.integer("first_day", minimum=1, maximum=28)
    last_day = monthly.integer("last_day", minimum=first_day, maximum=28)

    tier_policy = root.table("tier_policy")
    reminders = root.table("reminders")
    birthday = root.optional_table("birthday_gift")
    birthday_gift = None
    if birthday:
        birthday_gift = BirthdayGiftRule(birthday.integer("min_tier_level", minimum=1), birthday.string("template"),
                                         birthday.integer("window_days", minimum=1, maximum=28))
        check_grants((CouponGrant(birthday_gift.template, 1),), birthday, "template")

    rewards = []
    for i, entry in enumerate(root.tables("rewards")):
        kind = entry.choice("kind", names(RewardKind))
        template = entry.string("coupon_template") if kind == RewardKind.COUPON else None
        if template is not None and template not in templates:
            raise entry.fail("coupon_template", f"unknown coupon template {template!r}")
        min_level = entry.integer("min_tier_level", default=1, minimum=1)
        if min_level > len(tiers):
            raise entry.fail("min_tier_level", f"there is no tier of level {min_level}")
        rewards.append(RewardSpec(
            code=entry.string("code"),
            name=entry.string("name"),
            description=entry.string("description", ""),
            kind=kind,
            points_cost=entry.integer("points_cost", minimum=1),
            stock=entry.optional_integer("stock"),
            min_tier_level=min_level,
            coupon_template=template,
            sort_order=i,
        ))
    if len({r.code for r in rewards}) != len(rewards):
        raise root.fail("rewards", "reward codes must be unique")

    benefits = []
    for i, entry in enumerate(root.tables("benefits")):
        tier_code = entry.string("tier")
        if tier_code not in codes:
            raise entry.fail("tier", f"unknown tier {tier_code!r}")
        benefits.append(BenefitSpec(tier_code, entry.string("code"), entry.string("name"), entry.string("description", ""), i))
    if len({b.code for b in benefits}) != len(benefits):
        raise root.fail("benefits", "benefit codes must be unique")

    return Program(
        name=head.string("name"),
        timezone=zone_name,
        points_name=head.string("points_name", "积分"),
        growth_name=head.string("growth_name", "成长值"),
        growth=GrowthRule(
            fen_per_growth=growth.integer("fen_per_growth", minimum=1),
            min_amount=growth.integer("min_amount", default=0),
            eligible_channels=growth.channels("eligible_channels"),
        ),
        tier_policy=TierPolicy(
            validity_months=tier_policy.integer("validity_months", minimum=1, maximum=120),
            demote_after_months_without_order=tier_policy.optional_integer(
                "demote_after_months_without_order", minimum=1, maximum=120),
        ),
        tiers=tuple(tiers),
        order_points=OrderPointsRule(
            fen_per_unit=order.integer("fen_per_unit", minimum=1),
            eligible_channels=order.channels("eligible_channels"),
            day_multipliers=day_multipliers,
        ),
        signup=signup,
        profile=ProfileRule(profile.integer("birthday", default=0), profile.integer("gender", default=0), profile.integer("household_size", default=0)),
        check_in=CheckInRule(
            daily_cap=check_in.integer("daily_cap", minimum=1),
            streak_bonus_every=check_in.integer("streak_bonus_every", minimum=1),
            streak_bonus=check_in.integer("streak_bonus", default=0),
        ),
        monthly_bonus=MonthlyBonusRule(bonus.integer("min_spend", minimum=1), bonus.integer("points", minimum=1)) if bonus else None,
        expiry_months=points.table("expiry").integer("months", minimum=1, maximum=120),
        expiring_soon_days=points.table("expiry").integer("expiring_soon_days", minimum=1, maximum=366),
        annual_clearing_percent=clearing.integer("percent", minimum=1, maximum=100) if clearing else None,
        offset=OffsetRule(
            points_per_yuan=offset.integer("points_per_yuan", minimum=1),
            min_points=offset.integer("min_points", minimum=1),
            step=offset.integer("step", minimum=1),
            max_order_percent=offset.integer("max_order_percent", minimum=1, maximum=100),
        ),
        monthly_coupons=MonthlyCouponsRule(first_day, last_day, monthly_grants),
        birthday_gift=birthday_gift,
        reminders=ReminderRule(reminders.integer("coupon_expiring_days", minimum=1, maximum=366),
                               reminders.integer("tier_expiring_days", minimum=1, maximum=366)),
        coupon_templates=templates,
        rewards=tuple(rewards),
        benefits=tuple(benefits),
        calendar=LocalCalendar(zone),
        checkout=checkout,
        make_up=make_up,
        referral=referral,
        frequency_bonus=frequency_bonus,
        migration=migration,
        segments=segments,
    )


def load_program(path: str | Path) -> Program:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProgramError(f"{path}: no such program file") from None
    except UnicodeDecodeError:
        raise ProgramError(f"{path}: not UTF-8 text (save the program file as UTF-8)") from None
    except OSError as exc:
        raise ProgramError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError(f"{path}: not valid TOML: {exc}") from None
    return parse_program(data, str(path))
