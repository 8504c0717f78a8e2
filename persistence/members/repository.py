"""Members: their accounts, WeChat identities, phone numbers (sealed), profile tasks, tier gifts and growth."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Footprint, Member
from persistence.database import Query, run_query
from persistence.personal_data import PersonalDataCipher, phone_place
from persistence.rows import columns_of, to_model
from persistence.tables import (
    check_ins, coupons, growth_entries, members, notifications, orders, point_entries, points_offsets, profile_tasks,
    redemptions, tier_gifts, wechat_identities,
)

MEMBER_NO_DIGITS = 10


_SAVED = ("nickname", "birthday", "gender", "household_size", "tier_code", "tier_expires_at",
          "growth_value", "points_balance", "points_debt", "unionid", "deregistered_at", "merged_into",
          "points_held")
LOCK = Query(select(*columns_of(members, Member)).where(members.c.id == bindparam("member_id")).with_for_update())
SAVE = Query(update(members).where(members.c.id == bindparam("member_id"))
             .values({name: bindparam(f"new_{name}") for name in _SAVED}))



def new_member_no() -> str:
    """Ten digits, the first not 0, random so that numbers reveal nothing about the member count."""
    return str(secrets.randbelow(9 * 10 ** (MEMBER_NO_DIGITS - 1)) + 10 ** (MEMBER_NO_DIGITS - 1))


class SqlMemberRepository:
    """Members, their WeChat identities, phone numbers, profile tasks, tier gifts and growth ledger. One
    object per member in a unit of work (an identity map); `flush` saves each that changed, once."""

    def __init__(self, conn: AsyncConnection, personal_data: PersonalDataCipher | None = None):
        self.conn = conn
        self._personal_data = personal_data
        self._seen: dict[int, tuple[Member, tuple]] = {}   # id → (the member handed out, its fields as saved)

    @property
    def personal_data(self) -> PersonalDataCipher:
        if self._personal_data is None:
            raise RuntimeError("this unit of work was opened without the personal-data cipher")
        return self._personal_data

    async def _one(self, condition, lock: bool = False) -> Member | None:
        query = select(*columns_of(members, Member)).where(condition)
        if lock:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return self._seen_as(to_model(Member, row)) if row else None

    async def _built(self, query: Query, **params) -> Member | None:
        rows = await run_query(self.conn, query, params)
        return self._seen_as(to_model(Member, rows[0])) if rows else None

    def _seen_as(self, loaded: Member) -> Member:
        """The one object of this member in the unit of work: one handed out before (brought up to date
        with the row just read, unless it has changes of its own to save), or `loaded`."""
        seen = self._seen.get(loaded.id)
        if seen is not None:
            member, saved = seen
            if _saved_fields(member) != saved:
                return member
            member.__dict__.update(loaded.__dict__)
        else:
            member = loaded
        self._seen[member.id] = (member, _saved_fields(member))
        return member

    async def flush(self) -> None:
        """Save every member handed out that changed since it was read or last saved: once each."""
        for member, saved in list(self._seen.values()):
            fields = _saved_fields(member)
            if fields != saved:
                await run_query(self.conn, SAVE, {"member_id": member.id,
                                                  **{f"new_{name}": value for name, value in zip(_SAVED, fields)}})
                self._seen[member.id] = (member, fields)

    async def by_openid(self, openid: str) -> Member | None:
        return await self._one(members.c.id == select(wechat_identities.c.member_id)
                               .where(wechat_identities.c.openid == openid).scalar_subquery())

    async def by_unionid(self, unionid: str) -> Member | None:
        return await self._one(members.c.unionid == unionid)

    async def add_identity(self, member_id: int, openid: str, platform: str, now: datetime) -> None:
        await self.conn.execute(insert(wechat_identities).values(openid=openid, member_id=member_id, created_at=now,
                                                                  platform=platform))

    async def erase_identities(self, member_id: int) -> None:
        await self.conn.execute(delete(wechat_identities).where(wechat_identities.c.member_id == member_id))

    async def by_phone(self, phone: str) -> Member | None:
        return await self._one(members.c.phone_index.in_(self.personal_data.indexes(phone)))

    async def set_phone(self, member_id: int, phone: str | None) -> None:
        sealed = self.personal_data.seal(phone, phone_place(member_id)) if phone else None
        index = self.personal_data.index(phone) if phone else None
        await self.conn.execute(update(members).where(members.c.id == member_id)
                                .values(phone_sealed=sealed, phone_index=index))

    async def lock(self, member_id: int) -> Member | None:
        return await self._built(LOCK, member_id=member_id)

    async def create(self, unionid: str | None, tier_code: str, now: datetime) -> Member:
        for _ in range(5):
            member_no = new_member_no()
            if (await self.conn.execute(select(members.c.id).where(members.c.member_no == member_no))).first():
                continue
            result = await self.conn.execute(insert(members).values(
                member_no=member_no, unionid=unionid, tier_code=tier_code, growth_value=0,
                points_balance=0, points_debt=0, created_at=now,
            ).returning(members.c.id))
            return await self._one(members.c.id == result.scalar_one())
        raise IntegrityError("member_no", None, Exception("no free member number after 5 tries"))

    async def completed_tasks(self, member_id: int) -> set[str]:
        rows = await self.conn.execute(select(profile_tasks.c.task).where(profile_tasks.c.member_id == member_id))
        return set(rows.scalars())

    async def complete_task(self, member_id: int, task: str, now: datetime) -> None:
        await self.conn.execute(insert(profile_tasks).values(member_id=member_id, task=task, completed_at=now))

    async def gift_levels_granted(self, member_id: int) -> set[int]:
        rows = await self.conn.execute(select(tier_gifts.c.level).where(tier_gifts.c.member_id == member_id))
        return set(rows.scalars())

    async def add_growth_entry(self, member_id: int, delta: int, growth_after: int, reason: str, now: datetime,
                               order_id: int | None = None) -> None:
        await self.conn.execute(insert(growth_entries).values(
            member_id=member_id, delta=delta, growth_after=growth_after, reason=reason, occurred_at=now,
            order_id=order_id,
        ))

    async def grant_gift_level(self, member_id: int, level: int, now: datetime) -> None:
        await self.conn.execute(insert(tier_gifts).values(member_id=member_id, level=level, granted_at=now))


    async def footprint(self, member_id: int) -> Footprint:
        def count(table, *where):
            return select(func.count()).select_from(table).where(table.c.member_id == member_id, *where) \
                .scalar_subquery()

        row = (await self.conn.execute(select(
            count(wechat_identities), count(orders), count(check_ins), count(redemptions),
            count(coupons, coupons.c.used_at.is_not(None))))).one()
        kinds = await self.conn.execute(select(point_entries.c.kind).distinct()
                                        .where(point_entries.c.member_id == member_id))
        sources = await self.conn.execute(select(coupons.c.source).distinct().where(coupons.c.member_id == member_id))
        return Footprint(wechat_identities=row[0], orders=row[1], check_ins=row[2], redemptions=row[3],
                         coupons_used=row[4], point_kinds=frozenset(kinds.scalars()),
                         coupon_sources=frozenset(sources.scalars()))

    async def move_phone(self, source_id: int, target_id: int) -> None:
        source = (await self.conn.execute(select(members.c.phone_sealed).where(members.c.id == source_id))).scalar()
        target = (await self.conn.execute(select(members.c.phone_sealed).where(members.c.id == target_id))).scalar()
        phone = self.personal_data.open(source, phone_place(source_id)) if source else None
        await self.set_phone(source_id, None)
        if phone and not target:
            await self.set_phone(target_id, phone)

    async def move_identities(self, source_id: int, target_id: int) -> None:
        await self.conn.execute(update(wechat_identities).where(wechat_identities.c.member_id == source_id)
                                .values(member_id=target_id))

    async def move_belongings(self, source_id: int, target_id: int) -> None:
        for table in (coupons, orders, points_offsets, redemptions, notifications):
            await self.conn.execute(update(table).where(table.c.member_id == source_id).values(member_id=target_id))
        target_days = select(check_ins.c.local_date).where(check_ins.c.member_id == target_id)
        await self.conn.execute(update(check_ins).where(check_ins.c.member_id == source_id,
                                                        check_ins.c.local_date.not_in(target_days))
                                .values(member_id=target_id))
        for table, key in ((profile_tasks, profile_tasks.c.task), (tier_gifts, tier_gifts.c.level)):
            held = select(key).where(table.c.member_id == target_id)
            rows = (await self.conn.execute(select(table).where(table.c.member_id == source_id,
                                                                key.not_in(held)))).mappings().all()
            if rows:
                await self.conn.execute(insert(table), [{**row, "member_id": target_id} for row in rows])


def _saved_fields(member: Member) -> tuple:
    return tuple(getattr(member, name) for name in _SAVED)
