"""Sessions and their refresh tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import RefreshToken, Session
from persistence.rows import columns_of, insert_model, to_model
from persistence.tables import refresh_tokens, sessions


class SqlSessionRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add(self, session: Session) -> Session:
        return await insert_model(self.conn, sessions, session)

    async def lock(self, session_id: int) -> Session | None:
        row = (await self.conn.execute(select(*columns_of(sessions, Session))
                                       .where(sessions.c.id == session_id).with_for_update())).first()
        return to_model(Session, row) if row else None

    async def revoke(self, session_id: int, reason: str, now: datetime) -> None:
        await self.conn.execute(update(sessions).where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
                                .values(revoked_at=now, revoked_reason=reason))

    async def revoke_all_of_member(self, member_id: int, reason: str, now: datetime) -> None:
        await self.conn.execute(update(sessions).where(sessions.c.member_id == member_id,
                                                       sessions.c.revoked_at.is_(None))
                                .values(revoked_at=now, revoked_reason=reason))

    async def add_refresh_token(self, token: RefreshToken) -> None:
        await insert_model(self.conn, refresh_tokens, token)

    async def lock_refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = (await self.conn.execute(select(*columns_of(refresh_tokens, RefreshToken))
                                       .where(refresh_tokens.c.token_hash == token_hash).with_for_update())).first()
        return to_model(RefreshToken, row) if row else None

    async def spend_refresh_token(self, token_id: int, now: datetime) -> None:
        await self.conn.execute(update(refresh_tokens).where(refresh_tokens.c.id == token_id).values(used_at=now))
