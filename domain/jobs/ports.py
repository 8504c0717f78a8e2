"""What the calendar jobs need from storage: set-based statements over a batch of due members.

Every `..._due` and `take_...` method locks the members it returns for the rest of the
transaction, and answers at most `batch_size` of them, so a batch is one bounded transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.model import PointsLot
from domain.ports import UnitOfWork


@dataclass(frozen=True)
class TierHolder:
    """A member holding a tier above the base, as the tier jobs see them."""

    member_id: int
    tier_code: str
    growth_value: int
    tier_expires_at: datetime | None


@dataclass(frozen=True)
class TierOutcome:
    member_id: int
    old_tier_code: str
    growth_delta: int
    growth_value: int
    tier_code: str
    tier_expires_at: datetime | None


@dataclass(frozen=True)
class LotsOfYear:
    """A member's live lots earned in one calendar year, with what their balance owes."""

    member_id: int
    points_balance: int
    points_debt: int
    lots: list[PointsLot]


@dataclass(frozen=True)
class PointsLoss:
    member_id: int
    lost: int       # leaves the balance (an EXPIRY entry)
    settled: int    # settles refund debt instead
    balance_after: int


@dataclass(frozen=True)
class MonthOfOrders:
    """A member's orders in the eligible channels paid in one month: (paid_at, amount less refunds), by paid_at."""

    member_id: int
    orders: list[tuple[datetime, int]]


@dataclass(frozen=True)
class ExpiringSoon:
    """What a member has lapsing soon: points in lots, or coupons; `count` is points or coupons."""

    member_id: int
    count: int
    first_at: datetime


@dataclass(frozen=True)
class DueReferral:
    """A QUALIFYING referral whose order has stood its time, as the referral job sees it."""

    id: int
    referrer_id: int
    referee_id: int
    referrer_closed: bool
    referee_closed: bool
    rewarded_this_month: int   # the referrer's referrals rewarded so far in the local month


class JobRepository(Protocol):
    async def completed(self, job: str, period: str) -> bool: ...
    async def record(self, job: str, period: str, now: datetime, processed: int) -> None: ...
    async def mark_members(self, job: str, period: str, member_ids: list[int], now: datetime) -> None:
        """Remember that `job` has been done for these members in `period`."""

    async def expire_points_batch(self, now: datetime, batch_size: int, description: str) -> int:
        """Expire the lots past their time for up to `batch_size` members (applying
        `expiry_settlement` per member: one EXPIRY entry each); the number of members done."""
    async def lots_of_year_due(self, job: str, period: str, start: datetime, end: datetime, now: datetime,
                               after: int, batch_size: int) -> list[LotsOfYear]:
        """Members numbered above `after`, by id, with live points left in lots earned in [start, end) whom `job`
        has not done for `period`."""
    async def apply_losses(self, losses: list[PointsLoss], description: str, now: datetime) -> None:
        """Balances and debts down, and an EXPIRY entry for each loss above zero."""

    async def due_tier_expiries(self, now: datetime, batch_size: int) -> list[TierHolder]:
        """Members whose tier above the base expired by `now`, oldest expiry first."""
    async def inactive_tier_holders(self, since: datetime, channels: frozenset[str], batch_size: int) -> list[TierHolder]:
        """Members above the base tier with no order in `channels` paid since `since` (fully refunded ones
        do not count)."""
    async def apply_tier_outcomes(self, outcomes: list[TierOutcome], reason: str, now: datetime) -> None: ...

    async def monthly_bonus_due(self, job: str, period: str, start: datetime, end: datetime,
                                channels: frozenset[str], min_spend: int, batch_size: int) -> list[int]:
        """Members whose eligible spend paid in [start, end), net of refunds so far, reached `min_spend`
        and whom `job` has not done for `period`."""
    async def frequency_bonus_due(self, job: str, period: str, start: datetime, end: datetime,
                                  channels: frozenset[str], min_spend: int, min_visits: int, after: int,
                                  batch_size: int) -> list[MonthOfOrders]:
        """Members (locked) numbered above `after`, by id, whom `job` has not done for `period` and whose orders
        in `channels` paid in [start, end) could earn the visit-frequency bonus: net of refunds at least
        `min_spend`, and at least `min_visits` of them not fully refunded; with those orders."""
    async def birthday_due(self, job: str, period: str, month: int, min_tier_level: int, batch_size: int) -> list[int]:
        """Members born in `month`, at `min_tier_level` or above, whom `job` has not done for `period`."""

    async def take_points_reminders(self, now: datetime, until: datetime, batch_size: int) -> list[ExpiringSoon]:
        """Per member, the live points in lots expiring by `until` not reminded of yet; marks those lots reminded."""
    async def take_coupon_reminders(self, now: datetime, until: datetime, batch_size: int) -> list[ExpiringSoon]:
        """Per member, the available coupons lapsing by `until` not reminded of yet; marks them reminded."""
    async def take_tier_reminders(self, now: datetime, until: datetime, batch_size: int) -> list[TierHolder]:
        """Members whose tier above the base lapses in (now, until] and who were not reminded of that
        expiry; marks them reminded of it."""

    async def referrals_due(self, now: datetime, month_start: datetime, month_end: datetime, cap: int,
                            batch_size: int) -> list[DueReferral]:
        """The due referrals (QUALIFYING, qualified by `now`, their order not fully refunded) of up to
        `batch_size` referrers that have one to settle: rewarded fewer than `cap` in [month_start, month_end),
        or closed, or with a closed referee. Those referrers and referrals locked; oldest qualified first."""
    async def settle_referrals(self, rewarded: list[int], points: int, voided: list[tuple[int, str]],
                               now: datetime) -> None:
        """These referrals REWARDED with `points` at `now`; those (id, reason) VOID."""

    async def assign_segments(self, after: int, batch_size: int, today: date, new_since: datetime,
                              recent_since: datetime, year_since: datetime, channels: frozenset[str],
                              frequent_orders: int, valuable_spend: int) -> tuple[int, int]:
        """The open members among the next `batch_size` numbered above `after` put in their segment
        (`domain.segments`: new if created since `new_since`; orders in `channels` not fully refunded, recent
        if paid since `recent_since`, counted and summed net since `year_since`), `segment_since` = `today`
        where it changed; (members in the batch, the last one's id)."""

class JobUnitOfWork(UnitOfWork, Protocol):
    jobs: JobRepository

    async def commit(self) -> None: ...
