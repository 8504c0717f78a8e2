from __future__ import annotations

from api.core.loaders import ById, Loader
from persistence.tiers import queries

LADDER = "ladder"


class TierById(ById):
    fetch = queries.tiers_by_ids


class BenefitById(ById):
    fetch = queries.benefits_by_ids


class TierLadder(Loader):
    """All tiers, lowest first, under the one key LADDER: tier, next tier and the tier list share it."""

    async def batch_load_fn(self, keys):
        ladder = await queries.tier_ladder(self.reader)
        return [ladder for _ in keys]


class BenefitsUpToLevel(Loader):
    async def batch_load_fn(self, levels):
        found = await queries.benefits_up_to_levels(self.reader, list(levels))
        return [found[level] for level in levels]
