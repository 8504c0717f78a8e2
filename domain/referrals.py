"""邀请有礼, referrals (`referral` in the program file; off when it has none).

- Every member has a referral code (`domain.referral_codes`). A member registered by a WeChat sign-in that
  carries a code is linked to the code's member (the referrer) in the registration's transaction, and gets
  `referral.referee_coupons`. The sign-in succeeds whatever the code; a code that linked nothing is
  answered INVALID_REFERRAL_CODE beside it (`on_sign_in`).
- The referee's first order that earns growth (`growth`: its eligible channels, at least `min_amount`),
  paid since joining, makes the referral QUALIFYING until `referral.qualify_days` after that payment. A full
  refund of it hands over to the referee's next such order still standing, or puts the referral back to
  PENDING, so that a later order can still qualify it; a partial refund changes nothing.
- The calendar job `referral_reward` (`domain.jobs.referrals`) pays `referral.referrer_points` for those
  that have qualified, at most `referral.monthly_cap` a referrer and local month.
- One person holding both members is no referral: VOID. Two open members never share a WeChat unionid or a
  phone number (both are unique, and a sign-in finds the member already holding them), so it shows when
  one member's unionid or number turns out to be the other's: a WeChat sign-in that brings the unionid the
  other holds, a number bound that the other holds (refused PHONE_TAKEN, or folded in), staff merging the
  two (`void_if_one_person`). The job voids a referral whose referrer or referee was closed (注销 or merged
  away) before the reward. A REWARDED referral stays rewarded.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from domain import coupons
from domain.errors import LoyaltyError, UserErrorCode
from domain.handling import Handling
from domain.model import Member, Order, Referral
from domain.ports import UnitOfWork
from domain.program import Program, ReferralRule
from domain.referral_codes import member_id_of
from domain.vocabulary import CouponSource, ReferralStatus

# Why a referral is VOID (referrals.void_reason).
SAME_UNIONID = "SAME_UNIONID"        # a WeChat sign-in of one brought the unionid the other holds
SAME_PHONE = "SAME_PHONE"            # one bound (or tried to bind) the phone number the other holds
MERGED = "MERGED"                    # staff merged the two members
REFERRER_CLOSED = "REFERRER_CLOSED"  # the referrer deregistered or was merged away before the reward
REFEREE_CLOSED = "REFEREE_CLOSED"    # the referee did, before the reward

OPEN = (ReferralStatus.PENDING, ReferralStatus.QUALIFYING)


def _refused(message: str) -> LoyaltyError:
    return LoyaltyError(UserErrorCode.INVALID_REFERRAL_CODE, message, ["input", "referralCode"])


def qualifying_until(rule: ReferralRule, order: Order) -> datetime:
    """When an order has stood `referral.qualify_days` since its payment."""
    return order.paid_at + timedelta(days=rule.qualify_days)


async def on_sign_in(uow: UnitOfWork, context: Handling, member: Member, registered: bool,
                     code: str | None) -> LoyaltyError | None:
    """What the referral code of a WeChat sign-in did (none given, or a blank one, does nothing). A member
    `registered` by this sign-in is linked to the code's open member and gets `referral.referee_coupons`;
    otherwise the INVALID_REFERRAL_CODE refusal to answer beside the sign-in: the program has no referrals,
    the member already existed, the code names nobody open, or it is the new member's own."""
    if not (code or "").strip():
        return None
    program, now = context.program, context.now
    rule = program.referral
    if rule is None:
        return _refused("This program has no referrals.")
    if not registered:
        return _refused("Only a new member can be referred; this member already existed.")
    referrer_id = member_id_of(code)
    if referrer_id == member.id:
        return _refused("This is the new member's own referral code.")
    referrer = await uow.members.lock(referrer_id) if referrer_id is not None else None
    if referrer is None or referrer.deregistered_at is not None:
        return _refused("No member has this referral code.")
    await uow.referrals.add(Referral(referrer.id, member.id, now, ReferralStatus.PENDING))
    for grant in rule.referee_coupons:
        await coupons.issue(uow, program, member.id, grant, CouponSource.REFERRAL_GIFT, now)
    return None


async def order_recorded(uow: UnitOfWork, program: Program, order: Order) -> None:
    """An order just recorded: one that earned growth, paid since the referee joined, starts a PENDING
    referral QUALIFYING (until `qualifying_until`)."""
    rule = program.referral
    if rule is None or order.growth_earned <= 0:
        return
    referral = await uow.referrals.of_referee(order.member_id)
    if referral is None or referral.status != ReferralStatus.PENDING or order.paid_at < referral.joined_at:
        return
    referral.status, referral.order_id, referral.qualifies_at = ReferralStatus.QUALIFYING, order.id, \
        qualifying_until(rule, order)
    await uow.referrals.save(referral)


async def order_refunded(uow: UnitOfWork, program: Program, order: Order) -> None:
    """An order just refunded: when that made the whole of the order qualifying a referral refunded, the
    referee's next order that earned growth, paid since joining and not fully refunded, qualifies it from
    its own payment; with none, the referral is PENDING again."""
    rule = program.referral
    if rule is None or order.growth_earned <= 0 or order.refunded_amount < order.amount:
        return
    referral = await uow.referrals.of_referee(order.member_id)
    if referral is None or referral.status != ReferralStatus.QUALIFYING or referral.order_id != order.id:
        return
    standing = await uow.referrals.first_standing_order(referral.referee_id, referral.joined_at)
    if standing is None:
        referral.status, referral.order_id, referral.qualifies_at = ReferralStatus.PENDING, None, None
    else:
        referral.order_id, referral.qualifies_at = standing.id, qualifying_until(rule, standing)
    await uow.referrals.save(referral)


async def void_if_one_person(uow: UnitOfWork, one_id: int, other_id: int, reason: str) -> bool:
    """One person turned out to hold both members (`reason`): a PENDING or QUALIFYING referral between them
    is VOID. Whether there was one."""
    for referee_id, referrer_id in ((one_id, other_id), (other_id, one_id)):
        referral = await uow.referrals.of_referee(referee_id)
        if referral is not None and referral.referrer_id == referrer_id and referral.status in OPEN:
            referral.status, referral.void_reason = ReferralStatus.VOID, reason
            await uow.referrals.save(referral)
            return True
    return False
