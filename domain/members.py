"""Members: registration on first sign-in (WeChat, from the mini-program or the mobile app, or a phone
number with an SMS code), the profile with its one-time tasks, the phone number, and deregistration
(注销). One person, one member: a WeChat identity with a unionid joins the member holding it, and a
phone-only sign-up that did nothing yet is folded into the WeChat member that binds its number."""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain import checkout, commands, coupons, legacy_points, referrals, sessions, wallet
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import Member, Session
from domain.ports import UnitOfWork
from domain.vocabulary import CouponSource, Gender, PointKind, names

NICKNAME_MAX = 32
HOUSEHOLD_MAX = 20
SMS_CODE_TRIES = 5   # wrong codes before a code stops working
SMS_CODE = re.compile(r"\d{6}")
MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


def mainland_phone(value: str) -> str:
    """A mainland mobile number as stored: 11 digits, starting 13 to 19 (a leading +86 or 86 is dropped,
    as are spaces and dashes); else INVALID_INPUT on `phone`."""
    digits = re.sub(r"[\s-]", "", value or "")
    digits = digits.removeprefix("+86") if digits.startswith("+86") else digits
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not MAINLAND_MOBILE.fullmatch(digits):
        raise invalid("phone", "phone must be a mainland mobile number of 11 digits (13800138000).")
    return digits


def sms_code(value: str) -> str:
    """A sign-in code as sent: 6 digits; else INVALID_INPUT on `smsCode`."""
    code = (value or "").strip()
    if not SMS_CODE.fullmatch(code):
        raise invalid("smsCode", "smsCode is the 6 digits of the text message.")
    return code


async def _register(uow: UnitOfWork, context: Handling, unionid: str | None) -> Member:
    """A new member on the base tier with the sign-up gift (`points.signup`): once per person, since every
    way of signing in first looks for the member the person already is."""
    program, now = context.program, context.now
    member = await uow.members.create(unionid, program.base_tier.code, now)
    await wallet.credit(uow, program, member, program.signup.points, PointKind.SIGNUP, "新人注册礼", now)
    for grant in program.signup.coupons:
        await coupons.issue(uow, program, member.id, grant, CouponSource.SIGNUP_GIFT, now)
    return member


@dataclass(frozen=True)
class SignedIn:
    """A WeChat sign-in's outcome; it unpacks as (member, session, refresh token)."""

    member: Member
    session: Session
    refresh_token: str | None
    referral_refused: LoyaltyError | None = None   # why the referral code given linked nothing

    def __iter__(self):
        return iter((self.member, self.session, self.refresh_token))


async def sign_in_with_wechat(command: commands.SignInWithWeChat, uow: UnitOfWork, context: Handling) -> SignedIn:
    """Sign in the member of this openid (of the mini-program or the mobile app), or of this unionid (the
    same person in the other WeChat app: the openid joins them), or register a new member. A member first
    seen without a unionid takes it when WeChat gives one and no other member holds it; another member
    holding it is the same person (`referrals.void_if_one_person`). A referral code is for a member
    registered here (`referrals.on_sign_in`). Starts a session (by the real clock: sessions follow it, not
    a test clock)."""
    now, openid, unionid = context.now, command.openid, command.unionid
    member = await uow.members.by_openid(openid)
    if member is None and unionid:
        member = await uow.members.by_unionid(unionid)
        if member is not None:
            await uow.members.add_identity(member.id, openid, command.platform, now)
    elif member is not None and unionid and member.unionid != unionid:
        holder = await uow.members.by_unionid(unionid)
        if holder is None and member.unionid is None:
            member = await member_for_update(uow, member.id)
            member.unionid = unionid
        elif holder is not None:
            await referrals.void_if_one_person(uow, member.id, holder.id, referrals.SAME_UNIONID)
    registered = member is None
    if member is None:
        member = await _register(uow, context, unionid)
        await uow.members.add_identity(member.id, openid, command.platform, now)
    referral_refused = await referrals.on_sign_in(uow, context, member, registered, command.referral_code)
    session, refresh_token = await sessions.start(uow, context.real_now, command.refresh_ttl_seconds, member_id=member.id)
    return SignedIn(member, session, refresh_token, referral_refused)


def _code_invalid(keep_changes: bool = False) -> LoyaltyError:
    return LoyaltyError(UserErrorCode.SMS_CODE_INVALID, "This code is wrong or no longer valid: ask for a new one.",
                        ["input", "smsCode"], keep_changes=keep_changes)


async def store_sms_code(command: commands.StoreSmsCode, uow: UnitOfWork, context: Handling) -> None:
    await uow.sms_codes.replace(command.phone, command.code_hash, context.now,
                                context.now + timedelta(seconds=command.ttl_seconds))


async def sign_in_with_phone(command: commands.SignInWithPhone, uow: UnitOfWork,
                             context: Handling) -> tuple[Member, Session, str | None]:
    """Sign in the member whose number this is, or register one with the number bound, when the code is
    the number's newest, unused, unexpired and tried fewer than SMS_CODE_TRIES times. A wrong code counts
    a try (kept although the sign-in is refused); wrong, used and expired codes get the same answer. A
    number registered here takes the legacy points waiting for it (`legacy_points.credit_waiting`)."""
    now = context.now
    code = await uow.sms_codes.latest(command.phone)
    if code is None or code.used_at is not None or code.expires_at <= now or code.attempts >= SMS_CODE_TRIES:
        raise _code_invalid()
    if not hmac.compare_digest(code.code_hash, command.code_hash):
        await uow.sms_codes.count_wrong_try(code.id)
        raise _code_invalid(keep_changes=True)
    await uow.sms_codes.spend(code.id, now)
    member = await uow.members.by_phone(command.phone)
    if member is None:
        member = await _register(uow, context, None)
        await uow.members.set_phone(member.id, command.phone)
        await legacy_points.credit_waiting(uow, context, member, command.phone)
    session, refresh_token = await sessions.start(uow, context.real_now, command.refresh_ttl_seconds, member_id=member.id)
    return member, session, refresh_token


async def bind_phone(command: commands.BindPhone, uow: UnitOfWork, context: Handling) -> Member:
    """Bind the number WeChat vouched for. One number, one member: a number held by a phone-only sign-up
    that has done nothing beyond its sign-up gift is folded into this member (`_fold`); another member's
    is PHONE_TAKEN (staff may merge the two, `domain.merges`). Either way one person holds both: a referral
    between them is void, even when the binding is refused. The number's waiting legacy points are credited
    (`legacy_points.credit_waiting`)."""
    phone = command.phone
    member = await member_for_update(uow, command.member_id)
    holder = await uow.members.by_phone(phone)
    if holder is not None and holder.id != member.id:
        holder = await member_for_update(uow, holder.id)
        voided = await referrals.void_if_one_person(uow, member.id, holder.id, referrals.SAME_PHONE)
        if not foldable(await uow.members.footprint(holder.id)):
            raise LoyaltyError(UserErrorCode.PHONE_TAKEN, "This phone number is bound to another member.",
                               ["input", "code"], keep_changes=voided)
        await _fold(uow, holder, member, context.now)
    await uow.members.set_phone(member.id, phone)
    await legacy_points.credit_waiting(uow, context, member, phone)
    return member


def foldable(footprint) -> bool:
    """A phone-only sign-up that holds nothing but its sign-up gift: no WeChat identity, no order, check-in
    or redemption, no ledger entry but the gift, no coupon but the gift's, unused."""
    return (footprint.wechat_identities == 0 and footprint.orders == 0 and footprint.check_ins == 0
            and footprint.redemptions == 0 and footprint.point_kinds <= {PointKind.SIGNUP}
            and footprint.coupon_sources <= {CouponSource.SIGNUP_GIFT} and footprint.coupons_used == 0)


async def _fold(uow: UnitOfWork, holder: Member, into: Member, now: datetime) -> None:
    """Close a phone-only sign-up in favour of the member binding its number: the person got a sign-up
    gift there already, so this one's is forfeited (one ADJUSTMENT entry) and its coupons ended; its
    sessions end; its number is cleared for `into` to take."""
    await checkout.release_all(uow, holder, now)
    await wallet.forfeit_all(uow, holder, "并入微信会员：注册礼作废", now)
    await uow.coupons.end_available(holder.id, now)
    await uow.sessions.revoke_all_of_member(holder.id, sessions.MERGED, now)
    await uow.members.set_phone(holder.id, None)
    holder.deregistered_at, holder.merged_into = now, into.id


async def deregister(command: commands.Deregister, uow: UnitOfWork, context: Handling) -> None:
    """注销 (PIPL's right to deletion): personal data erased (profile, phone, WeChat identities and
    notifications), points forfeited through one ADJUSTMENT entry (a debt is written off the same way),
    growth to zero and the base tier, coupons ended, every session ended. The ledgers stay, keyed by
    the anonymous member number, for the books; a later sign-in with the same WeChat is a new member."""
    program, now = context.program, context.now
    member = await member_for_update(uow, command.member_id)
    await checkout.release_all(uow, member, now)
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
