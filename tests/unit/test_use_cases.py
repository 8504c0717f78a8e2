"""Domain use cases run against an in-memory fake unit of work (the ports of domain/ports.py
implemented with dicts and lists, as in "Architecture Patterns with Python").

The fake behaves like the SQL one where the use cases rely on it: a unit of work works on its own
copy of the stored state and only `commit()` makes it stick (leaving without commit rolls back);
repositories hand out copies, so nothing changes until `save()`; `spendable_lots` skips empty and
expired lots, soonest-expiring first. A refusal must raise LoyaltyError, not commit, and change
nothing. After every step the wallet invariants are checked:
    balance == sum(lot remainders) - debt == sum(ledger deltas), 0 <= remaining <= points.

Dates: 2024-03-05 and 2024-03-12 are Tuesdays (member day, points ×2); 2024-03-06 is a Wednesday.
Shanghai is UTC+8, so 02:00Z is 10:00 local.
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain import commands, ports, wallet
from domain.check_ins import check_in_status
from domain.clock import FixedClock
from domain.errors import LoyaltyError, UserErrorCode
from domain.members import ProfileChange
from domain.model import (
    AuditRecord, CheckIn, CheckoutHold, Coupon, Footprint, IdempotencyRecord, LedgerEntry, LegacyPoints, Member,
    Notification, Order, PointsLot, PointsOffset, Redemption, Referral, RefreshToken, Refund, Reward, Session, SmsCode,
    StaffMember,
)
from domain.program import CouponTemplate, Program, load_program
from domain.service import Service

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def at(day: str, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """A moment given as a local Shanghai wall time."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI).replace(
        hour=hour, minute=minute, second=second)


def end_of_local_day(day: str) -> datetime:
    return at(day, 23, 59, 59)


# ====================================================================== the fake


@dataclass
class FakeState:
    members: dict[int, Member] = field(default_factory=dict)
    tasks: dict[int, set[str]] = field(default_factory=dict)
    gift_levels: dict[int, set[int]] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    lots: dict[int, PointsLot] = field(default_factory=dict)
    growth_log: list[tuple[int, int, int, str, int | None]] = field(default_factory=list)
    coupons: dict[int, Coupon] = field(default_factory=dict)
    monthly_claims: set[tuple[int, str]] = field(default_factory=set)
    check_ins: dict[int, CheckIn] = field(default_factory=dict)
    rewards: dict[int, Reward] = field(default_factory=dict)
    coupon_templates: dict[int, CouponTemplate] = field(default_factory=dict)
    edited: set[str] = field(default_factory=set)                 # "Reward:1", "CouponTemplate:2" staff changed
    redemptions: dict[int, Redemption] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    refunds: dict[int, Refund] = field(default_factory=dict)
    offsets: dict[int, PointsOffset] = field(default_factory=dict)
    offset_lots: dict[int, list[tuple[int, int]]] = field(default_factory=dict)   # offset id → (lot id, points)
    idempotency: dict[tuple[int, str, str], IdempotencyRecord] = field(default_factory=dict)
    notifications: dict[int, Notification] = field(default_factory=dict)
    identities: dict[str, int] = field(default_factory=dict)      # openid → member id
    phones: dict[int, str] = field(default_factory=dict)          # member id → phone (sealed, in SQL)
    sessions: dict[int, Session] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    staff: dict[int, StaffMember] = field(default_factory=dict)
    api_keys: dict[int, dict] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    sms_codes: dict[str, SmsCode] = field(default_factory=dict)   # phone → its newest code
    holds: dict[int, CheckoutHold] = field(default_factory=dict)
    hold_lots: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    legacy_points: dict[int, dict] = field(default_factory=dict)  # id → row (the phone stands in for its index)
    referrals: dict[int, Referral] = field(default_factory=dict)
    last_id: int = 0

    def new_id(self) -> int:
        self.last_id += 1
        return self.last_id


class FakeStore:
    """The committed state (the "database") and how many commits reached it."""

    def __init__(self, program: Program):
        self.program = program
        self.state = FakeState()
        self.commits = 0
        self.base_tier = program.base_tier.code
        for template in program.coupon_templates.values():
            self.state.coupon_templates[self.state.new_id()] = template
        for reward in program.rewards:
            rid = self.state.new_id()
            self.state.rewards[rid] = Reward(rid, reward.code, reward.name, reward.kind, reward.points_cost,
                                             reward.stock, reward.min_tier_level, True, reward.coupon_template)

    def reward_id(self, code: str) -> int:
        return next(r.id for r in self.state.rewards.values() if r.code == code)

    def add_member(self, openid: str = "dev-a", now: datetime | None = None) -> int:
        mid = self.state.new_id()
        self.state.members[mid] = Member(mid, f"{1000000000 + mid}", self.base_tier, 0, 0, 0, now or at("2024-01-01"))
        self.state.identities[openid] = mid
        return mid

    def member(self, member_id: int) -> Member:
        return self.state.members[member_id]

    def ledger_of(self, member_id: int) -> list[LedgerEntry]:
        return [e for e in self.state.ledger if e.member_id == member_id]

    def lots_of(self, member_id: int) -> list[PointsLot]:
        return sorted((lot for lot in self.state.lots.values() if lot.member_id == member_id), key=lambda l: l.id)

    def coupons_of(self, member_id: int) -> list[Coupon]:
        return [c for c in self.state.coupons.values() if c.member_id == member_id]

    def snapshot(self) -> FakeState:
        return copy.deepcopy(self.state)


def _c(obj):
    return copy.deepcopy(obj)


class FakeMembers:
    """Hands out the working state's own member objects: one per member in a unit of work, as the SQL
    repository's identity map does; commit publishes whatever changed."""

    def __init__(self, s: FakeState):
        self.s = s

    async def by_openid(self, openid: str) -> Member | None:
        return self.s.members.get(self.s.identities.get(openid))

    async def by_unionid(self, unionid: str) -> Member | None:
        return next((m for m in self.s.members.values() if m.unionid == unionid), None)

    async def create(self, unionid: str | None, tier_code: str, now: datetime) -> Member:
        mid = self.s.new_id()
        self.s.members[mid] = Member(mid, f"{1000000000 + mid}", tier_code, 0, 0, 0, now, unionid=unionid)
        return self.s.members[mid]

    async def add_identity(self, member_id: int, openid: str, platform: str, now: datetime) -> None:
        assert openid not in self.s.identities, "primary key openid violated"
        self.s.identities[openid] = member_id

    async def erase_identities(self, member_id: int) -> None:
        self.s.identities = {o: m for o, m in self.s.identities.items() if m != member_id}

    async def by_phone(self, phone: str) -> Member | None:
        return self.s.members.get(next((m for m, p in self.s.phones.items() if p == phone), None))

    async def set_phone(self, member_id: int, phone: str | None) -> None:
        assert phone is None or all(p != phone for m, p in self.s.phones.items() if m != member_id), "unique phone"
        if phone is None:
            self.s.phones.pop(member_id, None)
        else:
            self.s.phones[member_id] = phone

    async def lock(self, member_id: int) -> Member | None:
        return self.s.members.get(member_id)

    async def add_growth_entry(self, member_id: int, delta: int, growth_after: int, reason: str, now: datetime,
                               order_id: int | None = None) -> None:
        self.s.growth_log.append((member_id, delta, growth_after, reason, order_id))

    async def completed_tasks(self, member_id: int) -> set[str]:
        return set(self.s.tasks.get(member_id, set()))

    async def complete_task(self, member_id: int, task: str, now: datetime) -> None:
        done = self.s.tasks.setdefault(member_id, set())
        assert task not in done, "unique (member_id, task) violated"
        done.add(task)

    async def gift_levels_granted(self, member_id: int) -> set[int]:
        return set(self.s.gift_levels.get(member_id, set()))

    async def grant_gift_level(self, member_id: int, level: int, now: datetime) -> None:
        granted = self.s.gift_levels.setdefault(member_id, set())
        assert level not in granted, "unique (member_id, level) violated"
        granted.add(level)

    async def footprint(self, member_id: int) -> Footprint:
        mine = [c for c in self.s.coupons.values() if c.member_id == member_id]
        return Footprint(
            wechat_identities=sum(m == member_id for m in self.s.identities.values()),
            orders=sum(o.member_id == member_id for o in self.s.orders.values()),
            check_ins=sum(c.member_id == member_id for c in self.s.check_ins.values()),
            redemptions=sum(r.member_id == member_id for r in self.s.redemptions.values()),
            point_kinds=frozenset(e.kind for e in self.s.ledger if e.member_id == member_id),
            coupon_sources=frozenset(c.source for c in mine), coupons_used=sum(c.used_at is not None for c in mine))

    async def move_phone(self, source_id: int, target_id: int) -> None:
        phone = self.s.phones.pop(source_id, None)
        if phone and target_id not in self.s.phones:
            self.s.phones[target_id] = phone

    async def move_identities(self, source_id: int, target_id: int) -> None:
        self.s.identities = {o: (target_id if m == source_id else m) for o, m in self.s.identities.items()}

    async def move_belongings(self, source_id: int, target_id: int) -> None:
        for rows in (self.s.coupons, self.s.orders, self.s.offsets, self.s.redemptions, self.s.notifications):
            for row in rows.values():
                if row.member_id == source_id:
                    row.member_id = target_id
        target_days = {c.local_date for c in self.s.check_ins.values() if c.member_id == target_id}
        for check_in in self.s.check_ins.values():
            if check_in.member_id == source_id and check_in.local_date not in target_days:
                check_in.member_id = target_id
        self.s.tasks.setdefault(target_id, set()).update(self.s.tasks.get(source_id, set()))
        self.s.gift_levels.setdefault(target_id, set()).update(self.s.gift_levels.get(source_id, set()))


class FakeHolds:
    def __init__(self, s: FakeState):
        self.s = s

    async def by_external_order_id(self, external_order_id: str) -> CheckoutHold | None:
        return next((h for h in self.s.holds.values() if h.external_order_id == external_order_id), None)

    async def lock(self, hold_id: int) -> CheckoutHold:
        return self.s.holds[hold_id]

    async def add(self, hold: CheckoutHold) -> CheckoutHold:
        assert await self.by_external_order_id(hold.external_order_id) is None, "unique external_order_id"
        hold.id = self.s.new_id()
        self.s.holds[hold.id] = hold
        return hold

    async def save(self, hold: CheckoutHold) -> None:
        self.s.holds[hold.id] = hold

    async def add_lots(self, hold_id: int, taken: list[tuple[int, int]]) -> None:
        self.s.hold_lots[hold_id] = list(taken)

    async def lots_of(self, hold_id: int) -> list[tuple[int, int]]:
        return list(self.s.hold_lots.get(hold_id, []))

    async def holding_coupon(self, coupon_id: int) -> CheckoutHold | None:
        return next((h for h in self.s.holds.values() if h.coupon_id == coupon_id and h.status == "HELD"), None)

    async def held_of_member(self, member_id: int) -> list[CheckoutHold]:
        return [h for h in self.s.holds.values() if h.member_id == member_id and h.status == "HELD"]

    async def expired(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        due = [h for h in self.s.holds.values() if h.status == "HELD" and h.expires_at <= now]
        return [(h.id, h.member_id) for h in sorted(due, key=lambda h: (h.expires_at, h.id))][:limit]


class FakeSmsCodes:
    def __init__(self, s: FakeState):
        self.s = s

    async def replace(self, phone: str, code_hash: str, now: datetime, expires_at: datetime) -> None:
        self.s.sms_codes[phone] = SmsCode(self.s.new_id(), code_hash, 0, expires_at)

    async def latest(self, phone: str) -> SmsCode | None:
        return self.s.sms_codes.get(phone)

    async def count_wrong_try(self, code_id: int) -> None:
        for code in self.s.sms_codes.values():
            code.attempts += code.id == code_id

    async def spend(self, code_id: int, now: datetime) -> None:
        for code in self.s.sms_codes.values():
            if code.id == code_id:
                code.used_at = now


class FakePoints:
    def __init__(self, s: FakeState):
        self.s = s

    async def add_entry(self, entry: LedgerEntry) -> LedgerEntry:
        entry.id = self.s.new_id()
        self.s.ledger.append(_c(entry))
        return entry

    async def get_entry(self, entry_id: int) -> LedgerEntry | None:
        return _c(next((e for e in self.s.ledger if e.id == entry_id), None))

    async def lots_with_points(self, member_id: int) -> list[PointsLot]:
        lots = [lot for lot in self.s.lots.values() if lot.member_id == member_id and lot.remaining > 0]
        return _c(sorted(lots, key=lambda lot: (lot.expires_at, lot.id)))

    async def add_lot(self, entry: LedgerEntry, remaining: int, earned_at: datetime | None = None) -> None:
        assert entry.id is not None and entry.delta > 0 and entry.expires_at is not None
        lid = self.s.new_id()
        self.s.lots[lid] = PointsLot(lid, entry.member_id, entry.delta, remaining, earned_at or entry.occurred_at,
                                     entry.expires_at)

    async def spendable_lots(self, member_id: int, now: datetime) -> list[PointsLot]:
        cutoff = now.replace(microsecond=0)
        lots = [lot for lot in self.s.lots.values()
                if lot.member_id == member_id and lot.remaining > 0 and lot.expires_at >= cutoff]
        return _c(sorted(lots, key=lambda lot: (lot.expires_at, lot.id)))

    async def take_from_lots(self, taken: list[tuple[PointsLot, int]]) -> None:
        for lot, amount in taken:
            stored = self.s.lots[lot.id]
            stored.remaining -= amount
            assert stored.remaining >= 0, "CHECK remaining >= 0 violated"

    async def return_to_lots(self, returned: list[tuple[int, int]]) -> None:
        for lot_id, amount in returned:
            stored = self.s.lots[lot_id]
            stored.remaining += amount
            assert stored.remaining <= stored.points, "CHECK remaining <= points violated"


class FakeCoupons:
    def __init__(self, s: FakeState):
        self.s = s

    async def add(self, coupon: Coupon) -> Coupon:
        coupon.id = self.s.new_id()
        self.s.coupons[coupon.id] = _c(coupon)
        return coupon

    async def add_many(self, coupons: list[Coupon]) -> None:
        for coupon in coupons:
            await self.add(_c(coupon))

    async def lock(self, coupon_id: int) -> Coupon | None:
        return _c(self.s.coupons.get(coupon_id))

    async def save(self, coupon: Coupon) -> None:
        self.s.coupons[coupon.id] = _c(coupon)

    async def monthly_claimed(self, member_id: int, period: str) -> bool:
        return (member_id, period) in self.s.monthly_claims

    async def record_monthly_claim(self, member_id: int, period: str, now: datetime) -> None:
        assert (member_id, period) not in self.s.monthly_claims
        self.s.monthly_claims.add((member_id, period))

    async def by_claim_period(self, member_id: int, period: str) -> list[Coupon]:
        return _c([c for c in self.s.coupons.values() if c.member_id == member_id and c.claim_period == period])

    async def end_available(self, member_id: int, now: datetime) -> None:
        for c in self.s.coupons.values():
            if c.member_id == member_id and c.status == "AVAILABLE" and c.valid_until > now:
                c.valid_until = now


class FakeCheckIns:
    def __init__(self, s: FakeState):
        self.s = s

    async def on_dates(self, member_id: int, days) -> dict[date, CheckIn]:
        return {c.local_date: _c(c) for c in self.s.check_ins.values() if c.member_id == member_id and c.local_date in days}

    async def get(self, check_in_id: int) -> CheckIn | None:
        return _c(self.s.check_ins.get(check_in_id))

    async def add(self, check_in: CheckIn) -> CheckIn:
        assert all((c.member_id, c.local_date) != (check_in.member_id, check_in.local_date)
                   for c in self.s.check_ins.values()), "unique (member_id, local_date) violated"
        check_in.id = self.s.new_id()
        self.s.check_ins[check_in.id] = _c(check_in)
        return check_in

    async def set_streaks(self, repaired) -> None:
        for check_in in repaired:
            self.s.check_ins[check_in.id].streak_days = check_in.streak_days

    async def made_up_between(self, member_id: int, start: datetime, end: datetime) -> int:
        return sum(c.member_id == member_id and c.made_up and start <= c.created_at < end
                   for c in self.s.check_ins.values())


class FakeRewards:
    def __init__(self, s: FakeState):
        self.s = s

    async def get(self, reward_id: int) -> Reward | None:
        return _c(self.s.rewards.get(reward_id))

    async def take_one(self, reward_id: int) -> bool:
        reward = self.s.rewards[reward_id]
        if reward.stock is None:
            return True
        if reward.stock > 0:
            reward.stock -= 1
            return True
        return False

    async def add_redemption(self, redemption: Redemption) -> Redemption:
        redemption.id = self.s.new_id()
        self.s.redemptions[redemption.id] = _c(redemption)
        return redemption

    async def get_redemption(self, redemption_id: int) -> Redemption | None:
        return _c(self.s.redemptions.get(redemption_id))


class FakeCatalog:
    def __init__(self, s: FakeState):
        self.s = s

    async def reward_for_update(self, reward_id: int) -> Reward | None:
        return _c(self.s.rewards.get(reward_id))

    async def add_reward(self, values: dict, now: datetime) -> int:
        rid = self.s.new_id()
        self.s.rewards[rid] = Reward(rid, f"staff-{rid}", values["name"], values["kind"], values["points_cost"],
                                     values["stock"], values["min_tier_level"], True, values["coupon_template"])
        self.s.edited.add(f"Reward:{rid}")
        return rid

    async def change_reward(self, reward_id: int, values: dict, now: datetime) -> None:
        reward = self.s.rewards[reward_id]
        for name, value in values.items():
            if hasattr(reward, name):  # the fake keeps no description
                setattr(reward, name, value)
        self.s.edited.add(f"Reward:{reward_id}")

    async def adjust_stock(self, reward_id: int, delta: int, now: datetime) -> bool:
        reward = self.s.rewards[reward_id]
        if reward.stock is None or reward.stock + delta < 0:
            return False
        reward.stock += delta
        self.s.edited.add(f"Reward:{reward_id}")
        return True

    async def coupon_template(self, code: str) -> CouponTemplate | None:
        return next((t for t in self.s.coupon_templates.values() if t.code == code), None)

    async def template_code(self, template_id: int) -> str | None:
        template = self.s.coupon_templates.get(template_id)
        return template.code if template else None

    async def add_coupon_template(self, template: CouponTemplate, now: datetime) -> int:
        tid = self.s.new_id()
        self.s.coupon_templates[tid] = dataclasses.replace(template, code=f"staff-{tid}")
        self.s.edited.add(f"CouponTemplate:{tid}")
        return tid

    async def change_coupon_template(self, template: CouponTemplate, now: datetime) -> None:
        tid = next(i for i, t in self.s.coupon_templates.items() if t.code == template.code)
        self.s.coupon_templates[tid] = template
        self.s.edited.add(f"CouponTemplate:{tid}")


class FakeOrders:
    def __init__(self, s: FakeState):
        self.s = s

    async def by_external_id(self, external_id: str) -> Order | None:
        return _c(next((o for o in self.s.orders.values() if o.external_id == external_id), None))

    async def add(self, order: Order) -> Order:
        assert all(o.external_id != order.external_id for o in self.s.orders.values())
        order.id = self.s.new_id()
        self.s.orders[order.id] = _c(order)
        return order

    async def save(self, order: Order) -> None:
        stored = self.s.orders[order.id]
        stored.refunded_amount = order.refunded_amount
        stored.points_taken_back = order.points_taken_back
        stored.growth_taken_back = order.growth_taken_back

    async def refund_by_external_id(self, external_refund_id: str) -> Refund | None:
        return _c(next((r for r in self.s.refunds.values() if r.external_refund_id == external_refund_id), None))

    async def add_refund(self, refund: Refund) -> Refund:
        refund.id = self.s.new_id()
        self.s.refunds[refund.id] = _c(refund)
        return refund

    async def offset_for(self, external_order_id: str) -> PointsOffset | None:
        return _c(next((o for o in self.s.offsets.values() if o.external_order_id == external_order_id), None))

    async def add_offset(self, offset: PointsOffset) -> PointsOffset:
        offset.id = self.s.new_id()
        self.s.offsets[offset.id] = _c(offset)
        return offset

    async def save_offset(self, offset: PointsOffset) -> None:
        self.s.offsets[offset.id].points_returned = offset.points_returned

    async def add_offset_lots(self, offset_id: int, taken: list[tuple[int, int]]) -> None:
        self.s.offset_lots.setdefault(offset_id, []).extend(taken)

    async def offset_lots(self, offset_id: int) -> list[tuple[datetime, int]]:
        rows = sorted((self.s.lots[lot_id].earned_at, lot_id, points)
                      for lot_id, points in self.s.offset_lots.get(offset_id, []))
        return [(earned_at, points) for earned_at, _, points in rows]


class FakeReferrals:
    def __init__(self, s: FakeState):
        self.s = s

    async def add(self, referral: Referral) -> Referral:
        assert all(r.referee_id != referral.referee_id for r in self.s.referrals.values()), "unique referee_id"
        referral.id = self.s.new_id()
        self.s.referrals[referral.id] = _c(referral)
        return referral

    async def of_referee(self, referee_id: int) -> Referral | None:
        return _c(next((r for r in self.s.referrals.values() if r.referee_id == referee_id), None))

    async def save(self, referral: Referral) -> None:
        self.s.referrals[referral.id] = _c(referral)

    async def first_standing_order(self, referee_id: int, since: datetime) -> Order | None:
        return _c(min((o for o in self.s.orders.values() if o.member_id == referee_id and o.growth_earned > 0
                       and o.refunded_amount < o.amount and o.paid_at >= since), key=lambda o: o.id, default=None))


class FakeIdempotency:
    def __init__(self, s: FakeState):
        self.s = s

    async def get(self, member_id: int, operation: str, key: str) -> IdempotencyRecord | None:
        return _c(self.s.idempotency.get((member_id, operation, key)))

    async def add(self, record: IdempotencyRecord) -> None:
        k = (record.member_id, record.operation, record.key)
        assert k not in self.s.idempotency
        self.s.idempotency[k] = _c(record)


class FakeNotifications:
    def __init__(self, s: FakeState):
        self.s = s

    async def add(self, notifications: list[Notification]) -> None:
        for n in notifications:
            nid = self.s.new_id()
            self.s.notifications[nid] = _c(n)
            self.s.notifications[nid].id = nid

    async def owned(self, member_id: int, ids: set[int]) -> set[int]:
        return {i for i in ids if i in self.s.notifications and self.s.notifications[i].member_id == member_id}

    async def mark_read(self, member_id: int, ids: set[int], now: datetime) -> None:
        for i in await self.owned(member_id, ids):
            if self.s.notifications[i].read_at is None:
                self.s.notifications[i].read_at = now

    async def unread_count(self, member_id: int) -> int:
        return sum(1 for n in self.s.notifications.values() if n.member_id == member_id and n.read_at is None)

    async def erase_all(self, member_id: int) -> None:
        self.s.notifications = {i: n for i, n in self.s.notifications.items() if n.member_id != member_id}


class FakeSessions:
    def __init__(self, s: FakeState):
        self.s = s

    async def add(self, session: Session) -> Session:
        session.id = self.s.new_id()
        self.s.sessions[session.id] = _c(session)
        return session

    async def lock(self, session_id: int) -> Session | None:
        return _c(self.s.sessions.get(session_id))

    async def revoke(self, session_id: int, reason: str, now: datetime) -> None:
        session = self.s.sessions[session_id]
        if session.revoked_at is None:
            session.revoked_at, session.revoked_reason = now, reason

    async def revoke_all_of_member(self, member_id: int, reason: str, now: datetime) -> None:
        for session in self.s.sessions.values():
            if session.member_id == member_id:
                await self.revoke(session.id, reason, now)

    async def add_refresh_token(self, token: RefreshToken) -> None:
        assert token.token_hash not in self.s.refresh_tokens
        token.id = self.s.new_id()
        self.s.refresh_tokens[token.token_hash] = _c(token)

    async def lock_refresh_token(self, token_hash: str) -> RefreshToken | None:
        return _c(self.s.refresh_tokens.get(token_hash))

    async def spend_refresh_token(self, token_id: int, now: datetime) -> None:
        next(t for t in self.s.refresh_tokens.values() if t.id == token_id).used_at = now


class FakeStaff:
    def __init__(self, s: FakeState):
        self.s = s

    async def by_username(self, username: str) -> StaffMember | None:
        return _c(next((m for m in self.s.staff.values() if m.username == username), None))

    async def add(self, staff: StaffMember) -> StaffMember:
        staff.id = self.s.new_id()
        self.s.staff[staff.id] = _c(staff)
        return staff

    async def save_password_hash(self, staff_id: int, password_hash: str) -> None:
        self.s.staff[staff_id].password_hash = password_hash


class FakeApiKeys:
    def __init__(self, s: FakeState):
        self.s = s

    async def add(self, name: str, key_hash: str, prefix: str, scopes: str, now: datetime) -> int:
        key_id = self.s.new_id()
        self.s.api_keys[key_id] = {"name": name, "hash": key_hash, "scopes": scopes, "revoked_at": None}
        return key_id

    async def revoke_named(self, name: str, now: datetime) -> int:
        named = [key_id for key_id, key in self.s.api_keys.items() if key["name"] == name and not key["revoked_at"]]
        for key_id in named:
            await self.revoke(key_id, now)
        return len(named)

    async def revoke(self, key_id: int, now: datetime) -> bool:
        key = self.s.api_keys.get(key_id)
        if key is None or key["revoked_at"] is not None:
            return False
        key["revoked_at"] = now
        return True


class FakeAudit:
    def __init__(self, s: FakeState):
        self.s = s

    async def snapshot(self, subject: str | None) -> dict | None:
        kind, _, pk = (subject or "").partition(":")
        return {"pointsBalance": self.s.members[int(pk)].points_balance} \
            if kind == "Member" and pk.isdigit() and int(pk) in self.s.members else None

    async def add(self, record: AuditRecord) -> None:
        self.s.audit.append(record)


class FakeLegacyPoints:
    def __init__(self, s: FakeState):
        self.s = s

    async def lock_for_import(self) -> None:
        return None

    async def imported(self, external_row_ids):
        wanted = set(external_row_ids)
        return {r["external_row_id"]: (r["file_digest"], r["line"]) for r in self.s.legacy_points.values()
                if r["external_row_id"] in wanted}

    async def members_for_import(self, member_nos, phones):
        return ({m.member_no: m for m in self.s.members.values() if m.member_no in set(member_nos)},
                {p: self.s.members[m] for m, p in self.s.phones.items() if p in set(phones)})

    async def add_imported(self, credited, waiting, file_digest: str, now: datetime) -> None:
        for row, entry, remaining in credited:
            entry.id = self.s.new_id()
            self.s.ledger.append(_c(entry))
            lid = self.s.new_id()
            self.s.lots[lid] = PointsLot(lid, entry.member_id, entry.delta, remaining, entry.occurred_at,
                                         entry.expires_at)
            self._add(row, file_digest, now, "CREDITED", None, entry.id)
        for row in waiting:
            self._add(row, file_digest, now, "WAITING", row.phone, None)

    def _add(self, row, file_digest, now, status, phone, entry_id) -> None:
        assert all(r["external_row_id"] != row.external_row_id for r in self.s.legacy_points.values()), "unique"
        rid = self.s.new_id()
        self.s.legacy_points[rid] = {"external_row_id": row.external_row_id, "file_digest": file_digest,
                                     "line": row.line, "legacy_points": row.legacy_points, "points": row.points,
                                     "status": status, "phone": phone, "entry_id": entry_id, "imported_at": now}

    async def save_balances(self, members) -> None:
        return None  # the members handed out are the working state's own

    async def waiting_for(self, phone: str):
        return [LegacyPoints(rid, r["external_row_id"], r["legacy_points"], r["points"], r["imported_at"])
                for rid, r in sorted(self.s.legacy_points.items()) if r["status"] == "WAITING" and r["phone"] == phone]

    async def mark_credited(self, row_id: int, entry_id: int, now: datetime) -> None:
        self.s.legacy_points[row_id].update(status="CREDITED", phone=None, entry_id=entry_id)


class FakeUnitOfWork:
    """One transaction over a private copy of the store's state; `commit()` publishes it."""

    def __init__(self, store: FakeStore):
        self.store = store
        self.commits = 0
        self.working = copy.deepcopy(store.state)
        self.members = FakeMembers(self.working)
        self.sms_codes = FakeSmsCodes(self.working)
        self.holds = FakeHolds(self.working)
        self.points = FakePoints(self.working)
        self.coupons = FakeCoupons(self.working)
        self.check_ins = FakeCheckIns(self.working)
        self.rewards = FakeRewards(self.working)
        self.catalog = FakeCatalog(self.working)
        self.orders = FakeOrders(self.working)
        self.referrals = FakeReferrals(self.working)
        self.idempotency = FakeIdempotency(self.working)
        self.notifications = FakeNotifications(self.working)
        self.sessions = FakeSessions(self.working)
        self.staff = FakeStaff(self.working)
        self.api_keys = FakeApiKeys(self.working)
        self.audit = FakeAudit(self.working)
        self.legacy_points = FakeLegacyPoints(self.working)

    async def __aenter__(self) -> "FakeUnitOfWork":
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def flush(self) -> None:
        return None

    async def commit(self) -> None:
        self.commits += 1
        self.store.commits += 1
        self.store.state = copy.deepcopy(self.working)


# ====================================================================== helpers


@pytest.fixture(scope="module")
def standard() -> Program:
    return load_program(PROGRAMS / "standard.toml")


@pytest.fixture(scope="module")
def fresh() -> Program:
    return load_program(PROGRAMS / "fresh-grocery.toml")


@pytest.fixture
def store(standard) -> FakeStore:
    return FakeStore(standard)


def service(store: FakeStore, program: Program, now: datetime) -> Service:
    """The service layer over the fake store, its clock at `now`."""
    return Service(program, lambda: FakeUnitOfWork(store), FixedClock(now))


async def run(store: FakeStore, program: Program, now: datetime, command):
    """Handle a command through the service layer at `now`; returns (result, commits it made)."""
    before = store.commits
    result = await service(store, program, now).handle(command, now=now)
    return result, store.commits - before


async def ok(store: FakeStore, program: Program, now: datetime, command):
    """Handle a command that must succeed and commit exactly once."""
    result, commits = await run(store, program, now, command)
    assert commits == 1
    return result


async def refused(store: FakeStore, code: UserErrorCode, program: Program, now: datetime, command) -> LoyaltyError:
    """Handle a command that must be refused with `code`, without commit and without any change."""
    before, commits = store.snapshot(), store.commits
    with pytest.raises(LoyaltyError) as caught:
        await service(store, program, now).handle(command, now=now)
    assert caught.value.code == code, caught.value.message
    assert store.commits == commits
    assert store.state == before
    return caught.value


async def replayed(store: FakeStore, program: Program, now: datetime, command):
    """Handle a retried command: it answers the first answer, commits nothing and changes nothing."""
    before = store.snapshot()
    result, commits = await run(store, program, now, command)
    assert commits == 0
    assert store.state == before
    return result


def assert_wallet(store: FakeStore, program: Program, member_id: int) -> None:
    member = store.member(member_id)
    lots = store.lots_of(member_id)
    ledger = store.ledger_of(member_id)
    assert member.points_debt >= 0
    assert all(0 <= lot.remaining <= lot.points for lot in lots)
    assert member.points_balance == sum(lot.remaining for lot in lots) - member.points_debt
    assert member.points_balance == sum(e.delta for e in ledger)
    running = 0
    for entry in ledger:
        running += entry.delta
        assert entry.balance_after == running
        assert (entry.expires_at is not None) == (entry.delta > 0)
    # one lot per addition, of the same size
    assert sorted(lot.points for lot in lots) == sorted(e.delta for e in ledger if e.delta > 0)
    growth = [g for g in store.state.growth_log if g[0] == member_id]
    assert member.growth_value == sum(g[1] for g in growth) >= 0
    assert all(g[2] >= 0 for g in growth)
    assert member.tier_code == program.tier_for_growth(member.growth_value).code


async def give_points(store: FakeStore, program: Program, member_id: int, points: int, now: datetime) -> None:
    """Seed points the way every addition is made: a wallet credit (an ADJUSTMENT) in a committed unit of work."""
    uow = FakeUnitOfWork(store)
    member = await uow.members.lock(member_id)
    await wallet.credit(uow, program, member, points, "ADJUSTMENT", "seed", now)
    await uow.commit()


# ====================================================================== the fake itself


@pytest.mark.parametrize("protocol, fake", [
    (ports.MemberRepository, FakeMembers), (ports.SmsCodeRepository, FakeSmsCodes), (ports.HoldRepository, FakeHolds), (ports.PointsRepository, FakePoints),
    (ports.CouponRepository, FakeCoupons),
    (ports.CheckInRepository, FakeCheckIns), (ports.RewardRepository, FakeRewards),
    (ports.CatalogRepository, FakeCatalog),
    (ports.OrderRepository, FakeOrders), (ports.ReferralRepository, FakeReferrals),
    (ports.IdempotencyRepository, FakeIdempotency),
    (ports.NotificationRepository, FakeNotifications), (ports.SessionRepository, FakeSessions),
    (ports.StaffRepository, FakeStaff), (ports.ApiKeyRepository, FakeApiKeys), (ports.AuditLog, FakeAudit),
    (ports.LegacyPointsRepository, FakeLegacyPoints),
])
def test_fake_repositories_implement_the_ports(protocol, fake):
    wanted = {name: f for name, f in vars(protocol).items() if inspect.isfunction(f) and not name.startswith("_")}
    assert wanted
    for name, f in wanted.items():
        mine = getattr(fake, name)
        assert inspect.iscoroutinefunction(mine), name
        assert list(inspect.signature(mine).parameters) == list(inspect.signature(f).parameters), name


def test_fake_unit_of_work_has_every_repository(store):
    uow = FakeUnitOfWork(store)
    for name in ports.UnitOfWork.__annotations__:
        assert hasattr(uow, name), name


async def test_fake_rolls_back_without_commit(store, standard):
    mid = store.add_member()
    uow = FakeUnitOfWork(store)
    member = await uow.members.lock(mid)
    await wallet.credit(uow, standard, member, 50, "ADJUSTMENT", "x", at("2024-03-04"))
    assert store.member(mid).points_balance == 0 and store.ledger_of(mid) == []
    await uow.commit()
    assert store.member(mid).points_balance == 50 and len(store.ledger_of(mid)) == 1


# ====================================================================== sign-up


async def test_first_sign_in_registers_with_the_signup_gift(store, standard):
    now = at("2024-03-04", 9)
    member, session, refresh_token = await ok(store, standard, now, commands.SignInWithWeChat("dev-new", None, 3600))
    assert (member.tier_code, member.points_balance) == ("regular", 100)      # 100 points
    assert store.state.sessions[session.id].member_id == member.id and refresh_token.startswith("rt_")
    assert len(session.token_id) >= 22  # 128 random bits name it in access tokens
    [entry] = store.ledger_of(member.id)
    assert (entry.kind, entry.delta, entry.expires_at) == ("SIGNUP", 100, end_of_local_day("2025-03-04"))
    [coupon] = store.coupons_of(member.id)
    # one 新人礼券 满30减5, valid 30 days: 2024-03-04 + 30 = 2024-04-03
    assert (coupon.template_code, coupon.source, coupon.min_spend, coupon.discount_amount) == \
        ("newcomer", "SIGNUP_GIFT", 3000, 500)
    assert coupon.valid_until == end_of_local_day("2024-04-03")
    assert_wallet(store, standard, member.id)
    # a second login is the same member and changes nothing but a new session
    before = store.snapshot()
    again, second_session, _ = await ok(store, standard, at("2024-03-05"), commands.SignInWithWeChat("dev-new", None, 3600))
    assert again.id == member.id and second_session.token_id != session.token_id
    assert (store.state.ledger, store.state.coupons, store.state.members) == (before.ledger, before.coupons,
                                                                             before.members)


async def test_fresh_grocery_sign_up_gives_no_coins(fresh):
    store = FakeStore(fresh)
    member, _, _ = await ok(store, fresh, at("2024-03-04"), commands.SignInWithWeChat("dev-f", None, 3600))
    assert member.points_balance == 0 and store.ledger_of(member.id) == []
    assert [c.template_code for c in store.coupons_of(member.id)] == ["newcomer"]
    assert_wallet(store, fresh, member.id)


# ====================================================================== check-in


async def test_check_in_streak_across_days(store, standard):
    mid = store.add_member()
    # 1 to 8 March: streak 1..8 → 1, 2, 3, 4, 5, 6, 7+20, 7
    expected_points = [1, 2, 3, 4, 5, 6, 27, 7]
    balance = 0
    for i, points in enumerate(expected_points):
        day = f"2024-03-0{i + 1}"
        record = await ok(store, standard, at(day, 9), commands.CheckIn(mid, f"ci-{day}"))
        balance += points
        assert (record.local_date, record.streak_days, record.points_awarded) == \
            (date.fromisoformat(day), i + 1, points)
        assert store.member(mid).points_balance == balance
        assert_wallet(store, standard, mid)
    assert balance == 55    # 1+2+3+4+5+6+27+7
    # 9 March missed: on the 10th the streak restarts at 1
    record = await ok(store, standard, at("2024-03-10", 9), commands.CheckIn(mid, "ci-10"))
    assert (record.streak_days, record.points_awarded) == (1, 1)
    assert store.member(mid).points_balance == 56
    entries = store.ledger_of(mid)
    assert [e.kind for e in entries] == ["CHECK_IN"] * 9
    # each check-in's points expire at the end of the same local date a year later
    assert entries[0].expires_at == end_of_local_day("2025-03-01")
    assert_wallet(store, standard, mid)


async def test_check_in_days_are_shanghai_days(store, standard):
    mid = store.add_member()
    # 2024-03-04 15:59:59Z is 23:59:59 on the 4th in Shanghai; one second later it is the 5th there
    first = await ok(store, standard, datetime(2024, 3, 4, 15, 59, 59, tzinfo=UTC), commands.CheckIn(mid, "a"))
    second = await ok(store, standard, datetime(2024, 3, 4, 16, 0, 0, tzinfo=UTC), commands.CheckIn(mid, "b"))
    assert (first.local_date, first.streak_days) == (date(2024, 3, 4), 1)
    assert (second.local_date, second.streak_days) == (date(2024, 3, 5), 2)
    assert store.member(mid).points_balance == 3     # 1 + 2
    # a third on the same Shanghai day (still before 16:00Z of the 5th) is refused
    await refused(store, UserErrorCode.ALREADY_CHECKED_IN, standard, datetime(2024, 3, 5, 15, 59, 59, tzinfo=UTC), commands.CheckIn(mid, "c"))
    assert_wallet(store, standard, mid)


async def test_make_up_repairs_the_streaks_that_follow(store, standard):
    mid = store.add_member()
    await give_points(store, standard, mid, 20, at("2024-03-01"))
    for day in ("2024-03-04", "2024-03-06", "2024-03-07"):   # 5 March missed
        await ok(store, standard, at(day, 9), commands.CheckIn(mid, f"ci-{day}"))
    made = await ok(store, standard, at("2024-03-07", 12), commands.MakeUpCheckIn(mid, date(2024, 3, 5), "mu"))
    assert (made.check_in.streak_days, made.check_in.points_awarded, made.check_in.made_up, made.points_spent) == \
        (2, 0, True, 20)
    days = {c.local_date.day: (c.streak_days, c.points_awarded) for c in store.state.check_ins.values()}
    assert days == {4: (1, 1), 5: (2, 0), 6: (3, 1), 7: (4, 2)}   # points stay as awarded
    assert store.member(mid).points_balance == 20 + 1 + 1 + 2 - 20
    await refused(store, UserErrorCode.ALREADY_CHECKED_IN, standard, at("2024-03-07", 13),
                  commands.MakeUpCheckIn(mid, date(2024, 3, 5), "again"))
    assert_wallet(store, standard, mid)


async def test_check_in_same_key_replays_the_first_answer(store, standard):
    mid = store.add_member()
    first = await ok(store, standard, at("2024-03-04", 9), commands.CheckIn(mid, "key-1"))
    again = await replayed(store, standard, at("2024-03-04", 11), commands.CheckIn(mid, "key-1"))
    assert again == first
    # even the next day the same key answers the first check-in and pays nothing
    later = await replayed(store, standard, at("2024-03-05", 9), commands.CheckIn(mid, "key-1"))
    assert later == first
    assert store.member(mid).points_balance == 1
    # a new key checks in for the 5th: streak 2
    second = await ok(store, standard, at("2024-03-05", 9), commands.CheckIn(mid, "key-2"))
    assert second.streak_days == 2 and store.member(mid).points_balance == 3
    # keys are trimmed: " key-2 " is key-2
    assert await replayed(store, standard, at("2024-03-05", 12), commands.CheckIn(mid, " key-2 ")) == second
    assert_wallet(store, standard, mid)


async def test_check_in_refusals(store, standard):
    mid = store.add_member()
    await ok(store, standard, at("2024-03-04", 9), commands.CheckIn(mid, "k1"))
    error = await refused(store, UserErrorCode.ALREADY_CHECKED_IN, standard, at("2024-03-04", 23), commands.CheckIn(mid, "k2"))
    assert error.message
    await refused(store, UserErrorCode.NOT_FOUND, standard, at("2024-03-04"), commands.CheckIn(999, "k3"))
    error = await refused(store, UserErrorCode.INVALID_INPUT, standard, at("2024-03-05"), commands.CheckIn(mid, "   "))
    assert error.field == ["input", "idempotencyKey"]
    await refused(store, UserErrorCode.INVALID_INPUT, standard, at("2024-03-05"), commands.CheckIn(mid, "k" * 129))
    # 128 characters is fine
    await ok(store, standard, at("2024-03-05"), commands.CheckIn(mid, "k" * 128))
    assert store.member(mid).points_balance == 3
    assert_wallet(store, standard, mid)


def test_check_in_status(standard):
    day = date(2024, 3, 7)
    six = CheckIn(1, day - timedelta(days=1), 6, 6, at("2024-03-06"), id=1)
    # not yet today, yesterday was day 6: today would be day 7 → 7 + 20
    status = check_in_status(standard, None, six)
    assert (status.checked_in_today, status.streak_days, status.today_reward) == (False, 6, 27)
    # a day was missed: the live streak is 0 and today would pay 1
    status = check_in_status(standard, None, None)
    assert (status.checked_in_today, status.streak_days, status.today_reward) == (False, 0, 1)
    # checked in today: what it gave
    today = CheckIn(1, day, 7, 27, at("2024-03-07"), id=2)
    status = check_in_status(standard, today, six)
    assert (status.checked_in_today, status.streak_days, status.today_reward) == (True, 7, 27)


# ====================================================================== profile


async def test_profile_tasks_pay_once(store, standard):
    mid = store.add_member()
    now = at("2024-03-04")
    change = ProfileChange(nickname="  小明 ", birthday=date(1990, 5, 20), gender="FEMALE", household_size=3)
    member, awarded = await ok(store, standard, now, commands.UpdateProfile(mid, **vars(change)))
    assert awarded == 15                          # birthday 5 + gender 5 + household size 5
    assert (member.nickname, member.birthday, member.gender, member.household_size) == \
        ("小明", date(1990, 5, 20), "FEMALE", 3)
    assert store.member(mid).points_balance == 15
    assert [(e.kind, e.delta) for e in store.ledger_of(mid)] == [("TASK", 5)] * 3
    # the same values again: accepted, nothing paid
    again = ProfileChange(birthday=date(1990, 5, 20), gender="MALE", household_size=4)
    member, awarded = await ok(store, standard, at("2024-03-05"), commands.UpdateProfile(mid, **vars(again)))
    assert awarded == 0 and (member.gender, member.household_size) == ("MALE", 4)
    assert store.member(mid).points_balance == 15
    # a different birthday is refused and changes nothing (not even the nickname sent with it)
    error = await refused(store, UserErrorCode.INVALID_INPUT, standard, at("2024-03-06"), commands.UpdateProfile(mid, **vars(ProfileChange(nickname="other", birthday=date(1991, 5, 20)))))
    assert error.field == ["input", "birthday"]
    assert store.member(mid).nickname == "小明"
    assert_wallet(store, standard, mid)


async def test_undisclosed_gender_pays_nothing_until_disclosed(store, standard):
    mid = store.add_member()
    _, awarded = await ok(store, standard, at("2024-03-04"), commands.UpdateProfile(mid, **vars(ProfileChange(gender="UNDISCLOSED"))))
    assert awarded == 0 and store.ledger_of(mid) == []
    _, awarded = await ok(store, standard, at("2024-03-05"), commands.UpdateProfile(mid, **vars(ProfileChange(gender="MALE"))))
    assert awarded == 5
    _, awarded = await ok(store, standard, at("2024-03-06"), commands.UpdateProfile(mid, **vars(ProfileChange(gender="FEMALE"))))
    assert awarded == 0
    assert store.member(mid).points_balance == 5
    assert_wallet(store, standard, mid)


@pytest.mark.parametrize("change, field_name", [
    (ProfileChange(nickname=""), "nickname"),
    (ProfileChange(nickname="   "), "nickname"),
    (ProfileChange(nickname="名" * 33), "nickname"),
    (ProfileChange(nickname="a\nb"), "nickname"),
    (ProfileChange(birthday=date(1899, 12, 31)), "birthday"),
    (ProfileChange(birthday=date(2024, 3, 6)), "birthday"),      # tomorrow in Shanghai
    (ProfileChange(gender="OTHER"), "gender"),
    (ProfileChange(household_size=0), "householdSize"),
    (ProfileChange(household_size=21), "householdSize"),
])
async def test_invalid_profile_input(store, standard, change, field_name):
    mid = store.add_member()
    # 2024-03-04 16:30Z is already 5 March in Shanghai
    now = datetime(2024, 3, 4, 16, 30, tzinfo=UTC)
    error = await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.UpdateProfile(mid, **vars(change)))
    assert error.field == ["input", field_name]


async def test_profile_limits_are_accepted(store, standard):
    mid = store.add_member()
    now = datetime(2024, 3, 4, 16, 30, tzinfo=UTC)   # 5 March local: a birthday of "today" is allowed
    change = ProfileChange(nickname="名" * 32, birthday=date(2024, 3, 5), household_size=20)
    _, awarded = await ok(store, standard, now, commands.UpdateProfile(mid, **vars(change)))
    assert awarded == 10
    _, awarded = await ok(store, standard, now, commands.UpdateProfile(store.add_member("dev-b"), **vars(ProfileChange(birthday=date(1900, 1, 1), household_size=1))))
    assert awarded == 10


async def test_fresh_grocery_gender_pays_nothing(fresh):
    store = FakeStore(fresh)
    mid = store.add_member()
    change = ProfileChange(birthday=date(1990, 5, 20), gender="FEMALE", household_size=3)
    _, awarded = await ok(store, fresh, at("2024-03-04"), commands.UpdateProfile(mid, **vars(change)))
    assert awarded == 10                          # birthday 5 + household 5; gender 0
    assert [e.delta for e in store.ledger_of(mid)] == [5, 5]
    assert_wallet(store, fresh, mid)


# ====================================================================== orders


async def test_order_upgrades_regular_to_gold_granting_both_gifts_once(store, standard):
    mid = store.add_member()
    wednesday = at("2024-03-06")                  # 10:00 local, Wednesday
    order = await ok(store, standard, wednesday, commands.RecordOrder(mid, "O-1", 250000, 800, "APP", wednesday))
    # ¥2500 at regular (tier before the order), weekday: 2500 × 1.0 × 1 = 2500 points; growth 2500 → gold
    assert (order.points_earned, order.growth_earned, order.shipping_fee) == (2500, 2500, 800)
    member = store.member(mid)
    assert (member.tier_code, member.growth_value) == ("gold", 2500)
    # gifts of silver (100 + 2 × 满30减5) and gold (300 + 3 × 满30减5): 2500 + 100 + 300 = 2900
    assert member.points_balance == 2900
    assert [(e.kind, e.delta) for e in store.ledger_of(mid)] == [("ORDER", 2500), ("UPGRADE_GIFT", 100),
                                                                 ("UPGRADE_GIFT", 300)]
    gifts = store.coupons_of(mid)
    assert len(gifts) == 5
    assert {(c.template_code, c.source, c.min_spend, c.discount_amount) for c in gifts} == \
        {("full30off5", "UPGRADE_GIFT", 3000, 500)}
    assert {c.valid_until for c in gifts} == {end_of_local_day("2024-04-05")}   # 6 March + 30 days
    assert store.state.gift_levels[mid] == {2, 3}
    # the tier is valid for 12 months from that moment (same local wall time)
    assert member.tier_expires_at == at("2025-03-06")
    assert_wallet(store, standard, mid)

    # retry with the same input: the same order, nothing more
    assert await replayed(store, standard, at("2024-03-07"), commands.RecordOrder(mid, "O-1", 250000, 800, "APP", wednesday)) == order
    # the same externalId with any other field is refused
    for args in ((250001, 800, "APP", wednesday), (250000, 0, "APP", wednesday),
                 (250000, 800, "STORE", wednesday), (250000, 800, "APP", wednesday + timedelta(seconds=1))):
        error = await refused(store, UserErrorCode.IDEMPOTENCY_KEY_REUSED, standard, at("2024-03-07"), commands.RecordOrder(mid, "O-1", *args))
        assert error.field is None or error.field[-1] == "externalId"

    # now gold: a Tuesday order of ¥123.45 earns floor(123 × 1.2 × 2) = floor(295.2) = 295, growth 123
    tuesday = at("2024-03-12")
    order2 = await ok(store, standard, tuesday, commands.RecordOrder(mid, "O-2", 12345, None, "MINI_PROGRAM", tuesday))
    assert (order2.points_earned, order2.growth_earned) == (295, 123)
    member = store.member(mid)
    assert (member.points_balance, member.growth_value, member.tier_code) == (3195, 2623, "gold")
    assert len(store.coupons_of(mid)) == 5        # no new gifts
    assert_wallet(store, standard, mid)

    # refunding O-1 entirely takes back 2500 points and 2500 growth: 123 growth → regular, gifts kept
    await ok(store, standard, at("2024-03-13"), commands.RefundOrder("O-1", "RF-1", 250000))
    member = store.member(mid)
    assert (member.points_balance, member.growth_value, member.tier_code) == (695, 123, "regular")
    assert member.tier_expires_at is None
    assert len(store.coupons_of(mid)) == 5
    assert_wallet(store, standard, mid)

    # back to gold with another ¥2000: no gift a second time in the member's life
    order3 = await ok(store, standard, at("2024-03-13"), commands.RecordOrder(mid, "O-3", 200000, 0, "STORE", at("2024-03-13")))
    assert order3.points_earned == 2000           # at regular, Wednesday
    member = store.member(mid)
    assert (member.tier_code, member.growth_value, member.points_balance) == ("gold", 2123, 2695)
    assert [e.kind for e in store.ledger_of(mid)].count("UPGRADE_GIFT") == 2
    assert len(store.coupons_of(mid)) == 5
    assert member.tier_expires_at == at("2025-03-13")
    assert_wallet(store, standard, mid)


async def test_order_straight_to_diamond_grants_three_gifts(store, standard):
    mid = store.add_member()
    now = at("2024-03-06")
    await ok(store, standard, now, commands.RecordOrder(mid, "D-1", 500000, None, "APP", now))
    member = store.member(mid)
    # 5000 points + gifts 100 + 300 + 800 = 6200; coupons 2 + 3 + 5 = 10
    assert (member.tier_code, member.points_balance) == ("diamond", 6200)
    assert len(store.coupons_of(mid)) == 10
    assert store.state.gift_levels[mid] == {2, 3, 4}
    assert_wallet(store, standard, mid)


async def test_member_day_is_the_local_date_of_paid_at(store, standard):
    mid = store.add_member()
    # Monday 2024-03-04 16:30Z is Tuesday 00:30 in Shanghai: doubled. Recorded on Wednesday.
    order = await ok(store, standard, at("2024-03-06"), commands.RecordOrder(mid, "T-1", 10000, None, "APP", datetime(2024, 3, 4, 16, 30, tzinfo=UTC)))
    assert order.points_earned == 200             # 100 × 1.0 × 2
    # Tuesday 2024-03-05 16:30Z is Wednesday 00:30 in Shanghai: not doubled
    order = await ok(store, standard, at("2024-03-06"), commands.RecordOrder(mid, "T-2", 10000, None, "APP", datetime(2024, 3, 5, 16, 30, tzinfo=UTC)))
    assert order.points_earned == 100
    assert_wallet(store, standard, mid)


async def test_third_party_orders_earn_nothing(store, standard):
    mid = store.add_member()
    now = at("2024-03-05")                        # even on a Tuesday
    order = await ok(store, standard, now, commands.RecordOrder(mid, "TP-1", 99900, None, "THIRD_PARTY", now))
    assert (order.points_earned, order.growth_earned) == (0, 0)
    assert store.ledger_of(mid) == [] and store.state.growth_log == []
    assert store.member(mid).points_balance == 0
    assert_wallet(store, standard, mid)


async def test_record_order_refusals(store, standard):
    mid = store.add_member()
    now = at("2024-03-06")
    await refused(store, UserErrorCode.NOT_FOUND, standard, now, commands.RecordOrder(999, "X", 100, None, "APP", now))
    await refused(store, UserErrorCode.NOT_FOUND, standard, now, commands.RecordOrder(None, "X", 100, None, "APP", now))
    await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RecordOrder(mid, "X", -1, None, "APP", now))
    await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RecordOrder(mid, "X", 100, -5, "APP", now))
    await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RecordOrder(mid, "X", 100, None, "WEB", now))
    await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RecordOrder(mid, "", 100, None, "APP", now))


# ====================================================================== refunds


async def test_partial_refunds_take_back_in_proportion(store, standard):
    mid = store.add_member()
    tuesday = at("2024-03-05")
    order = await ok(store, standard, tuesday, commands.RecordOrder(mid, "R-1", 12345, None, "APP", tuesday))
    # floor(123.45) = 123 × 2 (Tuesday) = 246 points; growth ¥123.45 → 123
    assert (order.points_earned, order.growth_earned) == (246, 123)
    # cumulative refunds 1000, 3345, 7345, 12345 fen:
    #   points floor(246 × so_far / 12345) = 19, 66, 146, 246 → steps 19, 47, 80, 100
    #   growth floor(123 × so_far / 12345) =  9, 33,  73, 123 → steps  9, 24, 40,  50
    steps = [("F-1", 1000, 19, 9), ("F-2", 2345, 47, 24), ("F-3", 4000, 80, 40), ("F-4", 5000, 100, 50)]
    points, growth, refunded = 246, 123, 0
    for refund_id, amount, points_back, growth_back in steps:
        result = await ok(store, standard, at("2024-03-07"), commands.RefundOrder("R-1", refund_id, amount))
        points, growth, refunded = points - points_back, growth - growth_back, refunded + amount
        assert result.refunded_amount == refunded
        member = store.member(mid)
        assert (member.points_balance, member.growth_value) == (points, growth)
        [refund] = [r for r in store.state.refunds.values() if r.external_refund_id == refund_id]
        assert (refund.amount, refund.points_taken_back, refund.growth_taken_back, refund.points_returned) == \
            (amount, points_back, growth_back, 0)
        assert store.ledger_of(mid)[-1].kind == "REFUND" and store.ledger_of(mid)[-1].delta == -points_back
        assert_wallet(store, standard, mid)
    stored = next(o for o in store.state.orders.values() if o.external_id == "R-1")
    assert (stored.refunded_amount, stored.points_taken_back, stored.growth_taken_back) == (12345, 246, 123)
    assert (points, growth) == (0, 0)

    # retries of a refund replay; a changed amount under the same refund id is refused
    assert (await replayed(store, standard, at("2024-03-08"), commands.RefundOrder("R-1", "F-2", 2345))).refunded_amount \
        == 12345
    await refused(store, UserErrorCode.IDEMPOTENCY_KEY_REUSED, standard, at("2024-03-08"), commands.RefundOrder("R-1", "F-2", 2000))
    await refused(store, UserErrorCode.REFUND_EXCEEDS_ORDER, standard, at("2024-03-08"), commands.RefundOrder("R-1", "F-5", 1))


async def test_refund_refusals(store, standard):
    mid = store.add_member()
    now = at("2024-03-06")
    await ok(store, standard, now, commands.RecordOrder(mid, "R-2", 10000, None, "APP", now))
    error = await refused(store, UserErrorCode.ORDER_NOT_FOUND, standard, now, commands.RefundOrder("nope", "F", 100))
    assert error.field == ["input", "externalId"]
    await refused(store, UserErrorCode.REFUND_EXCEEDS_ORDER, standard, now, commands.RefundOrder("R-2", "F", 10001))
    await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RefundOrder("R-2", "F", 0))
    await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RefundOrder("R-2", "F", -100))
    await ok(store, standard, now, commands.RefundOrder("R-2", "F", 6000))
    # 4000 fen are left
    await refused(store, UserErrorCode.REFUND_EXCEEDS_ORDER, standard, now, commands.RefundOrder("R-2", "G", 4001))
    await ok(store, standard, now, commands.RefundOrder("R-2", "G", 4000))
    assert store.member(mid).points_balance == 0
    assert_wallet(store, standard, mid)
    # a refund id is one refund: used again for another order it is refused
    await ok(store, standard, now, commands.RecordOrder(mid, "R-3", 10000, None, "APP", now))
    await refused(store, UserErrorCode.IDEMPOTENCY_KEY_REUSED, standard, now, commands.RefundOrder("R-3", "G", 4000))


async def test_refund_gives_back_offset_points_and_can_leave_a_debt(store, standard):
    mid = store.add_member()
    wed = at("2024-03-06")
    await ok(store, standard, wed, commands.RecordOrder(mid, "A", 30000, None, "APP", wed))       # +300, growth 300
    # 100 points off order B at checkout (¥101 order: limit half = 5050 fen = 5000 points)
    offset = await ok(store, standard, wed, commands.RedeemPointsForOrder(mid, "B", 100, 10100))
    assert offset.amount_off == 100                                                      # 100 points = ¥1
    await ok(store, standard, wed, commands.RecordOrder(mid, "B", 10000, None, "APP", wed))       # +100, growth 400
    assert store.member(mid).points_balance == 300                                       # 300 − 100 + 100
    assert_wallet(store, standard, mid)

    # refund half of B: take back floor(100 × 5000/10000) = 50, give back floor(100 × 5000/10000) = 50 spent
    await ok(store, standard, at("2024-03-07"), commands.RefundOrder("B", "B-1", 5000))
    member = store.member(mid)
    assert (member.points_balance, member.growth_value) == (300, 350)
    last_two = store.ledger_of(mid)[-2:]
    assert [(e.kind, e.delta) for e in last_two] == [("REFUND", -50), ("REFUND", 50)]
    # the returned points are a new lot with a fresh 12-month expiry
    assert last_two[1].expires_at == end_of_local_day("2025-03-07")
    assert store.lots_of(mid)[-1].points == 50 and store.lots_of(mid)[-1].remaining == 50
    assert_wallet(store, standard, mid)
    await ok(store, standard, at("2024-03-07"), commands.RefundOrder("B", "B-2", 5000))
    assert next(o for o in store.state.offsets.values()).points_returned == 100         # all of it, no more
    assert store.member(mid).points_balance == 300
    assert_wallet(store, standard, mid)

    # spend everything at checkout, then refund order A: 300 taken back from a balance of 0
    await ok(store, standard, at("2024-03-08"), commands.RedeemPointsForOrder(mid, "C", 300, 60000))
    assert store.member(mid).points_balance == 0
    await ok(store, standard, at("2024-03-09"), commands.RefundOrder("A", "A-1", 30000))
    member = store.member(mid)
    assert (member.points_balance, member.points_debt, member.growth_value) == (-300, 300, 0)
    assert_wallet(store, standard, mid)
    # below zero nothing can be redeemed
    await refused(store, UserErrorCode.INSUFFICIENT_POINTS, standard, at("2024-03-09"), commands.RedeemReward(mid, store.reward_id("coupon-free-shipping"), "rr-1"))
    # the next points repay the debt first: a check-in of 1 → balance −299, debt 299, the lot is empty
    await ok(store, standard, at("2024-03-10"), commands.CheckIn(mid, "ci"))
    member = store.member(mid)
    assert (member.points_balance, member.points_debt) == (-299, 299)
    assert store.lots_of(mid)[-1].remaining == 0
    assert_wallet(store, standard, mid)


# ====================================================================== offsets at checkout


async def test_points_offset_rules(store, standard):
    mid = store.add_member()
    now = at("2024-03-06")
    await give_points(store, standard, mid, 1000, now)
    for points, amount in ((50, 10000), (150, 10000), (0, 10000), (5100, 10000), (200, 399)):
        # under 100, not a multiple of 100, over half of the order (¥100 → 5000; ¥3.99 → 100)
        await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RedeemPointsForOrder(mid, "P", points, amount))
    await refused(store, UserErrorCode.INSUFFICIENT_POINTS, standard, now, commands.RedeemPointsForOrder(mid, "P", 1100, 100000))
    offset = await ok(store, standard, now, commands.RedeemPointsForOrder(mid, "P", 500, 10000))
    assert (offset.points, offset.amount_off) == (500, 500)
    assert await replayed(store, standard, now, commands.RedeemPointsForOrder(mid, "P", 500, 10000)) == offset
    await refused(store, UserErrorCode.IDEMPOTENCY_KEY_REUSED, standard, now, commands.RedeemPointsForOrder(mid, "P", 400, 10000))
    assert store.member(mid).points_balance == 500
    assert_wallet(store, standard, mid)


async def test_fresh_grocery_offset_can_cover_the_whole_order(fresh):
    store = FakeStore(fresh)
    mid = store.add_member()
    now = at("2024-03-06")
    await give_points(store, fresh, mid, 200, now)
    # ¥12.34 order: 100% → 123.4 coins → 120 in tens = ¥12 off
    offset = await ok(store, fresh, now, commands.RedeemPointsForOrder(mid, "FP", 120, 1234))
    assert offset.amount_off == 1200
    await refused(store, UserErrorCode.INVALID_INPUT, fresh, now, commands.RedeemPointsForOrder(mid, "FQ", 130, 1234))
    await refused(store, UserErrorCode.INVALID_INPUT, fresh, now, commands.RedeemPointsForOrder(mid, "FQ", 15, 1234))
    assert store.member(mid).points_balance == 80
    assert_wallet(store, fresh, mid)


# ====================================================================== rewards


async def test_redeem_a_coupon_reward(store, standard):
    mid = store.add_member()
    now = at("2024-03-06")
    await give_points(store, standard, mid, 1000, now)
    reward_id = store.reward_id("coupon-5-no-threshold")
    redemption = await ok(store, standard, now, commands.RedeemReward(mid, reward_id, "r-1"))
    assert (redemption.points_spent, redemption.status, redemption.reward_id) == (500, "COMPLETED", reward_id)
    coupon = store.state.coupons[redemption.coupon_id]
    # 5元无门槛券: AMOUNT_OFF 500, minSpend 0, valid 30 days (6 March + 30 = 5 April)
    assert (coupon.member_id, coupon.source, coupon.kind, coupon.discount_amount, coupon.min_spend) == \
        (mid, "REDEMPTION", "AMOUNT_OFF", 500, 0)
    assert coupon.valid_until == end_of_local_day("2024-04-05")
    assert store.member(mid).points_balance == 500
    assert store.ledger_of(mid)[-1].kind == "REDEMPTION" and store.ledger_of(mid)[-1].delta == -500
    assert_wallet(store, standard, mid)
    # the same key replays, another reward under it is refused
    assert await replayed(store, standard, now, commands.RedeemReward(mid, reward_id, "r-1")) == redemption
    await refused(store, UserErrorCode.IDEMPOTENCY_KEY_REUSED, standard, now, commands.RedeemReward(mid, store.reward_id("coupon-free-shipping"), "r-1"))
    # another key redeems again
    await ok(store, standard, now, commands.RedeemReward(mid, reward_id, "r-2"))
    assert store.member(mid).points_balance == 0
    assert_wallet(store, standard, mid)


async def test_redeem_goods_takes_stock(store, standard):
    mid = store.add_member()
    now = at("2024-03-06")
    await give_points(store, standard, mid, 3000, now)
    bag = store.reward_id("goods-canvas-bag")
    redemption = await ok(store, standard, now, commands.RedeemReward(mid, bag, "bag"))
    assert (redemption.status, redemption.coupon_id, redemption.points_spent) == ("PENDING_FULFILMENT", None, 3000)
    assert store.state.rewards[bag].stock == 99
    assert store.coupons_of(mid) == []
    assert store.member(mid).points_balance == 0
    assert_wallet(store, standard, mid)


async def test_redeem_refusals_in_contract_order(store, standard):
    now = at("2024-03-06")
    regular = store.add_member("dev-r")
    await give_points(store, standard, regular, 1000, now)
    bag, ten_percent = store.reward_id("goods-canvas-bag"), store.reward_id("coupon-10-percent-off")

    # NOT_FOUND: unknown, missing, inactive
    for reward_id in (999, None):
        error = await refused(store, UserErrorCode.NOT_FOUND, standard, now, commands.RedeemReward(regular, reward_id, "k"))
        assert error.field == ["input", "rewardId"]
    store.state.rewards[store.reward_id("coupon-50-off-10")].active = False
    await refused(store, UserErrorCode.NOT_FOUND, standard, now, commands.RedeemReward(regular, store.reward_id("coupon-50-off-10"), "k"))
    # TIER_TOO_LOW before OUT_OF_STOCK before INSUFFICIENT_POINTS: 9折券 is for silver and above
    store.state.rewards[ten_percent].stock = 0
    await refused(store, UserErrorCode.TIER_TOO_LOW, standard, now, commands.RedeemReward(regular, ten_percent, "k"))
    # the canvas bag (3000, level 1): out of stock answers before the balance of 1000
    store.state.rewards[bag].stock = 0
    await refused(store, UserErrorCode.OUT_OF_STOCK, standard, now, commands.RedeemReward(regular, bag, "k"))
    store.state.rewards[bag].stock = 1
    await refused(store, UserErrorCode.INSUFFICIENT_POINTS, standard, now, commands.RedeemReward(regular, bag, "k"))
    await refused(store, UserErrorCode.NOT_FOUND, standard, now, commands.RedeemReward(999, bag, "k"))
    await refused(store, UserErrorCode.INVALID_INPUT, standard, now, commands.RedeemReward(regular, bag, ""))
    assert store.member(regular).points_balance == 1000
    assert store.state.rewards[bag].stock == 1

    # a silver member passes the tier check and meets the stock, then the balance
    silver = store.add_member("dev-s")
    await ok(store, standard, now, commands.RecordOrder(silver, "S-1", 50000, None, "APP", now))   # growth 500 → silver
    assert store.member(silver).tier_code == "silver"
    await refused(store, UserErrorCode.OUT_OF_STOCK, standard, now, commands.RedeemReward(silver, ten_percent, "k"))
    store.state.rewards[ten_percent].stock = None
    # 500 + 100 (gift) = 600 < 1500
    await refused(store, UserErrorCode.INSUFFICIENT_POINTS, standard, now, commands.RedeemReward(silver, ten_percent, "k"))
    await give_points(store, standard, silver, 900, now)
    redemption = await ok(store, standard, now, commands.RedeemReward(silver, ten_percent, "k"))
    coupon = store.state.coupons[redemption.coupon_id]
    assert (coupon.kind, coupon.discount_percent, coupon.min_spend, coupon.discount_amount) == \
        ("PERCENT_OFF", 10, 10000, None)
    assert store.member(silver).points_balance == 0
    assert_wallet(store, standard, silver)
    assert_wallet(store, standard, regular)


async def test_spending_takes_the_soonest_expiring_lots_first(store, standard):
    mid = store.add_member()
    await give_points(store, standard, mid, 400, at("2024-03-01"))     # expires end of 2025-03-01
    await give_points(store, standard, mid, 300, at("2024-06-01"))     # expires end of 2025-06-01
    await give_points(store, standard, mid, 100, at("2024-02-29"))     # leap day: expires end of 2025-02-28
    assert [lot.expires_at for lot in store.lots_of(mid)] == [
        end_of_local_day("2025-03-01"), end_of_local_day("2025-06-01"), end_of_local_day("2025-02-28")]
    await ok(store, standard, at("2024-06-10"), commands.RedeemReward(mid, store.reward_id("coupon-5-no-threshold"), "x"))
    # 500: 100 from the leap-day lot, then 400 from the March lot; the June lot is untouched
    assert [lot.remaining for lot in store.lots_of(mid)] == [0, 300, 0]
    assert store.member(mid).points_balance == 300
    assert_wallet(store, standard, mid)


async def test_expired_lots_cannot_be_spent(store, standard):
    mid = store.add_member()
    await give_points(store, standard, mid, 400, at("2023-03-01"))     # expires 2024-03-01 23:59:59 local
    await give_points(store, standard, mid, 300, at("2024-01-10"))
    five_yuan = store.reward_id("coupon-5-no-threshold")
    # the expiry job has not run: the balance still says 700, but only 300 have not expired
    error = await refused(store, UserErrorCode.INSUFFICIENT_POINTS, standard, at("2024-03-02", 0, 0, 0), commands.RedeemReward(mid, five_yuan, "late"))
    assert "300" in error.message
    # in the last second of the lot's validity it still counts
    await ok(store, standard, at("2024-03-01", 23, 59, 59).replace(microsecond=900_000), commands.RedeemReward(mid, five_yuan, "just-in-time"))
    assert [lot.remaining for lot in store.lots_of(mid)] == [0, 200]
    assert_wallet(store, standard, mid)


# ====================================================================== coupons


async def test_monthly_coupons_and_using_them(store, standard):
    mid = store.add_member()
    # regular has no monthly grant: TIER_TOO_LOW, even on a claim day
    await refused(store, UserErrorCode.TIER_TOO_LOW, standard, at("2024-03-01"), commands.ClaimMonthlyCoupons(mid))
    await ok(store, standard, at("2024-03-06"), commands.RecordOrder(mid, "G-1", 200000, None, "APP", at("2024-03-06")))
    assert store.member(mid).tier_code == "gold"
    # 6 March is past day 5; 1 April 00:00 local (31 March 16:00Z) is a claim day
    await refused(store, UserErrorCode.NOT_CLAIMABLE, standard, at("2024-03-06"), commands.ClaimMonthlyCoupons(mid))
    await refused(store, UserErrorCode.NOT_CLAIMABLE, standard, datetime(2024, 3, 31, 15, 59, 59, tzinfo=UTC), commands.ClaimMonthlyCoupons(mid))
    issued = await ok(store, standard, datetime(2024, 3, 31, 16, 0, tzinfo=UTC), commands.ClaimMonthlyCoupons(mid))
    # gold: 3 × 满50减5, valid to the end of April
    assert [(c.template_code, c.source, c.claim_period, c.valid_until) for c in issued] == \
        [("full50off5", "MONTHLY_GIFT", "2024-04", end_of_local_day("2024-04-30"))] * 3
    await refused(store, UserErrorCode.ALREADY_CLAIMED, standard, at("2024-04-05", 23), commands.ClaimMonthlyCoupons(mid))

    coupon_id = issued[0].id
    await refused(store, UserErrorCode.MIN_SPEND_NOT_MET, store.program, at("2024-04-10"), commands.UseCoupon(mid, coupon_id, "U-1", 4999))
    await refused(store, UserErrorCode.NOT_FOUND, store.program, at("2024-04-10"), commands.UseCoupon(store.add_member("dev-x"), coupon_id, "U-1", 5000))
    used = await ok(store, store.program, at("2024-04-10"), commands.UseCoupon(mid, coupon_id, "U-1", 5000))
    assert (used.status, used.applied_discount, used.used_order_id) == ("USED", 500, "U-1")
    assert await replayed(store, store.program, at("2024-04-11"), commands.UseCoupon(mid, coupon_id, "U-1", 5000)) == used
    await refused(store, UserErrorCode.IDEMPOTENCY_KEY_REUSED, store.program, at("2024-04-11"), commands.UseCoupon(mid, coupon_id, "U-1", 6000))
    await refused(store, UserErrorCode.COUPON_ALREADY_USED, store.program, at("2024-04-11"), commands.UseCoupon(mid, coupon_id, "U-2", 5000))
    # valid to 23:59:59 on 30 April local, not a second longer
    await ok(store, store.program, at("2024-04-30", 23, 59, 59), commands.UseCoupon(mid, issued[1].id, "U-3", 5000))
    await refused(store, UserErrorCode.COUPON_EXPIRED, store.program, at("2024-05-01", 0, 0, 0), commands.UseCoupon(mid, issued[2].id, "U-4", 5000))


async def test_percent_off_coupon_takes_its_share(store, standard):
    mid = store.add_member()
    await give_points(store, standard, mid, 1500, at("2024-03-06"))
    await ok(store, standard, at("2024-03-06"), commands.RecordOrder(mid, "S", 50000, None, "APP", at("2024-03-06")))
    redemption = await ok(store, standard, at("2024-03-06"), commands.RedeemReward(mid, store.reward_id("coupon-10-percent-off"), "pct"))
    used = await ok(store, store.program, at("2024-03-07"), commands.UseCoupon(mid, redemption.coupon_id, "PO", 12345))
    assert used.applied_discount == 1234          # floor(12345 × 10 / 100)
