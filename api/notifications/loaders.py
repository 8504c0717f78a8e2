from __future__ import annotations

from api.core.loaders import ById, Loader, Pages
from persistence.notifications import queries


class NotificationById(ById):
    fetch = queries.notifications_by_ids


class NotificationPage(Pages):
    fetch = queries.notification_page


class NotificationCounts(Loader):
    """(all, unread) per member."""

    async def batch_load_fn(self, member_ids):
        counts = await queries.notification_counts(self.reader, list(member_ids))
        return [counts.get(m, (0, 0)) for m in member_ids]
