"""Staff merging two members of one person (客服主管 and above): everything of the source moves to the
target, and the source is closed.

- WeChat identities and the unionid, the phone number (when the target has none) and the profile fields
  the target has not filled in move over; the profile tasks and tier gifts the source had count as the
  target's, so neither pays twice.
- Points: the source's lots leave through one TRANSFER entry and arrive as TRANSFER entries, one per
  lot, each keeping its expiry and the year it was earned; a debt comes along too.
- Growth adds up (a MERGED growth entry each side) and the target's tier follows it, upgrade gifts
  granted only for levels neither member had reached.
- Coupons, orders (with their refunds and offsets), redemptions, notifications and check-ins move (a
  check-in on a day the target also checked in stays with the source).
- The source is closed: its sessions end, it holds nothing, and it names the target (`merged_into`).
- A referral between the two is void: one person holds both (`domain.referrals`).
"""
from __future__ import annotations

from domain import checkout, commands, referrals, sessions, tiers, wallet
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import Member
from domain.ports import UnitOfWork

PROFILE_FIELDS = ("nickname", "birthday", "gender", "household_size")
REASON_MAX = 200


async def merge_members(command: commands.MergeMembers, uow: UnitOfWork, context: Handling) -> Member:
    reason = command.reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise invalid("reason", f"Say why, in 1 to {REASON_MAX} characters.")
    if command.source_id == command.target_id:
        raise invalid("sourceMemberId", "A member cannot be merged into itself.")
    first, second = sorted((command.source_id, command.target_id))  # locked in one order: no deadlock
    locked = {first: await _open(uow, first, command), second: await _open(uow, second, command)}
    source, target = locked[command.source_id], locked[command.target_id]
    if source.unionid and target.unionid and source.unionid != target.unionid:
        raise invalid("sourceMemberId", "These members belong to two different WeChat accounts (unionids).")
    program, now = context.program, context.now
    note = f"会员合并：{source.member_no} → {target.member_no}"

    await uow.members.move_identities(source.id, target.id)
    unionid, source.unionid = source.unionid, None
    await uow.members.flush()  # the unionid is unique: the source lets go of it first
    target.unionid = target.unionid or unionid
    await uow.members.move_phone(source.id, target.id)
    for name in PROFILE_FIELDS:
        if getattr(target, name) is None:
            setattr(target, name, getattr(source, name))
        setattr(source, name, None)

    await checkout.release_all(uow, source, now)
    lots, debt = await wallet.transfer_out(uow, source, note, now)
    await wallet.transfer_in(uow, target, lots, debt, note, now)
    await uow.members.move_belongings(source.id, target.id)
    growth = source.growth_value
    if growth:
        source.change_growth(-growth)
        await uow.members.add_growth_entry(source.id, -growth, 0, "MERGED", now)
        await tiers.change_growth(uow, program, target, growth, "MERGED", now)
    source.tier_code, source.tier_expires_at = program.base_tier.code, None
    source.deregistered_at, source.merged_into = now, target.id
    await uow.sessions.revoke_all_of_member(source.id, sessions.MERGED, now)
    await referrals.void_if_one_person(uow, source.id, target.id, referrals.MERGED)
    return target


async def _open(uow: UnitOfWork, member_id: int, command: commands.MergeMembers) -> Member:
    try:
        return await member_for_update(uow, member_id)
    except LoyaltyError:
        field = "sourceMemberId" if member_id == command.source_id else "targetMemberId"
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such member, or it is closed.", ["input", field]) from None
