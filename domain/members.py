"""Members: registration on first WeChat login, the profile with its one-time tasks, the phone
number, and deregistration (注销)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain import commands, coupons, sessions, wallet
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import Member, Session
from domain.ports import UnitOfWork
from domain.vocabulary import CouponSource, Gender, PointKind, names

NICKNAME_MAX = 32
HOUSEHOLD_MAX = 20


async def sign_in_with_wechat(command: commands.SignInWithWeChat, uow: UnitOfWork,
                              context: Handling) -> tuple[Member, Session, str | None]:
    """Sign in the member of this openid, or of this unionid (the same person in another WeChat app:
    the openid joins them), or register a new member with the `points.signup` gift. Starts a session
    (by the real clock: sessions follow it, not a test clock); returns the member, the session and its
    first refresh token."""
    program, now, openid, unionid = context.program, context.now, command.openid, command.unionid
    member = await uow.members.by_openid(openid)
    if member is None and unionid:
        member = await uow.members.by_unionid(unionid)
        if member is not None:
            await uow.members.add_identity(member.id, openid, now)
    if member is None:
        member = await uow.members.create(unionid, program.base_tier.code, now)
        await uow.members.add_identity(member.id, openid, now)
        await wallet.credit(uow, program, member, program.signup.points, PointKind.SIGNUP, "新人注册礼", now)
        for grant in program.signup.coupons:
            await coupons.issue(uow, program, member.id, grant, CouponSource.SIGNUP_GIFT, now)
    session, refresh_token = await sessions.start(uow, context.real_now, command.refresh_ttl_seconds, member_id=member.id)
    return member, session, refresh_token


async def bind_phone(command: commands.BindPhone, uow: UnitOfWork, context: Handling) -> Member:
    """Bind the number WeChat vouched for. One number, one member: another member's is PHONE_TAKEN."""
    phone = command.phone
    member = await member_for_update(uow, command.member_id)
    holder = await uow.members.by_phone(phone)
    if holder is not None and holder.id != member.id:
        raise LoyaltyError(UserErrorCode.PHONE_TAKEN, "This phone number is bound to another member.",
                           ["input", "code"])
    await uow.members.set_phone(member.id, phone)
    return member


async def deregister(command: commands.Deregister, uow: UnitOfWork, context: Handling) -> None:
    """注销 (PIPL's right to deletion): personal data erased (profile, phone, WeChat identities and
    notifications), points forfeited through one ADJUSTMENT entry (a debt is written off the same way),
    growth to zero and the base tier, coupons ended, every session ended. The ledgers stay, keyed by
    the anonymous member number, for the books; a later sign-in with the same WeChat is a new member."""
    program, now = context.program, context.now
    member = await member_for_update(uow, command.member_id)
    await wallet.forfeit_all(uow, member, "注销：积分作废", now)
    applied = member.change_growth(-member.growth_value)
    if applied:
        await uow.members.add_growth_entry(member.id, applied, 0, "DEREGISTERED", now)
    member.tier_code, member.tier_expires_at = program.base_tier.code, None
    member.nickname = member.birthday = member.gender = member.household_size = member.unionid = None
    member.deregistered_at = now
    await uow.members.set_phone(member.id, None)
    await uow.members.erase_identities(member.id)
    await uow.notifications.erase_all(member.id)
    await uow.coupons.end_available(member.id, now)
    await uow.sessions.revoke_all_of_member(member.id, sessions.DEREGISTERED, now)


@dataclass
class ProfileChange:
    nickname: str | None = None
    birthday: date | None = None
    gender: str | None = None
    household_size: int | None = None


def _validate(change: ProfileChange, today: date) -> None:
    if change.nickname is not None:
        nickname = change.nickname.strip()
        if not nickname or len(nickname) > NICKNAME_MAX or not nickname.isprintable():
            raise invalid("nickname", f"nickname must be 1 to {NICKNAME_MAX} printable characters.")
        change.nickname = nickname
    if change.birthday is not None and not (date(1900, 1, 1) <= change.birthday <= today):
        raise invalid("birthday", "birthday must be a past date after 1900-01-01.")
    if change.gender is not None and change.gender not in names(Gender):
        raise invalid("gender", f"gender must be one of {', '.join(names(Gender))}.")
    if change.household_size is not None and not 1 <= change.household_size <= HOUSEHOLD_MAX:
        raise invalid("householdSize", f"householdSize must be between 1 and {HOUSEHOLD_MAX}.")


async def update_profile(command: commands.UpdateProfile, uow: UnitOfWork, context: Handling) -> tuple[Member, int]:
    """Apply a profile change; each profile task (`points.profile`) pays once. The birthday can be set
    once: a different second value is INVALID_INPUT. Gender pays only when actually disclosed."""
    program, now = context.program, context.now
    change = ProfileChange(command.nickname, command.birthday, command.gender, command.household_size)
    _validate(change, program.calendar.local_date(now))
    member = await member_for_update(uow, command.member_id)
    if change.birthday is not None and member.birthday is not None and change.birthday != member.birthday:
        raise invalid("birthday", "The birthday has already been set and cannot be changed.")
    done = await uow.members.completed_tasks(member.id)
    tasks = []
    if change.nickname is not None:
        member.nickname = change.nickname
    if change.birthday is not None:
        member.birthday = change.birthday
        tasks.append(("birthday", program.profile.birthday, "完善资料：生日"))
    if change.gender is not None:
        member.gender = change.gender
        if change.gender != "UNDISCLOSED":
            tasks.append(("gender", program.profile.gender, "完善资料：性别"))
    if change.household_size is not None:
        member.household_size = change.household_size
        tasks.append(("household_size", program.profile.household_size, "完善资料：家庭人数"))
    awarded = 0
    for task, points, description in tasks:
        if task in done:
            continue
        await uow.members.complete_task(member.id, task, now)
        if points > 0:
            await wallet.credit(uow, program, member, points, PointKind.TASK, description, now)
            awarded += points
    return member, awarded
