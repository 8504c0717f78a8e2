"""Referrals (邀请有礼) as their referrer sees them: never anything of the referee's."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import Edge, PageInfo
from api.core.vocabulary import ReferralStatus
from api.referrals.loaders import ReferralCount


@strawberry.type(description="A member who signed up with the referrer's code (邀请有礼); who they are is not shown.")
class Referral(Node):
    joined_at: datetime
    status: ReferralStatus
    points_awarded: int = strawberry.field(description="What the referrer got for it: the points once REWARDED, "
                                                       "else 0.")

    @classmethod
    def from_row(cls, row, context) -> "Referral":
        return cls(id=to_global_id("Referral", row.id), joined_at=local(row.joined_at, context.zone),
                   status=ReferralStatus(row.status), points_awarded=row.points_awarded)


@strawberry.type
class ReferralConnection:
    edges: list[Edge[Referral]]
    page_info: PageInfo
    member_pk: strawberry.Private[int]

    @strawberry.field(description="All of the member's referrals.")
    async def total_count(self, info: strawberry.Info) -> int:
        return await ReferralCount(info.context).load(self.member_pk)
