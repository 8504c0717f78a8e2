"""What the use cases need from storage. `persistence/` implements these; tests may fake them."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, Sequence

from domain.model import (
    AuditRecord, CheckIn, CheckoutHold, Coupon, Footprint, IdempotencyRecord, LedgerEntry, LegacyPoints, Member,
    Notification, Order, PointsLot, PointsOffset, Redemption, Referral, RefreshToken, Refund, Reward, Session, SmsCode,
    StaffMember,
)
from domain.program import CouponTemplate

if TYPE_CHECKING:
    from domain.legacy_points import LegacyRow


class MemberRepository(Protocol):
    async def by_openid(self, openid: str) -> Member | None: ...
    async def by_unionid(self, unionid: str) -> Member | None: ...
    async def create(self, unionid: str | None, tier_code: str, now: datetime) -> Member: ...
    async def add_identity(self, member_id: int, openid: str, platform: str, now: datetime) -> None:
        """Sign-ins from this WeChat openid (of the mini-program or the mobile app) are this member's from now on."""
    async def lock(self, member_id: int) -> Member | None:
        """The member, locked for the rest of the transaction; every write path starts here. A member
        handed out is the same object each time in one unit of work, and saved once if it changed."""
    async def add_growth_entry(self, member_id: int, delta: int, growth_after: int, reason: str, now: datetime,
                               order_id: int | None = None) -> None:
        """A line of the member's growth ledger."""
    async def by_phone(self, phone: str) -> Member | None:
        """The member whose phone number this is (found through its blind index)."""
    async def set_phone(self, member_id: int, phone: str | None) -> None:
        """Seal the number at rest (or clear it)."""
    async def erase_identities(self, member_id: int) -> None:
        """Forget every WeChat openid of the member: a later sign-in from them is somebody new."""
    async def completed_tasks(self, member_id: int) -> set[str]: ...
    async def complete_task(self, member_id: int, task: str, now: datetime) -> None: ...
    async def gift_levels_granted(self, member_id: int) -> set[int]: ...
    async def grant_gift_level(self, member_id: int, level: int, now: datetime) -> None: ...
    async def footprint(self, member_id: int) -> Footprint:
        """What the member has done and holds: whether a phone-only sign-up may be folded into another."""
    async def move_phone(self, source_id: int, target_id: int) -> None:
        """The source's phone number becomes the target's (sealed again for it); the source has none."""
    async def move_identities(self, source_id: int, target_id: int) -> None:
        """The source's WeChat openids sign in the target from now on."""
    async def move_belongings(self, source_id: int, target_id: int) -> None:
        """A merge: the source's coupons, orders (with their refunds and offsets), redemptions, notifications
        and check-ins (but on days the target checked in too) become the target's; the profile tasks and
        tier gifts it completed or was granted count as the target's too."""


class HoldRepository(Protocol):
    async def by_external_order_id(self, external_order_id: str) -> CheckoutHold | None: ...
    async def lock(self, hold_id: int) -> CheckoutHold: ...
    async def add(self, hold: CheckoutHold) -> CheckoutHold: ...
    async def save(self, hold: CheckoutHold) -> None: ...
    async def add_lots(self, hold_id: int, taken: list[tuple[int, int]]) -> None:
        """(lot id, points) the hold took."""
    async def lots_of(self, hold_id: int) -> list[tuple[int, int]]: ...
    async def holding_coupon(self, coupon_id: int) -> CheckoutHold | None:
        """The HELD hold of this coupon, if any."""
    async def held_of_member(self, member_id: int) -> list[CheckoutHold]:
        """The member's HELD holds, locked."""
    async def expired(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(hold id, member id) of up to `limit` HELD holds past their time."""


class SmsCodeRepository(Protocol):
    async def replace(self, phone: str, code_hash: str, now: datetime, expires_at: datetime) -> None:
        """Keep a new code for the number; its earlier codes are dropped."""
    async def latest(self, phone: str) -> SmsCode | None:
        """The number's newest code, locked for the rest of the transaction."""
    async def count_wrong_try(self, code_id: int) -> None: ...
    async def spend(self, code_id: int, now: datetime) -> None: ...


class PointsRepository(Protocol):
    async def add_entry(self, entry: LedgerEntry) -> LedgerEntry: ...
    async def get_entry(self, entry_id: int) -> LedgerEntry | None: ...
    async def add_lot(self, entry: LedgerEntry, remaining: int, earned_at: datetime | None = None) -> None:
        """The lot an entry adds, earned when the entry happened unless `earned_at` says (a transfer)."""
    async def spendable_lots(self, member_id: int, now: datetime) -> list[PointsLot]:
        """Lots with points left that have not expired at `now`, soonest-expiring first."""
    async def take_from_lots(self, taken: list[tuple[PointsLot, int]]) -> None: ...
    async def return_to_lots(self, returned: list[tuple[int, int]]) -> None:
        """(lot id, points) put back into lots they were taken from (a checkout hold released)."""
    async def lots_with_points(self, member_id: int) -> list[PointsLot]:
        """Every lot with points left, expired or not (locked)."""


class CouponRepository(Protocol):
    async def add(self, coupon: Coupon) -> Coupon: ...
    async def add_many(self, coupons: list[Coupon]) -> None:
        """Insert many at once (their ids are not needed)."""
    async def lock(self, coupon_id: int) -> Coupon | None: ...
    async def save(self, coupon: Coupon) -> None: ...
    async def monthly_claimed(self, member_id: int, period: str) -> bool: ...
    async def record_monthly_claim(self, member_id: int, period: str, now: datetime) -> None: ...
    async def by_claim_period(self, member_id: int, period: str) -> list[Coupon]: ...
    async def end_available(self, member_id: int, now: datetime) -> None:
        """Every coupon of the member still available lapses now."""


class CheckInRepository(Protocol):
    async def on_dates(self, member_id: int, days: Sequence[date]) -> dict[date, CheckIn]: ...
    async def get(self, check_in_id: int) -> CheckIn | None: ...
    async def add(self, check_in: CheckIn) -> CheckIn: ...
    async def set_streaks(self, repaired: Sequence[CheckIn]) -> None:
        """Store each one's `streak_days` (nothing else changes)."""
    async def made_up_between(self, member_id: int, start: datetime, end: datetime) -> int:
        """How many make-up check-ins the member made from `start` up to (not including) `end`."""


class RewardRepository(Protocol):
    async def get(self, reward_id: int) -> Reward | None: ...
    async def take_one(self, reward_id: int) -> bool:
        """Decrement limited stock by one if any is left; True when unlimited or taken."""
    async def add_redemption(self, redemption: Redemption) -> Redemption: ...
    async def get_redemption(self, redemption_id: int) -> Redemption | None: ...


class CatalogRepository(Protocol):
    """Staff changes to rewards and coupon templates; each marks the row as staff's (`sync_program` leaves it)."""

    async def reward_for_update(self, reward_id: int) -> Reward | None:
        """The reward, locked until the transaction ends."""
    async def add_reward(self, values: dict, now: datetime) -> int:
        """A new reward of `values` (name, description, kind, points_cost, min_tier_level, stock,
        coupon_template), listed after the others; its id."""
    async def change_reward(self, reward_id: int, values: dict, now: datetime) -> None: ...
    async def adjust_stock(self, reward_id: int, delta: int, now: datetime) -> bool:
        """Add `delta` to a limited stock in one statement; False (nothing done) if unlimited or it would
        go below zero."""
    async def coupon_template(self, code: str) -> CouponTemplate | None: ...
    async def template_code(self, template_id: int) -> str | None: ...
    async def add_coupon_template(self, template: CouponTemplate, now: datetime) -> int:
        """A new template (its code is made here, `template.code` ignored); its id."""
    async def change_coupon_template(self, template: CouponTemplate, now: datetime) -> None: ...


class OrderRepository(Protocol):
    async def by_external_id(self, external_id: str) -> Order | None: ...
    async def add(self, order: Order) -> Order: ...
    async def save(self, order: Order) -> None: ...
    async def refund_by_external_id(self, external_refund_id: str) -> Refund | None: ...
    async def add_refund(self, refund: Refund) -> Refund: ...
    async def offset_for(self, external_order_id: str) -> PointsOffset | None: ...
    async def add_offset(self, offset: PointsOffset) -> PointsOffset: ...
    async def save_offset(self, offset: PointsOffset) -> None: ...
    async def add_offset_lots(self, offset_id: int, taken: list[tuple[int, int]]) -> None:
        """(lot id, points) the offset's points were taken from."""
    async def offset_lots(self, offset_id: int) -> list[tuple[datetime, int]]:
        """(the lot's earned_at, points) for each lot the offset took from, earliest earned first."""


class ReferralRepository(Protocol):
    async def add(self, referral: Referral) -> Referral: ...
    async def of_referee(self, referee_id: int) -> Referral | None:
        """The referral that brought this member, locked for the rest of the transaction."""
    async def save(self, referral: Referral) -> None: ...
    async def first_standing_order(self, referee_id: int, since: datetime) -> Order | None:
        """The member's earliest-paid order paid at or after `since` that earned growth and is not fully
        refunded."""


class IdempotencyRepository(Protocol):
    async def get(self, member_id: int, operation: str, key: str) -> IdempotencyRecord | None: ...
    async def add(self, record: IdempotencyRecord) -> None: ...


class NotificationRepository(Protocol):
    async def add(self, notifications: list[Notification]) -> None: ...
    async def owned(self, member_id: int, ids: set[int]) -> set[int]:
        """Those of `ids` that are notifications of this member."""
    async def mark_read(self, member_id: int, ids: set[int], now: datetime) -> None:
        """Set readAt on those not read yet."""
    async def unread_count(self, member_id: int) -> int: ...
    async def erase_all(self, member_id: int) -> None: ...


class SessionRepository(Protocol):
    async def add(self, session: Session) -> Session: ...
    async def lock(self, session_id: int) -> Session | None: ...
    async def revoke(self, session_id: int, reason: str, now: datetime) -> None: ...
    async def revoke_all_of_member(self, member_id: int, reason: str, now: datetime) -> None: ...
    async def add_refresh_token(self, token: RefreshToken) -> None: ...
    async def lock_refresh_token(self, token_hash: str) -> RefreshToken | None: ...
    async def spend_refresh_token(self, token_id: int, now: datetime) -> None: ...


class StaffRepository(Protocol):
    async def by_username(self, username: str) -> StaffMember | None: ...
    async def add(self, staff: StaffMember) -> StaffMember: ...
    async def save_password_hash(self, staff_id: int, password_hash: str) -> None: ...


class ApiKeyRepository(Protocol):
    async def add(self, name: str, key_hash: str, prefix: str, scopes: str, now: datetime) -> int: ...
    async def revoke(self, key_id: int, now: datetime) -> bool:
        """False when there is no such key or it was revoked already."""

    async def revoke_named(self, name: str, now: datetime) -> int:
        """Revoke every active key of this name; how many there were."""


class AuditLog(Protocol):
    async def snapshot(self, subject: str | None) -> dict | None:
        """The state of `subject` ("Member:12") as this transaction sees it; None when there is none."""
    async def add(self, record: AuditRecord) -> None: ...


class LegacyPointsRepository(Protocol):
    """Legacy points (`domain.legacy_points`): the import's set-wise steps, a batch of rows a transaction, and
    the rows waiting for a phone number."""

    async def lock_for_import(self) -> None:
        """Hold off `waiting_for` in other transactions until this one ends: a number bound meanwhile is
        either a member's when this batch looks, or finds the rows this batch leaves waiting."""
    async def imported(self, external_row_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """Those of the ids imported before: the digest of the file and the line each came from."""
    async def members_for_import(self, member_nos: Sequence[str],
                                 phones: Sequence[str]) -> tuple[dict[str, Member], dict[str, Member]]:
        """The members of these member numbers and of these phone numbers (by their blind index), each
        keyed by what found it, locked in one statement in id order."""
    async def add_imported(self, credited: Sequence[tuple[LegacyRow, LedgerEntry, int]], waiting: Sequence[LegacyRow],
                           file_digest: str, now: datetime) -> None:
        """A batch's rows: each credited one with its MIGRATION entry and lot (entry, the lot's remainder),
        ids in the order given; each waiting one under its number's blind index."""
    async def save_balances(self, members: Sequence[Member]) -> None:
        """Store these members' points balance and debt (the import's; other writes save through `members`)."""
    async def waiting_for(self, phone: str) -> list[LegacyPoints]:
        """The rows waiting for this number (by its blind index under every data key), locked, oldest first."""
    async def mark_credited(self, row_id: int, entry_id: int, now: datetime) -> None:
        """The row is CREDITED by this entry (of the member's); its blind index is dropped."""


class UnitOfWork(Protocol):
    """One transaction. Leaving it without `commit()` rolls everything back."""

    members: MemberRepository
    sms_codes: SmsCodeRepository
    holds: HoldRepository
    points: PointsRepository
    coupons: CouponRepository
    check_ins: CheckInRepository
    rewards: RewardRepository
    catalog: CatalogRepository
    orders: OrderRepository
    referrals: ReferralRepository
    idempotency: IdempotencyRepository
    notifications: NotificationRepository
    sessions: SessionRepository
    staff: StaffRepository
    api_keys: ApiKeyRepository
    audit: AuditLog
    legacy_points: LegacyPointsRepository

    async def flush(self) -> None:
        """Write what the aggregates handed out have changed (the members), as commit does first."""
    async def commit(self) -> None: ...
