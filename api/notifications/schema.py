"""What the notifications area adds to the schema."""
from __future__ import annotations

import strawberry

from api.core.node import NodeType, owned_by
from api.notifications.loaders import NotificationById
from api.notifications.mutations import mark_notifications_read
from api.notifications.types import Notification


@strawberry.type
class NotificationsMutation:
    mark_notifications_read = strawberry.mutation(resolver=mark_notifications_read)


NODES = {"Notification": NodeType(NotificationById, Notification.from_row,
                                  owned_by("Notification", lambda row: row.member_id))}
TYPES = [Notification]
