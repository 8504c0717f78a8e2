from __future__ import annotations

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node
from api.tiers.loaders import tier_catalog


@strawberry.type(description="A member benefit, granted from a tier upwards.")
class Benefit(Node):
    code: str
    name: str
    description: str

    @classmethod
    def from_row(cls, row) -> "Benefit":
        return cls(id=to_global_id("Benefit", row.id), code=row.code, name=row.name, description=row.description)


@strawberry.type(description="A membership tier; growth value decides which one a member holds.")
class Tier(Node):
    code: str
    name: str
    level: int
    growth_threshold: int
    points_multiplier: float
    retention_deduction: int = strawberry.field(description="Growth taken off when this tier expires.")

    @strawberry.field(description="The benefits of this tier and of every tier below it.")
    async def benefits(self, info: strawberry.Info) -> list[Benefit]:
        return [Benefit.from_row(row) for row in (await tier_catalog(info.context)).benefits_up_to(self.level)]

    @classmethod
    def from_row(cls, row) -> "Tier":
        return cls(id=to_global_id("Tier", row.id), code=row.code, name=row.name, level=row.level,
                   growth_threshold=row.growth_threshold, points_multiplier=float(row.points_multiplier),
                   retention_deduction=row.retention_deduction)
