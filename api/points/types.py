"""The points ledger as members and staff see it."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import Edge, PageInfo
from api.core.vocabulary import PointKind


@strawberry.type(description="One entry of a member's points ledger (append-only).")
class PointEntry(Node):
    kind: PointKind
    delta: int
    balance_after: int
    description: str
    occurred_at: datetime
    expires_at: datetime | None = strawberry.field(description="Set on entries that add points: when they lapse.")

    @classmethod
    def from_row(cls, row, context) -> "PointEntry":
        return cls(id=to_global_id("PointEntry", row.id), kind=PointKind(row.kind), delta=row.delta,
                   balance_after=row.balance_after, description=row.description,
                   occurred_at=local(row.occurred_at, context.zone), expires_at=local(row.expires_at, context.zone))


@strawberry.type
class PointEntryConnection:
    edges: list[Edge[PointEntry]]
    page_info: PageInfo


@strawberry.type(description="Points that lapse within the next 30 days, and the first moment any do.")
class PointsExpiringSoon:
    points: int
    expires_at: datetime
