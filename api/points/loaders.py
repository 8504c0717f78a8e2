from __future__ import annotations

from api.core.loaders import ById, Loader, Pages
from persistence.points import queries


class PointEntryById(ById):
    fetch = queries.point_entries_by_ids


class PointEntryPage(Pages):
    fetch = queries.point_entry_page


class ExpiringPoints(Loader):
    """(points, earliest expiry) of what lapses within `points.expiry.expiring_soon_days`, per member."""

    async def batch_load_fn(self, member_ids):
        context = self.context
        found = await queries.points_expiring_soon(self.reader, list(member_ids), context.now,
                                                   expiring_until(context.program, context.now))
        return [found.get(m) for m in member_ids]


def expiring_until(program, now):
    """The end of the window whose lapsing points show as expiring soon."""
    return program.calendar.days_later_end(now, program.expiring_soon_days)
