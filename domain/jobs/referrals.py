"""The referral reward (邀请有礼): referrers paid for referees whose first eligible order has stood."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from domain import notifications, wallet
from domain.clock import add_months
from domain.jobs.ports import DueReferral, JobUnitOfWork
from domain.jobs.runner import NOT_DUE, JobResult, NewUnitOfWork, in_batches
from domain.program import Program, ReferralRule
from domain.referrals import REFEREE_CLOSED, REFERRER_CLOSED
from domain.vocabulary import PointKind

REFERRAL_REWARD = "referral_reward"
DESCRIPTION = "邀请有礼：好友首单奖励"


def settle(rule: ReferralRule, due: Sequence[DueReferral]) -> tuple[list[DueReferral], list[tuple[DueReferral, str]]]:
    """(rewarded, voided with why) of the due referrals, oldest qualified first: one whose referrer or
    referee was closed is VOID; the others are rewarded while their referrer has had fewer than
    `referral.monthly_cap` rewarded this local month. The rest stay QUALIFYING, for next month."""
    rewarded, voided, given = [], [], {}
    for referral in due:
        if referral.referrer_closed:
            voided.append((referral, REFERRER_CLOSED))
        elif referral.referee_closed:
            voided.append((referral, REFEREE_CLOSED))
        elif referral.rewarded_this_month + given.get(referral.referrer_id, 0) < rule.monthly_cap:
            rewarded.append(referral)
            given[referral.referrer_id] = given.get(referral.referrer_id, 0) + 1
    return rewarded, voided


async def reward_referrals(new_uow: NewUnitOfWork, program: Program, now: datetime,
                           batch_size: int = 500) -> JobResult:
    """`referral`: each QUALIFYING referral whose order has stood `qualify_days` by `now` (and is not fully
    refunded) is settled (`settle`); a rewarded one pays its referrer `referrer_points` (a REFERRAL entry,
    a lot by the usual expiry) and tells them (REFERRAL_REWARDED), in the transaction that marks it
    REWARDED. Every run, since a referral qualifies at any moment; a settled one is no longer due, so
    running again changes nothing. The cap counts the local month of `now`."""
    rule = program.referral
    if rule is None:
        return JobResult(REFERRAL_REWARD, None, status=NOT_DUE)
    calendar = program.calendar
    month = calendar.local_date(now).replace(day=1)
    start, end = calendar.start_of_day(month), calendar.start_of_day(add_months(month, 1))

    async def batch(uow: JobUnitOfWork) -> int:
        due = await uow.jobs.referrals_due(now, start, end, rule.monthly_cap, batch_size)
        rewarded, voided = settle(rule, due)
        for referral in rewarded:
            referrer = await uow.members.lock(referral.referrer_id)
            await wallet.credit(uow, program, referrer, rule.referrer_points, PointKind.REFERRAL, DESCRIPTION, now)
        await uow.jobs.settle_referrals([r.id for r in rewarded], rule.referrer_points,
                                        [(r.id, reason) for r, reason in voided], now)
        await uow.notifications.add([notifications.referral_rewarded(program, r.referrer_id, rule.referrer_points, now)
                                     for r in rewarded])
        return len({r.referrer_id for r in due})

    return await in_batches(new_uow, REFERRAL_REWARD, calendar.local_date(now).isoformat(), now, batch_size, batch)
