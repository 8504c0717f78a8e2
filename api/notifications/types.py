from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import Edge, PageInfo
from api.core.vocabulary import NotificationKind
from api.notifications.loaders import NotificationCounts


@strawberry.type(description="A message to the member: a reminder, a gift, a tier change.")
class Notification(Node):
    kind: NotificationKind
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_row(cls, row, context) -> "Notification":
        return cls(id=to_global_id("Notification", row.id), kind=NotificationKind(row.kind), title=row.title,
                   body=row.body, created_at=local(row.created_at, context.zone),
                   read_at=local(row.read_at, context.zone))


@strawberry.type
class NotificationConnection:
    edges: list[Edge[Notification]]
    page_info: PageInfo
    member_pk: strawberry.Private[int]

    @strawberry.field(description="All of the member's notifications.")
    async def total_count(self, info: strawberry.Info) -> int:
        return (await NotificationCounts(info.context).load(self.member_pk))[0]

    @strawberry.field(description="Those not marked read yet.")
    async def unread_count(self, info: strawberry.Info) -> int:
        return (await NotificationCounts(info.context).load(self.member_pk))[1]
