"""Tiers on the calendar: retention when a tier expires, and the optional demotion for inactivity."""
from __future__ import annotations

from datetime import datetime

from domain import notifications
from domain.jobs.ports import JobUnitOfWork, TierHolder, TierOutcome
from domain.jobs.runner import NOT_DUE, JobResult, NewUnitOfWork, in_batches, once_per_period
from domain.program import Program

TIER_RETENTION = "tier_retention"
TIER_DEMOTION = "tier_demotion"


def retention_outcome(program: Program, due: TierHolder) -> TierOutcome:
    """When a tier above the base expires, its `retention_deduction` is taken from growth (not below 0),
    the tier is recomputed from what remains, and a tier above the base is valid
    `tier_policy.validity_months` more from the old expiry (gold, 2500 → 1500 → silver for 12 months)."""
    held = program.tier(due.tier_code)
    deduction = min(held.retention_deduction, due.growth_value)
    growth = due.growth_value - deduction
    tier = program.tier_for_growth(growth)
    if tier.level > held.level:  # never up through retention: growth only went down
        tier = held
    expires = (None if tier.level == program.base_tier.level
               else program.calendar.months_later(due.tier_expires_at, program.tier_policy.validity_months))
    return TierOutcome(due.member_id, held.code, -deduction, growth, tier.code, expires)


def demotion_outcome(program: Program, due: TierHolder) -> TierOutcome:
    """`tier_policy.demote_after_months_without_order`: back to the base tier, with growth cut to just
    below the second tier's threshold, so that growth still decides the tier (the next order counts
    from there, and gifts already granted are never granted again)."""
    ceiling = program.tiers[1].growth_threshold - 1
    growth = min(due.growth_value, ceiling)
    return TierOutcome(due.member_id, due.tier_code, growth - due.growth_value, growth, program.base_tier.code, None)


async def _apply(uow: JobUnitOfWork, program: Program, outcomes: list[TierOutcome], reason: str,
                 now: datetime) -> None:
    await uow.jobs.apply_tier_outcomes(outcomes, reason, now)
    await uow.notifications.add([
        notifications.tier_changed(program, o.member_id, program.tier(o.old_tier_code), program.tier(o.tier_code),
                                   o.tier_expires_at, now)
        for o in outcomes if o.tier_code != o.old_tier_code])


async def retain_tiers(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 1000) -> JobResult:
    """Tier retention for every tier that expired by `now` (see `retention_outcome`). Tiers expire at
    the moment they were reached, so a later run the same day has new work: what makes a second run
    harmless is that a processed member's expiry has moved a year on, not a skip by period."""

    async def batch(uow: JobUnitOfWork) -> int:
        due = await uow.jobs.due_tier_expiries(now, batch_size)
        await _apply(uow, program, [retention_outcome(program, d) for d in due], "RETENTION", now)
        return len(due)

    return await in_batches(new_uow, TIER_RETENTION, program.calendar.local_date(now).isoformat(), now,
                            batch_size, batch)


async def demote_inactive(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 1000) -> JobResult:
    """Members above the base tier with no eligible order (`growth.eligible_channels`) paid in the last
    `tier_policy.demote_after_months_without_order` months go back to the base tier; once a local day."""
    months = program.tier_policy.demote_after_months_without_order
    if months is None:
        return JobResult(TIER_DEMOTION, None, status=NOT_DUE)
    since = program.calendar.months_later(now, -months)

    async def batch(uow: JobUnitOfWork) -> int:
        due = await uow.jobs.inactive_tier_holders(since, program.growth.eligible_channels, batch_size)
        await _apply(uow, program, [demotion_outcome(program, d) for d in due], "INACTIVITY", now)
        return len(due)

    return await once_per_period(new_uow, TIER_DEMOTION, program.calendar.local_date(now).isoformat(), now,
                                 batch_size, batch)
