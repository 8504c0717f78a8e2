from __future__ import annotations

from types import SimpleNamespace

from api.check_ins.loaders import CheckInStatusByMember, today_and_yesterday
from api.core.loaders import ById
from api.points.loaders import ExpiringPoints, expiring_until
from domain.check_ins import check_in_status
from persistence.members import queries
from persistence.points.queries import expiring_soon_params

# The member's fields whose loaders a request that shows them can have filled with the session's read
# (`persistence.sessions.queries.live_session(home=…)`): MemberHome in one statement.
HOME_FIELDS = ("pointsExpiringSoon", "checkInStatus")


class MemberById(ById):
    fetch = queries.members_by_ids


def home_params(program, now) -> dict:
    """What `live_session` reads the home with, as the loaders would read it at `now`."""
    today, yesterday = today_and_yesterday(program, now)
    return {**expiring_soon_params(now, expiring_until(program, now)), "today": today, "yesterday": yesterday}


def prime_member(context, member_id: int, session, home: bool) -> None:
    """The signed-in member's loaders filled from their session's row: the member, and with `home` the
    points expiring soon and today's check-in status."""
    MemberById(context).prime(member_id, session)
    if not home:
        return
    expiring = (int(session.expiring_points), session.expiring_at) if session.expiring_points else None
    ExpiringPoints(context).prime(member_id, expiring)
    today = SimpleNamespace(streak_days=session.today_streak, points_awarded=session.today_points) \
        if session.today_streak is not None else None
    yesterday = SimpleNamespace(streak_days=session.yesterday_streak) if session.yesterday_streak is not None else None
    CheckInStatusByMember(context).prime(member_id, check_in_status(context.program, today, yesterday))
