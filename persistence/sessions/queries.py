"""The session an access token names."""
from __future__ import annotations

from sqlalchemy import select

from persistence.database import Reader
from persistence.tables import sessions, staff


async def live_session(reader: Reader, token_id: str):
    """The session an access token names, if not revoked, with its staff member's name, role and state."""
    return (await reader.execute(
        select(sessions.c.id, sessions.c.member_id, sessions.c.staff_id, staff.c.username, staff.c.role,
               staff.c.disabled_at)
        .outerjoin(staff, staff.c.id == sessions.c.staff_id)
        .where(sessions.c.token_id == token_id, sessions.c.revoked_at.is_(None)))).first()
