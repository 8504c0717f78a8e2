"""What the tiers area adds to the schema."""
from __future__ import annotations

import strawberry

from api.core.node import NodeType, catalog
from api.tiers.loaders import BenefitById, TierById, tier_catalog
from api.tiers.types import Benefit, Tier


@strawberry.type
class TiersQuery:
    @strawberry.field(description="The program's tiers, lowest first.")
    async def tiers(self, info: strawberry.Info) -> list[Tier]:
        return [Tier.from_row(row) for row in (await tier_catalog(info.context)).ladder]


NODES = {
    "Tier": NodeType(TierById, lambda row, context: Tier.from_row(row), catalog),
    "Benefit": NodeType(BenefitById, lambda row, context: Benefit.from_row(row), catalog),
}
TYPES = [Tier, Benefit]
