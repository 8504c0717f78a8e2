"""The session an access token names."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from persistence.check_ins.queries import check_ins_of
from persistence.database import Query, Reader
from persistence.points.queries import expiring_soon_of
from persistence.tables import catalog_version, members, sessions, staff


# The session with its staff member's name, role and state, its member's row, and the catalog's version
# (`persistence.tiers.queries.TierCatalog`), in one statement: a member's request needs no second one to
# read who they are or whether the tiers it holds are current. A request known to show the member's home
# (points expiring soon, today's check-in) reads those with it too: one statement for the whole home.
def _live_session(*more) -> Query:
    return Query(
        select(sessions.c.id.label("session_id"), sessions.c.member_id.label("session_member_id"),
               sessions.c.staff_id, staff.c.username, staff.c.role, staff.c.disabled_at,
               select(catalog_version.c.version).scalar_subquery().label("catalog_version"), *members.c, *more)
        .outerjoin(staff, staff.c.id == sessions.c.staff_id)
        .outerjoin(members, members.c.id == sessions.c.member_id)
        .where(sessions.c.token_id == bindparam("token_id"), sessions.c.revoked_at.is_(None)))


LIVE_SESSION = _live_session()
LIVE_SESSION_WITH_HOME = _live_session(*expiring_soon_of(sessions.c.member_id), *check_ins_of(sessions.c.member_id))


async def live_session(reader: Reader, token_id: str, home: dict | None = None):
    """The session an access token names, if not revoked: `session_id`, `session_member_id`, `staff_id`,
    `username`, `role`, `disabled_at`, `catalog_version`, and the member's columns (all null for staff);
    with `home` (the parameters of `expiring_soon_params` and `today`, `yesterday`), also
    `expiring_points`, `expiring_at`, `today_streak`, `today_points` and `yesterday_streak`."""
    if home is None:
        rows = await reader.fetch(LIVE_SESSION, token_id=token_id)
    else:
        rows = await reader.fetch(LIVE_SESSION_WITH_HOME, token_id=token_id, **home)
    return rows[0] if rows else None
