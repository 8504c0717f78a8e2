from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Member
from persistence.repositories.rows import columns_of, to_model
from persistence.tables import growth_entries, members, profile_tasks, tier_gifts

MEMBER_NO_DIGITS = 10
_SAVED = ("nickname", "phone", "birthday", "gender", "household_size", "tier_code", "tier_expires_at",
          "growth_value", "points_balance", "points_debt", "unionid")


def new_member_no() -> str:
    """Ten digits, the first not 0, random so that numbers reveal nothing about the member count."""
    return str(secrets.randbelow(9 * 10 ** (MEMBER_NO_DIGITS - 1)) + 10 ** (MEMBER_NO_DIGITS - 1))


class SqlMemberRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def _one(self, condition, lock: bool = False) -> Member | None:
        query = select(*columns_of(members, Member)).where(condition)
        if lock:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return to_model(Member, row) if row else None

    async def by_openid(self, openid: str) -> Member | None:
        return await self._one(members.c.openid == openid)

    async def lock(self, member_id: int) -> Member | None:
        return await self._one(members.c.id == member_id, lock=True)

    async def create(self, openid: str, unionid: str | None, tier_code: str, now: datetime) -> Member:
        for _ in range(5):
            member_no = new_member_no()
            if (await self.conn.execute(select(members.c.id).where(members.c.member_no == member_no))).first():
                continue
            result = await self.conn.execute(insert(members).values(
                member_no=member_no, openid=openid, unionid=unionid, tier_code=tier_code, growth_value=0,
                points_balance=0, points_debt=0, created_at=now,
            ).returning(members.c.id))
            return await self._one(members.c.id == result.scalar_one())
        raise IntegrityError("member_no", None, Exception("no free member number after 5 tries"))

    async def save(self, member: Member) -> None:
        await self.conn.execute(update(members).where(members.c.id == member.id)
                                .values({name: getattr(member, name) for name in _SAVED}))

    async def completed_tasks(self, member_id: int) -> set[str]:
        rows = await self.conn.execute(select(profile_tasks.c.task).where(profile_tasks.c.member_id == member_id))
        return set(rows.scalars())

    async def complete_task(self, member_id: int, task: str, now: datetime) -> None:
        await self.conn.execute(insert(profile_tasks).values(member_id=member_id, task=task, completed_at=now))

    async def gift_levels_granted(self, member_id: int) -> set[int]:
        rows = await self.conn.execute(select(tier_gifts.c.level).where(tier_gifts.c.member_id == member_id))
        return set(rows.scalars())

    async def grant_gift_level(self, member_id: int, level: int, now: datetime) -> None:
        await self.conn.execute(insert(tier_gifts).values(member_id=member_id, level=level, granted_at=now))


class SqlGrowthRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add_entry(self, member_id: int, delta: int, growth_after: int, reason: str, now: datetime,
                        order_id: int | None = None) -> None:
        await self.conn.execute(insert(growth_entries).values(
            member_id=member_id, delta=delta, growth_after=growth_after, reason=reason, occurred_at=now,
            order_id=order_id,
        ))
