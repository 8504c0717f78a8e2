"""Members: registration on first WeChat login, and the profile with its one-time tasks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain import coupons, wallet
from domain.errors import invalid
from domain.locking import member_for_update
from domain.model import Member
from domain.ports import UnitOfWork
from domain.program import Program

GENDERS = ("FEMALE", "MALE", "UNDISCLOSED")
NICKNAME_MAX = 32
HOUSEHOLD_MAX = 20


async def sign_in_with_wechat(uow: UnitOfWork, program: Program, now: datetime, openid: str,
                              unionid: str | None) -> Member:
    """The member of this openid; a first login registers them with the `points.signup` gift."""
    existing = await uow.members.by_openid(openid)
    if existing is not None:
        return existing
    member = await uow.members.create(openid, unionid, program.base_tier.code, now)
    await wallet.credit(uow, program, member, program.signup.points, "SIGNUP", "新人注册礼", now)
    for grant in program.signup.coupons:
        await coupons.issue(uow, program, member.id, grant, "SIGNUP_GIFT", now)
    await uow.commit()
    return member


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
    if change.gender is not None and change.gender not in GENDERS:
        raise invalid("gender", f"gender must be one of {', '.join(GENDERS)}.")
    if change.household_size is not None and not 1 <= change.household_size <= HOUSEHOLD_MAX:
        raise invalid("householdSize", f"householdSize must be between 1 and {HOUSEHOLD_MAX}.")


async def update_profile(uow: UnitOfWork, program: Program, now: datetime, member_id: int,
                         change: ProfileChange) -> tuple[Member, int]:
    """Apply a profile change; each profile task (`points.profile`) pays once. The birthday can be set
    once: a different second value is INVALID_INPUT. Gender pays only when actually disclosed."""
    _validate(change, program.calendar.local_date(now))
    member = await member_for_update(uow, member_id)
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
    await uow.members.save(member)
    awarded = 0
    for task, points, description in tasks:
        if task in done:
            continue
        await uow.members.complete_task(member.id, task, now)
        if points > 0:
            await wallet.credit(uow, program, member, points, "TASK", description, now)
            awarded += points
    await uow.commit()
    return member, awarded
