from __future__ import annotations

from api.core.loaders import ById, Loader, Pages
from persistence.notifications import queries


class NotificationById(ById):
    fetch = queries.notifications_by_ids


class NotificationPage(Pages):
    async def page(self, member_id, after, limit):
        return await queries.notification_page(self.reader, member_id, after, limit)


class NotificationCounts(Loader):
    """(all, unread) per member."""

    async def batch_load_fn(self, member_ids):
        counts = await queries.notification_counts(self.reader, list(member_ids))
        return [counts.get(m, (0, 0)) for m in member_ids]
