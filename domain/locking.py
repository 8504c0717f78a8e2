"""Every write path starts by locking the member it changes."""
from __future__ import annotations

from domain.errors import LoyaltyError, UserErrorCode
from domain.model import Member
from domain.ports import UnitOfWork


async def member_for_update(uow: UnitOfWork, member_id: int | None) -> Member:
    member = await uow.members.lock(member_id) if member_id is not None else None
    if member is None or member.deregistered_at is not None:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such member.", ["input", "memberId"])
    return member
